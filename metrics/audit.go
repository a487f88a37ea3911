package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// AuditKinds are the kinds of audit finding, each exported (at 0 too)
// under its severity.
var AuditKinds = map[string]string{
	"locked-but-public": "error", "locked-to-other-endpoint": "error", "endpoint-policy-denies": "error",
	"private-but-open": "warning", "unreadable": "warning", "not-understood": "warning",
}

// Audit exports the last policy audit kept: s3dns_audit_findings and
// s3dns_audit_age_seconds.
type Audit struct {
	findings *prometheus.GaugeVec
}

// RegisterAudit adds the audit's metrics; at reads when the last audit
// kept was done.
func RegisterAudit(reg prometheus.Registerer, at func() time.Time) *Audit {
	a := &Audit{findings: prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "s3dns_audit_findings",
		Help: "Findings of the last policy audit (audit.interval) by severity and kind.",
	}, []string{"severity", "kind"})}
	reg.MustRegister(a.findings, prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "s3dns_audit_age_seconds",
		Help: "Seconds since the last policy audit kept was done (a throttled one keeps the one before).",
	}, func() float64 { return time.Since(at()).Seconds() }))
	return a
}

// Set exports counts (by kind) as the findings now.
func (a *Audit) Set(counts map[string]int) {
	for kind, severity := range AuditKinds {
		a.findings.WithLabelValues(severity, kind).Set(float64(counts[kind]))
	}
}
