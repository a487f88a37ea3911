package audit

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/s3dns/s3dns/model"
)

// subject is a bucket or an access point and how requests name it.
type subject struct {
	label    string // the bucket, or "<name>-<account>"
	region   string
	dnsName  string
	object   string // the ARN of an object in it (s3:GetObject)
	readWhat string // what reading its policy is called, for findings
}

// subjects are the buckets to judge: every exact bucket an S3 endpoint
// (or a site's override) lists, and with all, every bucket of the account.
func (a *auditor) subjects(ctx context.Context, all bool) []subject {
	type key struct{ name, region string }
	listed := map[key]bool{}
	addList := func(endpoint, region string, buckets []string) {
		for _, b := range buckets {
			switch {
			case !isGlob(b):
				listed[key{b, region}] = true
			case !all:
				a.report.Notes = append(a.report.Notes, fmt.Sprintf("%s lists %q: the buckets it matches are judged with --all-buckets", endpoint, b))
			}
		}
	}
	for _, e := range a.cfg.Endpoints {
		if e.Service == model.ServiceS3 {
			addList(e.Name, e.Region, e.Buckets)
		}
	}
	for _, s := range a.cfg.Sites {
		for _, ov := range s.Endpoints {
			for _, e := range a.cfg.Endpoints {
				if e.Name == ov.Name && e.Service == model.ServiceS3 {
					addList("site "+s.Name+"'s "+e.Name, e.Region, ov.Buckets)
				}
			}
		}
	}
	if all {
		// Every bucket, listed or not: an unlisted one whose policy needs an
		// endpoint is answered publicly, and fails.
		buckets, err := a.src.Buckets(ctx)
		if err != nil {
			a.readFailed("", "", "the account's buckets (s3:ListAllMyBuckets)", err)
		}
		for _, b := range buckets {
			listed[key{b.Name, b.Region}] = true
		}
	}
	var out []subject
	for k := range listed {
		partition := model.ARNPartition(k.region)
		out = append(out, subject{label: k.name, region: k.region, dnsName: bucketName(k.name, k.region),
			object:   "arn:" + partition + ":s3:::" + k.name + "/s3dns-audit",
			readWhat: "its bucket policy (s3:GetBucketPolicy)"})
	}
	slices.SortFunc(out, func(x, y subject) int { return strings.Compare(x.label+" "+x.region, y.label+" "+y.region) })
	return out
}

// judgeBucket reads a bucket's policy and Block Public Access state and
// judges each route to it.
func (a *auditor) judgeBucket(ctx context.Context, b subject) {
	doc, err := a.src.BucketPolicy(ctx, b.region, b.label)
	if err != nil && !errors.Is(err, ErrNoPolicy) {
		a.readFailed(b.label, "", b.readWhat, err)
		return
	}
	blocks, bpaErr := a.src.PublicAccessBlock(ctx, b.region, b.label)
	if bpaErr != nil {
		a.readFailed(b.label, "", "its Block Public Access state (s3:GetBucketPublicAccessBlock)", bpaErr)
		blocks = "unknown"
	}
	a.judge(b, doc, errors.Is(err, ErrNoPolicy), "Block Public Access: "+blocks)
}

// accessPoints are the exact access points S3 endpoints list, as subjects.
func (a *auditor) accessPoints() []subject {
	var out []subject
	for _, e := range a.cfg.Endpoints {
		if e.Service != model.ServiceS3 {
			continue
		}
		for _, ap := range e.AccessPoints {
			name, account, ok := accessPointParts(ap)
			if isGlob(ap) || !ok {
				continue
			}
			arn := fmt.Sprintf("arn:%s:s3:%s:%s:accesspoint/%s", model.ARNPartition(e.Region), e.Region, account, name)
			out = append(out, subject{label: ap, region: e.Region, dnsName: accessPointName(ap, e.Region),
				object: arn + "/object/s3dns-audit", readWhat: "its access point policy (s3:GetAccessPointPolicy)"})
		}
	}
	return out
}

func (a *auditor) judgeAccessPoint(ctx context.Context, ap subject) {
	name, account, _ := accessPointParts(ap.label)
	doc, err := a.src.AccessPointPolicy(ctx, ap.region, account, name)
	if err != nil && !errors.Is(err, ErrNoPolicy) {
		a.readFailed(ap.label, "", ap.readWhat, err)
		return
	}
	a.judge(ap, doc, errors.Is(err, ErrNoPolicy), "")
}
