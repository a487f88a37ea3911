package transport

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/s3dns/s3dns/model"
)

// Certificates is the encrypted listeners' certificate, and the roots
// client certificates are verified against. Reload replaces the
// certificate whole for new handshakes; connections keep theirs.
type Certificates struct {
	files     model.TLS
	current   atomic.Pointer[tls.Certificate]
	clientCAs *x509.CertPool // nil: client certificates are not asked for
	mu        sync.Mutex     // serialises reloads
}

// LoadCertificates reads the certificate and key, and the client roots.
func LoadCertificates(files model.TLS) (*Certificates, error) {
	c := &Certificates{files: files}
	if files.ClientCAFile != "" {
		pem, err := os.ReadFile(files.ClientCAFile)
		if err != nil {
			return nil, err
		}
		c.clientCAs = x509.NewCertPool()
		if !c.clientCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s: no PEM certificate in it", files.ClientCAFile)
		}
	}
	if err := c.Reload(); err != nil {
		return nil, err
	}
	return c, nil
}

// Reload reads the certificate files again. A pair that does not load, or
// a certificate already expired, keeps the one in use and says why.
func (c *Certificates) Reload() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	cert, err := tls.LoadX509KeyPair(c.files.CertFile, c.files.KeyFile)
	if err != nil {
		return fmt.Errorf("%s with %s: %w", c.files.CertFile, c.files.KeyFile, err)
	}
	if time.Now().After(cert.Leaf.NotAfter) {
		return fmt.Errorf("%s expired at %s", c.files.CertFile, cert.Leaf.NotAfter.UTC().Format(time.RFC3339))
	}
	c.current.Store(&cert)
	return nil
}

// Expiry is when the certificate in use stops being valid.
func (c *Certificates) Expiry() time.Time { return c.current.Load().Leaf.NotAfter }

// Config is the server side TLS configuration for one transport (ALPN
// protocols): TLS 1.2 at least, the current certificate at each handshake,
// client certificates verified when roots are given.
func (c *Certificates) Config(protos ...string) *tls.Config {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, NextProtos: protos,
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return c.current.Load(), nil }}
	if c.clientCAs != nil {
		cfg.ClientCAs = c.clientCAs
		cfg.ClientAuth = tls.VerifyClientCertIfGiven
		if c.files.RequireClientCert {
			cfg.ClientAuth = tls.RequireAndVerifyClientCert
		}
	}
	return cfg
}

// HandshakeReason sorts a failed handshake for
// s3dns_tls_handshake_errors_total{reason}.
func HandshakeReason(err error) string {
	var unknown x509.UnknownAuthorityError
	var invalid x509.CertificateInvalidError
	var op *net.OpError
	switch {
	case errors.As(err, &unknown), errors.As(err, &invalid), strings.Contains(err.Error(), "client didn't provide a certificate"):
		return "client_certificate" // ours refused theirs
	case errors.As(err, &op) && op.Op == "remote error":
		return "refused_by_client" // the client refused ours (an untrusted CA, a wrong name)
	case errors.Is(err, os.ErrDeadlineExceeded), errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	}
	return "other"
}

// PeerNames are the names of a connection's verified client certificate:
// its DNS names, else its common name, lower case; nil without one.
func PeerNames(cs tls.ConnectionState) []string {
	if len(cs.VerifiedChains) == 0 || len(cs.VerifiedChains[0]) == 0 {
		return nil
	}
	leaf := cs.VerifiedChains[0][0]
	var out []string
	for _, n := range leaf.DNSNames {
		out = append(out, strings.ToLower(strings.TrimSuffix(n, ".")))
	}
	if len(out) == 0 && leaf.Subject.CommonName != "" {
		out = append(out, strings.ToLower(leaf.Subject.CommonName))
	}
	return out
}
