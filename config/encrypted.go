package config

import (
	"crypto/tls"
	"crypto/x509"
	"os"
	"strings"

	"github.com/s3dns/s3dns/model"
)

// encrypted reads the keys of the encrypted listeners: their addresses,
// the trusted proxies, and a certificate that loads when any needs one.
func encrypted(p *problems, cfg *model.Config, raw *rawConfig) {
	cfg.ListenTLS = optionalListen(p, "listen_tls", raw.ListenTLS)
	cfg.ListenHTTPS = optionalListen(p, "listen_https", raw.ListenHTTPS)
	cfg.ListenHTTP = optionalListen(p, "listen_http", raw.ListenHTTP)
	cfg.HTTPSTrustedProxies = prefixList(p, "https_trusted_proxies", raw.TrustedProxies)
	cfg.TLS = model.TLS{CertFile: strings.TrimSpace(raw.TLS.CertFile), KeyFile: strings.TrimSpace(raw.TLS.KeyFile),
		ClientCAFile: strings.TrimSpace(raw.TLS.ClientCAFile), RequireClientCert: raw.TLS.RequireClientCert,
		UpstreamCAFile: strings.TrimSpace(raw.TLS.UpstreamCAFile)}
	t := cfg.TLS
	switch {
	case !cfg.Encrypted() && (t.CertFile != "" || t.KeyFile != ""):
		p.warnf("tls", "a certificate is given but no listen_tls or listen_https uses it")
	case cfg.Encrypted() && (t.CertFile == "" || t.KeyFile == ""):
		p.errorf("tls", "listen_tls and listen_https need tls.cert_file and tls.key_file")
	case cfg.Encrypted():
		if _, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile); err != nil {
			p.errorf("tls.cert_file", "%q with tls.key_file %q: %v", t.CertFile, t.KeyFile, err)
		}
	}
	if t.ClientCAFile != "" {
		if _, err := LoadCAs(t.ClientCAFile); err != nil {
			p.errorf("tls.client_ca_file", "%q: %v", t.ClientCAFile, err)
		}
	}
	if t.UpstreamCAFile != "" {
		if _, err := LoadCAs(t.UpstreamCAFile); err != nil {
			p.errorf("tls.upstream_ca_file", "%q: %v", t.UpstreamCAFile, err)
		}
	}
	if t.RequireClientCert && t.ClientCAFile == "" {
		p.errorf("tls.require_client_cert", "needs tls.client_ca_file to verify the certificates against")
	}
}

// optionalListen is listenAddrs for a list that may be empty.
func optionalListen(p *problems, key string, addrs []string) []string {
	if len(addrs) == 0 {
		return nil
	}
	return listenAddrs(p, key, addrs)
}

// LoadCAs reads a PEM file of CA certificates.
func LoadCAs(file string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, errNoCertificates
	}
	return pool, nil
}

var errNoCertificates = errorString("no PEM certificate in it")

type errorString string

func (e errorString) Error() string { return string(e) }
