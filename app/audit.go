package app

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/s3dns/s3dns/audit"
	"github.com/s3dns/s3dns/discovery"
	"github.com/s3dns/s3dns/model"
)

// auditTimeout bounds the whole audit command.
const auditTimeout = 5 * time.Minute

// auditCmd judges the bucket, access point and endpoint policies against
// the DNS split: exit 0 without error findings, 1 with, 2 when the audit
// cannot run (usage, configuration, AWS settings).
func auditCmd(fs *pflag.FlagSet, io IO) int {
	format, _ := fs.GetString("format")
	if format != "table" && format != "json" {
		fmt.Fprintf(io.Stderr, "s3dns audit: --format must be table or json, not %q\n", format)
		return 2
	}
	cfg, ok := load(fs, io)
	if !ok {
		return 2
	}
	opts := audit.Options{}
	opts.AllBuckets, _ = fs.GetBool("all-buckets")
	opts.Site, _ = fs.GetString("site")
	if opts.Site != "" && !hasSite(cfg, opts.Site) {
		fmt.Fprintf(io.Stderr, "s3dns audit: --site %q is not a site (%s)\n", opts.Site, siteNames(cfg))
		return 2
	}
	ctx, cancel := context.WithTimeout(io.Ctx, auditTimeout)
	defer cancel()
	awsCfg, err := discovery.LoadAWS(ctx, discovery.Settings{Region: cfg.AWS.Region, Profile: cfg.AWS.Profile})
	if err != nil {
		fmt.Fprintf(io.Stderr, "s3dns audit: %v\n", err)
		return 2
	}
	report := audit.Run(ctx, cfg, audit.NewAWS(awsCfg, cfg.AWS.EndpointURL), opts)
	for _, n := range report.Notes {
		fmt.Fprintf(io.Stderr, "note: %s\n", n)
	}
	if report.Throttled {
		fmt.Fprintln(io.Stderr, "warning: the AWS APIs kept throttling: some policies were not read (see the unreadable findings)")
	}
	if format == "json" {
		report.WriteJSON(io.Stdout)
	} else {
		report.WriteTable(io.Stdout)
	}
	if report.Errors() > 0 {
		return 1
	}
	return 0
}

func hasSite(cfg *model.Config, name string) bool {
	for _, s := range cfg.Sites {
		if s.Name == name {
			return true
		}
	}
	return false
}

func siteNames(cfg *model.Config) string {
	var names []string
	for _, s := range cfg.Sites {
		names = append(names, s.Name)
	}
	if len(names) == 0 {
		return "the configuration has no sites"
	}
	return strings.Join(names, ", ")
}

// exportPolicy prints the bucket or endpoint policy that matches the DNS
// split.
func exportPolicy(fs *pflag.FlagSet, io IO, format string, cfg *model.Config) int {
	var doc string
	var warnings []string
	var err error
	if format == "bucket-policy" {
		bucket, _ := fs.GetString("bucket")
		if bucket == "" {
			fmt.Fprintln(io.Stderr, "s3dns export: --format bucket-policy needs --bucket NAME")
			return 2
		}
		admins, _ := fs.GetStringArray("allow-principal")
		for _, a := range admins {
			if !strings.HasPrefix(a, "arn:") {
				fmt.Fprintf(io.Stderr, "s3dns export: --allow-principal %q is not an ARN (arn:aws:iam::ACCOUNT:role/NAME)\n", a)
				return 2
			}
		}
		doc, warnings, err = audit.BucketPolicy(cfg, strings.ToLower(bucket), admins)
	} else {
		name, _ := fs.GetString("endpoint")
		doc, warnings, err = audit.EndpointPolicy(cfg, name)
	}
	for _, w := range warnings {
		fmt.Fprintf(io.Stderr, "warning: %s\n", w)
	}
	if err != nil {
		fmt.Fprintf(io.Stderr, "s3dns export: %v\n", err)
		return 1
	}
	fmt.Fprint(io.Stdout, doc)
	return 0
}
