package app

import (
	"fmt"
	"os"
	"testing"

	"github.com/s3dns/s3dns/internal/dnstest"
	"github.com/s3dns/s3dns/internal/fakeec2"
)

// TestMain points the AWS SDK at the fake EC2 servers for the whole
// process (fakeec2.ProcessEnv), so that the tests using them run in parallel.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "s3dns-app-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	env, err := fakeec2.ProcessEnv(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for k, v := range env {
		os.Setenv(k, v)
	}
	code := dnstest.RunTests(m)
	os.RemoveAll(dir)
	os.Exit(code)
}
