package model

import "strings"

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
