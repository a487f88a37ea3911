package config

import (
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/s3dns/s3dns/model"
)

// validate checks every key of raw and builds the typed Config.
func validate(p *problems, raw *rawConfig, resolvConf string) *model.Config {
	cfg := &model.Config{
		HTTPListen:      raw.HTTPListen,
		UpstreamTimeout: duration(p, "upstream_timeout", raw.UpstreamTimeout, time.Millisecond),
	}
	cfg.Listen = listenAddrs(p, "listen", raw.Listen)
	encrypted(p, cfg, raw)
	if raw.HTTPListen != "" {
		checkHostPort(p, "http_listen", raw.HTTPListen)
	}
	cfg.Upstreams = upstreams(p, raw.Upstreams, resolvConf)

	cfg.Cache = model.Cache{
		MaxEntries:         raw.Cache.MaxEntries,
		MaxTTL:             duration(p, "cache.max_ttl", raw.Cache.MaxTTL, time.Second),
		NegativeMaxTTL:     duration(p, "cache.negative_max_ttl", raw.Cache.NegativeMaxTTL, 0),
		ServeStale:         duration(p, "cache.serve_stale", raw.Cache.ServeStale, 0),
		StaleAnswerTimeout: duration(p, "cache.stale_answer_timeout", raw.Cache.StaleAnswerTimeout, 0),
		StaleRecheck:       duration(p, "cache.stale_recheck", raw.Cache.StaleRecheck, 0),
	}
	if raw.Cache.MaxEntries < 0 {
		p.errorf("cache.max_entries", "%d must not be negative", raw.Cache.MaxEntries)
	}

	cfg.Access.Allow = prefixList(p, "access.allow", raw.Access.Allow)
	warnOpenResolver(p, cfg.Listen, cfg.Access.Allow)
	cfg.HTTPAdminAllow = prefixList(p, "http_admin_allow", raw.HTTPAdminAllow)
	cfg.Access.RateLimitQPS = raw.Access.RateLimitQPS
	if raw.Access.RateLimitQPS < 0 {
		p.errorf("access.rate_limit_qps", "%v must not be negative", raw.Access.RateLimitQPS)
	}
	cfg.Access.TCPPerClient = raw.Access.TCPPerClient
	if raw.Access.TCPPerClient < 1 {
		p.errorf("access.tcp_per_client", "%d must be at least 1", raw.Access.TCPPerClient)
	}

	cfg.TCP = model.TCP{
		IdleTimeout:  duration(p, "tcp.idle_timeout", raw.TCP.IdleTimeout, 100*time.Millisecond),
		WriteTimeout: duration(p, "tcp.write_timeout", raw.TCP.WriteTimeout, 100*time.Millisecond),
		MaxQueued:    raw.TCP.MaxQueued,
	}
	if cfg.TCP.IdleTimeout > maxKeepalive {
		p.errorf("tcp.idle_timeout", "%q is more than edns-tcp-keepalive can tell (%v)", raw.TCP.IdleTimeout, maxKeepalive)
	}
	if raw.TCP.MaxQueued < 1 {
		p.errorf("tcp.max_queued", "%d must be at least 1", raw.TCP.MaxQueued)
	}

	cfg.Log = logConfig(p, raw.Log)
	cfg.Dnstap = dnstapConfig(p, raw.Dnstap)
	cfg.AWS = awsConfig(p, raw.AWS)
	cfg.Discovery = discoveryConfig(p, raw.Discovery)
	cfg.Audit = model.Audit{Interval: duration(p, "audit.interval", raw.Audit.Interval, 0)}
	if i := cfg.Audit.Interval; i > 0 && i < time.Second {
		p.errorf("audit.interval", "%q must be 0 (off) or at least 1s", raw.Audit.Interval)
	}
	cfg.Shutdown = model.Shutdown{Lameduck: duration(p, "shutdown.lameduck", raw.Shutdown.Lameduck, 0)}
	keys := endpointKeys(raw.Endpoints)
	for i := range raw.Endpoints {
		r := raw.Endpoints[i]
		if r.Region == "" && r.VPCEndpointID != "" && !strings.EqualFold(strings.TrimSpace(r.Service), model.ServiceMRAP) {
			r.Region = raw.AWS.Region // discovery's default region
		}
		cfg.Endpoints = append(cfg.Endpoints, endpoint(p, keys[i], r))
	}
	nameEndpoints(p, cfg.Endpoints, raw.Endpoints)
	fallbacks(p, cfg.Endpoints, raw.Endpoints, keys)
	checkDuplicates(p, cfg.Endpoints, keys)
	checkServiceNames(p, cfg.Endpoints, keys)
	cfg.Sites = sites(p, raw.Sites, cfg.Endpoints)
	cfg.SitesTrustECS = prefixList(p, "sites_trust_ecs", raw.SitesTrustECS)
	if len(cfg.SitesTrustECS) > 0 && len(cfg.Sites) == 0 {
		p.warnf("sites_trust_ecs", "no sites are configured: EDNS Client Subnet decides nothing and is ignored")
	}
	warnZonesWithoutNames(p, cfg)
	return cfg
}

// maxKeepalive is the longest idle timeout edns-tcp-keepalive can carry
// (16 bits of 100 ms units, RFC 7828 §3.1).
const maxKeepalive = 0xffff * 100 * time.Millisecond

// duration parses a Go duration or a plain number of seconds, at least min.
func duration(p *problems, key, s string, min time.Duration) time.Duration {
	s = strings.TrimSpace(s)
	var d time.Duration
	if secs, err := strconv.ParseFloat(s, 64); err == nil {
		d = time.Duration(secs * float64(time.Second))
	} else if d, err = time.ParseDuration(s); err != nil {
		p.errorf(key, "%q is not a duration (use 2s, 5m, or a number of seconds)", s)
		return 0
	}
	if d < 0 {
		p.errorf(key, "%q must not be negative", s)
	} else if d < min {
		p.errorf(key, "%q must be at least %v", s, min)
	}
	return d
}

func listenAddrs(p *problems, key string, addrs []string) []string {
	if len(addrs) == 0 {
		p.errorf(key, "at least one address is needed")
	}
	seen := map[string]bool{}
	var fine []string
	for i, a := range addrs {
		k := fmt.Sprintf("%s[%d]", key, i)
		if checkHostPort(p, k, a) {
			if seen[a] {
				p.errorf(k, "%q is listed twice", a)
				continue
			}
			seen[a] = true
			for _, earlier := range fine {
				if why := bindConflict(earlier, a); why != "" {
					p.errorf(k, "%q cannot be bound beside %q: %s", a, earlier, why)
				}
			}
			fine = append(fine, a)
		}
	}
	return addrs
}

// bindConflict says why two listen addresses cannot both be bound, or ""
// when they can. As in BIND and Unbound, 0.0.0.0 takes a port on every
// IPv4 address and [::] on every IPv6 one (IPV6_V6ONLY), so the two bind
// side by side; a bare ":PORT" takes it on every address of both.
func bindConflict(a, b string) string {
	ha, pa, _ := net.SplitHostPort(a)
	hb, pb, _ := net.SplitHostPort(b)
	if pa != pb || pa == "0" {
		return ""
	}
	if ha == "" || hb == "" {
		return fmt.Sprintf("%q already takes port %s on every address, IPv4 and IPv6; list \"0.0.0.0:%s\" and \"[::]:%s\" instead, or only one", ":"+pa, pa, pa, pa)
	}
	x, y := netip.MustParseAddr(ha).Unmap(), netip.MustParseAddr(hb).Unmap()
	if x.Is4() != y.Is4() {
		return ""
	}
	for _, wild := range []netip.Addr{x, y} {
		if wild.IsUnspecified() {
			return fmt.Sprintf("%s already takes port %s on every %s address", wild, pa, family(wild))
		}
	}
	return ""
}

func family(a netip.Addr) string {
	if a.Is4() {
		return "IPv4"
	}
	return "IPv6"
}

// checkHostPort accepts "IP:port" or ":port" (every interface).
func checkHostPort(p *problems, key, s string) bool {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		p.errorf(key, "%q is not host:port (IPv6 as \"[::1]:5353\")", s)
		return false
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		p.errorf(key, "%q has an invalid port", s)
		return false
	}
	if host != "" {
		if _, err := netip.ParseAddr(host); err != nil {
			p.errorf(key, "%q: the host must be an IP address", s)
			return false
		}
	}
	return true
}

// upstreams normalises "host" and "host:port" to host:port, defaulting to
// the nameservers of resolv.conf when none are configured.
func upstreams(p *problems, list []string, resolvConf string) []string {
	key := "upstreams"
	if len(list) == 0 {
		var err error
		list, err = resolvConfNameservers(resolvConf)
		if err != nil || len(list) == 0 {
			p.errorf(key, "none configured and no nameserver found in %s", resolvConfPath(resolvConf))
			return nil
		}
	}
	var out []string
	for i, u := range list {
		k := fmt.Sprintf("%s[%d]", key, i)
		if strings.HasPrefix(u, "tls://") {
			ap, name, ok := model.ParseDoT(u)
			switch {
			case !ok:
				p.errorf(k, "%q is not tls://IP[:PORT]#NAME (DNS over TLS, the certificate verified for NAME)", u)
			case HostnameProblem(name) != "":
				p.errorf(k, "%q: %q is not a DNS name to verify the certificate for: %s", u, name, HostnameProblem(name))
			default:
				out = append(out, "tls://"+ap.String()+"#"+strings.ToLower(name))
			}
			continue
		}
		if ip, err := netip.ParseAddr(strings.Trim(u, "[]")); err == nil {
			out = append(out, net.JoinHostPort(ip.String(), "53"))
			continue
		}
		host, port, err := net.SplitHostPort(u)
		if err != nil {
			p.errorf(k, "%q is not an IP address, IP:port or tls://IP[:PORT]#NAME", u)
			continue
		}
		if _, err := netip.ParseAddr(host); err != nil {
			p.errorf(k, "%q: the host must be an IP address", u)
			continue
		}
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			p.errorf(k, "%q has an invalid port", u)
			continue
		}
		out = append(out, u)
	}
	return out
}

// prefixList reads a list of CIDR prefixes or addresses, each checked.
func prefixList(p *problems, key string, list []string) []netip.Prefix {
	var out []netip.Prefix
	for i, s := range list {
		if prefix, ok := checkPrefix(p, fmt.Sprintf("%s[%d]", key, i), s); ok {
			out = append(out, prefix)
		}
	}
	return out
}

// checkPrefix reads a CIDR prefix or an address (a prefix of its own
// length). A prefix with host bits set (192.168.1.1/24) is an error, as
// BIND makes it: which of the two was meant, the address or the network,
// cannot be told.
func checkPrefix(p *problems, key, s string) (netip.Prefix, bool) {
	s = strings.TrimSpace(s)
	if prefix, err := netip.ParsePrefix(s); err == nil {
		if masked := prefix.Masked(); masked != prefix {
			p.errorf(key, "%q has host bits set: write the network %s, or the address %s/%d alone",
				s, masked, prefix.Addr(), prefix.Addr().BitLen())
			return netip.Prefix{}, false
		}
		return prefix.Masked(), true
	}
	if addr, err := netip.ParseAddr(s); err == nil {
		return netip.PrefixFrom(addr, addr.BitLen()), true
	}
	p.errorf(key, "%q is not a CIDR prefix or IP address", s)
	return netip.Prefix{}, false
}

func logConfig(p *problems, raw rawLog) model.Log {
	l := model.Log{Format: raw.Format, Queries: raw.Queries}
	switch strings.ToLower(raw.Level) {
	case "debug":
		l.Level = slog.LevelDebug
	case "info":
		l.Level = slog.LevelInfo
	case "warn", "warning":
		l.Level = slog.LevelWarn
	case "error":
		l.Level = slog.LevelError
	default:
		p.errorf("log.level", "%q is not one of debug, info, warn, error", raw.Level)
	}
	if raw.Format != "text" && raw.Format != "json" {
		p.errorf("log.format", "%q is not one of text, json", raw.Format)
	}
	return l
}
