package daemon

import (
	"context"
	"sync"
	"time"

	"github.com/s3dns/s3dns/audit"
	"github.com/s3dns/s3dns/discovery"
	"github.com/s3dns/s3dns/metrics"
	"github.com/s3dns/s3dns/model"
)

// auditing is serve's policy audit (audit.interval): the report kept and
// when it was made.
type auditing struct {
	mu      sync.Mutex
	report  *audit.Report
	at      time.Time
	metrics *metrics.Audit
	// wake makes the loop read audit.interval again and audit at once (a
	// reload changed the DNS split).
	wake chan struct{}
}

// auditBackoff is the first wait after a throttled audit; it doubles up
// to audit.interval.
const auditBackoff = 5 * time.Second

// startAudit runs the audit loop until ctx ends.
func (d *daemon) startAudit(ctx context.Context) {
	d.background.Add(1)
	go func() {
		defer d.background.Done()
		d.auditLoop(ctx)
	}()
}

func (d *daemon) auditLoop(ctx context.Context) {
	wait, throttled := time.Duration(0), 0
	for {
		d.mu.Lock()
		cfg := d.withDiscovered(d.cfg)
		d.mu.Unlock()
		timer := time.NewTimer(wait)
		if cfg.Audit.Interval == 0 {
			timer.Stop() // off: only a reload wakes the loop
		}
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-d.audits.wake:
			timer.Stop()
			wait, throttled = 0, 0
			continue
		case <-timer.C:
		}
		if d.auditOnce(ctx, cfg) {
			throttled++
			wait = min(cfg.Audit.Interval, auditBackoff<<min(throttled-1, 10))
			continue
		}
		wait, throttled = cfg.Audit.Interval, 0
	}
}

// auditOnce audits cfg and keeps the report, unless the APIs kept
// throttling and an earlier report exists: then it reports throttled.
func (d *daemon) auditOnce(ctx context.Context, cfg *model.Config) (throttled bool) {
	runCtx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	awsCfg, err := discovery.LoadAWS(runCtx, discovery.Settings{Region: cfg.AWS.Region, Profile: cfg.AWS.Profile})
	if err != nil {
		d.log.Error("policy audit cannot run", "error", err)
		return false
	}
	report := audit.Run(runCtx, cfg, audit.NewAWS(awsCfg, cfg.AWS.EndpointURL), audit.Options{})
	if ctx.Err() != nil {
		return false
	}
	a := &d.audits
	a.mu.Lock()
	defer a.mu.Unlock()
	if report.Throttled && a.report != nil {
		d.log.Warn("policy audit throttled by the AWS APIs: keeping the last result and backing off", "last", a.at)
		return true
	}
	a.report, a.at = report, time.Now()
	if a.metrics == nil { // exported from the first report on: no age before there is one
		a.metrics = metrics.RegisterAudit(d.reg, d.auditAt)
	}
	counts := map[string]int{}
	for _, f := range report.Findings {
		counts[f.Kind]++
	}
	a.metrics.Set(counts)
	level := d.log.Info
	if report.Errors() > 0 {
		level = d.log.Error
	}
	level("policy audit done", "checked", report.Checked, "errors", report.Errors(), "findings", len(report.Findings))
	for _, f := range report.Findings {
		d.log.Warn("policy audit finding", "severity", f.Severity, "kind", f.Kind, "bucket", f.Bucket, "site", f.Site,
			"endpoint", f.Endpoint, "statement", f.Statement, "detail", f.Detail, "fix", f.Fix)
	}
	return report.Throttled
}

// auditAt is when the kept report was made.
func (d *daemon) auditAt() time.Time {
	d.audits.mu.Lock()
	defer d.audits.mu.Unlock()
	return d.audits.at
}

// auditStatus is what /status says of the audit: nil while there is no
// report.
func (d *daemon) auditStatus() any {
	a := &d.audits
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.report == nil {
		return nil
	}
	findings := a.report.Findings
	if findings == nil {
		findings = []audit.Finding{}
	}
	return map[string]any{"at": a.at.UTC(), "checked": a.report.Checked, "errors": a.report.Errors(), "findings": findings}
}

// wakeAudit makes the loop audit again at once (after a reload).
func (d *daemon) wakeAudit() {
	select {
	case d.audits.wake <- struct{}{}:
	default:
	}
}
