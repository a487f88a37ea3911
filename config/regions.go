package config

import (
	"fmt"
	"slices"
)

// knownRegions are the AWS regions of every partition (aws, aws-cn,
// aws-us-gov, the European Sovereign Cloud and the ISO partitions), as the
// AWS SDK for Go v2 (v1.48.0, internal/endpoints/awsrulesfn/partitions.json)
// lists them. A region AWS opens later needs this list updated: until then
// validate rejects it, naming this file.
var knownRegions = []string{
	"af-south-1", "ap-east-1", "ap-east-2", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-south-1",
	"ap-south-2", "ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ap-southeast-4", "ap-southeast-5",
	"ap-southeast-6", "ap-southeast-7", "ca-central-1", "ca-west-1", "cn-north-1", "cn-northwest-1",
	"eu-central-1", "eu-central-2", "eu-isoe-west-1", "eu-north-1", "eu-south-1", "eu-south-2", "eu-west-1",
	"eu-west-2", "eu-west-3", "eusc-de-east-1", "il-central-1", "me-central-1", "me-south-1", "me-west-1",
	"mx-central-1", "sa-east-1", "sa-west-1", "us-east-1", "us-east-2", "us-gov-east-1", "us-gov-west-1",
	"us-iso-east-1", "us-iso-west-1", "us-isob-east-1", "us-isob-west-1", "us-isof-east-1", "us-isof-south-1",
	"us-west-1", "us-west-2",
}

// ValidRegion reports whether r is an AWS region.
func ValidRegion(r string) bool { return slices.Contains(knownRegions, r) }

// regionProblem says why r is not a region s3dns knows, with the nearest
// known one, or "" when it is one.
func regionProblem(r string) string {
	if ValidRegion(r) {
		return ""
	}
	if near := closest(r, knownRegions); near != "" && r != "" {
		return fmt.Sprintf("is not an AWS region name (did you mean %q?)", near)
	}
	return "is not an AWS region name (like eu-west-2; the known ones are in config/regions.go)"
}
