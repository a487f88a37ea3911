package onprem

import (
	"fmt"
	"io"

	"github.com/s3dns/s3dns/config"
)

// WriteBIND prints BIND 9 forward zones for named.conf.
func WriteBIND(w io.Writer, cfg *config.Config, srv Server, perBucket bool) {
	fmt.Fprintf(w, "# BIND 9: forward the S3 names s3dns serves to s3dns at %s port %d.\n", srv.Addr, srv.Port)
	fmt.Fprintf(w, "# Include in named.conf. s3dns must not forward these names back here.\n")
	for _, z := range ForwardZones(cfg, perBucket) {
		fmt.Fprintf(w, "\n# %s\nzone \"%s\" {\n\ttype forward;\n\tforward only;\n\tforwarders { %s port %d; };\n};\n",
			z.Reason, z.Name, srv.Addr, srv.Port)
	}
}

// WriteUnbound prints Unbound forward-zone clauses and the private-domain
// lines that keep DNS-rebind protection from stripping the private answers.
func WriteUnbound(w io.Writer, cfg *config.Config, srv Server, perBucket bool) {
	zones := ForwardZones(cfg, perBucket)
	fmt.Fprintf(w, "# Unbound: forward the S3 names s3dns serves to s3dns at %s port %d.\n", srv.Addr, srv.Port)
	fmt.Fprintf(w, "# private-domain lets the endpoint's private addresses through private-address filtering.\n")
	fmt.Fprintf(w, "server:\n")
	for _, d := range privateDomains(cfg, zones) {
		fmt.Fprintf(w, "\tprivate-domain: \"%s\"\n", d)
	}
	for _, z := range zones {
		fmt.Fprintf(w, "\n# %s\nforward-zone:\n\tname: \"%s.\"\n\tforward-addr: %s@%d\n", z.Reason, z.Name, srv.Addr, srv.Port)
	}
}

// WriteWindows prints PowerShell commands for Windows DNS Server.
func WriteWindows(w io.Writer, cfg *config.Config, srv Server, perBucket bool) {
	fmt.Fprintf(w, "# Windows DNS Server (PowerShell, DnsServer module): forward to s3dns at %s.\n", srv.Addr)
	if srv.Port != 53 {
		fmt.Fprintf(w, "# WARNING: Windows conditional forwarders always use port 53; s3dns listens on %d.\n", srv.Port)
	}
	for _, z := range ForwardZones(cfg, perBucket) {
		fmt.Fprintf(w, "# %s\nAdd-DnsServerConditionalForwarderZone -Name \"%s\" -MasterServers %s -ForwarderTimeout 5\n",
			z.Reason, z.Name, srv.Addr)
	}
}
