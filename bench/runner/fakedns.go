package main

import (
	"net"
	"strings"

	"github.com/miekg/dns"
)

// fakePublicDNS stands in for the public DNS on loopback: the endpoint's
// name resolves to private addresses, every other name under example.com
// and every unlisted bucket to a documentation address. It serves UDP and
// TCP on one port.
type fakePublicDNS struct {
	addr    string
	servers []*dns.Server
}

func startFakeDNS(vpce string) (*fakePublicDNS, error) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", pc.LocalAddr().String())
	if err != nil {
		pc.Close()
		return nil, err
	}
	h := dns.HandlerFunc(func(w dns.ResponseWriter, req *dns.Msg) {
		resp := new(dns.Msg)
		resp.SetReply(req)
		resp.RecursionAvailable = true
		if len(req.Question) == 1 {
			answer(resp, req.Question[0], vpce)
		}
		if opt := req.IsEdns0(); opt != nil {
			resp.SetEdns0(1232, opt.Do())
		}
		w.WriteMsg(resp)
	})
	f := &fakePublicDNS{addr: pc.LocalAddr().String()}
	for _, s := range []*dns.Server{{PacketConn: pc, Handler: h}, {Listener: ln, Handler: h}} {
		started := make(chan struct{})
		s.NotifyStartedFunc = func() { close(started) }
		go s.ActivateAndServe()
		<-started
		f.servers = append(f.servers, s)
	}
	return f, nil
}

func answer(resp *dns.Msg, q dns.Question, vpce string) {
	name := strings.ToLower(q.Name)
	add := func(s string) {
		if rr, err := dns.NewRR(s); err == nil {
			resp.Answer = append(resp.Answer, rr)
		}
	}
	switch {
	case name == vpce && q.Qtype == dns.TypeA:
		add(q.Name + " 60 IN A 10.0.1.10")
		add(q.Name + " 60 IN A 10.0.2.10")
	case name == vpce && q.Qtype == dns.TypeAAAA:
		add(q.Name + " 60 IN AAAA fd00::10")
	case (strings.HasSuffix(name, ".example.com.") || strings.HasSuffix(name, ".s3.eu-west-2.amazonaws.com.")) && q.Qtype == dns.TypeA:
		add(q.Name + " 3600 IN A 192.0.2.80")
	case strings.HasSuffix(name, ".example.com.") || name == vpce:
		// NODATA
	default:
		resp.Rcode = dns.RcodeNameError
	}
	if len(resp.Answer) == 0 {
		soa, _ := dns.NewRR("example.com. 3600 IN SOA ns.example.com. hostmaster.example.com. 1 3600 600 86400 3600")
		resp.Ns = append(resp.Ns, soa)
	}
}

func (f *fakePublicDNS) stop() {
	for _, s := range f.servers {
		s.Shutdown()
	}
}
