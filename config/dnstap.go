package config

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/s3dns/s3dns/model"
)

func dnstapConfig(p *problems, raw rawDnstap) model.Dnstap {
	d := model.Dnstap{Socket: strings.TrimSpace(raw.Socket), TCP: strings.TrimSpace(raw.TCP), File: strings.TrimSpace(raw.File),
		Identity: raw.Identity, Version: raw.Version}
	set := 0
	for _, s := range []string{d.Socket, d.TCP, d.File} {
		if s != "" {
			set++
		}
	}
	if set > 1 {
		p.errorf("dnstap", "give one of socket, tcp and file, not %d", set)
	}
	if d.TCP != "" {
		if ap, err := netip.ParseAddrPort(d.TCP); err != nil || ap.Port() == 0 {
			p.errorf("dnstap.tcp", "%q is not IP:port", raw.TCP)
		}
	}
	seen := map[string]bool{}
	for i, m := range raw.Messages {
		v := strings.ToLower(strings.TrimSpace(m))
		known := false
		for _, k := range model.DnstapMessages {
			known = known || v == k
		}
		switch {
		case !known:
			p.errorf(fmt.Sprintf("dnstap.messages[%d]", i), "%q is not one of %s", m, strings.Join(model.DnstapMessages, ", "))
		case !seen[v]:
			seen[v] = true
			d.Messages = append(d.Messages, v)
		}
	}
	if d.On() && len(d.Messages) == 0 {
		p.errorf("dnstap.messages", "lists no message kind: dnstap would send nothing")
	}
	return d
}
