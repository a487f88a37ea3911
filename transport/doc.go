// Package transport owns the sockets every listener reads and writes: it
// binds UDP and TCP, steers a listen address's UDP sockets (one per CPU),
// reads datagrams in batches and hands each to the flow (a Reader) with
// what a later reply needs, writes stream replies without blocking, and
// runs the TLS of DoT and DoH (certificates, handshakes). It knows nothing
// of DNS beyond a datagram's bytes: the flow (package dnsserver) answers.
package transport
