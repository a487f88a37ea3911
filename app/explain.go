package app

import (
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/miekg/dns"
	"github.com/spf13/pflag"

	"github.com/s3dns/s3dns/discovery"
	"github.com/s3dns/s3dns/model"
	"github.com/s3dns/s3dns/zones"
)

// explain says which endpoint and rule answer a name, and what would be
// answered, without sending any query.
func explain(fs *pflag.FlagSet, io IO) int {
	name := dns.Fqdn(fs.Arg(0))
	qtype := dns.TypeA
	if fs.NArg() == 2 {
		t, ok := dns.StringToType[strings.ToUpper(fs.Arg(1))]
		if !ok {
			fmt.Fprintf(io.Stderr, "s3dns explain: unknown record type %q\n", fs.Arg(1))
			return 2
		}
		qtype = t
	}
	if _, ok := dns.IsDomainName(name); !ok {
		fmt.Fprintf(io.Stderr, "s3dns explain: %q is not a domain name\n", fs.Arg(0))
		return 2
	}
	var client netip.Addr
	if text, _ := fs.GetString("client"); text != "" {
		var err error
		if client, err = netip.ParseAddr(text); err != nil {
			fmt.Fprintf(io.Stderr, "s3dns explain: --client %q is not an IP address\n", text)
			return 2
		}
	}
	cfg, ok := load(fs, io)
	if !ok {
		return 1
	}
	// What discovery last found (hostnames, addresses, the VPC's region)
	// explains a vpc_endpoint_id endpoint better than the file alone.
	cfg, discovered, err := discovery.FillFromStateFile(cfg)
	if err != nil {
		fmt.Fprintf(io.Stderr, "warning: discovery.state_file: %v (explaining from the file alone)\n", err)
	}
	w := io.Stdout
	fmt.Fprintf(w, "name: %s %s\n", name, dns.TypeToString[qtype])
	endpoints := cfg.Endpoints
	var site *model.Site
	i, j, inSite := cfg.SiteOf(client)
	switch {
	case !client.IsValid():
		if len(cfg.Sites) > 0 {
			fmt.Fprintln(w, "site: none given (--client IP picks one); the top-level policy")
		}
	case !inSite:
		fmt.Fprintf(w, "site: %s is in no site's clients: the top-level policy\n", client)
	default:
		site = &cfg.Sites[i]
		fmt.Fprintf(w, "site: %s (%s holds %s)%s\n", site.Name, site.Clients[j], client, siteText(site))
		endpoints = cfg.EndpointsFor(site)
	}
	m, reason, matched := zones.New(endpoints).Explain(name)
	if site != nil && site.Public {
		reason = "site " + site.Name + " is public: no endpoint serves it"
	}
	if !matched {
		fmt.Fprintf(w, "not answered by an endpoint: %s\n", reason)
		fmt.Fprintf(w, "answer: forwarded to the upstreams (%s) and cached\n", strings.Join(cfg.Upstreams, ", "))
		return 0
	}
	e := m.Endpoint
	fmt.Fprintf(w, "endpoint: %s (endpoints[%d], service %s, %s)\n", e.Name, m.Index, e.Service, regionText(e))
	if e.VPCEndpointID != "" {
		fmt.Fprintf(w, "discovered: %s\n", discoveredAt(e, discovered))
	}
	fmt.Fprintf(w, "rule: %s\n", m.Rule)
	fmt.Fprintf(w, "answer: %s\n", explainAnswer(e, name, qtype, m))
	if m.AZ != "" {
		named := *e
		named.Zone = m.AZ
		zonal, ok := named.ZonalHostname()
		switch {
		case ok && e.Hostname != "":
			fmt.Fprintf(w, "zone: %s (from the name): the CNAME goes to its zonal hostname %s while one of its addresses is up, else to %s\n", m.AZ, zonal, e.Hostname)
		default:
			fmt.Fprintf(w, "zone: %s (from the name): the endpoint has no zonal hostname there, so the regional one answers\n", m.AZ)
		}
	} else if zonal, ok := e.ZonalHostname(); ok && e.Hostname != "" {
		fmt.Fprintf(w, "zone: %s: the CNAME goes to %s while one of its addresses is up, else to %s\n", e.Zone, zonal, e.Hostname)
	}
	if len(e.Fallback) > 0 {
		fmt.Fprintf(w, "fallback: while every address is down, the first of %s with an address up answers instead (before on_unhealthy)\n", strings.Join(e.Fallback, ", "))
	}
	if h := e.Health; h != nil {
		fmt.Fprintf(w, "health: decided at run time: addresses failing %d TCP probes in a row to port %d (every %s) are left out; with none up, on_unhealthy: %s\n",
			h.Fall, h.Port, human(h.Interval), e.OnUnhealthy)
	}
	return 0
}

// regionText is "region R", or "global" for a service whose names carry
// none, and the VPC's region where discovery found it elsewhere.
func regionText(e *model.Endpoint) string {
	switch {
	case e.Region == "" && e.VPCRegion != "":
		return "global, its VPC in " + e.VPCRegion
	case e.Region == "":
		return "global"
	case e.VPCRegion != "":
		return "region " + e.Region + ", cross-Region: its VPC is in " + e.VPCRegion +
			", whose Availability Zones its zonal hostnames and sites' zones name"
	}
	return "region " + e.Region
}

// discoveredAt says where a vpc_endpoint_id endpoint's data comes from.
func discoveredAt(e *model.Endpoint, at time.Time) string {
	if e.Hostname == "" && len(e.Addresses) == 0 {
		return e.VPCEndpointID + ": asked of EC2 when serve starts (no discovery.state_file data for it here)"
	}
	if at.IsZero() {
		return e.VPCEndpointID + ": the file gives its hostname or addresses; serve fills in the rest from EC2"
	}
	return fmt.Sprintf("%s: as EC2 described it at %s (discovery.state_file); serve asks again", e.VPCEndpointID, at.UTC().Format(time.RFC3339))
}

func explainAnswer(e *model.Endpoint, name string, qtype uint16, m zones.Match) string {
	t := dns.TypeToString[qtype]
	isAddr := qtype == dns.TypeA || qtype == dns.TypeAAAA
	switch {
	case e.Hostname != "" && e.Answer == model.AnswerCNAME && qtype == dns.TypeCNAME:
		return fmt.Sprintf("%s CNAME %s (TTL %s)", name, e.Hostname, human(e.TTL))
	case e.Hostname != "" && e.Answer == model.AnswerCNAME:
		return fmt.Sprintf("%s CNAME %s (TTL %s), then the %s records of %s chased through the upstreams; when unresolved: %s",
			name, e.Hostname, human(e.TTL), t, e.Hostname, unresolvedText(e))
	case !isAddr:
		return fmt.Sprintf("NOERROR with no records and the SOA of %s (only A and AAAA are answered)", zones.ZoneOf(m, name))
	case e.Hostname == "":
		return fmt.Sprintf("the static %s addresses under %s (TTL %s)", t, name, human(e.TTL))
	default:
		return fmt.Sprintf("the %s records of %s (chased through the upstreams) under %s, TTL at most %s; when unresolved: %s",
			t, e.Hostname, name, human(e.TTL), unresolvedText(e))
	}
}

// nameProblem says why name (fully qualified) is no name a client would
// ask, "" when it is one: labels of letters, digits, hyphens and
// underscores, within DNS's lengths.
func nameProblem(name string) string {
	if _, ok := dns.IsDomainName(name); !ok {
		return "not a domain name (a label over 63 characters, or the name over 255)"
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return fmt.Sprintf("it holds %q", c)
		}
	}
	if strings.Contains(name, "..") {
		return "it has an empty label"
	}
	return ""
}
