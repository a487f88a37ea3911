// Package fakeec2 is an EC2 Query API on loopback for tests: HTTPS, the XML
// the AWS SDK for Go v2 decodes, DescribeVpcEndpoints and
// DescribeNetworkInterfaces with their filters, SigV4 access key checks,
// and injected failures (throttling, server errors).
package fakeec2

import (
	"cmp"
	"encoding/pem"
	"encoding/xml"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
)

// AccessKey and SecretKey are the credentials the server accepts.
const (
	AccessKey = "AKIAS3DNSTESTKEY0001"
	SecretKey = "s3dns-fake-secret-key"
)

// Endpoint is one interface endpoint as EC2 describes it.
type Endpoint struct {
	ID, VPCID, ServiceName, State string
	// VPCRegion, when set, is the only region whose EC2 API lists the
	// endpoint (the request's SigV4 scope names it); ServiceRegion is
	// EC2's field of that name, set for a cross-Region endpoint.
	VPCRegion, ServiceRegion string
	DNSNames                 []string // as EC2 lists them, "*." included
	Interfaces               []string // network interface ids
	Subnets                  []string
	PrivateDNS               bool
	// Owner is the endpoint's account; Policy its endpoint policy (JSON;
	// "" lists EC2's default, full access).
	Owner, Policy string
}

// Interface is one network interface of an endpoint.
type Interface struct {
	ID, Zone, Subnet string
	Addresses        []string // private IPv4, the first primary; IPv6 after
}

// zoneIDs are the AZ ids of the recorded account's zones: names are
// shuffled per account, ids are not (here 2a is az2).
var zoneIDs = map[string]string{"eu-west-2a": "euw2-az2", "eu-west-2b": "euw2-az3", "eu-west-2c": "euw2-az1"}

// Server is the fake API. Its zero state lists nothing.
type Server struct {
	*httptest.Server
	mu         sync.Mutex
	endpoints  []Endpoint
	interfaces map[string]Interface
	fault      *fault
	calls      map[string]int
}

type fault struct {
	status int
	code   string
}

// New starts a server that t closes.
func New(t testing.TB) *Server {
	s := Start()
	t.Cleanup(s.Close)
	return s
}

// Start starts a server on loopback that the caller closes (s3dns-demo).
func Start() *Server {
	s := &Server{interfaces: map[string]Interface{}, calls: map[string]int{}}
	s.Server = httptest.NewTLSServer(http.HandlerFunc(s.serve))
	return s
}

// CAFile writes the server's certificate as a PEM file (AWS_CA_BUNDLE).
func (s *Server) CAFile(t testing.TB) string {
	p, err := s.WriteCA(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// WriteCA writes the server's certificate as a PEM file in dir.
func (s *Server) WriteCA(dir string) (string, error) {
	p := filepath.Join(dir, "fake-ec2-ca.pem")
	block := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.Certificate().Raw})
	return p, os.WriteFile(p, block, 0o600)
}

// Put adds or replaces an endpoint with its interfaces.
func (s *Server) Put(e Endpoint, interfaces ...Interface) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e.DNSNames, e.Subnets, e.Interfaces = slices.Clone(e.DNSNames), slices.Clone(e.Subnets), slices.Clone(e.Interfaces)
	for _, ni := range interfaces {
		s.interfaces[ni.ID] = ni
		if !slices.Contains(e.Interfaces, ni.ID) {
			e.Interfaces = append(e.Interfaces, ni.ID)
		}
	}
	s.endpoints = slices.DeleteFunc(s.endpoints, func(o Endpoint) bool { return o.ID == e.ID })
	s.endpoints = append(s.endpoints, e)
}

// AddInterface attaches a new network interface to endpoint id, as adding
// a subnet does.
func (s *Server) AddInterface(id string, ni Interface) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.interfaces[ni.ID] = ni
	for i := range s.endpoints {
		if s.endpoints[i].ID == id {
			s.endpoints[i].Interfaces = append(s.endpoints[i].Interfaces, ni.ID)
			s.endpoints[i].Subnets = append(s.endpoints[i].Subnets, ni.Subnet)
		}
	}
}

// RemoveInterface detaches and deletes a network interface.
func (s *Server) RemoveInterface(eniID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ni := s.interfaces[eniID]
	delete(s.interfaces, eniID)
	for i := range s.endpoints {
		e := &s.endpoints[i]
		e.Interfaces = slices.DeleteFunc(e.Interfaces, func(id string) bool { return id == eniID })
		e.Subnets = slices.DeleteFunc(e.Subnets, func(id string) bool { return id == ni.Subnet })
	}
}

// Fail makes every call fail with status and an EC2 error code (503
// RequestLimitExceeded is throttling) until Unfail.
func (s *Server) Fail(status int, code string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fault = &fault{status: status, code: code}
}

// Unfail ends Fail.
func (s *Server) Unfail() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fault = nil
}

// Calls reports how many requests of action were received.
func (s *Server) Calls(action string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[action]
}

// credential is the access key id of a SigV4 Authorization header.
// scope finds the region in a SigV4 Authorization header's credential scope.
var scope = regexp.MustCompile(`Credential=[^/]+/[0-9]+/([a-z0-9-]+)/ec2/`)

var credential = regexp.MustCompile(`Credential=([^/]+)/`)

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, http.StatusBadRequest, "MalformedQueryString", err.Error())
		return
	}
	action := r.PostForm.Get("Action")
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls[action]++
	if m := credential.FindStringSubmatch(r.Header.Get("Authorization")); m == nil || m[1] != AccessKey {
		s.fail(w, http.StatusUnauthorized, "AuthFailure", "AWS was not able to validate the provided access credentials")
		return
	}
	if s.fault != nil {
		s.fail(w, s.fault.status, s.fault.code, "injected by the test")
		return
	}
	filters := parseFilters(r.PostForm)
	switch action {
	case "DescribeVpcEndpoints":
		region := ""
		if m := scope.FindStringSubmatch(r.Header.Get("Authorization")); m != nil {
			region = m[1]
		}
		s.write(w, s.describeEndpoints(filters, region))
	case "DescribeNetworkInterfaces":
		s.write(w, s.describeInterfaces(filters))
	default:
		s.fail(w, http.StatusBadRequest, "InvalidAction", fmt.Sprintf("The action %s is not valid for this web service.", action))
	}
}

// parseFilters reads Filter.N.Name and Filter.N.Value.M.
func parseFilters(form map[string][]string) map[string][]string {
	out := map[string][]string{}
	for k, v := range form {
		rest, ok := strings.CutPrefix(k, "Filter.")
		if !ok || !strings.HasSuffix(rest, ".Name") || len(v) == 0 {
			continue
		}
		n := strings.TrimSuffix(rest, ".Name")
		for m := 1; ; m++ {
			vals, ok := form[fmt.Sprintf("Filter.%s.Value.%d", n, m)]
			if !ok {
				break
			}
			out[v[0]] = append(out[v[0]], vals...)
		}
	}
	return out
}

// matches applies one filter: absent filters match everything.
func matches(filters map[string][]string, name, value string) bool {
	want, ok := filters[name]
	return !ok || slices.Contains(want, value)
}

func (s *Server) describeEndpoints(f map[string][]string, region string) any {
	resp := endpointsResponse{NS: ns, RequestID: "fake-request"}
	for _, e := range s.endpoints {
		if !matches(f, "vpc-endpoint-type", "Interface") || !matches(f, "vpc-endpoint-id", e.ID) || !matches(f, "vpc-id", e.VPCID) ||
			(e.VPCRegion != "" && e.VPCRegion != region) {
			continue
		}
		item := endpointXML{ID: e.ID, Type: "Interface", VPCID: e.VPCID, ServiceName: e.ServiceName, ServiceRegion: e.ServiceRegion, State: e.State,
			PrivateDNS: e.PrivateDNS, Interfaces: items(e.Interfaces), Subnets: items(e.Subnets),
			Owner: cmp.Or(e.Owner, "111122223333"), Policy: cmp.Or(e.Policy, fullAccess)}
		for _, n := range e.DNSNames {
			item.DNSEntries = append(item.DNSEntries, dnsEntryXML{Name: n, Zone: "Z7HUB22UULQXV"})
		}
		resp.Endpoints = append(resp.Endpoints, item)
	}
	return resp
}

// fullAccess is the policy EC2 gives an endpoint created without one.
const fullAccess = `{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}`

func (s *Server) describeInterfaces(f map[string][]string) any {
	resp := interfacesResponse{NS: ns, RequestID: "fake-request"}
	for _, id := range slices.Sorted(maps.Keys(s.interfaces)) {
		ni := s.interfaces[id]
		if !matches(f, "network-interface-id", id) {
			continue
		}
		item := interfaceXML{ID: id, Zone: ni.Zone, ZoneID: zoneIDs[ni.Zone], Subnet: ni.Subnet}
		for _, a := range ni.Addresses {
			if strings.Contains(a, ":") {
				item.IPv6 = append(item.IPv6, ipv6XML{Address: a})
				continue
			}
			if item.Primary == "" {
				item.Primary = a
			}
			item.Private = append(item.Private, privateIPXML{Address: a, Primary: item.Primary == a})
		}
		resp.Interfaces = append(resp.Interfaces, item)
	}
	return resp
}

func (s *Server) write(w http.ResponseWriter, v any) {
	body, err := xml.Marshal(v)
	if err != nil {
		s.fail(w, http.StatusInternalServerError, "InternalError", err.Error())
		return
	}
	w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
	w.Write([]byte(xml.Header))
	w.Write(body)
}

func (s *Server) fail(w http.ResponseWriter, status int, code, message string) {
	body, _ := xml.Marshal(errorResponse{Errors: []errorXML{{Code: code, Message: message}}, RequestID: "fake-request"})
	w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
	w.WriteHeader(status)
	w.Write(body)
}

// Env is the environment that points the AWS SDK (in a test binary or the
// s3dns binary) at s and nowhere else: its CA, its credentials, no shared
// files, no instance metadata, one attempt per call.
func (s *Server) Env(t testing.TB) map[string]string {
	return s.EnvIn(t.TempDir(), s.CAFile(t))
}

// EnvIn is Env with its files in dir and the CA file given.
func (s *Server) EnvIn(dir, caFile string) map[string]string {
	return map[string]string{
		"AWS_ACCESS_KEY_ID":           AccessKey,
		"AWS_SECRET_ACCESS_KEY":       SecretKey,
		"AWS_SESSION_TOKEN":           "",
		"AWS_REGION":                  "eu-west-2",
		"AWS_CA_BUNDLE":               caFile,
		"AWS_EC2_METADATA_DISABLED":   "true",
		"AWS_CONFIG_FILE":             filepath.Join(dir, "no-config"),
		"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "no-credentials"),
		"AWS_PROFILE":                 "",
		"AWS_ENDPOINT_URL":            "",
		"AWS_ENDPOINT_URL_EC2":        "",
		"AWS_ENDPOINT_URL_S3":         "",
		"AWS_ENDPOINT_URL_S3_CONTROL": "",
		"AWS_MAX_ATTEMPTS":            "1",
	}
}

// ProcessEnv is Env for every fake server of a test process at once: their
// certificate is httptest's, the same for all of them. Set once in TestMain,
// it lets the tests that use fake servers run in parallel (t.Setenv cannot).
func ProcessEnv(dir string) (map[string]string, error) {
	s := &Server{Server: httptest.NewTLSServer(http.NotFoundHandler())}
	defer s.Close()
	ca, err := s.WriteCA(dir)
	if err != nil {
		return nil, err
	}
	return s.EnvIn(dir, ca), nil
}

// SetEnv applies Env to the test process (t.Setenv: not for parallel tests).
func (s *Server) SetEnv(t *testing.T) {
	for k, v := range s.Env(t) {
		t.Setenv(k, v)
	}
}
