package config

import (
	"bytes"
	"context"
	"crypto/sha256"
	"os"
	"path/filepath"
	"time"

	"github.com/fsnotify/fsnotify"
)

// watchDebounce lets an editor or a ConfigMap update finish its writes,
// renames and symlink swaps before the file is read.
const watchDebounce = 150 * time.Millisecond

// Watch calls onChange when the content of file changes, until ctx ends;
// done is closed once it has stopped. It watches the file's directory (and
// its symlink target's), so that editors that write a new file and rename
// it, and Kubernetes ConfigMap updates (which swap a symlink), are seen
// like writes in place. Events that leave the content as it was are ignored.
// since is the digest of the content already acted on (Config.FileDigest):
// a change made between that read and the watch's start is not missed; nil
// takes the content as it is now.
func Watch(ctx context.Context, file string, since []byte, onChange func()) (done <-chan struct{}, err error) {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, err
	}
	dirs := map[string]bool{filepath.Dir(file): true}
	if real, err := filepath.EvalSymlinks(file); err == nil {
		dirs[filepath.Dir(real)] = true
	}
	for d := range dirs {
		if err := w.Add(d); err != nil {
			w.Close()
			return nil, err
		}
	}
	last := since
	if last == nil {
		last = digest(file)
	}
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		defer w.Close()
		var fire <-chan time.Time
		if !bytes.Equal(digest(file), last) {
			// Changed since it was read, before the watch began.
			fire = time.After(0)
		}
		for {
			select {
			case <-ctx.Done():
				return
			case _, ok := <-w.Events:
				if !ok {
					return
				}
				fire = time.After(watchDebounce)
			case <-w.Errors:
			case <-fire:
				fire = nil
				if now := digest(file); now != nil && !bytes.Equal(now, last) {
					last = now
					onChange()
				}
			}
		}
	}()
	return stopped, nil
}

// digest hashes the file's content through any symlinks; nil when unreadable.
func digest(file string) []byte {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil
	}
	return contentDigest(data)
}

// contentDigest is what Watch compares contents by.
func contentDigest(data []byte) []byte {
	sum := sha256.Sum256(data)
	return sum[:]
}
