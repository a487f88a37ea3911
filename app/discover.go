package app

import (
	"context"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/s3dns/s3dns/config"
	"github.com/s3dns/s3dns/discovery"
	"github.com/s3dns/s3dns/model"
)

// discoverTimeout bounds the whole discover command.
const discoverTimeout = time.Minute

// discover prints endpoints: YAML for every interface endpoint EC2 lists.
func discover(fs *pflag.FlagSet, io IO) int {
	settings := discovery.Settings{}
	// aws.* of a configuration file are the defaults; the file need not be
	// valid otherwise (discover is how one is started).
	if cfg, _, err := config.Load(config.Options{Flags: fs}); err == nil {
		settings = discovery.Settings{Region: cfg.AWS.Region, Profile: cfg.AWS.Profile, EndpointURL: cfg.AWS.EndpointURL}
	}
	for flag, field := range map[string]*string{"region": &settings.Region, "profile": &settings.Profile, "endpoint-url": &settings.EndpointURL} {
		if fs.Changed(flag) {
			*field, _ = fs.GetString(flag)
		}
	}
	vpc, _ := fs.GetString("vpc-id")
	ctx, cancel := context.WithTimeout(io.Ctx, discoverTimeout)
	defer cancel()
	client, err := discovery.NewClient(ctx, settings)
	if err == nil {
		var found []discovery.Endpoint
		if found, err = client.Endpoints(ctx, discovery.Query{VPCID: vpc}); err == nil {
			if len(found) == 0 && vpc != "" {
				// A filter that matches nothing is most often a typo or the
				// wrong region: not an empty success.
				fmt.Fprintf(io.Stderr, "s3dns discover: no interface endpoint in VPC %s in %s (check the VPC id and --region)\n",
					vpc, client.Region())
				return 1
			}
			writeDiscovered(io.Stdout, client.Region(), vpc, found)
			return 0
		}
	}
	fmt.Fprintf(io.Stderr, "s3dns discover: %v\n", err)
	return 1
}

// writeDiscovered writes found as an endpoints: list that validate accepts:
// endpoints of services s3dns cannot name are left as comments.
func writeDiscovered(w io.Writer, region, vpc string, found []discovery.Endpoint) {
	where := region
	if vpc != "" {
		where += ", " + vpc
	}
	fmt.Fprintf(w, "# s3dns discover: %d interface endpoint(s) in %s.\n", len(found), where)
	fmt.Fprintf(w, "# s3dns looks each one up by vpc_endpoint_id every discovery.interval and keeps\n")
	fmt.Fprintf(w, "# its hostname and addresses current; a hostname or addresses given here win.\n")
	if len(found) == 0 {
		fmt.Fprintln(w, "endpoints: []")
		return
	}
	fmt.Fprintln(w, "endpoints:")
	taken := map[string]bool{}
	for _, e := range found {
		fmt.Fprintf(w, "  # %s: %s in %s, %s\n", e.ID, e.ServiceName, e.VPCID, e.State)
		fmt.Fprintf(w, "  #   subnets %s; zones %s\n", list(e.Subnets), list(e.Zones))
		fmt.Fprintf(w, "  #   hostname %s; addresses now %s\n", e.Hostname, addrList(e.Addresses))
		_, known := model.ServiceNames(e.Service, e.Region)
		s3Family := e.Service == model.ServiceS3 || e.Service == model.ServiceS3Express || e.Service == model.ServiceMRAP
		if e.Service == "" || (!s3Family && !known) {
			fmt.Fprintf(w, "  #   not in s3dns's service table: to serve it, add an entry with service: %s and its private DNS names under names:\n", orUnknown(e.Service))
			continue
		}
		if e.Region != "" && e.VPCRegion != "" && e.Region != e.VPCRegion {
			fmt.Fprintf(w, "  #   cross-Region: in a VPC of %s, for the service of %s (whose names it answers)\n", e.VPCRegion, e.Region)
		}
		name := uniqueName(taken, strings.TrimSuffix(e.Service+"-"+e.Region, "-"))
		fmt.Fprintf(w, "  - name: %s\n    vpc_endpoint_id: %s\n", name, e.ID)
		if e.Region != "" {
			fmt.Fprintf(w, "    region: %s\n", e.Region)
		}
		switch e.Service {
		case model.ServiceS3:
			fmt.Fprintf(w, "    buckets: []  # the buckets to reach through this endpoint, or [\"*\"] for all\n")
		case model.ServiceS3Express:
			fmt.Fprintf(w, "    service: %s\n    buckets: []  # the directory buckets (<name>--<zone id>--x-s3), or [\"*\"] for all\n", e.Service)
		case model.ServiceMRAP:
			fmt.Fprintf(w, "    service: %s\n    mraps: []  # the Multi-Region Access Point aliases, or [\"*\"] for all\n", e.Service)
		default:
			fmt.Fprintf(w, "    service: %s\n", e.Service)
		}
		if e.PrivateDNS {
			fmt.Fprintf(w, "    # private DNS is on in the VPC: inside it these names already resolve to the endpoint\n")
		}
	}
}

func uniqueName(taken map[string]bool, base string) string {
	name := base
	for n := 2; taken[name]; n++ {
		name = fmt.Sprintf("%s-%d", base, n)
	}
	taken[name] = true
	return name
}

func list(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

func addrList(addrs []netip.Addr) string {
	s := make([]string, len(addrs))
	for i, a := range addrs {
		s[i] = a.String()
	}
	return list(s)
}

func orUnknown(s string) string {
	if s == "" {
		return "<service>"
	}
	return s
}
