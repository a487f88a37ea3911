// Package dnstest provides a fake upstream resolver for tests: a real DNS
// server on 127.0.0.1 (UDP and TCP on one port) that serves a small zone,
// counts queries per name and transport, and misbehaves on demand.
package dnstest

import (
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// Mode is how the fake upstream behaves.
type Mode int

const (
	Normal          Mode = iota
	Silent               // never answers
	Slow                 // answers after Delay
	Servfail             // SERVFAIL to everything
	Refused              // REFUSED to everything
	Truncate             // UDP replies empty with TC; TCP answers fully
	TruncateNoTCP        // UDP replies with TC; TCP connections are closed at once
	TruncateTCPDown      // UDP replies with TC; nothing listens on TCP (connection refused)
	WrongID              // replies carry another ID
	WrongQuestion        // replies carry another question
	Garbage              // replies are random bytes
	WrongIDFirst         // a reply with the wrong ID, then the right one
	OtherAddress         // replies come from another port (a spoofer's)
	NoQR                 // replies lack the QR bit
	WrongOpcode          // replies carry another opcode
)

// Faults are the ways an upstream can fail that every fault test tries.
var Faults = []struct {
	Name string
	Mode Mode
}{
	{"silent", Silent},
	{"slower than the timeout", Slow},
	{"SERVFAIL", Servfail},
	{"REFUSED", Refused},
	{"garbage bytes", Garbage},
	{"TC, then TCP closed", TruncateNoTCP},
	{"TC, no TCP", TruncateTCPDown},
	{"wrong ID", WrongID},
	{"wrong question", WrongQuestion},
	{"reply from another address", OtherAddress},
	{"reply without QR", NoQR},
	{"reply with another opcode", WrongOpcode},
}

// Upstream is a fake resolver.
type Upstream struct {
	Addr string // host:port for UDP and TCP

	tcp     *dns.Server
	mu      sync.Mutex
	mode    Mode
	delay   time.Duration
	records map[string][]dns.RR      // key: lower-case name + "/" + type
	names   map[string]bool          // names that exist (for NODATA vs NXDOMAIN)
	counts  map[string]int           // key: lower-case name + "/" + net
	failing map[string]bool          // lower-case names answered with SERVFAIL
	slow    map[string]time.Duration // lower-case names answered late
	proofs  []dns.RR                 // authority records beside the SOA in negative answers
	planted [3][]dns.RR              // added to every reply: answer, authority, additional
	asked   []*dns.Msg
	sources []string // client address of each query, in order
}

// Soa is the SOA the fake upstream puts in negative answers, owned by the
// zone of the asked name (soaFor), as a real resolver's would be.
const Soa = "example. 300 IN SOA ns.example. hostmaster.example. 1 3600 600 86400 120"

// soaFor is Soa owned by name's last two labels (the last one for a name of
// two or fewer): amazonaws.com. for the S3 and vpce names, example. for the
// test names.
func soaFor(name string) dns.RR {
	soa, _ := dns.NewRR(Soa)
	labels := dns.SplitDomainName(name)
	k := min(len(labels), 1)
	if len(labels) > 2 {
		k = 2
	}
	soa.Header().Name = dns.Fqdn(strings.Join(labels[len(labels)-k:], "."))
	return soa
}

// NewUpstream starts a fake upstream that stops when the test ends.
func NewUpstream(t testing.TB, records ...string) *Upstream {
	t.Helper()
	u := &Upstream{records: map[string][]dns.RR{}, names: map[string]bool{}, counts: map[string]int{}, failing: map[string]bool{},
		slow: map[string]time.Duration{}}
	for _, r := range records {
		u.Add(t, r)
	}
	var pc net.PacketConn
	var ln net.Listener
	for range 20 {
		var err error
		if pc, err = net.ListenPacket("udp", "127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
		if ln, err = net.Listen("tcp", pc.LocalAddr().String()); err == nil {
			break
		}
		pc.Close()
		ln = nil
	}
	if ln == nil {
		t.Fatal("no free port for UDP and TCP")
	}
	u.Addr = pc.LocalAddr().String()
	udp := &dns.Server{PacketConn: pc, Handler: u}
	tcp := &dns.Server{Listener: &closingListener{Listener: ln, u: u}, Handler: u}
	u.tcp = tcp
	for _, s := range []*dns.Server{udp, tcp} {
		started := make(chan struct{})
		s.NotifyStartedFunc = func() { close(started) }
		go s.ActivateAndServe()
		<-started
	}
	t.Cleanup(func() {
		_ = udp.Shutdown()
		_ = tcp.Shutdown()
	})
	return u
}

// Sections of a reply, for Plant.
const (
	AnswerSection = iota
	AuthoritySection
	AdditionalSection
)

// Plant adds a record to the given section of every reply, whatever was
// asked: an upstream that tries to slip records for other names in.
func (u *Upstream) Plant(t testing.TB, section int, record string) {
	t.Helper()
	rr, err := dns.NewRR(record)
	if err != nil {
		t.Fatal(err)
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	u.planted[section] = append(u.planted[section], rr)
}

// Add serves one record given in zone-file syntax.
func (u *Upstream) Add(t testing.TB, record string) {
	t.Helper()
	rr, err := dns.NewRR(record)
	if err != nil {
		t.Fatalf("bad test record %q: %v", record, err)
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	name := strings.ToLower(rr.Header().Name)
	key := name + "/" + dns.TypeToString[rr.Header().Rrtype]
	u.records[key] = append(u.records[key], rr)
	u.names[name] = true
}

// SetMode changes how the upstream behaves; delay is used by Slow.
// TruncateTCPDown stops the TCP listener for good.
func (u *Upstream) SetMode(m Mode, delay time.Duration) {
	u.mu.Lock()
	u.mode, u.delay = m, delay
	u.mu.Unlock()
	if m == TruncateTCPDown {
		_ = u.tcp.Shutdown()
	}
}

// FailName makes queries for one name get SERVFAIL, whatever the mode.
func (u *Upstream) FailName(name string) {
	u.mu.Lock()
	u.failing[strings.ToLower(dns.Fqdn(name))] = true
	u.mu.Unlock()
}

// Unfail answers a name failed with FailName normally again.
func (u *Upstream) Unfail(name string) {
	u.mu.Lock()
	delete(u.failing, strings.ToLower(dns.Fqdn(name)))
	u.mu.Unlock()
}

// DelayName makes answers for one name arrive after d.
func (u *Upstream) DelayName(name string, d time.Duration) {
	u.mu.Lock()
	u.slow[strings.ToLower(dns.Fqdn(name))] = d
	u.mu.Unlock()
}

// AddProof puts a record (an NSEC and its RRSIG, say) beside the SOA in
// the authority section of every negative answer.
func (u *Upstream) AddProof(t testing.TB, record string) {
	t.Helper()
	rr, err := dns.NewRR(record)
	if err != nil {
		t.Fatalf("bad test record %q: %v", record, err)
	}
	u.mu.Lock()
	u.proofs = append(u.proofs, rr)
	u.mu.Unlock()
}

// Count is how many queries for name arrived over network ("udp" or "tcp").
func (u *Upstream) Count(name, network string) int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.counts[strings.ToLower(dns.Fqdn(name))+"/"+network]
}

// Total is how many queries arrived in all.
func (u *Upstream) Total() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	n := 0
	for _, c := range u.counts {
		n += c
	}
	return n
}

// Sources returns the client address of each query received, oldest first.
func (u *Upstream) Sources() []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]string(nil), u.sources...)
}

// Asked returns copies of the queries received, oldest first.
func (u *Upstream) Asked() []*dns.Msg {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]*dns.Msg(nil), u.asked...)
}

func (u *Upstream) ServeDNS(w dns.ResponseWriter, req *dns.Msg) {
	network := w.LocalAddr().Network()
	u.mu.Lock()
	mode, delay := u.mode, u.delay
	var late time.Duration
	if len(req.Question) == 1 {
		name := strings.ToLower(req.Question[0].Name)
		u.counts[name+"/"+network]++
		if u.failing[name] && mode == Normal {
			mode = Servfail
		}
		if d, ok := u.slow[name]; ok && (mode == Normal || mode == Truncate) {
			late = d // over TCP too, when UDP only says TC
		}
	}
	u.asked = append(u.asked, req.Copy())
	u.sources = append(u.sources, w.RemoteAddr().String())
	u.mu.Unlock()

	resp := u.reply(req)
	time.Sleep(late)
	switch mode {
	case Silent:
		return
	case Slow:
		time.Sleep(delay)
	case Servfail:
		resp = new(dns.Msg)
		resp.SetRcode(req, dns.RcodeServerFailure)
	case Refused:
		resp = new(dns.Msg)
		resp.SetRcode(req, dns.RcodeRefused)
	case Truncate, TruncateNoTCP, TruncateTCPDown:
		if network == "udp" {
			resp.Answer, resp.Ns, resp.Extra = nil, nil, nil
			resp.Truncated = true
		}
	case WrongID:
		resp.Id = req.Id + 1
	case WrongQuestion:
		resp.Question[0].Name = "other.example."
	case NoQR:
		resp.Response = false
	case WrongOpcode:
		resp.Opcode = dns.OpcodeStatus
	case Garbage:
		_, _ = w.Write([]byte{0xde, 0xad, 0xbe, 0xef, 0x00, 0x01, 0x02})
		return
	case WrongIDFirst:
		forged := resp.Copy()
		forged.Id = req.Id ^ 0x5a5a
		forged.Answer = nil
		_ = w.WriteMsg(forged)
	case OtherAddress:
		if network == "udp" {
			sendFromOtherPort(w.RemoteAddr(), resp)
			return
		}
	}
	_ = w.WriteMsg(resp)
}

// reply answers from the zone: records, else NODATA or NXDOMAIN with SOA.
func (u *Upstream) reply(req *dns.Msg) *dns.Msg {
	resp := new(dns.Msg)
	resp.SetReply(req)
	resp.RecursionAvailable = true
	if len(req.Question) != 1 {
		resp.Rcode = dns.RcodeFormatError
		return resp
	}
	q := req.Question[0]
	name := strings.ToLower(q.Name)
	u.mu.Lock()
	defer u.mu.Unlock()
	for _, rr := range u.records[name+"/"+dns.TypeToString[q.Qtype]] {
		resp.Answer = append(resp.Answer, dns.Copy(rr))
	}
	if len(resp.Answer) == 0 {
		if !u.names[name] {
			resp.Rcode = dns.RcodeNameError
		}
		resp.Ns = []dns.RR{soaFor(name)}
		for _, rr := range u.proofs {
			resp.Ns = append(resp.Ns, dns.Copy(rr))
		}
	}
	resp.Answer = append(resp.Answer, u.planted[AnswerSection]...)
	resp.Ns = append(resp.Ns, u.planted[AuthoritySection]...)
	resp.Extra = append(resp.Extra, u.planted[AdditionalSection]...)
	if opt := req.IsEdns0(); opt != nil {
		resp.SetEdns0(dns.DefaultMsgSize, opt.Do())
	}
	return resp
}

// closingListener closes TCP connections at once in TruncateNoTCP mode.
type closingListener struct {
	net.Listener
	u *Upstream
}

func (l *closingListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		l.u.mu.Lock()
		closeIt := l.u.mode == TruncateNoTCP
		l.u.mu.Unlock()
		if !closeIt {
			return c, nil
		}
		c.Close()
	}
}

// sendFromOtherPort sends resp to addr from a fresh socket, as a forger would.
func sendFromOtherPort(addr net.Addr, resp *dns.Msg) {
	b, err := resp.Pack()
	if err != nil {
		return
	}
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return
	}
	defer c.Close()
	_, _ = c.WriteTo(b, addr)
}
