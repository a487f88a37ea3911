package dnsserver

import (
	"net/netip"
	"testing"

	"github.com/miekg/dns"

	"github.com/s3dns/s3dns/metrics"
)

// A recorder runs packets through the request flow as a transport would,
// with no socket (as CoreDNS's dnstest.Recorder): steps 1–3 in the caller,
// then step 4 synchronously, and records the reply. Flow tests use it; the
// transports have socket tests of their own.
type recorder struct {
	h      *harness
	proto  metrics.Proto
	client netip.Addr
}

// from is a recorder for queries from client over proto.
func (h *harness) from(client string, proto metrics.Proto) recorder {
	return recorder{h: h, proto: proto, client: netip.MustParseAddr(client)}
}

// raw answers pkt: the reply (nil for none) and whether the fast path gave it.
func (r recorder) raw(pkt []byte) ([]byte, bool) { return exchange(r.h.srv, pkt, r.proto, r.client) }

// ask answers m, unpacked; nil when the flow gives no reply.
func (r recorder) ask(t *testing.T, m *dns.Msg) *dns.Msg {
	t.Helper()
	pkt, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	return r.unpack(t, pkt)
}

// unpack answers pkt, unpacked; nil when the flow gives no reply.
func (r recorder) unpack(t *testing.T, pkt []byte) *dns.Msg {
	t.Helper()
	reply, _ := r.raw(pkt)
	if reply == nil {
		return nil
	}
	resp := new(dns.Msg)
	if err := resp.Unpack(reply); err != nil {
		t.Fatalf("reply does not unpack: %v", err)
	}
	return resp
}
