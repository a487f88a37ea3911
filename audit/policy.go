// Package audit checks that the bucket, access point and endpoint policies
// agree with the DNS split: a bucket whose policy only lets an endpoint in
// must be answered with that endpoint at every site, and a bucket answered
// privately should need the endpoint. It reads the policies through the
// AWS APIs (a Source) and judges each statement for the requests a site's
// clients would send, over the path DNS gives them.
package audit

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Policy is an IAM policy document (bucket, access point or endpoint
// policy) as far as the audit reads it.
type Policy struct {
	Statements []Statement
}

// Statement is one statement; keys of conditions are lower case (IAM
// compares them without case).
type Statement struct {
	Sid    string
	Index  int // its place in the policy, for a statement without Sid
	Effect string
	// Principal is nil when the statement has none (NotPrincipal instead).
	Principal, NotPrincipal map[string][]string
	Action, NotAction       []string
	Resource, NotResource   []string
	Conditions              []Condition
}

// Condition is one operator and key of a statement's Condition block.
type Condition struct {
	Op     string // as written: StringNotEqualsIfExists, ForAnyValue:StringLike …
	Key    string // lower case
	Values []string
}

// Name is how findings name the statement: its Sid, or its index.
func (s *Statement) Name() string {
	if s.Sid != "" {
		return s.Sid
	}
	return "Statement[" + strconv.Itoa(s.Index) + "]"
}

// ParsePolicy reads a policy document.
func ParsePolicy(doc string) (*Policy, error) {
	var raw struct {
		Statement json.RawMessage
	}
	if err := json.Unmarshal([]byte(doc), &raw); err != nil {
		return nil, fmt.Errorf("not a policy document: %w", err)
	}
	var list []rawStatement
	if err := json.Unmarshal(raw.Statement, &list); err != nil {
		var one rawStatement
		if err2 := json.Unmarshal(raw.Statement, &one); err2 != nil {
			return nil, fmt.Errorf("Statement is neither a statement nor a list of them: %w", err)
		}
		list = []rawStatement{one}
	}
	p := &Policy{}
	for i, r := range list {
		s := Statement{Sid: r.Sid, Index: i, Effect: r.Effect, Action: r.Action, NotAction: r.NotAction,
			Resource: r.Resource, NotResource: r.NotResource}
		var err error
		if s.Principal, err = principals(r.Principal); err == nil {
			s.NotPrincipal, err = principals(r.NotPrincipal)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s.Name(), err)
		}
		for op, keys := range r.Condition {
			for key, values := range keys {
				s.Conditions = append(s.Conditions, Condition{Op: op, Key: strings.ToLower(key), Values: values})
			}
		}
		slices.SortFunc(s.Conditions, func(a, b Condition) int {
			return cmp.Or(strings.Compare(a.Op, b.Op), strings.Compare(a.Key, b.Key))
		})
		if s.Effect != "Allow" && s.Effect != "Deny" {
			return nil, fmt.Errorf("%s: Effect %q is neither Allow nor Deny", s.Name(), s.Effect)
		}
		p.Statements = append(p.Statements, s)
	}
	return p, nil
}

type rawStatement struct {
	Sid                     string
	Effect                  string
	Principal, NotPrincipal json.RawMessage
	Action, NotAction       values
	Resource, NotResource   values
	Condition               map[string]map[string]values
}

// principals reads "*" or {"AWS": "…" | […], "Service": …}; "*" is
// {"AWS": ["*"]}.
func principals(raw json.RawMessage) (map[string][]string, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	var star string
	if err := json.Unmarshal(raw, &star); err == nil {
		if star != "*" {
			return nil, fmt.Errorf("principal %q is neither \"*\" nor a map", star)
		}
		return map[string][]string{"AWS": {"*"}}, nil
	}
	var byType map[string]values
	if err := json.Unmarshal(raw, &byType); err != nil {
		return nil, fmt.Errorf("principal: %w", err)
	}
	out := map[string][]string{}
	for k, v := range byType {
		out[k] = v
	}
	return out, nil
}

// values is a policy field that is one value or a list of them: strings,
// or booleans and numbers, which IAM compares as their text.
type values []string

func (v *values) UnmarshalJSON(b []byte) error {
	var list []json.RawMessage
	if err := json.Unmarshal(b, &list); err != nil {
		list = []json.RawMessage{b}
	}
	for _, item := range list {
		var s string
		if err := json.Unmarshal(item, &s); err == nil {
			*v = append(*v, s)
			continue
		}
		var other any
		if err := json.Unmarshal(item, &other); err != nil {
			return err
		}
		switch x := other.(type) {
		case bool, float64:
			*v = append(*v, fmt.Sprint(x))
		default:
			return fmt.Errorf("value %s is not a string, number or boolean", item)
		}
	}
	return nil
}
