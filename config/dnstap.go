package config

import (
	"fmt"
	"net/netip"
	"strings"
)

// Dnstap configures dnstap output: off unless one of Socket, TCP or File
// is set.
type Dnstap struct {
	Socket   string // a Unix socket a collector listens on
	TCP      string // IP:port of a collector
	File     string // a file to append to
	Identity string // "" : the host name
	Version  string // "" : "s3dns" and its version
	// Messages are the kinds sent: client_query, client_response,
	// forwarder_query, forwarder_response.
	Messages []string
}

// On reports whether dnstap output is configured.
func (d Dnstap) On() bool { return d.Socket != "" || d.TCP != "" || d.File != "" }

// Equal reports whether two dnstap configurations are the same.
func (d Dnstap) Equal(o Dnstap) bool {
	return d.Socket == o.Socket && d.TCP == o.TCP && d.File == o.File && d.Identity == o.Identity &&
		d.Version == o.Version && strings.Join(d.Messages, ",") == strings.Join(o.Messages, ",")
}

// DnstapMessages are the message kinds dnstap can send.
var DnstapMessages = []string{"client_query", "client_response", "forwarder_query", "forwarder_response"}

func dnstapConfig(p *problems, raw rawDnstap) Dnstap {
	d := Dnstap{Socket: strings.TrimSpace(raw.Socket), TCP: strings.TrimSpace(raw.TCP), File: strings.TrimSpace(raw.File),
		Identity: raw.Identity, Version: raw.Version}
	set := 0
	for _, s := range []string{d.Socket, d.TCP, d.File} {
		if s != "" {
			set++
		}
	}
	if set > 1 {
		p.errorf("dnstap", "give one of socket, tcp and file, not %d", set)
	}
	if d.TCP != "" {
		if ap, err := netip.ParseAddrPort(d.TCP); err != nil || ap.Port() == 0 {
			p.errorf("dnstap.tcp", "%q is not IP:port", raw.TCP)
		}
	}
	seen := map[string]bool{}
	for i, m := range raw.Messages {
		v := strings.ToLower(strings.TrimSpace(m))
		known := false
		for _, k := range DnstapMessages {
			known = known || v == k
		}
		switch {
		case !known:
			p.errorf(fmt.Sprintf("dnstap.messages[%d]", i), "%q is not one of %s", m, strings.Join(DnstapMessages, ", "))
		case !seen[v]:
			seen[v] = true
			d.Messages = append(d.Messages, v)
		}
	}
	if d.On() && len(d.Messages) == 0 {
		p.errorf("dnstap.messages", "lists no message kind: dnstap would send nothing")
	}
	return d
}
