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
	switch e.Service {
	case model.ServiceS3Express:
		return expressRPZNames(e)
	case model.ServiceMRAP:
		var names []string
		for _, a := range e.MRAPs {
			if model.IsGlob(a) && a != "*" {
				names = append(names, fmt.Sprintf("; Multi-Region Access Point glob %q cannot be expressed in RPZ", a))
				continue
			}
			names = append(names, a+".mrap."+zones.MRAPZone)
		}
		return names
	case model.ServiceS3:
	default:
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
	apKinds := []zones.Kind{zones.AccessPoints}
	if e.Dualstack {
		apKinds = append(apKinds, zones.DualstackAccessPoints)
	}
	for _, k := range apKinds {
		for _, ap := range e.AccessPoints {
			switch {
			case ap == "*":
				names = append(names, zones.Name("*", k, e.Region))
			case model.IsGlob(ap):
				names = append(names, fmt.Sprintf("; access point glob %q cannot be expressed in RPZ", ap))
			default:
				names = append(names, zones.Name(ap, k, e.Region))
			}
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

// expressRPZNames are an S3 Express endpoint's owner names: the control
// endpoint's, and each exact directory bucket (or access point) in the zone
// its name carries; a glob says in a comment that it cannot be expressed.
func expressRPZNames(e *model.Endpoint) []string {
	dualstack := []bool{false}
	if e.Dualstack {
		dualstack = append(dualstack, true)
	}
	var names []string
	for _, z := range zones.ExpressZones(e) {
		if strings.HasPrefix(z, "s3express-control.") {
			names = append(names, z)
		}
	}
	for _, n := range append(append([]string{}, e.Buckets...), e.AccessPoints...) {
		if model.IsGlob(n) {
			names = append(names, fmt.Sprintf("; directory bucket glob %q cannot be expressed in RPZ (its zone id is not known): list its buckets", n))
			continue
		}
		for _, ds := range dualstack {
			names = append(names, zones.ExpressName(n, e.Region, ds))
		}
	}
	return names
}
