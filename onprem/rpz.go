package onprem

import (
	"fmt"
	"io"
	"strings"

	"github.com/s3dns/s3dns/model"
	"github.com/s3dns/s3dns/zones"
)

// RPZZone is the zone name the generated RPZ file is written for.
const RPZZone = "rpz.s3dns"

// WriteRPZ prints a BIND Response Policy Zone equivalent to the
// configuration, for operators who want no extra server. RPZ wildcards only
// cover whole labels, so bucket globs other than "*" cannot be expressed:
// each is listed in a comment.
func WriteRPZ(w io.Writer, cfg *model.Config) {
	fmt.Fprintf(w, "; Response Policy Zone equivalent to the s3dns configuration.\n")
	fmt.Fprintf(w, "; named.conf: response-policy { zone \"%s\"; }; zone \"%s\" { type primary; file \"<this file>\"; };\n", RPZZone, RPZZone)
	fmt.Fprintf(w, "$ORIGIN %s.\n$TTL 60\n@\tSOA\tlocalhost. hostmaster.localhost. 1 3600 600 86400 60\n@\tNS\tlocalhost.\n", RPZZone)
	seen := map[string]bool{}
	for i := range cfg.Endpoints {
		e := &cfg.Endpoints[i]
		fmt.Fprintf(w, "\n; %s (endpoints[%d]), service %s, region %s\n", e.Name, i, e.Service, e.Region)
		for _, name := range rpzNames(e) {
			if strings.HasPrefix(name, ";") {
				fmt.Fprintln(w, name)
				continue
			}
			if seen[name] {
				fmt.Fprintf(w, "; %s: already answered by an earlier endpoint\n", name)
				continue
			}
			seen[name] = true
			writeRPZRecords(w, name, e)
		}
	}
}

// rpzNames lists the owner names of one endpoint (comments start with ";").
func rpzNames(e *model.Endpoint) []string {
	if e.Service != model.ServiceS3 {
		return e.Names // exact names and "*." wildcards are both RPZ owner names
	}
	var names []string
	for _, z := range zones.BucketZones(e) {
		if e.ServesApex() {
			names = append(names, z)
		}
		for _, b := range e.Buckets {
			switch {
			case b == "*":
				names = append(names, "*."+z)
			case model.IsGlob(b):
				names = append(names, fmt.Sprintf("; bucket glob %q cannot be expressed in RPZ: list its buckets", b))
			default:
				names = append(names, b+"."+z)
			}
		}
	}
	for _, ap := range e.AccessPoints {
		switch {
		case ap == "*":
			names = append(names, zones.Name("*", zones.AccessPoints, e.Region))
		case model.IsGlob(ap):
			names = append(names, fmt.Sprintf("; access point glob %q cannot be expressed in RPZ", ap))
		default:
			names = append(names, zones.Name(ap, zones.AccessPoints, e.Region))
		}
	}
	if e.Control {
		names = append(names, zones.ZoneName(zones.Control, e.Region), zones.Name("*", zones.Control, e.Region))
	}
	return names
}

// writeRPZRecords writes the local data for one name: a CNAME to the
// endpoint (RPZ cannot alias), or its static addresses when it has no hostname.
func writeRPZRecords(w io.Writer, name string, e *model.Endpoint) {
	ttl := e.TTLSeconds()
	if e.Hostname != "" {
		fmt.Fprintf(w, "%s\t%d\tCNAME\t%s\n", name, ttl, e.Hostname)
		return
	}
	for _, a := range e.Addresses {
		rrtype := "A"
		if a.Is6() {
			rrtype = "AAAA"
		}
		fmt.Fprintf(w, "%s\t%d\t%s\t%s\n", name, ttl, rrtype, a)
	}
}
