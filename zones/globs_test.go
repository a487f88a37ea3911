package zones

import (
	"fmt"
	"math/rand/v2"
	"path"
	"testing"

	"github.com/s3dns/s3dns/model"
)

// The index finds what trying every glob in file order finds.
func TestGlobIndexAgreesWithScan(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := "ab-1."
	word := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		return string(b)
	}
	var x globIndex
	var globs []string
	for i := range 300 {
		var g string
		switch i % 5 {
		case 0:
			g = word(rng.IntN(4)) + "*"
		case 1:
			g = "*" + word(1+rng.IntN(3))
		case 2:
			g = word(1+rng.IntN(3)) + "?" + word(rng.IntN(3))
		case 3:
			g = word(rng.IntN(3)) + "[ab]*" + word(rng.IntN(2))
		default:
			g = word(2+rng.IntN(3)) + "*" + word(1)
		}
		globs = append(globs, g)
		x.add(globRule{g, rule{i, g}})
	}
	for range 20000 {
		name := word(1 + rng.IntN(8))
		want, wantOK := -1, false
		for i, g := range globs {
			if ok, _ := path.Match(g, name); ok {
				want, wantOK = i, true
				break
			}
		}
		got, ok := x.match(name)
		if ok != wantOK || (ok && got.endpoint != want) {
			t.Fatalf("%q: index gives %v %q, scan gives %v %d", name, ok, got.pattern, wantOK, want)
		}
	}
}

// largeEndpoints is the scale the matcher must keep flat at: 100,000 exact
// buckets, 2,000 globs and 200 access points.
func largeEndpoints() []model.Endpoint {
	e := model.Endpoint{Name: "s3-london", Region: "eu-west-2", Service: "s3", Hostname: "vpce-1.s3.eu-west-2.vpce.amazonaws.com."}
	for i := range 100_000 {
		e.Buckets = append(e.Buckets, fmt.Sprintf("bucket-%06d", i))
	}
	for i := range 2000 {
		e.Buckets = append(e.Buckets, fmt.Sprintf("team-%04d-*", i))
	}
	for i := range 200 {
		e.AccessPoints = append(e.AccessPoints, fmt.Sprintf("ap-%03d-123456789012", i))
	}
	return []model.Endpoint{e}
}

func BenchmarkMatchAtScale(b *testing.B) {
	for _, c := range []struct {
		label string
		eps   []model.Endpoint
	}{{"two buckets", testEndpoints()}, {"100k buckets, 2k globs, 200 APs", largeEndpoints()}} {
		m := New(c.eps)
		for _, name := range []string{"bucket-054321.s3.eu-west-2.amazonaws.com.", "team-1999-logs.s3.eu-west-2.amazonaws.com.",
			"unlisted.s3.eu-west-2.amazonaws.com.", "ap-150-123456789012.s3-accesspoint.eu-west-2.amazonaws.com."} {
			b.Run(c.label+"/"+name, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					m.Match(name)
				}
			})
		}
	}
}
