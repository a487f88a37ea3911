package audit

import (
	"fmt"
	"slices"
	"strings"
)

// judge files the findings for one bucket or access point: each route a
// site's clients take to it, against its policy (doc; none when
// noPolicy) and the endpoint's own policy.
func (a *auditor) judge(b subject, doc string, noPolicy bool, state string) {
	a.report.Checked++
	var p *Policy
	if !noPolicy {
		var err error
		if p, err = ParsePolicy(doc); err != nil {
			a.add(Finding{Kind: NotUnderstood, Bucket: b.label, Detail: "its policy: " + err.Error(),
				Fix: "check the policy with IAM Access Analyzer"})
			return
		}
	}
	public := Request{Action: "s3:GetObject", Resource: b.object}
	for _, v := range a.views {
		for _, r := range v.routes(b.dnsName) {
			a.judgeRoute(b, p, public, r, state)
		}
	}
}

// locks picks the Deny statements that test the path a request takes.
func locks(s *Statement) bool { return s.mentionsPath() }

func (a *auditor) judgeRoute(b subject, p *Policy, public Request, r route, state string) {
	f := Finding{Bucket: b.label, Site: r.site}
	when := r.when()
	if r.endpoint == nil {
		if p == nil {
			return
		}
		v := p.judge("Deny", public, locks)
		switch v.applies {
		case yes:
			f.Kind, f.Statement = LockedButPublic, v.statement.Name()
			f.Detail = fmt.Sprintf("%s answers %s publicly%s; %s denies every request that does not come through %s",
				siteText(r.site), b.dnsName, when, v.statement.Name(), required(v.statement))
			f.Fix = fmt.Sprintf("list %s on an endpoint that serves %s, or relax %s", b.label, siteText(r.site), v.statement.Name())
			switch {
			case r.public:
				f.Fix = fmt.Sprintf("drop site %s's public: true (its clients cannot reach the endpoint otherwise), or relax %s", r.site, v.statement.Name())
			case r.while != "":
				f.Fix = fmt.Sprintf("give the endpoint a fallback the policy allows instead of on_unhealthy: public, or relax %s", v.statement.Name())
			}
			a.add(f)
		case unknown:
			a.notUnderstood(f, v)
		}
		return
	}
	e := a.endpoints[r.endpoint.Name]
	f.Endpoint = e.Name
	private := public
	private.Through = e
	v := p.judgeOrNone("Deny", private, locks)
	switch v.applies {
	case yes:
		f.Kind, f.Statement = LockedToOtherEndpoint, v.statement.Name()
		f.Detail = fmt.Sprintf("%s answers %s with endpoint %s (%s)%s; %s denies every request that does not come through %s",
			siteText(r.site), b.dnsName, e.Name, orUnknown(e.ID), when, v.statement.Name(), required(v.statement))
		f.Fix = fmt.Sprintf("add %s to %s's condition, or list %s on the endpoint it names", orUnknown(e.ID), v.statement.Name(), b.label)
		a.add(f)
	case unknown:
		a.notUnderstood(f, v)
	default:
		if open := p.judgeOrNone("Deny", public, locks); open.applies == no {
			f.Kind = PrivateButOpen
			f.Detail = fmt.Sprintf("%s answers %s with endpoint %s, but %s: a request from anywhere else with credentials is let in",
				siteText(r.site), b.dnsName, e.Name, nothingRequires(p, b))
			if state != "" {
				f.Detail += " (" + state + ")"
			}
			f.Fix = fmt.Sprintf("add a Deny unless aws:SourceVpce is the endpoint: s3dns export --format bucket-policy --bucket %s", b.label)
			a.add(f)
		} else if open.applies == unknown {
			a.notUnderstood(f, open)
		}
	}
	a.judgeEndpointPolicy(b, e, private)
}

// judgeEndpointPolicy checks that the endpoint's own policy lets r in.
func (a *auditor) judgeEndpointPolicy(b subject, e *Endpoint, r Request) {
	if e.Policy == nil {
		return // unread: said so already
	}
	f := Finding{Bucket: b.label, Endpoint: e.Name}
	deny := e.Policy.judge("Deny", r, nil)
	allow := e.Policy.judge("Allow", r, nil)
	switch {
	case deny.applies == yes:
		f.Kind, f.Statement = EndpointPolicyDenies, deny.statement.Name()
		f.Detail = fmt.Sprintf("endpoint %s's policy denies %s on %s", e.Name, r.Action, b.label)
	case allow.applies == no:
		f.Kind = EndpointPolicyDenies
		f.Detail = fmt.Sprintf("endpoint %s's policy allows no %s on %s", e.Name, r.Action, b.label)
	case deny.applies == unknown:
		a.notUnderstood(f, deny)
		return
	case allow.applies == unknown:
		a.notUnderstood(f, allow)
		return
	default:
		return
	}
	f.Fix = fmt.Sprintf("allow %s in the endpoint's policy: s3dns export --format endpoint-policy --endpoint %s", b.label, e.Name)
	a.add(f)
}

func (a *auditor) notUnderstood(f Finding, v verdict) {
	f.Kind, f.Statement = NotUnderstood, v.statement.Name()
	f.Detail = fmt.Sprintf("%s tests %s; not judged", v.statement.Name(), v.why)
	f.Fix = "judge this statement by hand (or with IAM Access Analyzer)"
	a.add(f)
}

// judgeOrNone is judge on a policy that may be absent (no policy: nothing
// applies).
func (p *Policy) judgeOrNone(effect string, r Request, only func(*Statement) bool) verdict {
	if p == nil {
		return verdict{applies: no}
	}
	return p.judge(effect, r, only)
}

// required says what a lock statement lets in: the values of its
// negated path conditions.
func required(s *Statement) string {
	var parts []string
	for _, c := range s.Conditions {
		if slices.Contains(pathKeys, c.Key) && strings.Contains(c.Op, "Not") {
			parts = append(parts, fmt.Sprintf("%s %s", canonicalKey(c.Key), strings.Join(c.Values, " or ")))
		}
	}
	if len(parts) == 0 {
		return "the endpoint it names"
	}
	return strings.Join(parts, " and ")
}

// nothingRequires says why the policy lets a public request in.
func nothingRequires(p *Policy, b subject) string {
	if p == nil {
		return b.label + " has no policy"
	}
	for i := range p.Statements {
		if s := &p.Statements[i]; s.Effect == "Allow" && s.mentionsPath() {
			return "its policy only allows through an endpoint (" + s.Name() + "), and an Allow does not stop the account's own principals"
		}
	}
	return "nothing in its policy requires the endpoint"
}

var keyNames = map[string]string{"aws:sourcevpce": "aws:SourceVpce", "aws:sourcevpc": "aws:SourceVpc",
	"aws:vpceaccount": "aws:VpceAccount", "aws:vpceorgid": "aws:VpceOrgID", "aws:vpceorgpaths": "aws:VpceOrgPaths"}

func canonicalKey(k string) string { return keyNames[k] }

func siteText(site string) string {
	if site == "" {
		return "the top-level policy"
	}
	return "site " + site
}

func orUnknown(id string) string {
	if id == "" {
		return "id unknown"
	}
	return id
}
