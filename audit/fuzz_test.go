package audit

import "testing"

// Any document either fails to parse or is judged without a panic, for
// both paths and every statement, and a statement that applies is named.
func FuzzPolicy(f *testing.F) {
	f.Add(`{"Statement":{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"StringNotEquals":{"aws:SourceVpce":"vpce-1"}}}}`)
	f.Add(`{"Statement":[{"Effect":"Allow","NotPrincipal":{"AWS":["arn:aws:iam::1:root"]},"NotAction":["s3:Put*"],"NotResource":"arn:aws:s3:::b/*",` +
		`"Condition":{"ForAllValues:StringLike":{"aws:SourceVpc":["vpc-*",true,3]},"Null":{"aws:VpceOrgID":"true"}}}]}`)
	f.Add(`{"Statement":[{"Effect":"Deny","Principal":{"Service":"s3.amazonaws.com"},"Action":"*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}]}`)
	f.Add(`{"Statement":"nope"}`)
	f.Fuzz(func(t *testing.T, doc string) {
		p, err := ParsePolicy(doc)
		if err != nil {
			return
		}
		through := &Endpoint{Name: "e", ID: "vpce-1", VPC: "vpc-1"}
		for _, r := range []Request{{Action: "s3:GetObject", Resource: "arn:aws:s3:::b/k"}, {Action: "s3:GetObject", Resource: "arn:aws:s3:::b/k", Through: through}} {
			for _, effect := range []string{"Allow", "Deny"} {
				if v := p.judge(effect, r, nil); v.applies != no && v.statement.Name() == "" {
					t.Fatalf("%s applies (%v) with no statement named", effect, v.applies)
				}
			}
		}
	})
}
