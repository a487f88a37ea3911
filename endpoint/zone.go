package endpoint

import (
	"context"

	"github.com/miekg/dns"

	"github.com/s3dns/s3dns/health"
	"github.com/s3dns/s3dns/wire"
	"github.com/s3dns/s3dns/zones"
)

// inZone is m answered from the endpoint's zonal hostname in the
// Availability Zone the name carries (S3 Express: use1-az4), else the
// site's, while that zone has an address up; else m as it is (the regional
// hostname: every healthy zone).
func (a *Answers) inZone(ctx context.Context, q *wire.Question, m zones.Match, view health.View) zones.Match {
	ep := m.Endpoint
	if m.AZ != "" {
		named := *ep
		named.Zone = m.AZ
		ep = &named
	}
	zonal, ok := ep.ZonalHostname()
	if !ok || !a.zoneUp(ctx, q, zonal, view) {
		return m
	}
	inZone := *ep
	inZone.Hostname = zonal
	m.Endpoint = &inZone
	return m
}

// zoneUp reports whether the zonal hostname resolves to an address that is
// not down.
func (a *Answers) zoneUp(ctx context.Context, q *wire.Question, zonal string, view health.View) bool {
	for _, qtype := range []uint16{dns.TypeA, dns.TypeAAAA} {
		res, err := a.resolver.Resolve(ctx, wire.NewQuestion(zonal, qtype, q.Opts))
		if err != nil {
			a.log.Debug("zonal hostname unresolved", "hostname", zonal, "error", err)
			return false
		}
		for _, addr := range addressesIn(res.Msg().Answer) {
			if !view.Down(addr) {
				return true
			}
		}
	}
	return false
}
