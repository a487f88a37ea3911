package config

import (
	"fmt"
	"path"
	"regexp"
	"strings"
)

// ValidHostname reports whether h (with or without the final dot) is a
// syntactically valid host name: letters, digits and hyphens in labels.
func ValidHostname(h string) bool { return HostnameProblem(h) == "" }

// HostnameProblem says why h (with or without the final dot) is not a
// valid host name — which label, which character, which length — or ""
// when it is one.
func HostnameProblem(h string) string {
	h = strings.TrimSuffix(h, ".")
	switch {
	case h == "":
		return "it is empty"
	case len(h) > 253:
		return fmt.Sprintf("it is %d characters long, more than 253", len(h))
	}
	for i, label := range strings.Split(h, ".") {
		switch {
		case len(label) == 0:
			return fmt.Sprintf("label %d is empty (two dots in a row, or a leading dot)", i+1)
		case len(label) > 63:
			return fmt.Sprintf("label %d (%q) is %d characters long, more than 63", i+1, label, len(label))
		case label[0] == '-' || label[len(label)-1] == '-':
			return fmt.Sprintf("label %d (%q) starts or ends with a hyphen", i+1, label)
		}
		for j := 0; j < len(label); j++ {
			if c := label[j]; !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return fmt.Sprintf("label %d (%q) holds %q: only letters, digits and hyphens are allowed", i+1, label, c)
			}
		}
	}
	return ""
}

// bucketRule is S3's bucket naming rule, as error messages state it.
const bucketRule = "3–63 characters of lower-case letters, digits, dots and hyphens, starting and ending with a letter or digit, no two dots in a row"

// validBucket follows S3's naming rules (bucketRule).
func validBucket(b string) bool {
	if len(b) < 3 || len(b) > 63 || !alnum(b[0]) || !alnum(b[len(b)-1]) {
		return false
	}
	for i := 0; i < len(b); i++ {
		if !alnum(b[i]) && b[i] != '.' && b[i] != '-' {
			return false
		}
	}
	return !strings.Contains(b, "..")
}

// accessPointPattern is "<name>-<12 digit account id>", the DNS label S3 uses.
var accessPointPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,49}-[0-9]{12}$`)

func validAccessPoint(ap string) bool { return accessPointPattern.MatchString(ap) }

// globProblem says why a glob is not one s3dns can use, "" when it is:
// its syntax, or that no bucket or access point name could ever match it
// (a character no such name has, or more than 63 characters at the least).
func globProblem(g string) string {
	if _, err := path.Match(g, ""); err != nil {
		return "is not a valid glob pattern (an unclosed [ or a trailing \\)"
	}
	least := 0
	for i := 0; i < len(g); i++ {
		c := g[i]
		switch {
		case c == '[':
			least++
			if end := strings.IndexByte(g[i+1:], ']'); end >= 0 {
				i += end + 1
			}
		case c == '*':
		case alnum(c), c == '.', c == '-', c == '?':
			least++
		default:
			return fmt.Sprintf("can never match: it holds %q, which no bucket or access point name has (lower-case letters, digits, dots and hyphens)", c)
		}
	}
	if least > 63 {
		return fmt.Sprintf("can never match: every name it matches has at least %d characters, and names have at most 63", least)
	}
	return ""
}

func alnum(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }

// directoryBucketRule is S3 Express One Zone's naming rule for directory
// buckets, as error messages state it.
const directoryBucketRule = "<base name>--<zone id>--x-s3, like analytics--use1-az4--x-s3, 3–63 characters"

// zoneIDPattern is an Availability Zone id (use1-az4) or a Local Zone's
// (usw2-lax1-az1).
var zoneIDPattern = regexp.MustCompile(`^[a-z]{2,4}[0-9]+(-[a-z]+[0-9]+)?-az[0-9]+$`)

// validDirectoryBucket follows the directory bucket rule: a base name by
// the bucket rule, the zone id, and the suffix --x-s3.
func validDirectoryBucket(b string) bool { return validDirectoryName(b, "--x-s3") }

// validDirectoryAccessPoint is validDirectoryBucket for the access points
// of directory buckets (suffix --xa-s3).
func validDirectoryAccessPoint(ap string) bool { return validDirectoryName(ap, "--xa-s3") }

func validDirectoryName(name, suffix string) bool {
	rest, ok := strings.CutSuffix(name, suffix)
	if !ok || len(name) > 63 {
		return false
	}
	i := strings.LastIndex(rest, "--")
	return i > 0 && zoneIDPattern.MatchString(rest[i+2:]) && validBucket(rest[:i]+"x")
}

// mrapAliasPattern is a Multi-Region Access Point's alias: the label of
// <alias>.mrap.accesspoint.s3-global.amazonaws.com.
var mrapAliasPattern = regexp.MustCompile(`^[a-z0-9]{1,63}$`)

func validMRAPAlias(a string) bool { return mrapAliasPattern.MatchString(a) }
