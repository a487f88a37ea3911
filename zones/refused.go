package zones

import "strings"

// The S3 names PrivateLink cannot carry, in one place: each is forwarded
// publicly, and explain and validate say why. The source for each is the
// AWS PrivateLink guide's "Amazon S3 interface endpoints" page (private DNS
// names served: s3, s3-accesspoint, s3-control and their dual-stack forms;
// "AWS PrivateLink for Amazon S3 does not support … FIPS endpoints, website
// endpoints, legacy global endpoints, Transfer Acceleration"), and the AWS
// SDK for Go v2's S3 endpoint resolver for the names clients make
// (TestSDKHostnamesOfListedNames).
var refusals = []struct {
	test   func(label string) bool // on any label before the region
	reason string
}{
	{func(l string) bool { return strings.HasPrefix(l, "s3") && strings.Contains(l, "-fips") },
		"FIPS names are not served by PrivateLink"},
	{func(l string) bool { return strings.HasPrefix(l, "s3-website") },
		"website endpoints are not served by PrivateLink"},
	{func(l string) bool { return strings.HasPrefix(l, "s3-accelerate") },
		"Transfer Acceleration names are not served by PrivateLink"},
	{func(l string) bool { return l == "s3-object-lambda" },
		"S3 Object Lambda names are not served by an S3 interface endpoint"},
}

// refusedLegacy is the reason for s3.amazonaws.com and s3-REGION.amazonaws.com.
const refusedLegacy = "legacy global and dash-region S3 names (s3.amazonaws.com, s3-REGION.amazonaws.com) are not served by PrivateLink"

// unservedReason says why a name whose labels before the region are service
// is not one an S3 interface endpoint serves.
func unservedReason(service string) string {
	for _, l := range strings.Split(service, ".") {
		for _, r := range refusals {
			if r.test(l) {
				return r.reason
			}
		}
	}
	if strings.HasPrefix(service, "s3-") && service != "s3-control" && service != "s3-accesspoint" {
		return "dash-region S3 names (s3-REGION.amazonaws.com) are not served by PrivateLink"
	}
	return "not a name an S3 interface endpoint serves"
}
