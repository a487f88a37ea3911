package integration

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"go.yaml.in/yaml/v3"
)

// fileConfig is a test's s3dns configuration, marshalled to YAML; empty
// fields take the defaults.
type fileConfig struct {
	Listen          []string       `yaml:"listen,omitempty"`
	Upstreams       []string       `yaml:"upstreams,omitempty"`
	UpstreamTimeout string         `yaml:"upstream_timeout,omitempty"`
	Access          map[string]any `yaml:"access,omitempty"`
	Dnstap          map[string]any `yaml:"dnstap,omitempty"`
	Endpoints       []endpoint     `yaml:"endpoints,omitempty"`
	Sites           []site         `yaml:"sites,omitempty"`
	SitesTrustECS   []string       `yaml:"sites_trust_ecs,omitempty"`
}

// site is one site of a test configuration.
type site struct {
	Name    string   `yaml:"name"`
	Clients []string `yaml:"clients"`
	Zone    string   `yaml:"zone,omitempty"`
	Public  bool     `yaml:"public,omitempty"`
}

// endpoint is one endpoint of a test configuration.
type endpoint struct {
	Name           string            `yaml:"name,omitempty" json:"name,omitempty"`
	ZonalHostnames map[string]string `yaml:"zonal_hostnames,omitempty" json:"zonal_hostnames,omitempty"`
	Region         string            `yaml:"region" json:"region"`
	Service        string            `yaml:"service,omitempty" json:"service,omitempty"`
	Hostname       string            `yaml:"hostname,omitempty" json:"hostname,omitempty"`
	Addresses      []string          `yaml:"addresses,omitempty" json:"addresses,omitempty"`
	Buckets        []string          `yaml:"buckets,omitempty" json:"buckets,omitempty"`
	PathStyle      bool              `yaml:"path_style,omitempty" json:"path_style,omitempty"`
	AccessPoints   []string          `yaml:"access_points,omitempty" json:"access_points,omitempty"`
	Dualstack      bool              `yaml:"dualstack,omitempty" json:"dualstack,omitempty"`
	Answer         string            `yaml:"answer,omitempty" json:"answer,omitempty"`
	OnUnresolved   string            `yaml:"on_unresolved,omitempty" json:"on_unresolved,omitempty"`
	Health         map[string]any    `yaml:"health,omitempty" json:"health,omitempty"`
	Fallback       []string          `yaml:"fallback,omitempty" json:"fallback,omitempty"`
}

// listedEndpoint serves the bucket myspecificbucket through sampleVPCE.
var listedEndpoint = endpoint{Region: "eu-west-2", Hostname: sampleVPCE, Buckets: []string{"myspecificbucket"}}

// writeConfig writes c to a file of the test's and returns its path.
func writeConfig(t *testing.T, c fileConfig) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), "s3dns.yaml")
	writeConfigTo(t, file, c)
	return file
}

func writeConfigTo(t *testing.T, file string, c fileConfig) {
	t.Helper()
	text, err := yaml.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, text, 0o600); err != nil {
		t.Fatal(err)
	}
}

// endpointsValue is eps as S3DNS_ENDPOINTS or --endpoints take them: one
// list (JSON, which is YAML too).
func endpointsValue(t *testing.T, eps ...endpoint) string {
	t.Helper()
	b, err := json.Marshal(eps)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
