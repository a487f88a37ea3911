package daemon

import (
	"log/slog"
	"runtime/debug"
	"testing"

	"github.com/s3dns/s3dns/model"
)

func TestMemoryLimitFollowsCacheSize(t *testing.T) {
	before := debug.SetMemoryLimit(-1)
	defer debug.SetMemoryLimit(before)
	t.Setenv("GOMEMLIMIT", "")
	log := slog.New(slog.DiscardHandler)
	setMemoryLimit(&model.Config{Cache: model.Cache{MaxEntries: 1_000_000}}, log)
	if got, want := debug.SetMemoryLimit(-1), int64(memoryBase+200_000_000); got != want {
		t.Fatalf("limit %d, want %d", got, want)
	}
	t.Setenv("GOMEMLIMIT", "1GiB")
	setMemoryLimit(&model.Config{Cache: model.Cache{MaxEntries: 10}}, log)
	if got := debug.SetMemoryLimit(-1); got != int64(memoryBase+200_000_000) {
		t.Fatalf("an operator's GOMEMLIMIT was overridden: %d", got)
	}
}
