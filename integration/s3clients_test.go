package integration

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Real S3 clients — the AWS CLI from Debian and the AWS SDK for Go v2 —
// reach listed buckets privately and everything else publicly, over
// verified TLS, resolving through s3dns as any program on the host would.
// Every assertion is about the requests the fake S3 servers saw.

const (
	insideEnv = "S3DNS_TEST_IN_S3_WORLD" // set when the test runs inside its namespace
	binaryEnv = "S3DNS_TEST_BINARY"      // the built s3dns, handed to the re-run
	// resolverAddr is what resolv.conf names: s3dns itself, or a resolver in
	// front of it that forwards to s3dnsBehind.
	resolverAddr = "127.0.0.9:53"
	s3dnsBehind  = "127.0.0.1:5300"
	awsCLI       = "/usr/bin/aws" // Debian's; a pip-installed aws may come first on PATH
)

func TestRealS3Clients(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping real S3 clients through s3dns (about 45 s); go test ./... and CI run it")
	}
	if os.Getenv(insideEnv) == "" {
		t.Parallel() // out here it only waits for the run in the namespace
		runInOwnNamespace(t)
		return
	}
	world := buildWorld(t)
	for _, c := range s3Cases() {
		t.Run(c.name, func(t *testing.T) {
			c.serve(t)
			for _, client := range []s3Client{world.sdk(t, c.dualstack, !c.noCA), world.cli(t, c.dualstack, !c.noCA)} {
				for _, step := range c.steps {
					world.private.take()
					world.public.take()
					err := roundTrip(t, client, step.bucket)
					world.check(t, client.name()+" "+step.bucket, step.want, err)
				}
			}
		})
	}
}

// runInOwnNamespace re-runs this test inside a new network and mount
// namespace (unshare), where its addresses, servers and resolv.conf are
// its own and nothing reaches the host's network.
func runInOwnNamespace(t *testing.T) {
	if os.Geteuid() != 0 {
		if os.Getenv("CI") != "" {
			t.Fatal("CI runs as root: this test needs a network namespace")
		}
		t.Skip("skipping: creating a network namespace needs root; CI runs this test")
	}
	unshare := requireTool(t, "unshare", "util-linux")
	requireTool(t, "ip", "iproute2")
	requireFile(t, awsCLI, "awscli")
	requireTool(t, "named", "bind9")
	requireTool(t, "unbound", "unbound")
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, unshare, "--net", "--mount", "--propagation", "private",
		os.Args[0], "-test.run", "^TestRealS3Clients$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), insideEnv+"=1", binaryEnv+"="+builtBinary(t))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("inside the namespace: %v\n%s", err, out)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if strings.Contains(line, "--- ") || strings.Contains(line, "route:") {
			t.Log(strings.TrimSpace(line))
		}
	}
}

func requireFile(t *testing.T, path, pkg string) {
	t.Helper()
	if _, err := os.Stat(path); err == nil {
		return
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("%s is required in CI (install Debian's %s; .ci/run does)", path, pkg)
	}
	t.Skipf("skipping: %s not installed (apt-get install %s); CI runs this test", path, pkg)
}

// s3Case is one configuration and what each client step must reach.
type s3Case struct {
	name      string
	endpoint  endpoint // the one endpoint, given as S3DNS_ENDPOINTS
	dualstack bool     // clients use the dualstack names
	noCA      bool     // clients do not trust the test CA
	front     string   // "", "bind" or "unbound": a resolver in front of s3dns
	steps     []step
}

type step struct {
	bucket string
	want   string // toEndpoint, toPublic or fails
}

// Where a step's requests must go.
const (
	toEndpoint = "private"
	toPublic   = "public"
	fails      = "fails" // no request anywhere
)

const apARN = "arn:aws:s3:" + region + ":123456789012:accesspoint/myap"

func s3Cases() []s3Case {
	// ep is the endpoint for buckets, changed by options.
	ep := func(buckets []string, options ...func(*endpoint)) endpoint {
		e := endpoint{Region: region, Hostname: endpointName, Buckets: buckets}
		for _, o := range options {
			o(&e)
		}
		return e
	}
	listed := []string{"listed-bucket"}
	dotted := []string{"my.dotted.bucket"}
	const alias = "myap-hrzrlukc5m36ft7okagglf3gmwluquse1b-s3alias"
	pathStyle := func(e *endpoint) { e.PathStyle = true }
	dualstack := func(e *endpoint) { e.Dualstack = true }
	answerAlias := func(e *endpoint) { e.Answer = "alias" }
	accessPoint := func(e *endpoint) { e.AccessPoints = []string{"myap-123456789012"} }
	broken := func(onUnresolved string) func(*endpoint) {
		return func(e *endpoint) {
			e.Hostname = "vpce-broken-abcdefgh.s3." + region + ".vpce.amazonaws.com" // public DNS fails for it
			e.OnUnresolved = onUnresolved
		}
	}
	listedAndNot := []step{{"listed-bucket", toEndpoint}, {"unlisted-bucket", toPublic}}
	return []s3Case{
		{name: "listed bucket private, unlisted public", endpoint: ep(listed), steps: listedAndNot},
		{name: "dotted bucket without path_style", endpoint: ep(dotted),
			steps: []step{{"my.dotted.bucket", toPublic}}},
		{name: "dotted bucket with path_style", endpoint: ep(dotted, pathStyle),
			steps: []step{{"my.dotted.bucket", toEndpoint}}},
		{name: "every bucket", endpoint: ep([]string{"*"}),
			steps: []step{{"listed-bucket", toEndpoint}, {"unlisted-bucket", toEndpoint}, {"my.dotted.bucket", toEndpoint}}},
		{name: "access point alias and ARN listed", endpoint: ep([]string{alias}, accessPoint),
			steps: []step{{alias, toEndpoint}, {apARN, toEndpoint}}},
		{name: "access point alias and ARN not listed", endpoint: ep(listed),
			steps: []step{{alias, toPublic}, {apARN, toPublic}}},
		{name: "dualstack names without dualstack", endpoint: ep(listed), dualstack: true,
			steps: []step{{"listed-bucket", toPublic}}},
		{name: "dualstack names with dualstack", endpoint: ep(listed, dualstack), dualstack: true,
			steps: listedAndNot},
		{name: "alias answers", endpoint: ep(listed, answerAlias), steps: listedAndNot},
		{name: "endpoint unresolvable, on_unresolved public", endpoint: ep(listed, broken("public")),
			steps: []step{{"listed-bucket", toPublic}}},
		{name: "endpoint unresolvable, on_unresolved servfail", endpoint: ep(listed, broken("servfail")),
			steps: []step{{"listed-bucket", fails}}},
		{name: "certificate verified: no CA, no request", endpoint: ep(listed), noCA: true,
			steps: []step{{"listed-bucket", fails}, {"unlisted-bucket", fails}}},
		{name: "through BIND", endpoint: ep(listed), front: "bind", steps: listedAndNot},
		{name: "through Unbound", endpoint: ep(listed), front: "unbound", steps: listedAndNot},
	}
}

// serve starts s3dns for the case on resolverAddr, or behind a resolver
// there configured as `s3dns export` says.
func (c s3Case) serve(t *testing.T) {
	t.Helper()
	t.Setenv("S3DNS_ENDPOINTS", endpointsValue(t, c.endpoint))
	if c.front == "" {
		startBinary(t, resolverAddr, s3dnsHTTP, "--upstream", worldDNS)
		return
	}
	startBinary(t, s3dnsBehind, s3dnsHTTP, "--upstream", worldDNS)
	cfg := exportConfig(t, c.endpoint)
	switch c.front {
	case "bind":
		startNamedAt(t, resolverAddr, worldDNS, "", export(t, "--format", "bind", "--config", cfg, "--server", s3dnsBehind))
	case "unbound":
		server, zones := splitUnbound(export(t, "--format", "unbound", "--config", cfg, "--server", s3dnsBehind))
		startUnboundAt(t, resolverAddr, worldDNS, server, zones)
	}
}

// s3Client is one real client.
type s3Client interface {
	name() string
	put(ctx context.Context, bucket, key string, body []byte) error
	head(ctx context.Context, bucket, key string) error
	get(ctx context.Context, bucket, key string) ([]byte, error)
}

// roundTrip puts an object, checks it is there and reads it back.
func roundTrip(t *testing.T, c s3Client, bucket string) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	key := "k-" + fmt.Sprint(time.Now().UnixNano())
	body := []byte("hello from " + c.name() + " to " + bucket)
	if err := c.put(ctx, bucket, key, body); err != nil {
		return fmt.Errorf("put: %w", err)
	}
	if err := c.head(ctx, bucket, key); err != nil {
		return fmt.Errorf("head: %w", err)
	}
	got, err := c.get(ctx, bucket, key)
	if err != nil {
		return fmt.Errorf("get: %w", err)
	}
	if !bytes.Equal(got, body) {
		return fmt.Errorf("read back %q, want %q", got, body)
	}
	return nil
}

// world is the topology inside the namespace.
type world struct {
	caFile          string
	private, public *fakeS3
}

func buildWorld(t *testing.T) *world {
	t.Helper()
	for _, kv := range os.Environ() { // the host's AWS settings are not the test's
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "AWS_") {
			t.Setenv(k, "")
			os.Unsetenv(k)
		}
	}
	enterWorld(t, strings.Split(resolverAddr, ":")[0])
	cert, caFile := testPKI(t)
	startPublicDNS(t)
	return &world{caFile: caFile,
		private: startFakeS3(t, "private", interfaceAddrs, cert),
		public:  startFakeS3(t, "public", []string{publicS3Addr}, cert)}
}

// check says whether the step reached the server it should, and only it.
func (w *world) check(t *testing.T, what, want string, err error) {
	t.Helper()
	priv, pub := w.private.take(), w.public.take()
	t.Logf("route: %s → %s (private %d requests, public %d) %v", what, want, len(priv), len(pub), describe(append(priv, pub...)))
	switch want {
	case fails:
		if err == nil || len(priv)+len(pub) != 0 {
			t.Errorf("%s: want a failure with no request anywhere; error %v, private %v, public %v", what, err, priv, pub)
		}
		return
	case toEndpoint:
		if err != nil || len(priv) == 0 || len(pub) != 0 {
			t.Errorf("%s: want the endpoint only; error %v, private %v, public %v", what, err, priv, pub)
		}
		for _, r := range priv {
			if host, _, _ := net.SplitHostPort(r.Local); !slices.Contains(interfaceAddrs, host) {
				t.Errorf("%s: request on %s, not an endpoint interface", what, r.Local)
			}
		}
	case toPublic:
		if err != nil || len(pub) == 0 || len(priv) != 0 {
			t.Errorf("%s: want public S3 only; error %v, private %v, public %v", what, err, priv, pub)
		}
	}
}

func describe(rs []request) string {
	seen := map[string]bool{}
	var out []string
	for _, r := range rs {
		s := fmt.Sprintf("%s SNI=%s Host=%s %s", r.Local, r.SNI, r.Host, r.Path)
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return strings.Join(out, "; ")
}

// The AWS SDK for Go v2, default addressing, resolving through the
// system's resolv.conf (Go's resolver).
type sdkClient struct{ c *s3.Client }

func (w *world) sdk(t *testing.T, dualstack, trustCA bool) s3Client {
	t.Helper()
	opts := []func(*config.LoadOptions) error{
		config.WithRegion(region),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("AKIDS3DNSTEST", "s3dns-test-secret", "")),
		config.WithEC2IMDSClientEnableState(imds.ClientDisabled),
		config.WithSharedConfigFiles([]string{}), config.WithSharedCredentialsFiles([]string{}),
		config.WithRetryMaxAttempts(1),
		config.WithRequestChecksumCalculation(aws.RequestChecksumCalculationWhenRequired),
		config.WithResponseChecksumValidation(aws.ResponseChecksumValidationWhenRequired),
	}
	if trustCA {
		ca, err := os.ReadFile(w.caFile)
		if err != nil {
			t.Fatal(err)
		}
		opts = append(opts, config.WithCustomCABundle(bytes.NewReader(ca)))
	}
	if dualstack {
		opts = append(opts, config.WithUseDualStackEndpoint(aws.DualStackEndpointStateEnabled))
	}
	cfg, err := config.LoadDefaultConfig(context.Background(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	return sdkClient{s3.NewFromConfig(cfg)}
}

func (sdkClient) name() string { return "sdk" }

func (s sdkClient) put(ctx context.Context, bucket, key string, body []byte) error {
	_, err := s.c.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: &key, Body: bytes.NewReader(body)})
	return err
}

func (s sdkClient) head(ctx context.Context, bucket, key string) error {
	_, err := s.c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &bucket, Key: &key})
	return err
}

func (s sdkClient) get(ctx context.Context, bucket, key string) ([]byte, error) {
	out, err := s.c.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: &key})
	if err != nil {
		return nil, err
	}
	defer out.Body.Close()
	var b bytes.Buffer
	_, err = b.ReadFrom(out.Body)
	return b.Bytes(), err
}

// The AWS CLI from Debian, resolving through glibc and resolv.conf.
type cliClient struct {
	env []string
	dir string
}

func (w *world) cli(t *testing.T, dualstack, trustCA bool) s3Client {
	t.Helper()
	dir := t.TempDir()
	env := []string{"PATH=/usr/bin:/bin", "HOME=" + dir, "AWS_ACCESS_KEY_ID=AKIDS3DNSTEST", "AWS_SECRET_ACCESS_KEY=s3dns-test-secret",
		"AWS_DEFAULT_REGION=" + region, "AWS_EC2_METADATA_DISABLED=true", "AWS_MAX_ATTEMPTS=1", "AWS_RETRY_MODE=standard",
		"AWS_CONFIG_FILE=" + filepath.Join(dir, "none"), "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(dir, "none"),
		"AWS_PAGER="}
	if trustCA {
		env = append(env, "AWS_CA_BUNDLE="+w.caFile)
	}
	if dualstack {
		env = append(env, "AWS_USE_DUALSTACK_ENDPOINT=true")
	}
	return cliClient{env: env, dir: dir}
}

func (cliClient) name() string { return "aws-cli" }

func (c cliClient) run(ctx context.Context, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, awsCLI, append([]string{"--cli-connect-timeout", "5", "--cli-read-timeout", "20"}, args...)...)
	cmd.Env = c.env
	out, err := cmd.CombinedOutput()
	if err != nil {
		return out, fmt.Errorf("aws %v: %w: %s", args, err, bytes.TrimSpace(out))
	}
	return out, nil
}

func (c cliClient) put(ctx context.Context, bucket, key string, body []byte) error {
	file := filepath.Join(c.dir, "body")
	if err := os.WriteFile(file, body, 0o600); err != nil {
		return err
	}
	_, err := c.run(ctx, "s3api", "put-object", "--bucket", bucket, "--key", key, "--body", file)
	return err
}

func (c cliClient) head(ctx context.Context, bucket, key string) error {
	_, err := c.run(ctx, "s3api", "head-object", "--bucket", bucket, "--key", key)
	return err
}

func (c cliClient) get(ctx context.Context, bucket, key string) ([]byte, error) {
	file := filepath.Join(c.dir, "got")
	if _, err := c.run(ctx, "s3api", "get-object", "--bucket", bucket, "--key", key, file); err != nil {
		return nil, err
	}
	return os.ReadFile(file)
}
