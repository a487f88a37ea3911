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
	if len(cfg.Sites) > 0 {
		fmt.Fprintf(w, "# sites: s3dns tells sites apart by the address a query comes from. A BIND serving\n")
		fmt.Fprintf(w, "# several sites needs a view per site (match-clients: the site's clients) whose\n")
		fmt.Fprintf(w, "# query-source is an address of this host listed in that site's clients in s3dns,\n")
		fmt.Fprintf(w, "# each view holding these zones (a public site's view none of them).\n")
	}
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
	writeUnboundSubnet(w, cfg, srv)
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

// writeUnboundSubnet makes Unbound send each client's subnet to s3dns and
// cache its answers per subnet (subnetcache), so that one Unbound serves
// several sites; s3dns must list Unbound's address in sites_trust_ecs.
func writeUnboundSubnet(w io.Writer, cfg *config.Config, srv Server) {
	if len(cfg.Sites) == 0 {
		return
	}
	v4, v6 := 0, 0
	for _, s := range cfg.Sites {
		for _, p := range s.Clients {
			if p.Addr().Is4() {
				v4 = max(v4, p.Bits())
			} else {
				v6 = max(v6, p.Bits())
			}
		}
	}
	fmt.Fprintf(w, "\t# sites: send each client's subnet to s3dns (list this Unbound's address in s3dns's\n")
	fmt.Fprintf(w, "\t# sites_trust_ecs) and cache answers per subnet. Keep \"validator\" if you validate.\n")
	fmt.Fprintf(w, "\tmodule-config: \"subnetcache validator iterator\"\n")
	fmt.Fprintf(w, "\tsend-client-subnet: %s\n", srv.Addr)
	if v4 > 0 {
		fmt.Fprintf(w, "\tmax-client-subnet-ipv4: %d\n", v4)
	}
	if v6 > 0 {
		fmt.Fprintf(w, "\tmax-client-subnet-ipv6: %d\n", v6)
	}
}
