package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzLoad checks that no file content panics the loader and that every
// outcome is either a usable configuration or errors that name a key.
func FuzzLoad(f *testing.F) {
	f.Add([]byte(fullConfig))
	f.Add([]byte("upstreams: [127.0.0.1]\nendpoints: [{region: eu-west-2, hostname: a.b, buckets: ['*']}]\n"))
	f.Add([]byte("cache: 5\n"))
	f.Add([]byte("endpoints: [1, [2], {ttl: -1}]\n"))
	f.Add([]byte("listen: {a: b}\nlog: [x]\n"))
	f.Add([]byte("\x00\xff: ]["))
	dir := f.TempDir()
	resolv := filepath.Join(dir, "resolv.conf")
	os.WriteFile(resolv, []byte("nameserver 127.0.0.1\n"), 0o600)
	// Each fuzzing worker is its own process with its own f.TempDir.
	file := filepath.Join(dir, "s3dns.yaml")
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(file, data, 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, _, err := Load(Options{File: file, ResolvConf: resolv})
		if err != nil {
			errs, ok := err.(Errors)
			if !ok || len(errs) == 0 {
				t.Fatalf("error of type %T: %v", err, err)
			}
			for _, e := range errs {
				if !strings.Contains(e.Error(), ":") {
					t.Fatalf("error names no key: %q", e)
				}
			}
			return
		}
		if len(cfg.Listen) == 0 || len(cfg.Upstreams) == 0 || cfg.UpstreamTimeout <= 0 {
			t.Fatalf("accepted an unusable configuration: %+v", cfg)
		}
		for _, e := range cfg.Endpoints {
			if e.Hostname == "" && len(e.Addresses) == 0 || e.TTL <= 0 || !ValidRegion(e.Region) {
				t.Fatalf("accepted a bad endpoint: %+v", e)
			}
		}
	})
}
