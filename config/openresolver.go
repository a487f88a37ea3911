package config

import (
	"net"
	"net/netip"
)

// warnOpenResolver warns when every address may query a listener that is
// not on a private or loopback address: an open resolver, usable by anyone
// for recursion and reflection attacks.
func warnOpenResolver(p *problems, listen []string, allow []netip.Prefix) {
	open := ""
	for _, prefix := range allow {
		if prefix.Bits() == 0 {
			open = prefix.String()
		}
	}
	if open == "" {
		return
	}
	for _, l := range listen {
		host, _, err := net.SplitHostPort(l)
		if err != nil {
			continue
		}
		ip, err := netip.ParseAddr(host)
		if host == "" || err == nil && (ip.IsUnspecified() || !ip.IsLoopback() && !ip.IsPrivate()) {
			p.warnf("access.allow", "OPEN RESOLVER: %s lets every address query %s, which is not a private address; "+
				"anyone who reaches it can use it for recursion and reflection attacks: list your client networks instead", open, l)
		}
	}
}
