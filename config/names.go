package config

import (
	"fmt"
	"path"
	"regexp"
	"strings"
)

// regionPattern accepts AWS region names such as eu-west-2, us-gov-west-1, cn-north-1.
var regionPattern = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]{1,2}$`)

// ValidRegion reports whether r looks like an AWS region name.
func ValidRegion(r string) bool { return regionPattern.MatchString(r) }

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

// IsGlob reports whether a bucket or access point pattern uses shell glob syntax.
func IsGlob(p string) bool { return strings.ContainsAny(p, `*?[`) }

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

// validGlob accepts patterns path.Match can use and whose literal parts are
// characters that can appear in the names they are matched against.
func validGlob(g string) bool {
	if _, err := path.Match(g, ""); err != nil {
		return false
	}
	for i := 0; i < len(g); i++ {
		c := g[i]
		if !alnum(c) && !strings.ContainsRune(".-*?[]!^", rune(c)) {
			return false
		}
	}
	return true
}

func alnum(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }
