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
	"net/netip"
	"os"
	"sync/atomic"
	"time"

	dnstap "github.com/dnstap/golang-dnstap"
	"google.golang.org/protobuf/proto"

	"github.com/s3dns/s3dns/config"
)

// Proto is the transport of the exchange a message describes.
type Proto uint8

const (
	UDP Proto = iota
	TCP
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
}

// Tap is one dnstap output and the messages it sends.
type Tap struct {
	identity, version []byte
	want              [numKinds]bool
	buf               chan []byte
	onDrop            func()
	stop              chan struct{} // closed by Close
	done              chan struct{} // closed once the output has stopped
}

// New opens the output cfg names and starts sending; version is s3dns's.
func New(cfg config.Dnstap, version string, opts Options) (*Tap, error) {
	t := &Tap{buf: make(chan []byte, cmp.Or(opts.Buffer, DefaultBuffer)), onDrop: opts.OnDrop,
		stop: make(chan struct{}), done: make(chan struct{})}
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
		for k, name := range config.DnstapMessages {
			if m == name {
				t.want[k] = true
			}
		}
	}
	switch {
	case cfg.File != "":
		out, err := dnstap.NewFrameStreamOutputFromFilename(cfg.File)
		if err != nil {
			return nil, fmt.Errorf("dnstap.file: %w", err)
		}
		go out.RunOutputLoop()
		go t.pump(out)
	case cfg.Socket != "":
		go t.runCollector("unix", cfg.Socket, cmp.Or(opts.RetryInterval, 2*time.Second))
	case cfg.TCP != "":
		go t.runCollector("tcp", cfg.TCP, cmp.Or(opts.RetryInterval, 2*time.Second))
	default:
		return nil, errors.New("dnstap: no output configured")
	}
	return t, nil
}

// pump moves messages from the bounded buffer to a file output, whose own
// channel is small.
func (t *Tap) pump(out dnstap.Output) {
	defer close(t.done)
	ch := out.GetOutputChannel()
	for b := range t.buf {
		ch <- b
	}
	out.Close()
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
		t.send(clientResponse, p, client, server, query, reply, asked, answered)
	}
}

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
	b, err := proto.Marshal(message(t.identity, t.version, k, p, from, to, query, reply, asked, answered))
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

// message is one dnstap frame as the schema defines it: the query side is
// the initiator (the client, or s3dns asking an upstream), the response
// side the responder.
func message(identity, version []byte, k kind, p Proto, from, to netip.AddrPort, query, reply []byte, asked, answered time.Time) *dnstap.Dnstap {
	family := dnstap.SocketFamily_INET
	if from.Addr().Is6() && !from.Addr().Is4In6() {
		family = dnstap.SocketFamily_INET6
	}
	protocol := dnstap.SocketProtocol_UDP
	if p == TCP {
		protocol = dnstap.SocketProtocol_TCP
	}
	m := &dnstap.Message{
		Type:            kindTypes[k].Enum(),
		SocketFamily:    family.Enum(),
		SocketProtocol:  protocol.Enum(),
		QueryAddress:    from.Addr().Unmap().AsSlice(),
		QueryPort:       proto.Uint32(uint32(from.Port())),
		ResponseAddress: to.Addr().Unmap().AsSlice(),
		ResponsePort:    proto.Uint32(uint32(to.Port())),
		QueryTimeSec:    proto.Uint64(uint64(asked.Unix())),
		QueryTimeNsec:   proto.Uint32(uint32(asked.Nanosecond())),
	}
	if query != nil {
		m.QueryMessage = query
	}
	if reply != nil {
		m.ResponseMessage = reply
		m.ResponseTimeSec = proto.Uint64(uint64(answered.Unix()))
		m.ResponseTimeNsec = proto.Uint32(uint32(answered.Nanosecond()))
	}
	return &dnstap.Dnstap{Identity: identity, Version: version, Type: dnstap.Dnstap_MESSAGE.Enum(), Message: m}
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
