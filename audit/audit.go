package audit

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/s3dns/s3dns/model"
)

// Kinds of finding (SPEC "Audit").
const (
	LockedButPublic       = "locked-but-public"        // error: the policy needs an endpoint, DNS answers a site publicly
	LockedToOtherEndpoint = "locked-to-other-endpoint" // error: the policy needs another endpoint than DNS answers with
	EndpointPolicyDenies  = "endpoint-policy-denies"   // error: the endpoint's own policy refuses the bucket
	PrivateButOpen        = "private-but-open"         // warning: DNS answers privately, nothing requires the endpoint
	Unreadable            = "unreadable"               // warning: a policy could not be read
	NotUnderstood         = "not-understood"           // warning: a statement s3dns cannot judge
)

// Severities.
const (
	Error   = "error"
	Warning = "warning"
)

func severityOf(kind string) string {
	switch kind {
	case LockedButPublic, LockedToOtherEndpoint, EndpointPolicyDenies:
		return Error
	}
	return Warning
}

// Finding is one disagreement between DNS and a policy. The JSON names are
// the stable interface of `s3dns audit --format json`.
type Finding struct {
	Severity  string `json:"severity"`
	Kind      string `json:"kind"`
	Bucket    string `json:"bucket"`   // the bucket, or the access point ("<name>-<account>")
	Site      string `json:"site"`     // "" for the top-level policy
	Endpoint  string `json:"endpoint"` // s3dns's name of the endpoint concerned
	Statement string `json:"statement"`
	Detail    string `json:"detail"` // what was found
	Fix       string `json:"fix"`    // what to change
}

// Report is one audit's outcome.
type Report struct {
	Findings []Finding
	Checked  int      // buckets and access points judged
	Notes    []string // what was not judged, and why
	// Throttled is set when an API kept throttling (after the SDK's own
	// retries): the report is incomplete.
	Throttled bool
}

// Errors counts the error-level findings.
func (r *Report) Errors() int {
	n := 0
	for _, f := range r.Findings {
		if f.Severity == Error {
			n++
		}
	}
	return n
}

// Source reads what the audit judges: the AWS APIs (NewAWS), or a test's.
type Source interface {
	// BucketPolicy is the bucket's policy document; ErrNoPolicy when it
	// has none.
	BucketPolicy(ctx context.Context, region, bucket string) (string, error)
	// PublicAccessBlock says what the bucket's Block Public Access blocks.
	PublicAccessBlock(ctx context.Context, region, bucket string) (string, error)
	// AccessPointPolicy is the access point's policy; ErrNoPolicy for none.
	AccessPointPolicy(ctx context.Context, region, account, name string) (string, error)
	// Endpoints describes interface endpoints by id: VPC, owner, policy.
	Endpoints(ctx context.Context, region string, ids []string) (map[string]EndpointFacts, error)
	// Buckets lists the account's buckets with their regions.
	Buckets(ctx context.Context) ([]Bucket, error)
}

// EndpointFacts is what EC2 says of an endpoint.
type EndpointFacts struct {
	VPC, Account, Policy string
}

// Bucket is a bucket of the account and its region.
type Bucket struct{ Name, Region string }

// ErrNoPolicy is a resource without a policy.
var ErrNoPolicy = errors.New("no policy")

// ReadError is a failed read: Permission names the IAM action a denied
// read lacked; Throttled is set when the API kept throttling.
type ReadError struct {
	Permission string
	Denied     bool
	Throttled  bool
	Err        error
}

func (e *ReadError) Error() string { return e.Err.Error() }
func (e *ReadError) Unwrap() error { return e.Err }

// Options narrow an audit.
type Options struct {
	AllBuckets bool   // judge every bucket of the account, listed or not
	Site       string // only this site's routes ("": every site and the top level)
}

// Run audits cfg against what src reads.
func Run(ctx context.Context, cfg *model.Config, src Source, opts Options) *Report {
	a := &auditor{cfg: cfg, src: src, views: views(cfg, opts.Site), report: &Report{}, seen: map[Finding]bool{}}
	a.endpoints = a.describeEndpoints(ctx)
	for _, b := range a.subjects(ctx, opts.AllBuckets) {
		a.judgeBucket(ctx, b)
	}
	for _, ap := range a.accessPoints() {
		a.judgeAccessPoint(ctx, ap)
	}
	slices.SortStableFunc(a.report.Findings, func(x, y Finding) int {
		return cmp.Or(strings.Compare(x.Severity, y.Severity), strings.Compare(x.Kind, y.Kind),
			strings.Compare(x.Bucket, y.Bucket), strings.Compare(x.Site, y.Site), strings.Compare(x.Endpoint, y.Endpoint))
	})
	return a.report
}

type auditor struct {
	cfg       *model.Config
	src       Source
	views     []view
	endpoints map[string]*Endpoint // by s3dns's endpoint name
	report    *Report
	seen      map[Finding]bool
}

func (a *auditor) add(f Finding) {
	f.Severity = severityOf(f.Kind)
	if a.seen[f] {
		return
	}
	a.seen[f] = true
	a.report.Findings = append(a.report.Findings, f)
}

// readFailed files a failed read as a finding (or the report as
// throttled).
func (a *auditor) readFailed(bucket, endpoint, what string, err error) {
	var re *ReadError
	fix := "check the AWS settings and the network path to the API"
	if errors.As(err, &re) {
		if re.Throttled {
			a.report.Throttled = true
		}
		if re.Denied {
			fix = "allow " + re.Permission + " to the credentials s3dns uses"
		}
	}
	a.add(Finding{Kind: Unreadable, Bucket: bucket, Endpoint: endpoint,
		Detail: fmt.Sprintf("reading %s: %v", what, err), Fix: fix})
}

// describeEndpoints learns each S3 endpoint's id, VPC, owner and policy.
func (a *auditor) describeEndpoints(ctx context.Context) map[string]*Endpoint {
	out := map[string]*Endpoint{}
	byRegion := map[string][]string{}
	for i := range a.cfg.Endpoints {
		e := &a.cfg.Endpoints[i]
		if e.Service != model.ServiceS3 {
			continue
		}
		out[e.Name] = &Endpoint{Name: e.Name, ID: endpointID(e)}
		if id := out[e.Name].ID; id != "" {
			// The endpoint's VPC is most often in the service's region; a
			// cross-Region endpoint's is found with aws.region (as discovery).
			region := cmp.Or(e.Region, a.cfg.AWS.Region)
			byRegion[region] = append(byRegion[region], id)
		}
	}
	facts := map[string]EndpointFacts{}
	unread := map[string]bool{}
	for _, region := range slices.Sorted(maps.Keys(byRegion)) {
		found, err := a.src.Endpoints(ctx, region, byRegion[region])
		if err != nil {
			a.readFailed("", "", "the endpoints' policies (DescribeVpcEndpoints in "+region+")", err)
			for _, id := range byRegion[region] {
				unread[id] = true
			}
			continue
		}
		for id, f := range found {
			facts[id] = f
		}
		// A cross-Region endpoint lives in a VPC of aws.region: ask there
		// for what the service's region does not list, as discovery does.
		var missing []string
		for _, id := range byRegion[region] {
			if _, ok := found[id]; !ok {
				missing = append(missing, id)
			}
		}
		if home := a.cfg.AWS.Region; len(missing) > 0 && home != "" && home != region {
			if more, err := a.src.Endpoints(ctx, home, missing); err == nil {
				for id, f := range more {
					facts[id] = f
				}
			}
		}
	}
	for _, e := range out {
		f, ok := facts[e.ID]
		if !ok {
			if e.ID != "" && !unread[e.ID] {
				a.add(Finding{Kind: Unreadable, Endpoint: e.Name, Detail: "EC2 did not describe " + e.ID,
					Fix: "check the endpoint id, and set aws.region to its VPC's region for a cross-Region endpoint"})
			}
			continue
		}
		e.VPC, e.Account = f.VPC, f.Account
		doc := cmp.Or(f.Policy, `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}`)
		p, err := ParsePolicy(doc)
		if err != nil {
			a.add(Finding{Kind: NotUnderstood, Endpoint: e.Name, Detail: "its endpoint policy: " + err.Error(),
				Fix: "check the policy with IAM Access Analyzer"})
			continue
		}
		e.Policy = p
	}
	return out
}
