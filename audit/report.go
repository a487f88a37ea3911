package audit

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
)

// WriteTable prints the findings as a table, each with its detail and fix
// below it, then a count.
func (r *Report) WriteTable(out io.Writer) {
	if len(r.Findings) == 0 {
		fmt.Fprintf(out, "no findings: the policies of %d bucket(s) and access point(s) agree with the DNS split\n", r.Checked)
		return
	}
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "SEVERITY\tKIND\tBUCKET\tSITE\tENDPOINT\tSTATEMENT")
	for _, f := range r.Findings {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", f.Severity, f.Kind, dash(f.Bucket), dash(f.Site), dash(f.Endpoint), dash(f.Statement))
	}
	w.Flush()
	fmt.Fprintln(out)
	for i, f := range r.Findings {
		fmt.Fprintf(out, "%d. %s %s: %s\n   fix: %s\n", i+1, f.Kind, dash(f.Bucket), f.Detail, f.Fix)
	}
	fmt.Fprintf(out, "\n%d error(s), %d warning(s); %d bucket(s) and access point(s) judged\n",
		r.Errors(), len(r.Findings)-r.Errors(), r.Checked)
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// WriteJSON prints {"findings": […], "checked": N}: the stable form for
// CI pipelines.
func (r *Report) WriteJSON(out io.Writer) error {
	findings := r.Findings
	if findings == nil {
		findings = []Finding{}
	}
	enc := json.NewEncoder(out)
	enc.SetIndent("", "  ")
	return enc.Encode(struct {
		Findings []Finding `json:"findings"`
		Checked  int       `json:"checked"`
	}{findings, r.Checked})
}
