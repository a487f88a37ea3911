package audit

import "testing"

// Each operator form as IAM evaluates it, over the public path (no
// aws:SourceVpce) and through endpoint vpce-0abc.
func TestConditionOperators(t *testing.T) {
	through := &Endpoint{Name: "s3-main", ID: "vpce-0abc", VPC: "vpc-1"}
	cases := []struct {
		op, key, value   string
		public, endpoint truth
	}{
		{"StringNotEquals", "aws:sourcevpce", "vpce-0abc", yes, no},
		{"StringNotEqualsIfExists", "aws:sourcevpce", "vpce-0abc", yes, no},
		{"StringEquals", "aws:sourcevpce", "vpce-0abc", no, yes},
		{"StringEqualsIfExists", "aws:sourcevpce", "vpce-0abc", yes, yes},
		{"StringNotLike", "aws:sourcevpce", "vpce-0a*", yes, no},
		{"StringLike", "aws:sourcevpc", "vpc-?", no, yes},
		{"StringNotEqualsIgnoreCase", "aws:sourcevpce", "VPCE-0ABC", yes, no},
		{"ForAnyValue:StringNotEquals", "aws:sourcevpce", "vpce-0abc", no, no},
		{"ForAllValues:StringNotEquals", "aws:sourcevpce", "vpce-0abc", yes, no},
		{"ForAllValues:StringEquals", "aws:sourcevpce", "vpce-0abc", yes, yes},
		{"Null", "aws:sourcevpce", "true", yes, no},
		{"Null", "aws:sourcevpce", "false", no, yes},
		{"StringNotEquals", "aws:vpceaccount", "111122223333", yes, unknown}, // the owner is not known here
		{"StringNotEquals", "aws:vpceorgid", "o-1", yes, unknown},
		{"Bool", "aws:principalisawsservice", "false", yes, yes},
		{"Bool", "aws:securetransport", "false", no, no},
		{"ArnNotLike", "aws:principalarn", "arn:aws:iam::*:role/admin", yes, yes},
		{"ArnLike", "aws:principalarn", "arn:aws:iam::*:role/admin", no, no},
		{"StringNotEquals", "aws:principalorgid", "o-1", no, no},
		{"NotIpAddress", "aws:sourceip", "203.0.113.0/24", unknown, unknown},
		{"DateGreaterThan", "aws:sourcevpce", "2020-01-01", no, unknown}, // absent: false, as any positive operator; present: not judged
	}
	for _, c := range cases {
		cond := Condition{Op: c.op, Key: c.key, Values: []string{c.value}}
		for _, side := range []struct {
			r    Request
			want truth
		}{{Request{}, c.public}, {Request{Through: through}, c.endpoint}} {
			if got, why := side.r.condition(cond); got != side.want {
				t.Errorf("%s %s %q through %v: %v (%s), want %v", c.op, c.key, c.value, side.r.Through != nil, got, why, side.want)
			}
		}
	}
}

func TestWildcard(t *testing.T) {
	for _, c := range []struct {
		pattern, s string
		want       bool
	}{
		{"s3:Get*", "s3:GetObject", true}, {"s3:*", "s3:GetObject", true}, {"s3:Put*", "s3:GetObject", false},
		{"arn:aws:s3:::b/*", "arn:aws:s3:::b/a/b/c", true}, {"arn:aws:s3:::b", "arn:aws:s3:::b/x", false},
		{"arn:aws:s3:::b?c/*", "arn:aws:s3:::bxc/k", true}, {"*", "", true}, {"a*b*c", "aXXbYYc", true}, {"a*b*c", "aXXbYY", false},
	} {
		if got := wildcard(c.pattern, c.s, false); got != c.want {
			t.Errorf("wildcard(%q, %q) = %v", c.pattern, c.s, got)
		}
	}
}
