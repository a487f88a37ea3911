package onprem

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/s3dns/s3dns/model"
)

// WindowsForwarderTimeout is the -ForwarderTimeout the Windows export sets
// (seconds): docs/operations.md explains it, a dead first server then costs
// 2 s, not Windows' default 5.
const WindowsForwarderTimeout = 2

// named lists the servers for a comment: "10.0.0.53 port 53, 10.0.1.53 port 53".
func named(servers []Server) string {
	names := make([]string, len(servers))
	for i, s := range servers {
		names[i] = s.String()
	}
	return strings.Join(names, ", ")
}

// WriteBIND prints BIND 9 forward zones for named.conf.
func WriteBIND(w io.Writer, cfg *model.Config, servers []Server, perBucket bool) {
	fmt.Fprintf(w, "# BIND 9: forward the S3 names s3dns serves to s3dns at %s.\n", named(servers))
	if len(servers) > 0 && servers[0].TLSName != "" {
		fmt.Fprintf(w, "# DNS over TLS: BIND forwards over TLS only from 9.20 (a tls clause and\n")
		fmt.Fprintf(w, "# forwarders { ADDR port %d tls NAME; }). With 9.18, forward to s3dns's plain listener.\n", servers[0].Port)
	}
	fmt.Fprintf(w, "# Include in named.conf. s3dns must not forward these names back here.\n")
	if len(cfg.Sites) > 0 {
		fmt.Fprintf(w, "# sites: s3dns tells sites apart by the address a query comes from. A BIND serving\n")
		fmt.Fprintf(w, "# several sites needs a view per site (match-clients: the site's clients) whose\n")
		fmt.Fprintf(w, "# query-source is an address of this host listed in that site's clients in s3dns,\n")
		fmt.Fprintf(w, "# each view holding these zones (a public site's view none of them).\n")
	}
	var forwarders strings.Builder
	for _, s := range servers {
		fmt.Fprintf(&forwarders, "%s; ", s)
	}
	for _, z := range ForwardZones(cfg, perBucket) {
		fmt.Fprintf(w, "\n# %s\nzone \"%s\" {\n\ttype forward;\n\tforward only;\n\tforwarders { %s};\n};\n",
			z.Reason, z.Name, forwarders.String())
	}
}

// WriteUnbound prints Unbound forward-zone clauses and the private-domain
// lines that keep DNS-rebind protection from stripping the private answers.
func WriteUnbound(w io.Writer, cfg *model.Config, servers []Server, perBucket bool) {
	zones := ForwardZones(cfg, perBucket)
	fmt.Fprintf(w, "# Unbound: forward the S3 names s3dns serves to s3dns at %s.\n", named(servers))
	fmt.Fprintf(w, "# private-domain lets the endpoint's private addresses through private-address filtering.\n")
	fmt.Fprintf(w, "server:\n")
	for _, d := range privateDomains(cfg, zones) {
		fmt.Fprintf(w, "\tprivate-domain: \"%s\"\n", d)
	}
	if len(servers) > 0 && servers[0].TLSName != "" {
		if servers[0].CABundle != "" {
			fmt.Fprintf(w, "\ttls-cert-bundle: \"%s\"\n", servers[0].CABundle)
		} else {
			fmt.Fprintf(w, "\t# DNS over TLS: s3dns's certificate is verified against tls-cert-bundle (the system's roots,\n")
			fmt.Fprintf(w, "\t# or your private CA): tls-cert-bundle: \"/etc/ssl/certs/ca-certificates.crt\"\n")
		}
	}
	if slices.ContainsFunc(servers, func(s Server) bool { return s.Addr.IsLoopback() }) {
		fmt.Fprintf(w, "\t# s3dns runs on this host: Unbound must be allowed to query a loopback address.\n")
		fmt.Fprintf(w, "\tdo-not-query-localhost: no\n")
	}
	writeUnboundSubnet(w, cfg, servers)
	for _, z := range zones {
		fmt.Fprintf(w, "\n# %s\nforward-zone:\n\tname: \"%s.\"\n", z.Reason, z.Name)
		for _, s := range servers {
			if s.TLSName != "" {
				fmt.Fprintf(w, "\tforward-addr: %s@%d#%s\n", s.Addr, s.Port, s.TLSName)
			} else {
				fmt.Fprintf(w, "\tforward-addr: %s@%d\n", s.Addr, s.Port)
			}
		}
		if len(servers) > 0 && servers[0].TLSName != "" {
			fmt.Fprintf(w, "\tforward-tls-upstream: yes\n")
		}
	}
}

// WriteWindows prints PowerShell commands for Windows DNS Server.
func WriteWindows(w io.Writer, cfg *model.Config, servers []Server, perBucket bool) {
	addrs := make([]string, len(servers))
	for i, s := range servers {
		addrs[i] = s.Addr.String()
	}
	fmt.Fprintf(w, "# Windows DNS Server (PowerShell, DnsServer module): forward to s3dns at %s.\n", strings.Join(addrs, ", "))
	fmt.Fprintf(w, "# -ForwarderTimeout %d: Windows waits this long on each server in turn (see docs/operations.md).\n", WindowsForwarderTimeout)
	if len(servers) > 0 && servers[0].TLSName != "" {
		fmt.Fprintf(w, "# Windows DNS Server forwards in clear text only: point these at s3dns's plain listener.\n")
	}
	for _, s := range servers {
		if s.Port != 53 {
			fmt.Fprintf(w, "# WARNING: Windows conditional forwarders always use port 53; s3dns at %s listens on %d.\n", s.Addr, s.Port)
		}
	}
	for _, z := range ForwardZones(cfg, perBucket) {
		fmt.Fprintf(w, "# %s\nAdd-DnsServerConditionalForwarderZone -Name \"%s\" -MasterServers %s -ForwarderTimeout %d\n",
			z.Reason, z.Name, strings.Join(addrs, ","), WindowsForwarderTimeout)
	}
}

// SubnetcacheModules is what the Unbound export asks the operator to merge
// into module-config with sites: subnetcache in front of the modules in use.
const SubnetcacheModules = `module-config: "subnetcache validator iterator"`

// writeUnboundSubnet makes Unbound send each client's subnet to s3dns and
// cache its answers per subnet (subnetcache), so that one Unbound serves
// several sites; s3dns must list Unbound's address in sites_trust_ecs. It
// does not set module-config: that line is the operator's (one may run
// validator, another cachedb or a Python module), and a second one would
// silently replace theirs; it says exactly what to merge instead.
func writeUnboundSubnet(w io.Writer, cfg *model.Config, servers []Server) {
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
	fmt.Fprintf(w, "\t# sites_trust_ecs) and cache answers per subnet.\n")
	fmt.Fprintf(w, "\t# MERGE BY HAND: module-config in your server: clause must start with subnetcache.\n")
	fmt.Fprintf(w, "\t# This file does not set it (a second module-config would replace yours). With\n")
	fmt.Fprintf(w, "\t# Unbound's default modules (\"validator iterator\") that is:\n")
	fmt.Fprintf(w, "\t#   %s\n", SubnetcacheModules)
	for _, s := range servers {
		fmt.Fprintf(w, "\tsend-client-subnet: %s\n", s.Addr)
	}
	if v4 > 0 {
		fmt.Fprintf(w, "\tmax-client-subnet-ipv4: %d\n", v4)
	}
	if v6 > 0 {
		fmt.Fprintf(w, "\tmax-client-subnet-ipv6: %d\n", v6)
	}
}
