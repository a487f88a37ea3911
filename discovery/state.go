package discovery

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// The state file keeps the last good discovery result across restarts: a
// server started while the EC2 API is unreachable or throttling answers the
// listed names from it, not as unresolved, until EC2 answers again.

// stateVersion is the state file's format; a file of another one is ignored.
const stateVersion = 1

type stateFile struct {
	Version   int                   `json:"version"`
	Endpoints map[string]savedState `json:"endpoints"` // by endpoint id
}

type savedState struct {
	Endpoint     Endpoint  `json:"endpoint"`
	DiscoveredAt time.Time `json:"discovered_at"`
}

// Where the data in use came from (Source).
const (
	FromEC2       = "ec2"
	FromStateFile = "state_file"
)

// Source says where one endpoint's data in use came from and how old it is.
type Source struct {
	Endpoint string        `json:"endpoint"`
	ID       string        `json:"vpc_endpoint_id"`
	From     string        `json:"source"` // ec2 or state_file
	Age      time.Duration `json:"age_ns"`
	// Region is the service's region (none for a global service),
	// VPCRegion the VPC's: they differ for a cross-Region endpoint.
	Region    string `json:"region,omitempty"`
	VPCRegion string `json:"vpc_region,omitempty"`
}

// readState reads the state file; a missing file is no error (the first
// start), a damaged one is (logged, then ignored).
func readState(path string) (map[string]savedState, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var s stateFile
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if s.Version != stateVersion {
		return nil, fmt.Errorf("%s: format version %d, not %d", path, s.Version, stateVersion)
	}
	return s.Endpoints, nil
}

// writeState replaces the state file atomically: written to a temporary
// file beside it, synced, then renamed over it, so that a crash leaves the
// old file or the new one, never half of one.
func writeState(path string, endpoints map[string]savedState) error {
	b, err := json.MarshalIndent(stateFile{Version: stateVersion, Endpoints: endpoints}, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // gone after the rename; cleans up after a failure
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
