package model

import (
	"sort"
	"strings"
)

// ServiceS3 is the default service: the S3 name rules (buckets, path_style,
// access_points, control, dualstack) apply to it alone.
const ServiceS3 = "s3"

// serviceNames are the private DNS names of interface endpoint services:
// the names that "private DNS" makes resolve to the endpoint inside a VPC,
// in region R. A leading "*." stands for any one label. FIPS names
// (kms-fips.R …) belong to separate endpoint services and are not here:
// they stay public unless an endpoint's names list them.
var serviceNames = map[string][]string{
	"sts":                  {"sts.R"},
	"kms":                  {"kms.R"},
	"secretsmanager":       {"secretsmanager.R"},
	"ssm":                  {"ssm.R"},
	"ssmmessages":          {"ssmmessages.R"},
	"ec2messages":          {"ec2messages.R"},
	"ec2":                  {"ec2.R"},
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
}

// ServiceNames are the private DNS names of service in region (lower case,
// no final dot); ok is false for a service not in the built-in table.
func ServiceNames(service, region string) (names []string, ok bool) {
	patterns, ok := serviceNames[service]
	for _, p := range patterns {
		names = append(names, strings.TrimSuffix(p, "R")+region+".amazonaws.com")
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
