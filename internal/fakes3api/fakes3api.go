// Package fakes3api is the S3 and S3 Control APIs the audit reads, on
// loopback HTTPS for tests: GetBucketPolicy, GetPublicAccessBlock,
// ListBuckets (path style, as the SDK asks an IP address) and S3 Control's
// GetAccessPointPolicy, with the errors AWS answers (NoSuchBucketPolicy,
// AccessDenied, a bucket asked in the wrong region, throttling). Its
// certificate is httptest's, as the fake EC2's: one AWS_CA_BUNDLE serves
// both.
package fakes3api

import (
	"encoding/xml"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/s3dns/s3dns/internal/fakeec2"
)

// Bucket is one bucket: its region, policy ("" none), Block Public Access
// settings, and whether reading its policy is denied.
type Bucket struct {
	Region       string
	Policy       string
	BlockPublic  bool // all four Block Public Access settings on
	PolicyDenied bool
}

// Server is the fake API.
type Server struct {
	*httptest.Server
	mu           sync.Mutex
	buckets      map[string]Bucket
	accessPoints map[string]string // "<account>/<name>" → policy
	throttle     int               // answer this many requests with SlowDown
	calls        map[string]int
}

// New starts a server that t closes.
func New(t testing.TB) *Server {
	s := &Server{buckets: map[string]Bucket{}, accessPoints: map[string]string{}, calls: map[string]int{}}
	s.Server = httptest.NewTLSServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

// PutBucket adds or replaces a bucket.
func (s *Server) PutBucket(name string, b Bucket) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.buckets[name] = b
}

// PutAccessPoint sets an access point's policy.
func (s *Server) PutAccessPoint(account, name, policy string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.accessPoints[account+"/"+name] = policy
}

// Throttle answers the next n requests with 503 SlowDown.
func (s *Server) Throttle(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.throttle = n
}

// Calls counts the requests of one operation (GetBucketPolicy …).
func (s *Server) Calls(op string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[op]
}

var (
	credential = regexp.MustCompile(`Credential=([^/]+)/[0-9]+/([a-z0-9-]+)/s3/`)
	apPolicy   = regexp.MustCompile(`^/v20180820/accesspoint/([^/]+)/policy$`)
)

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := credential.FindStringSubmatch(r.Header.Get("Authorization"))
	if m == nil || m[1] != fakeec2.AccessKey {
		fail(w, http.StatusForbidden, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.")
		return
	}
	region := m[2]
	q := r.URL.Query()
	op := ""
	bucket := strings.Trim(r.URL.Path, "/")
	switch {
	case apPolicy.MatchString(r.URL.Path):
		op = "GetAccessPointPolicy"
	case r.Method == http.MethodGet && bucket == "":
		op = "ListBuckets"
	case r.Method == http.MethodGet && q.Has("policy"):
		op = "GetBucketPolicy"
	case r.Method == http.MethodGet && q.Has("publicAccessBlock"):
		op = "GetPublicAccessBlock"
	default:
		fail(w, http.StatusNotImplemented, "NotImplemented", r.Method+" "+r.URL.String())
		return
	}
	s.calls[op]++
	if s.throttle > 0 {
		s.throttle--
		fail(w, http.StatusServiceUnavailable, "SlowDown", "Please reduce your request rate.")
		return
	}
	switch op {
	case "GetAccessPointPolicy":
		name := apPolicy.FindStringSubmatch(r.URL.Path)[1]
		policy, ok := s.accessPoints[r.Header.Get("x-amz-account-id")+"/"+name]
		if !ok {
			fail(w, http.StatusNotFound, "NoSuchAccessPointPolicy", "The specified accesspoint does not have a policy")
			return
		}
		write(w, struct {
			XMLName xml.Name `xml:"GetAccessPointPolicyResult"`
			Policy  string
		}{Policy: policy})
	case "ListBuckets":
		s.listBuckets(w)
	default:
		s.bucketOp(w, op, bucket, region)
	}
}

func (s *Server) bucketOp(w http.ResponseWriter, op, name, region string) {
	b, ok := s.buckets[name]
	switch {
	case !ok:
		fail(w, http.StatusNotFound, "NoSuchBucket", "The specified bucket does not exist")
	case b.Region != region:
		fail(w, http.StatusMovedPermanently, "PermanentRedirect", "The bucket is in "+b.Region+", not "+region)
	case op == "GetBucketPolicy" && b.PolicyDenied:
		fail(w, http.StatusForbidden, "AccessDenied", "Access Denied")
	case op == "GetBucketPolicy" && b.Policy == "":
		fail(w, http.StatusNotFound, "NoSuchBucketPolicy", "The bucket policy does not exist")
	case op == "GetBucketPolicy":
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, b.Policy)
	case !b.BlockPublic:
		fail(w, http.StatusNotFound, "NoSuchPublicAccessBlockConfiguration", "The public access block configuration was not found")
	default:
		write(w, struct {
			XMLName                                                                     xml.Name `xml:"PublicAccessBlockConfiguration"`
			BlockPublicAcls, IgnorePublicAcls, BlockPublicPolicy, RestrictPublicBuckets bool
		}{BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true})
	}
}

type bucketXML struct {
	Name         string
	CreationDate string
	BucketRegion string
}

func (s *Server) listBuckets(w http.ResponseWriter) {
	var list []bucketXML
	for _, name := range slices.Sorted(maps.Keys(s.buckets)) {
		list = append(list, bucketXML{Name: name, CreationDate: "2025-01-02T03:04:05.000Z", BucketRegion: s.buckets[name].Region})
	}
	write(w, struct {
		XMLName xml.Name    `xml:"ListAllMyBucketsResult"`
		Buckets []bucketXML `xml:"Buckets>Bucket"`
	}{Buckets: list})
}

func write(w http.ResponseWriter, v any) {
	body, err := xml.Marshal(v)
	if err != nil {
		fail(w, http.StatusInternalServerError, "InternalError", err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/xml")
	w.Write([]byte(xml.Header))
	w.Write(body)
}

func fail(w http.ResponseWriter, status int, code, message string) {
	body, _ := xml.Marshal(struct {
		XMLName   xml.Name `xml:"Error"`
		Code      string
		Message   string
		RequestID string `xml:"RequestId"`
	}{Code: code, Message: message, RequestID: "fake-request"})
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	w.Write(body)
}
