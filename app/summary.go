package app

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/s3dns/s3dns/config"
	"github.com/s3dns/s3dns/model"
	"github.com/s3dns/s3dns/zones"
)

// writeSummary prints what a configuration would serve, for `validate`.
func writeSummary(w io.Writer, cfg *model.Config) {
	source := cfg.File
	if source == "" {
		source = "NO FILE: " + config.NoFile() + "; built-in defaults, environment and flags only"
	}
	fmt.Fprintf(w, "configuration: %s\n", source)
	fmt.Fprintf(w, "listen: %s (UDP and TCP)\n", strings.Join(cfg.Listen, ", "))
	if cfg.HTTPListen == "" {
		fmt.Fprintf(w, "http: off\n")
	} else {
		fmt.Fprintf(w, "http: %s (/metrics /healthz /readyz)\n", cfg.HTTPListen)
	}
	fmt.Fprintf(w, "upstreams: %s (timeout %s each)\n", strings.Join(cfg.Upstreams, ", "), human(cfg.UpstreamTimeout))
	if cfg.Cache.MaxEntries == 0 {
		fmt.Fprintf(w, "cache: off\n")
	} else {
		fmt.Fprintf(w, "cache: %d entries, max TTL %s, negative max TTL %s, serve-stale %s (stale answer after %s, recheck after a failure %s)\n",
			cfg.Cache.MaxEntries, human(cfg.Cache.MaxTTL), human(cfg.Cache.NegativeMaxTTL), human(cfg.Cache.ServeStale),
			human(cfg.Cache.StaleAnswerTimeout), human(cfg.Cache.StaleRecheck))
	}
	allow := make([]string, len(cfg.Access.Allow))
	for i, p := range cfg.Access.Allow {
		allow[i] = p.String()
	}
	fmt.Fprintf(w, "access: allow %s; rate limit %s; at most %d TCP connections per client\n",
		strings.Join(allow, ", "), rateText(cfg.Access.RateLimitQPS), cfg.Access.TCPPerClient)
	fmt.Fprintf(w, "tcp: idle timeout %s, write timeout %s, at most %d replies queued per connection\n",
		human(cfg.TCP.IdleTimeout), human(cfg.TCP.WriteTimeout), cfg.TCP.MaxQueued)
	fmt.Fprintf(w, "dnstap: %s\n", dnstapText(cfg.Dnstap))
	if cfg.Discovers() {
		fmt.Fprintf(w, "discovery: every %s from %s\n", human(cfg.Discovery.Interval), awsText(cfg.AWS))
	}
	fmt.Fprintf(w, "endpoints: %d\n", len(cfg.Endpoints))
	for i := range cfg.Endpoints {
		writeEndpoint(w, i, &cfg.Endpoints[i])
	}
	writeSites(w, cfg)
	fmt.Fprintf(w, "everything else is forwarded to the upstreams\n")
}

func dnstapText(d model.Dnstap) string {
	switch {
	case d.Socket != "":
		return "to the socket " + d.Socket + " (" + strings.Join(d.Messages, ", ") + ")"
	case d.TCP != "":
		return "to " + d.TCP + " (" + strings.Join(d.Messages, ", ") + ")"
	case d.File != "":
		return "to the file " + d.File + " (" + strings.Join(d.Messages, ", ") + ")"
	}
	return "off"
}

func awsText(a model.AWS) string {
	text := "the EC2 API"
	if a.EndpointURL != "" {
		text += " at " + a.EndpointURL
	}
	if a.Profile != "" {
		text += ", profile " + a.Profile
	}
	return text + " (credentials: the AWS SDK's standard chain)"
}

func rateText(qps float64) string {
	if qps == 0 {
		return "off"
	}
	return fmt.Sprintf("%g queries/s per client", qps)
}

func writeEndpoint(w io.Writer, i int, e *model.Endpoint) {
	fmt.Fprintf(w, "  %s (endpoints[%d]) service %s, %s: %s\n", e.Name, i, e.Service, regionText(e), answerText(e))
	if e.VPCEndpointID != "" {
		fmt.Fprintf(w, "      discovered from EC2: %s (%s)\n", e.VPCEndpointID, discoveredText(e))
	}
	for _, az := range slices.Sorted(maps.Keys(e.ZonalHostnames)) {
		fmt.Fprintf(w, "      zonal %s: %s\n", az, e.ZonalHostnames[az])
	}
	if len(e.Addresses) > 0 {
		fmt.Fprintf(w, "      static addresses: %s\n", addrList(e.Addresses))
	}
	if h := e.Health; h != nil {
		fmt.Fprintf(w, "      health: TCP to port %d every %s (timeout %s), down after %d failures, up after %d; with none up: %s\n",
			h.Port, human(h.Interval), human(h.Timeout), h.Fall, h.Rise, e.OnUnhealthy)
	}
	if len(e.Fallback) > 0 {
		fmt.Fprintf(w, "      fallback while every address is down: %s\n", strings.Join(e.Fallback, ", "))
	}
	for _, name := range ServedNames(e) {
		fmt.Fprintf(w, "      takes %s\n", name)
	}
}

// discoveredText says what discovery fills in for e.
func discoveredText(e *model.Endpoint) string {
	var fills []string
	if e.Hostname == "" {
		fills = append(fills, "hostname")
	}
	if len(e.Addresses) == 0 {
		fills = append(fills, "addresses")
	}
	fills = append(fills, "zonal hostnames")
	text := "fills in its " + strings.Join(fills, ", ")
	if e.Hostname == "" && len(e.Addresses) == 0 {
		text += "; until the first discovery its names are answered as unresolved"
	}
	return text
}

func answerText(e *model.Endpoint) string {
	ttl := "TTL " + human(e.TTL)
	switch {
	case e.Hostname == "" && len(e.Addresses) == 0:
		return "its hostname and addresses come from discovery, " + ttl + "; when unresolved: " + unresolvedText(e)
	case e.Hostname == "":
		return "answers its static addresses under the asked name, " + ttl
	case e.Answer == model.AnswerCNAME:
		return fmt.Sprintf("CNAME to %s with its records, %s; when unresolved: %s", e.Hostname, ttl, unresolvedText(e))
	default:
		return fmt.Sprintf("A/AAAA of %s under the asked name, %s; when unresolved: %s", e.Hostname, ttl, unresolvedText(e))
	}
}

func unresolvedText(e *model.Endpoint) string {
	prefix := ""
	if len(e.Addresses) > 0 {
		prefix = "static addresses, else "
	}
	switch {
	case e.OnUnresolved == model.UnresolvedPublic:
		return prefix + "forward publicly (fail open)"
	case e.OnUnresolved == model.UnresolvedServfail || e.Answer == model.AnswerAlias || e.Hostname == "":
		return prefix + "SERVFAIL (fail closed)"
	default:
		return prefix + "the CNAME alone"
	}
}

// ServedNames lists the name patterns an endpoint takes.
func ServedNames(e *model.Endpoint) []string {
	var out []string
	switch e.Service {
	case model.ServiceS3:
	case model.ServiceMRAP:
		for _, a := range e.MRAPs {
			out = append(out, a+".mrap."+zones.MRAPZone)
		}
		return out
	case model.ServiceS3Express:
		out = append(out, zones.ExpressZones(e)...)
		for _, n := range append(append([]string{}, e.Buckets...), e.AccessPoints...) {
			if model.IsGlob(n) {
				out = append(out, n+".s3express-ZONE-ID."+e.Region+"."+model.DNSSuffix(e.Region))
			} else {
				out = append(out, zones.ExpressName(n, e.Region, false))
			}
		}
		return out
	default:
		return e.Names
	}
	for _, z := range zones.BucketZones(e) {
		if e.ServesApex() {
			out = append(out, z+" (path-style requests)")
		}
		for _, b := range e.Buckets {
			out = append(out, b+"."+z)
		}
	}
	for _, ap := range e.AccessPoints {
		out = append(out, zones.Name(ap, zones.AccessPoints, e.Region))
		if e.Dualstack {
			out = append(out, zones.Name(ap, zones.DualstackAccessPoints, e.Region))
		}
	}
	if e.Control {
		out = append(out, zones.ZoneName(zones.Control, e.Region), zones.Name("ACCOUNT", zones.Control, e.Region))
	}
	return out
}

// human prints a duration without zero units: 24h, 5m, 1m30s, 2s.
func human(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

func writeSites(w io.Writer, cfg *model.Config) {
	if len(cfg.Sites) == 0 {
		return
	}
	fmt.Fprintf(w, "sites: %d (a client in none gets the policy above)\n", len(cfg.Sites))
	if len(cfg.SitesTrustECS) > 0 {
		trusted := make([]string, len(cfg.SitesTrustECS))
		for i, p := range cfg.SitesTrustECS {
			trusted[i] = p.String()
		}
		fmt.Fprintf(w, "  the client subnet (EDNS Client Subnet) sent by %s decides their queries' site; anyone else's is ignored\n", strings.Join(trusted, ", "))
	}
	for i := range cfg.Sites {
		s := &cfg.Sites[i]
		clients := make([]string, len(s.Clients))
		for j, p := range s.Clients {
			clients[j] = p.String()
		}
		fmt.Fprintf(w, "  %s (sites[%d]) clients %s%s\n", s.Name, i, strings.Join(clients, ", "), siteText(s))
	}
}

// siteText says in a few words what a site changes.
func siteText(s *model.Site) string {
	var parts []string
	switch {
	case s.Public:
		parts = append(parts, "public: everything forwarded")
	case s.Endpoints != nil:
		var names []string
		for _, e := range s.Endpoints {
			text := e.Name
			if e.Buckets != nil {
				text += " buckets [" + strings.Join(e.Buckets, ", ") + "]"
			}
			if e.AccessPoints != nil {
				text += " access points [" + strings.Join(e.AccessPoints, ", ") + "]"
			}
			if e.Zone != "" {
				text += " zone " + e.Zone
			}
			names = append(names, text)
		}
		parts = append(parts, "served only by "+strings.Join(names, "; "))
	}
	if s.Zone != "" {
		parts = append(parts, "zonal hostnames of "+s.Zone+" while up")
	}
	if len(parts) == 0 {
		return ": the top-level policy"
	}
	return ": " + strings.Join(parts, ", ")
}
