// Package tap sends dnstap messages (CLIENT_QUERY/RESPONSE for what clients
// ask and get, FORWARDER_QUERY/RESPONSE for what s3dns asks its upstreams)
// through Frame Streams to a Unix socket, a TCP collector or a file, using
// golang-dnstap's outputs. Sending never slows or blocks answering: messages
// go into a bounded buffer, and what does not fit is dropped and counted.
package tap

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"time"

	dnstap "github.com/dnstap/golang-dnstap"
	"github.com/s3dns/s3dns/model"
	"google.golang.org/protobuf/proto"
)

// Proto is the transport of the exchange a message describes.
type Proto uint8

const (
	UDP Proto = iota
	TCP
	DOT // DNS over TLS
	DOH // DNS over HTTPS
)

// kind is a message type, as configured.
type kind uint8

const (
	clientQuery kind = iota
	clientResponse
	forwarderQuery
	forwarderResponse
	numKinds
)

var kindTypes = [numKinds]dnstap.Message_Type{
	clientQuery: dnstap.Message_CLIENT_QUERY, clientResponse: dnstap.Message_CLIENT_RESPONSE,
	forwarderQuery: dnstap.Message_FORWARDER_QUERY, forwarderResponse: dnstap.Message_FORWARDER_RESPONSE,
}

// DefaultBuffer is how many messages wait for the output before new ones
// are dropped.
const DefaultBuffer = 10_000

// Options tune a Tap; zero fields get defaults.
type Options struct {
	Buffer        int           // messages waiting for the output (DefaultBuffer)
	RetryInterval time.Duration // between reconnections to a collector (2 s)
	OnDrop        func()        // called for every message dropped
	// Log is told each change of the output's state: connected, or
	// reconnecting with the error (nil: not logged).
	Log *slog.Logger
}

// Tap is one dnstap output and the messages it sends.
type Tap struct {
	identity, version []byte
	want              [numKinds]bool
	buf               chan []byte
	onDrop            func()
	log               *slog.Logger
	output            string        // what the log calls the output
	stop              chan struct{} // closed by Close
	done              chan struct{} // closed once the output has stopped
}

// New opens the output cfg names and starts sending; version is s3dns's.
func New(cfg model.Dnstap, version string, opts Options) (*Tap, error) {
	t := &Tap{buf: make(chan []byte, cmp.Or(opts.Buffer, DefaultBuffer)), onDrop: opts.OnDrop, log: opts.Log,
		stop: make(chan struct{}), done: make(chan struct{})}
	if t.log == nil {
		t.log = slog.New(slog.DiscardHandler)
	}
	t.identity = []byte(cfg.Identity)
	if cfg.Identity == "" {
		h, _ := os.Hostname()
		t.identity = []byte(h)
	}
	t.version = []byte(cfg.Version)
	if cfg.Version == "" {
		t.version = []byte("s3dns " + version)
	}
	for _, m := range cfg.Messages {
		for k, name := range model.DnstapMessages {
			if m == name {
				t.want[k] = true
			}
		}
	}
	retry := cmp.Or(opts.RetryInterval, 2*time.Second)
	switch {
	case cfg.File != "":
		t.output = "file " + cfg.File
		f, err := newFileSink(cfg.File)
		if err != nil {
			return nil, fmt.Errorf("dnstap.file: %w", err)
		}
		go t.run(f, retry)
	case cfg.Socket != "":
		t.output = "socket " + cfg.Socket
		go t.run(&collectorConn{network: "unix", address: cfg.Socket}, retry)
	case cfg.TCP != "":
		t.output = "tcp " + cfg.TCP
		go t.run(&collectorConn{network: "tcp", address: cfg.TCP}, retry)
	default:
		return nil, errors.New("dnstap: no output configured")
	}
	return t, nil
}

// Close stops sending, after the messages already buffered (a collector
// that is away loses them).
func (t *Tap) Close() {
	close(t.stop)
	close(t.buf)
	<-t.done
}

// Client records a client's query and the reply it got: from client to
// server (the listening address), over proto.
func (t *Tap) Client(p Proto, client, server netip.AddrPort, query, reply []byte, asked, answered time.Time) {
	if t.want[clientQuery] {
		t.send(clientQuery, p, client, server, query, nil, asked, time.Time{})
	}
	if t.want[clientResponse] && reply != nil {
		t.send(clientResponse, p, client, server, nil, reply, asked, answered)
	}
}

// WantsForwarder reports whether forwarder messages are sent at all, so
// that callers pack them only then.
func (t *Tap) WantsForwarder() bool { return t.want[forwarderQuery] || t.want[forwarderResponse] }

// Forwarder records one exchange with an upstream; reply is nil when none came.
func (t *Tap) Forwarder(p Proto, local, upstream netip.AddrPort, query, reply []byte, asked, answered time.Time) {
	if t.want[forwarderQuery] {
		t.send(forwarderQuery, p, local, upstream, query, nil, asked, time.Time{})
	}
	if t.want[forwarderResponse] && reply != nil {
		t.send(forwarderResponse, p, local, upstream, nil, reply, asked, answered)
	}
}

// send encodes one message and queues it, or drops it when the buffer is full.
func (t *Tap) send(k kind, p Proto, from, to netip.AddrPort, query, reply []byte, asked, answered time.Time) {
	f := frames.Get().(*frame)
	defer frames.Put(f)
	f.fill(t.identity, t.version, k, p, from, to, query, reply, asked, answered)
	b, err := proto.MarshalOptions{}.MarshalAppend(make([]byte, 0, proto.Size(&f.d)), &f.d)
	if err != nil {
		return
	}
	select {
	case t.buf <- b:
	default:
		if t.onDrop != nil {
			t.onDrop()
		}
	}
}

// frame holds one message and every field it points to, so that encoding a
// message allocates nothing but its bytes (frames are pooled).
type frame struct {
	d            dnstap.Dnstap
	m            dnstap.Message
	qport, rport uint32
	qnsec, rnsec uint32
	qsec, rsec   uint64
	qaddr, raddr [16]byte
}

var frames = sync.Pool{New: func() any { return new(frame) }}

// The enum values, shared: encoding only reads them.
var (
	typeMessage = dnstap.Dnstap_MESSAGE.Enum()
	msgTypes    = [numKinds]*dnstap.Message_Type{}
	inet, inet6 = dnstap.SocketFamily_INET.Enum(), dnstap.SocketFamily_INET6.Enum()
	protocols   = [...]*dnstap.SocketProtocol{UDP: dnstap.SocketProtocol_UDP.Enum(), TCP: dnstap.SocketProtocol_TCP.Enum(),
		DOT: dnstap.SocketProtocol_DOT.Enum(), DOH: dnstap.SocketProtocol_DOH.Enum()}
)

func init() {
	for k, typ := range kindTypes {
		msgTypes[k] = typ.Enum()
	}
}

// fill sets f to one dnstap message as the schema defines it: the query
// side is the initiator (the client, or s3dns asking an upstream), the
// response side the responder.
func (f *frame) fill(identity, version []byte, k kind, p Proto, from, to netip.AddrPort, query, reply []byte, asked, answered time.Time) {
	m := &f.m
	*m = dnstap.Message{Type: msgTypes[k], SocketFamily: inet, SocketProtocol: protocols[UDP]}
	if from.Addr().Is6() && !from.Addr().Is4In6() {
		m.SocketFamily = inet6
	}
	if int(p) < len(protocols) {
		m.SocketProtocol = protocols[p]
	}
	m.QueryAddress = appendAddr(f.qaddr[:0], from.Addr())
	m.ResponseAddress = appendAddr(f.raddr[:0], to.Addr())
	f.qport, f.rport = uint32(from.Port()), uint32(to.Port())
	m.QueryPort, m.ResponsePort = &f.qport, &f.rport
	f.qsec, f.qnsec = uint64(asked.Unix()), uint32(asked.Nanosecond())
	m.QueryTimeSec, m.QueryTimeNsec = &f.qsec, &f.qnsec
	m.QueryMessage = query
	if reply != nil {
		m.ResponseMessage = reply
		f.rsec, f.rnsec = uint64(answered.Unix()), uint32(answered.Nanosecond())
		m.ResponseTimeSec, m.ResponseTimeNsec = &f.rsec, &f.rnsec
	}
	f.d = dnstap.Dnstap{Identity: identity, Version: version, Type: typeMessage, Message: m}
}

// appendAddr is a's 4 or 16 bytes.
func appendAddr(dst []byte, a netip.Addr) []byte {
	a = a.Unmap()
	if a.Is4() {
		b := a.As4()
		return append(dst, b[:]...)
	}
	b := a.As16()
	return append(dst, b[:]...)
}

// Switch holds the Tap in use, which a reload may replace or remove; its
// methods do nothing while there is none, for the cost of one atomic load.
type Switch struct {
	p atomic.Pointer[Tap]
}

// Set puts t in use (nil: off) and returns the one it replaces.
func (s *Switch) Set(t *Tap) *Tap { return s.p.Swap(t) }

// Current is the Tap in use, or nil.
func (s *Switch) Current() *Tap {
	if s == nil {
		return nil
	}
	return s.p.Load()
}
