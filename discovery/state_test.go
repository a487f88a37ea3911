package discovery

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/s3dns/s3dns/internal/fakeec2"
	"github.com/s3dns/s3dns/model"
)

// Restart-safe discovery (issue 31, item 4): the last good result is kept
// in discovery.state_file; a refresher started while EC2 throttles answers
// from it (source state_file), and once EC2 answers, from EC2 again, the
// file rewritten atomically with the new time.
func TestStateFileCarriesDiscoveryAcrossARestart(t *testing.T) {
	api := fakeec2.New(t).Recorded()
	api.SetEnv(t)
	dir := t.TempDir()
	state := filepath.Join(dir, "discovery.json")
	cfg := discoveringConfig(api.URL, model.Endpoint{Name: "s3-london", VPCEndpointID: fakeec2.S3ID, Region: "eu-west-2", Service: "s3"})
	cfg.Discovery.StateFile = state

	first := NewRefresher(cfg, Options{}, nil)
	first.Refresh(context.Background())
	want := first.Found()[fakeec2.S3ID]
	if want.Hostname == "" {
		t.Fatal("nothing discovered")
	}
	var saved stateFile
	if b, err := os.ReadFile(state); err != nil || json.Unmarshal(b, &saved) != nil || !want.Equal(ptr(saved.Endpoints[fakeec2.S3ID].Endpoint)) {
		t.Fatalf("state file after a good refresh: %v %+v", err, saved)
	}

	// A restart while EC2 throttles: the data comes from the file.
	api.Fail(http.StatusServiceUnavailable, "RequestLimitExceeded")
	errs := 0
	restarted := NewRefresher(cfg, Options{OnError: func(string) { errs++ }}, nil)
	restarted.now = func() time.Time { return time.Now().Add(time.Hour) }
	restarted.Refresh(context.Background())
	got, ok := restarted.Found()[fakeec2.S3ID]
	if !ok || !got.Equal(&want) || errs != 1 {
		t.Fatalf("restarted while throttled: found %v (errors %d), want the state file's data", restarted.Found(), errs)
	}
	if s := restarted.Sources(); len(s) != 1 || s[0].From != FromStateFile || s[0].Age < time.Hour {
		t.Fatalf("sources %+v: want the state file, an hour old", s)
	}
	if !restarted.FromStateFile()["s3-london"] {
		t.Error("s3dns_discovery_from_state_file would say 0")
	}
	if restarted.nextWait() > retryFirst {
		t.Errorf("after a throttled round the next try waits %v, want at most %v", restarted.nextWait(), retryFirst)
	}

	// EC2 answers again: its data replaces the file's, which is rewritten.
	api.Unfail()
	restarted.Refresh(context.Background())
	if s := restarted.Sources(); len(s) != 1 || s[0].From != FromEC2 || restarted.FromStateFile()["s3-london"] {
		t.Fatalf("sources %+v after EC2 answered", s)
	}
	if b, err := os.ReadFile(state); err != nil || json.Unmarshal(b, &saved) != nil ||
		time.Since(saved.Endpoints[fakeec2.S3ID].DiscoveredAt) > -30*time.Minute {
		t.Fatalf("state file not rewritten with the new time: %v %+v", err, saved)
	}
	if leftovers, _ := filepath.Glob(filepath.Join(dir, "*.tmp")); len(leftovers) != 0 {
		t.Errorf("temporary files left: %v", leftovers)
	}
}

// A damaged state file is said and ignored: discovery starts without it.
func TestDamagedStateFileIsIgnored(t *testing.T) {
	state := filepath.Join(t.TempDir(), "discovery.json")
	if err := os.WriteFile(state, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := discoveringConfig("http://127.0.0.1:1", model.Endpoint{Name: "s3-london", VPCEndpointID: fakeec2.S3ID, Region: "eu-west-2", Service: "s3"})
	cfg.Discovery.StateFile = state
	if r := NewRefresher(cfg, Options{}, nil); len(r.Found()) != 0 {
		t.Fatalf("found %v from a damaged file", r.Found())
	}
}

func ptr[T any](v T) *T { return &v }
