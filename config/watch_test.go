package config

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// waitChange waits for one change notification, failing after a generous bound.
func waitChange(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(5 * time.Second):
		t.Fatalf("%s: no change seen", what)
	}
}

func startWatch(t *testing.T, file string) <-chan struct{} {
	t.Helper()
	return startWatchSince(t, file, nil)
}

func startWatchSince(t *testing.T, file string, since []byte) <-chan struct{} {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	ch := make(chan struct{}, 10)
	done, err := Watch(ctx, file, since, func() { ch <- struct{}{} })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Error("the watcher did not stop when its context ended")
		}
	})
	return ch
}

func TestWatchWriteAndRename(t *testing.T) {
	t.Parallel() // waits on timeouts: overlapped with the other waiting tests
	dir := t.TempDir()
	file := filepath.Join(dir, "s3dns.yaml")
	os.WriteFile(file, []byte("log: {level: info}\n"), 0o600)
	ch := startWatch(t, file)

	os.WriteFile(file, []byte("log: {level: debug}\n"), 0o600)
	waitChange(t, ch, "write in place")

	// Editors such as vim write a new file and rename it over the old one.
	tmp := filepath.Join(dir, ".s3dns.yaml.swp")
	os.WriteFile(tmp, []byte("log: {level: warn}\n"), 0o600)
	if err := os.Rename(tmp, file); err != nil {
		t.Fatal(err)
	}
	waitChange(t, ch, "rename over")

	// Touching without changing the content is not a change.
	now := time.Now().Add(time.Minute)
	os.Chtimes(file, now, now)
	select {
	case <-ch:
		t.Fatal("change reported for an unchanged file")
	case <-time.After(3 * watchDebounce):
	}
}

func TestWatchConfigMapSymlinkSwap(t *testing.T) {
	t.Parallel() // waits on timeouts: overlapped with the other waiting tests
	// The layout kubelet makes: file -> ..data/file, ..data -> ..<timestamp>.
	dir := t.TempDir()
	mk := func(name, content string) {
		os.MkdirAll(filepath.Join(dir, name), 0o700)
		os.WriteFile(filepath.Join(dir, name, "s3dns.yaml"), []byte(content), 0o600)
	}
	mk("..2026_01", "log: {level: info}\n")
	if err := os.Symlink("..2026_01", filepath.Join(dir, "..data")); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "s3dns.yaml")
	os.Symlink(filepath.Join("..data", "s3dns.yaml"), file)
	ch := startWatch(t, file)

	mk("..2026_02", "log: {level: debug}\n")
	os.Symlink("..2026_02", filepath.Join(dir, "..data_tmp"))
	if err := os.Rename(filepath.Join(dir, "..data_tmp"), filepath.Join(dir, "..data")); err != nil {
		t.Fatal(err)
	}
	os.RemoveAll(filepath.Join(dir, "..2026_01"))
	waitChange(t, ch, "symlink swap")
}

// A configuration file that is a symlink into another directory is watched
// there too: edits of the real file are seen.
func TestWatchSymlinkToAnotherDirectory(t *testing.T) {
	t.Parallel() // waits on timeouts: overlapped with the other waiting tests
	realDir, linkDir := t.TempDir(), t.TempDir()
	real := filepath.Join(realDir, "s3dns.yaml")
	os.WriteFile(real, []byte("log: {level: info}\n"), 0o600)
	link := filepath.Join(linkDir, "s3dns.yaml")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	ch := startWatch(t, link)
	os.WriteFile(real, []byte("log: {level: debug}\n"), 0o600)
	waitChange(t, ch, "write to the symlink's target")
}

// A change made after the configuration was read but before the watch
// began (a write just after start-up) is seen: the watch compares with the
// content as it was read, not as it finds it.
func TestWatchSeesAChangeBeforeItStarted(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "s3dns.yaml")
	os.WriteFile(file, []byte("log: {level: info}\n"), 0o600)
	cfg, _, err := Load(Options{File: file})
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(file, []byte("log: {level: debug}\n"), 0o600) // before the watch
	waitChange(t, startWatchSince(t, file, cfg.FileDigest), "a change before the watch began")
}
