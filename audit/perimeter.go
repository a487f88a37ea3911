package audit

import (
	"encoding/json"
	"fmt"
	"path"
	"slices"

	"github.com/s3dns/s3dns/model"
)

// The policies that match the DNS split, for `s3dns export --format
// bucket-policy | endpoint-policy`.

type policyDoc struct {
	Version   string
	Statement []policyStatement
}

type policyStatement struct {
	Sid       string
	Effect    string
	Principal string
	Action    string
	Resource  []string
	Condition map[string]map[string]any `json:",omitempty"`
}

func marshal(st policyStatement) string {
	b, _ := json.MarshalIndent(policyDoc{Version: "2012-10-17", Statement: []policyStatement{st}}, "", "  ")
	return string(b) + "\n"
}

// BucketPolicy is the statement that locks bucket to the endpoints DNS
// answers it with (at every site, fallbacks included): deny unless
// aws:SourceVpce is one of them, except the admins' roles and AWS services
// acting for the account. Warnings name the sites it would lock out.
func BucketPolicy(cfg *model.Config, bucket string, admins []string) (doc string, warnings []string, err error) {
	var regions []string
	for _, e := range cfg.Endpoints {
		if e.Service == model.ServiceS3 && lists(e.Buckets, bucket) && !slices.Contains(regions, e.Region) {
			regions = append(regions, e.Region)
		}
	}
	if len(regions) == 0 {
		return "", nil, fmt.Errorf("no S3 endpoint lists bucket %q", bucket)
	}
	var ids []string
	for _, v := range views(cfg, "") {
		for _, region := range regions {
			for _, r := range v.routes(bucketName(bucket, region)) {
				if r.endpoint == nil {
					warnings = append(warnings, fmt.Sprintf("%s answers %s publicly%s: this policy denies its clients (locked-but-public)",
						siteText(r.site), bucket, r.when()))
					continue
				}
				id := endpointID(r.endpoint)
				if id == "" {
					return "", nil, fmt.Errorf("endpoint %s has no known id: give its vpc_endpoint_id (or the hostname the console shows)", r.endpoint.Name)
				}
				if !slices.Contains(ids, id) {
					ids = append(ids, id)
				}
			}
		}
	}
	if len(ids) == 0 {
		return "", warnings, fmt.Errorf("no site reaches %q through an endpoint: a lock would only refuse everyone", bucket)
	}
	slices.Sort(ids)
	arn := "arn:" + model.ARNPartition(regions[0]) + ":s3:::" + bucket
	st := policyStatement{Sid: "S3dnsOnlyThroughEndpoints", Effect: "Deny", Principal: "*", Action: "s3:*",
		Resource: []string{arn, arn + "/*"},
		Condition: map[string]map[string]any{
			"StringNotEquals": {"aws:SourceVpce": ids},
			"Bool":            {"aws:PrincipalIsAWSService": "false"},
		}}
	if len(admins) > 0 {
		st.Condition["ArnNotLike"] = map[string]any{"aws:PrincipalArn": admins}
	}
	return marshal(st), slices.Compact(warnings), nil
}

// lists reports whether a buckets list names bucket, exactly or by glob.
func lists(buckets []string, bucket string) bool {
	return slices.ContainsFunc(buckets, func(b string) bool {
		ok, _ := path.Match(b, bucket)
		return b == bucket || ok
	})
}

// EndpointPolicy allows exactly the buckets and access points the named
// endpoint (every S3 endpoint when name is "") is listed for, at the top
// level or in a site.
func EndpointPolicy(cfg *model.Config, name string) (doc string, warnings []string, err error) {
	var resources []string
	add := func(r ...string) {
		for _, x := range r {
			if !slices.Contains(resources, x) {
				resources = append(resources, x)
			}
		}
	}
	found := false
	for _, e := range cfg.Endpoints {
		if e.Service != model.ServiceS3 || (name != "" && e.Name != name) {
			continue
		}
		found = true
		partition := model.ARNPartition(e.Region)
		buckets, aps := slices.Clone(e.Buckets), slices.Clone(e.AccessPoints)
		for _, s := range cfg.Sites {
			for _, ov := range s.Endpoints {
				if ov.Name == e.Name {
					buckets, aps = append(buckets, ov.Buckets...), append(aps, ov.AccessPoints...)
				}
			}
		}
		for _, b := range buckets {
			add("arn:"+partition+":s3:::"+b, "arn:"+partition+":s3:::"+b+"/*")
		}
		for _, ap := range aps {
			if ap == "*" {
				add(fmt.Sprintf("arn:%s:s3:%s:*:accesspoint/*", partition, e.Region))
				continue
			}
			apName, account, ok := accessPointParts(ap)
			if !ok || isGlob(ap) {
				warnings = append(warnings, fmt.Sprintf("%s: access point %q names no single account: left out", e.Name, ap))
				continue
			}
			arn := fmt.Sprintf("arn:%s:s3:%s:%s:accesspoint/%s", partition, e.Region, account, apName)
			add(arn, arn+"/object/*")
		}
	}
	switch {
	case !found && name != "":
		return "", nil, fmt.Errorf("no S3 endpoint is named %q", name)
	case !found:
		return "", nil, fmt.Errorf("the configuration lists no S3 endpoint")
	case len(resources) == 0:
		return "", warnings, fmt.Errorf("the endpoint lists no bucket or access point: the policy would allow nothing")
	}
	return marshal(policyStatement{Sid: "S3dnsListedBuckets", Effect: "Allow", Principal: "*", Action: "s3:*", Resource: resources}), warnings, nil
}
