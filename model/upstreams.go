package model

import (
	"net/netip"
	"strings"
)

// ParseDoT reads "tls://IP[:PORT]#NAME" (port 853 by default); ok is
// false for an address that is not of that form.
func ParseDoT(addr string) (ap netip.AddrPort, name string, ok bool) {
	rest, isTLS := strings.CutPrefix(addr, "tls://")
	if !isTLS {
		return netip.AddrPort{}, "", false
	}
	host, name, found := strings.Cut(rest, "#")
	if !found || name == "" {
		return netip.AddrPort{}, "", false
	}
	if ip, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
		return netip.AddrPortFrom(ip, 853), name, true
	}
	ap, err := netip.ParseAddrPort(host)
	return ap, name, err == nil
}
