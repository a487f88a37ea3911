package zones

import (
	"strings"
	"testing"
)

// FuzzMatch checks that no name panics the matcher, that matching ignores
// letter case, and that only amazonaws.com names of a configured region match.
func FuzzMatch(f *testing.F) {
	for _, n := range []string{
		"myspecificbucket.s3.eu-west-2.amazonaws.com.", "s3.eu-west-2.amazonaws.com", "x.s3-accesspoint.eu-west-2.amazonaws.com.",
		"s3-control.eu-west-2.amazonaws.com.", "a.b.s3.dualstack.eu-west-2.amazonaws.com.", "s3-fips.eu-west-2.amazonaws.com.",
		".amazonaws.com", "..", "", "s3.amazonaws.com", "\x00.s3.eu-west-2.amazonaws.com.",
	} {
		f.Add(n)
	}
	m := New(testEndpoints())
	f.Fuzz(func(t *testing.T, name string) {
		got, ok := m.Match(name)
		up, upOK := m.Match(strings.ToUpper(name))
		if ok != upOK || got.Index != up.Index || got.Rule != up.Rule {
			t.Fatalf("case changes the decision for %q: %v/%v vs %v/%v", name, ok, got.Rule, upOK, up.Rule)
		}
		_, reason, explained := m.Explain(name)
		if explained != ok || (!ok && reason == "") {
			t.Fatalf("Explain disagrees for %q: %v %q", name, explained, reason)
		}
		if !ok {
			return
		}
		lower := strings.TrimSuffix(strings.ToLower(name), ".")
		if !strings.HasSuffix(lower, ".amazonaws.com") || got.Endpoint == nil || got.Index < 0 || got.Index >= len(m.endpoints) {
			t.Fatalf("%q matched %+v", name, got)
		}
		if !strings.Contains(lower, "."+got.Endpoint.Region+".amazonaws.com") {
			t.Fatalf("%q matched an endpoint of region %s", name, got.Endpoint.Region)
		}
	})
}
