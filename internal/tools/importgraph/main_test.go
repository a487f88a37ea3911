package main

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

const (
	begin = "<!-- importgraph:begin -->\n"
	end   = "<!-- importgraph:end -->"
)

// The graph in docs/architecture.md is the one the code has.
func TestArchitectureGraphIsCurrent(t *testing.T) {
	out, err := exec.Command("go", "run", ".").Output()
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile("../../../docs/architecture.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok1 := strings.Cut(string(doc), begin)
	graph, _, ok2 := strings.Cut(rest, end)
	if !ok1 || !ok2 {
		t.Fatal("docs/architecture.md has no importgraph markers")
	}
	if graph != string(out) {
		t.Fatalf("docs/architecture.md's import graph is out of date; put the output of go run ./internal/tools/importgraph between the markers:\n%s", out)
	}
}
