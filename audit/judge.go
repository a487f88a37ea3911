package audit

import (
	"fmt"
	"slices"
	"strings"
)

// truth is a condition's outcome when some facts may be unknown.
type truth int8

const (
	no truth = iota
	yes
	unknown
)

func and(a, b truth) truth {
	switch {
	case a == no || b == no:
		return no
	case a == unknown || b == unknown:
		return unknown
	}
	return yes
}

// Request is one request a site's client sends, over the path DNS gives it.
// The audit judges requests of an ordinary principal of the account: not
// an AWS service, not an administration role a statement carves out.
type Request struct {
	Action   string // s3:GetObject
	Resource string // the ARN acted on
	// Through is the endpoint the request comes through; nil for the public
	// path (no aws:SourceVpce, aws:SourceVpc … in the request).
	Through *Endpoint
}

// Endpoint is what the audit knows about an interface endpoint; "" is
// unknown.
type Endpoint struct {
	Name    string // s3dns's name for it
	ID      string // vpce-…
	VPC     string
	Account string // its owner, aws:VpceAccount
	// Policy is its endpoint policy; nil when unread.
	Policy *Policy
}

// verdict is what statements of one effect make of a request: whether one
// applies, which, and (when unknown) why.
type verdict struct {
	applies   truth
	statement *Statement
	why       string
}

// judge says whether a statement of effect applies to r: yes when one
// does, unknown when none does but one might (why says what s3dns cannot
// tell), no otherwise. only, when not nil, picks the statements judged.
func (p *Policy) judge(effect string, r Request, only func(*Statement) bool) verdict {
	out := verdict{applies: no}
	for i := range p.Statements {
		s := &p.Statements[i]
		if s.Effect != effect || (only != nil && !only(s)) {
			continue
		}
		t, why := s.appliesTo(r)
		switch {
		case t == yes:
			return verdict{applies: yes, statement: s}
		case t == unknown && out.applies == no:
			out = verdict{applies: unknown, statement: s, why: why}
		}
	}
	return out
}

// appliesTo judges one statement for r.
func (s *Statement) appliesTo(r Request) (truth, string) {
	if !s.principalHolds() || !listHolds(s.Action, s.NotAction, r.Action, true) ||
		!listHolds(s.Resource, s.NotResource, r.Resource, false) {
		return no, ""
	}
	out, why := yes, ""
	for _, c := range s.Conditions {
		t, w := r.condition(c)
		if t == unknown && why == "" {
			why = w
		}
		out = and(out, t)
	}
	return out, why
}

// principalHolds: the statement names everyone ("*"), or NotPrincipal
// names others (the ordinary principal is none of an exception list).
// A statement naming principals one by one is for them, not for everyone.
func (s *Statement) principalHolds() bool {
	if s.NotPrincipal != nil {
		return true
	}
	return slices.Contains(s.Principal["AWS"], "*")
}

// listHolds matches v against a statement's Action or Resource list, or
// outside its NotAction or NotResource list.
func listHolds(in, notIn []string, v string, fold bool) bool {
	matches := func(list []string) bool {
		return slices.ContainsFunc(list, func(p string) bool { return wildcard(p, v, fold) })
	}
	if in != nil {
		return matches(in)
	}
	return notIn != nil && !matches(notIn)
}

// The condition keys of the path a request takes: absent on the public
// path, the endpoint's on a private one.
var pathKeys = []string{"aws:sourcevpce", "aws:sourcevpc", "aws:vpceaccount", "aws:vpceorgid", "aws:vpceorgpaths"}

// mentionsPath reports whether a statement's conditions test the path.
func (s *Statement) mentionsPath() bool {
	return slices.ContainsFunc(s.Conditions, func(c Condition) bool { return slices.Contains(pathKeys, c.Key) })
}

// exceptions are keys that name who is carved out of a statement
// (administration roles, AWS services acting for the account): the
// ordinary principal is none of them.
var exceptions = []string{"aws:principalarn", "aws:userid", "aws:username", "aws:principalservicename",
	"aws:principalservicenameslist", "aws:calledvia", "aws:calledviafirst", "aws:calledvialast", "aws:sourceidentity"}

// ownKeys name the account or organization of the principal and the
// resource: the ordinary principal's hold them.
var ownKeys = []string{"aws:principalaccount", "aws:principalorgid", "aws:principalorgpaths",
	"aws:resourceaccount", "aws:resourceorgid", "aws:resourceorgpaths", "s3:resourceaccount"}

// booleans are keys whose value the ordinary request fixes.
var booleans = map[string]string{"aws:principalisawsservice": "false", "aws:viaawsservice": "false", "aws:securetransport": "true"}

// condition judges one operator and key for r.
func (r Request) condition(c Condition) (truth, string) {
	set, op, _ := strings.Cut(c.Op, ":")
	if op == "" {
		set, op = "", c.Op
	}
	if set != "" && set != "ForAnyValue" && set != "ForAllValues" {
		return unknown, fmt.Sprintf("operator %s", c.Op)
	}
	op, ifExists := strings.CutSuffix(op, "IfExists")
	base, negated := positive(op)
	switch {
	case strings.HasPrefix(c.Key, "aws:principaltag/") || slices.Contains(exceptions, c.Key):
		if base == "Null" {
			break
		}
		return boolTruth(negated), ""
	case slices.Contains(ownKeys, c.Key):
		if base == "Null" {
			break
		}
		return boolTruth(!negated), ""
	}
	value, present, known := r.fact(c.Key)
	if !known {
		return unknown, r.unknownWhy(c.Key)
	}
	if base == "Null" {
		want := slices.Contains(c.Values, "true")
		return boolTruth(want != present), ""
	}
	if !present {
		switch {
		case ifExists, set == "ForAllValues":
			return yes, ""
		case set == "ForAnyValue":
			return no, ""
		}
		return boolTruth(negated), ""
	}
	fold := false
	switch base {
	case "StringEquals", "ArnEquals", "Bool", "StringLike", "ArnLike":
	case "StringEqualsIgnoreCase":
		fold = true
	default:
		return unknown, fmt.Sprintf("operator %s", c.Op)
	}
	exact := base == "StringEquals" || base == "StringEqualsIgnoreCase"
	match := slices.ContainsFunc(c.Values, func(p string) bool {
		if base == "Bool" {
			return strings.EqualFold(p, value)
		}
		if exact {
			return p == value || (fold && strings.EqualFold(p, value))
		}
		return wildcard(p, value, false)
	})
	return boolTruth(match != negated), ""
}

// positive names the positive form of a negated operator.
func positive(op string) (string, bool) {
	switch op {
	case "StringNotEquals":
		return "StringEquals", true
	case "StringNotEqualsIgnoreCase":
		return "StringEqualsIgnoreCase", true
	case "StringNotLike":
		return "StringLike", true
	case "ArnNotEquals":
		return "ArnEquals", true
	case "ArnNotLike":
		return "ArnLike", true
	}
	return op, false
}

func boolTruth(b bool) truth {
	if b {
		return yes
	}
	return no
}

// fact is the request's value of key: present or not, and whether s3dns
// knows it at all.
func (r Request) fact(key string) (value string, present, known bool) {
	if v, ok := booleans[key]; ok {
		return v, true, true
	}
	if !slices.Contains(pathKeys, key) {
		return "", false, false
	}
	e := r.Through
	if e == nil {
		return "", false, true // the public path carries none of them
	}
	switch key {
	case "aws:sourcevpce":
		value = e.ID
	case "aws:sourcevpc":
		value = e.VPC
	case "aws:vpceaccount":
		value = e.Account
	}
	return value, true, value != ""
}

// unknownWhy says which fact s3dns lacks.
func (r Request) unknownWhy(key string) string {
	switch {
	case !slices.Contains(pathKeys, key):
		return fmt.Sprintf("condition key %s, which s3dns cannot judge for a site", key)
	case key == "aws:vpceorgid" || key == "aws:vpceorgpaths":
		return fmt.Sprintf("%s: s3dns does not know endpoint %s's organization", key, r.Through.Name)
	case key == "aws:sourcevpce":
		return fmt.Sprintf("aws:SourceVpce: endpoint %s's id is unknown (give vpc_endpoint_id)", r.Through.Name)
	}
	return fmt.Sprintf("%s: EC2 did not say endpoint %s's VPC and owner", key, r.Through.Name)
}

// wildcard matches s against an IAM pattern: * any run of characters
// (slashes too), ? any one.
func wildcard(pattern, s string, fold bool) bool {
	if fold {
		pattern, s = strings.ToLower(pattern), strings.ToLower(s)
	}
	star, mark := -1, 0
	p, i := 0, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == s[i]):
			p++
			i++
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case star >= 0:
			mark++
			p, i = star+1, mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}
