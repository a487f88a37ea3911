package model

import (
	"sort"
	"strings"
)

// ServiceS3 is the default service: the S3 name rules (buckets, path_style,
// access_points, control, dualstack) apply to it alone.
const ServiceS3 = "s3"

// S3's other name families, each an endpoint service of its own.
const (
	// ServiceS3Express: S3 Express One Zone (directory buckets), whose
	// names carry the Availability Zone id (analytics--use1-az4--x-s3).
	ServiceS3Express = "s3express"
	// ServiceMRAP: Multi-Region Access Points, a global service
	// (com.amazonaws.s3-global.accesspoint): no region.
	ServiceMRAP = "s3-global.accesspoint"
)

// serviceNames are the private DNS names of interface endpoint services:
// the names that "private DNS" makes resolve to the endpoint inside a VPC,
// in region R. "R" ends a name under the partition's suffix
// (amazonaws.com, amazonaws.com.cn …); "R.api" ends one under its
// dual-stack suffix (api.aws …), where AWS publishes such a name for the
// service. A leading "*." stands for any one label. FIPS names (kms-fips.R
// …) belong to separate endpoint services and are not here: they stay
// public unless an endpoint's names list them.
var serviceNames = map[string][]string{
	"sts":                  {"sts.R"},
	"kms":                  {"kms.R"},
	"secretsmanager":       {"secretsmanager.R"},
	"ssm":                  {"ssm.R"},
	"ssmmessages":          {"ssmmessages.R"},
	"ec2messages":          {"ec2messages.R"},
	"ec2":                  {"ec2.R", "ec2.R.api"},
	"logs":                 {"logs.R"},
	"monitoring":           {"monitoring.R"},
	"sqs":                  {"sqs.R"},
	"sns":                  {"sns.R"},
	"lambda":               {"lambda.R"},
	"ecr.api":              {"api.ecr.R"},
	"ecr.dkr":              {"*.dkr.ecr.R"},
	"execute-api":          {"*.execute-api.R"},
	"elasticloadbalancing": {"elasticloadbalancing.R"},
	"autoscaling":          {"autoscaling.R"},
	"kinesis-streams":      {"kinesis.R"},
	"athena":               {"athena.R"},
	"glue":                 {"glue.R"},
	"states":               {"states.R"},
	"events":               {"events.R"},
	"sagemaker.api":        {"api.sagemaker.R"},
	"sagemaker.runtime":    {"runtime.sagemaker.R"},
	"s3tables":             {"s3tables.R"},
	"s3vectors":            {"s3vectors.R.api"},
}

// ServiceNames are the private DNS names of service in region (lower case,
// no final dot); ok is false for a service not in the built-in table.
func ServiceNames(service, region string) (names []string, ok bool) {
	patterns, ok := serviceNames[service]
	for _, p := range patterns {
		if head, ok := strings.CutSuffix(p, "R.api"); ok {
			names = append(names, head+region+"."+DualStackSuffix(region))
			continue
		}
		names = append(names, strings.TrimSuffix(p, "R")+region+"."+DNSSuffix(region))
	}
	return names, ok
}

// KnownServices lists the services of the built-in table, sorted.
func KnownServices() []string {
	out := make([]string, 0, len(serviceNames))
	for s := range serviceNames {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}
