package integration

import (
	"os/exec"
	"strings"
	"testing"
)

// The binary must not execute text/template (a cobra usage or version
// template would): its reflective method calls make the linker keep every
// exported method of every type, and the EC2 SDK's took the binary from
// 23 MB to 69 MB.
func TestBinaryRunsNoTemplates(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "tool", "nm", builtBinary(t)).Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if strings.Contains(line, "text/template.(*state).") {
			t.Fatalf("the binary executes text/template (%s): dead code elimination of methods is off", strings.TrimSpace(line))
		}
	}
}
