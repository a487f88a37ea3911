package model

import (
	"slices"
	"strings"
)

// A partition's DNS suffixes, as the AWS SDK for Go v2's partitions.json
// (v1.48.0) gives them: regions are told apart by their prefix, as the
// SDK's regionRegex does.
type partition struct {
	prefix    string // of its region names ("" for aws, which takes the rest)
	dnsSuffix string // service names: s3.<region>.<dnsSuffix>
	dualStack string // dual-stack service names (<service>.<region>.<dualStack>)
	arn       string // the partition's name in ARNs
}

var partitions = []partition{
	{"cn-", "amazonaws.com.cn", "api.amazonwebservices.com.cn", "aws-cn"},
	{"eusc-", "amazonaws.eu", "api.amazonwebservices.eu", "aws-eusc"},
	{"us-isob-", "sc2s.sgov.gov", "api.aws.scloud", "aws-iso-b"},
	{"us-isof-", "csp.hci.ic.gov", "api.aws.hci.ic.gov", "aws-iso-f"},
	{"us-iso-", "c2s.ic.gov", "api.aws.ic.gov", "aws-iso"},
	{"eu-isoe-", "cloud.adc-e.uk", "api.cloud-aws.adc-e.uk", "aws-iso-e"},
	{"us-gov-", "amazonaws.com", "api.aws", "aws-us-gov"}, // GovCloud: the aws partition's names
	{"", "amazonaws.com", "api.aws", "aws"},
}

func partitionOf(region string) partition {
	for _, p := range partitions {
		if strings.HasPrefix(region, p.prefix) {
			return p
		}
	}
	return partitions[len(partitions)-1]
}

// DNSSuffix is the suffix of region's service names: amazonaws.com, or
// amazonaws.com.cn in the China regions, and so on.
func DNSSuffix(region string) string { return partitionOf(region).dnsSuffix }

// ARNPartition is region's partition as ARNs name it: aws, aws-cn,
// aws-us-gov …
func ARNPartition(region string) string { return partitionOf(region).arn }

// DualStackSuffix is the suffix of region's dual-stack service names:
// api.aws in the aws partition.
func DualStackSuffix(region string) string { return partitionOf(region).dualStack }

// DNSSuffixes are every partition's service name suffix (amazonaws.com
// once, for aws and aws-us-gov).
func DNSSuffixes() []string {
	var out []string
	for _, p := range partitions {
		if !slices.Contains(out, p.dnsSuffix) {
			out = append(out, p.dnsSuffix)
		}
	}
	return out
}

// ServiceSuffixes are every partition's service name suffixes, regular
// and dual-stack.
func ServiceSuffixes() []string {
	var out []string
	for _, p := range partitions {
		for _, suffix := range []string{p.dnsSuffix, p.dualStack} {
			if !slices.Contains(out, suffix) {
				out = append(out, suffix)
			}
		}
	}
	return out
}

// ServicePrefix is how endpoint service names begin in region's partition:
// com.amazonaws, or cn.com.amazonaws in China.
func ServicePrefix(region string) string {
	if strings.HasPrefix(region, "cn-") {
		return "cn.com.amazonaws"
	}
	return "com.amazonaws"
}
