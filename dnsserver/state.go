package dnsserver

import (
	"cmp"
	"log/slog"
	"net/netip"
	"slices"
	"time"

	"github.com/s3dns/s3dns/cache"
	"github.com/s3dns/s3dns/endpoint"
	"github.com/s3dns/s3dns/health"
	"github.com/s3dns/s3dns/metrics"
	"github.com/s3dns/s3dns/model"
	"github.com/s3dns/s3dns/wire"
	"github.com/s3dns/s3dns/zones"
)

// State is everything a query is answered from. A reload builds a new State
// and swaps it in whole; queries in flight keep the one they started with.
type State struct {
	Config  *model.Config
	Matcher *zones.Matcher
	// Cache answers forwarded names, at both speeds.
	Cache *cache.Cache
	// Endpoints answers matched names and the endpoints' own hostnames, at
	// both speeds; it lives and dies with the State, so that a reload never
	// serves old decisions.
	Endpoints *endpoint.Answers
	// Health probes the endpoints that have health set; nil when none has.
	Health *health.Monitor
	// budget bounds one query: every upstream may take its timeout once, for
	// the endpoint target and then for a public fallback.
	budget  time.Duration
	limiter *rateLimiter
	// hostnames finds an endpoint (its index, the first one) by its own
	// hostname, regional or zonal, lower case and fully qualified.
	hostnames map[string]int
	// sites are the configuration's sites, in order, each with its view of
	// the endpoints.
	sites []site
	// endpointCounters count the queries each endpoint answered.
	endpointCounters *metrics.EndpointCounters
}

// site is one configured site as queries are matched for it.
type site struct {
	cfg     *model.Site
	id      uint8 // 1-based: 0 is the top-level policy
	matcher *zones.Matcher
	counted *metrics.SiteCounters
	// scopes[j] is the ECS scope an answer for cfg.Clients[j] holds for:
	// the prefix's length, or longer where an earlier site takes part of it.
	scopes []uint8
}

// siteFor is the site of a client address, nil for the top-level policy,
// and the ECS scope prefix length of that decision (0 for no site: the
// caller knows its own bound). It allocates nothing.
func (st *State) siteFor(addr netip.Addr) (*site, uint8) {
	if len(st.sites) == 0 {
		return nil, 0
	}
	i, j, ok := st.Config.SiteOf(addr)
	if !ok {
		return nil, 0
	}
	return &st.sites[i], st.sites[i].scopes[j]
}

// noSiteScope is the ECS scope of a no-site answer for the client subnet
// sent: its own length, or the longest site prefix inside it. Shorter, a
// resolver would hand the no-site answer to that site's clients; longer
// than the source, it keeps the answer for this exact subnet only (RFC 7871
// §7.3.1).
func (st *State) noSiteScope(sent netip.Prefix) uint8 {
	bits := sent.Bits()
	for _, s := range st.sites {
		for _, p := range s.cfg.Clients {
			if p.Bits() > bits && sent.Contains(p.Addr()) {
				bits = p.Bits()
			}
		}
	}
	return uint8(bits)
}

// anyPolicyMatches reports whether the top-level policy or any site's
// matches name: only then can the answer differ from one site to another.
func (st *State) anyPolicyMatches(name string) bool {
	if _, ok := st.Matcher.Match(name); ok {
		return true
	}
	for i := range st.sites {
		if _, ok := st.sites[i].matcher.Match(name); ok {
			return true
		}
	}
	return false
}

// trustsECS reports whether a client may speak for its clients with ECS.
func (st *State) trustsECS(addr netip.Addr) bool { return model.Holds(st.Config.SitesTrustECS, addr) }

// ecsScopes computes each site prefix's scope: an earlier site's prefix
// inside it decides part of it, so the answer holds only as narrowly.
func ecsScopes(sites []model.Site, i int) []uint8 {
	out := make([]uint8, len(sites[i].Clients))
	for j, p := range sites[i].Clients {
		bits := p.Bits()
		for _, earlier := range sites[:i] {
			for _, e := range earlier.Clients {
				if e.Bits() > bits && p.Contains(e.Addr()) {
					bits = e.Bits()
				}
			}
		}
		out[j] = uint8(bits)
	}
	return out
}

// NewState prepares cfg for serving: forwarded answers from c, endpoint
// answers resolved through c (and judged by its clock), health from
// monitor (nil: nothing probed).
func NewState(cfg *model.Config, c *cache.Cache, monitor *health.Monitor, log *slog.Logger) *State {
	n := max(len(cfg.Upstreams), 1)
	hostnames := map[string]int{}
	names := make([]string, len(cfg.Endpoints))
	for i, e := range cfg.Endpoints {
		names[i] = e.Name // config gives every endpoint one
		for _, h := range e.Hostnames() {
			if _, taken := hostnames[h]; !taken {
				hostnames[h] = i
			}
		}
	}
	var sites []site
	for i := range cfg.Sites {
		s := &cfg.Sites[i]
		sites = append(sites, site{cfg: s, id: uint8(i + 1), matcher: zones.New(cfg.EndpointsFor(s)),
			counted: metrics.NewSiteCounters(s.Name), scopes: ecsScopes(cfg.Sites, i)})
	}
	limits := wire.Limits{MaxTTL: cfg.Cache.MaxTTL, NegativeMaxTTL: cfg.Cache.NegativeMaxTTL}
	return &State{
		Config:    cfg,
		Matcher:   zones.New(cfg.Endpoints),
		Cache:     c,
		Endpoints: endpoint.New(cfg.Endpoints, c, monitor, limits, log),
		Health:    monitor,
		budget:    2*time.Duration(n)*cfg.UpstreamTimeout + time.Second,
		limiter:   newRateLimiter(cfg.Access.RateLimitQPS),
		hostnames: hostnames,
		sites:     sites,

		endpointCounters: metrics.NewEndpointCounters(names),
	}
}

// endpointName is endpoint i's name for logs and metrics.
func (st *State) endpointName(i int) string { return st.endpointCounters.Name(i) }

// allowed reports whether access.allow admits addr. A link-local IPv6
// client's zone (fe80::1%eth0) is not part of its address.
func (st *State) allowed(addr netip.Addr) bool { return model.Holds(st.Config.Access.Allow, addr) }

// Flush drops what is held for name ("" for everything): forwarded answers
// and packed endpoint answers, which the next query builds again. It
// returns how many answers went.
func (st *State) Flush(name string) (int, error) {
	n, err := st.Cache.Flush(name)
	if err != nil {
		return 0, err
	}
	m, err := st.Endpoints.Flush(name)
	return n + m, err
}

// Dump describes every answer held, by name and type.
func (st *State) Dump() []wire.Held {
	held := append(st.Cache.Dump(), st.Endpoints.Dump(func(id uint8) string {
		if id == 0 || int(id) > len(st.sites) {
			return ""
		}
		return st.sites[id-1].cfg.Name
	})...)
	slices.SortFunc(held, func(a, b wire.Held) int {
		return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.Type, b.Type), cmp.Compare(a.Site, b.Site))
	})
	return held
}
