package upstream

import (
	"bytes"
	"testing"

	"github.com/miekg/dns"
)

// The hand-packed query is byte for byte what miekg packs, for every shape
// the cache sends and for the ones it hands back to miekg.
func TestPackQueryMatchesMiekg(t *testing.T) {
	shapes := map[string]func() *dns.Msg{
		"plain": func() *dns.Msg { m := new(dns.Msg); m.SetQuestion("a.example.", dns.TypeA); return m },
		"EDNS with DO and CD": func() *dns.Msg {
			m := new(dns.Msg)
			m.SetQuestion("MiXeD.s3.eu-west-2.amazonaws.com.", dns.TypeAAAA)
			m.CheckingDisabled = true
			m.SetEdns0(1232, true)
			return m
		},
		"root, class CH": func() *dns.Msg {
			m := new(dns.Msg)
			m.SetQuestion(".", dns.TypeNS)
			m.Question[0].Qclass = dns.ClassCHAOS
			m.SetEdns0(512, false)
			return m
		},
		"an escaped label": func() *dns.Msg { m := new(dns.Msg); m.SetQuestion(`a\.b\032c.example.`, dns.TypeTXT); return m },
		"an OPT with an option (miekg packs it)": func() *dns.Msg {
			m := new(dns.Msg)
			m.SetQuestion("a.example.", dns.TypeA)
			m.SetEdns0(1232, false)
			m.IsEdns0().Option = append(m.IsEdns0().Option, &dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: "0102030405060708"})
			return m
		},
	}
	for name, make := range shapes {
		t.Run(name, func(t *testing.T) {
			m := make()
			m.Id = 0xbeef
			want, err := m.Pack()
			if err != nil {
				t.Fatal(err)
			}
			got, err := packQuery(make512(), m)
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("packQuery: %x, %v\nmiekg:      %x", got, err, want)
			}
		})
	}
	// A name miekg refuses, packQuery refuses too.
	long := new(dns.Msg)
	long.SetQuestion(string(bytes.Repeat([]byte("a."), 130)), dns.TypeA)
	_, want := long.Pack()
	if _, err := packQuery(make512(), long); (err == nil) != (want == nil) {
		t.Fatalf("a name longer than 255 bytes: packQuery %v, miekg %v", err, want)
	}
}

func make512() []byte { return make([]byte, 512) }
