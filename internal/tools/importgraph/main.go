// Command importgraph prints who imports whom among s3dns's packages, as
// a Mermaid graph for docs/architecture.md (test-only imports, commands and
// tools left out):
//
//	go run ./internal/tools/importgraph
//
// TestArchitectureGraphIsCurrent checks that the document holds its output.
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"
)

const module = "github.com/s3dns/s3dns/"

type pkg struct {
	ImportPath string
	Imports    []string
}

func main() {
	out, err := exec.Command("go", "list", "-json", module+"...").Output()
	if err != nil {
		fmt.Fprintln(os.Stderr, "go list:", err)
		os.Exit(1)
	}
	var pkgs []pkg
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		pkgs = append(pkgs, p)
	}
	fmt.Print(Graph(pkgs))
}

// shown reports whether a package is part of the server's picture.
func shown(path string) bool {
	rel, ok := strings.CutPrefix(path, module)
	return ok && !strings.HasPrefix(rel, "internal/") && !strings.HasPrefix(rel, "cmd/") &&
		!strings.HasPrefix(rel, "bench") && rel != "integration"
}

// Graph is the Mermaid graph of the imports among the shown packages, in a
// stable order.
func Graph(pkgs []pkg) string {
	var b strings.Builder
	b.WriteString("```mermaid\ngraph TD\n")
	slices.SortFunc(pkgs, func(a, b pkg) int { return strings.Compare(a.ImportPath, b.ImportPath) })
	for _, p := range pkgs {
		if !shown(p.ImportPath) {
			continue
		}
		from := strings.TrimPrefix(p.ImportPath, module)
		var to []string
		for _, imp := range p.Imports {
			if shown(imp) {
				to = append(to, strings.TrimPrefix(imp, module))
			}
		}
		slices.Sort(to)
		if len(to) == 0 {
			fmt.Fprintf(&b, "  %s\n", from)
		}
		for _, t := range to {
			fmt.Fprintf(&b, "  %s --> %s\n", from, t)
		}
	}
	b.WriteString("```\n")
	return b.String()
}
