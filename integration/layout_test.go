package integration

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// README's layout table names every package of the module.
func TestReadmeLayoutListsEveryPackage(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile(repoFile("README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, layout, _ := strings.Cut(string(readme), "\n## Layout\n")
	layout, _, _ = strings.Cut(layout, "\n## ")
	cmd := exec.Command("go", "list", "-f", "{{.Dir}}", "./...")
	cmd.Dir = repoFile("")
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	root := repoFile("") + "/"
	for _, dir := range strings.Fields(string(out)) {
		rel := strings.TrimPrefix(dir, root)
		if !strings.Contains(layout, "`"+rel+"/`") && !strings.Contains(layout, "`"+rel+"`") {
			t.Errorf("README's layout table does not list %s", rel)
		}
	}
}
