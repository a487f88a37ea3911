package app

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// Set at build time: -ldflags "-X github.com/s3dns/s3dns/app.Version=v1.2.3 -X github.com/s3dns/s3dns/app.Commit=abc123".
var (
	Version = ""
	Commit  = ""
	Date    = "" // build date, -X github.com/s3dns/s3dns/app.Date=2026-12-04T00:00:00Z
)

// BuildDate is the date stamped at build time, else the commit time Go recorded.
func BuildDate() string {
	if Date != "" {
		return Date
	}
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			if s.Key == "vcs.time" {
				return s.Value
			}
		}
	}
	return "unknown"
}

// BuildVersion is the version stamped at build time, else the module's.
func BuildVersion() string {
	if Version != "" {
		return Version
	}
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" {
		return info.Main.Version
	}
	return "(devel)"
}

// BuildCommit is the commit stamped at build time, else the VCS revision Go recorded.
func BuildCommit() string {
	if Commit != "" {
		return Commit
	}
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" {
				return s.Value
			}
		}
	}
	return "unknown"
}

// VersionString is what `s3dns version` prints.
func VersionString() string {
	return fmt.Sprintf("s3dns %s (commit %s, built %s, %s, %s/%s)", BuildVersion(), BuildCommit(), BuildDate(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
}
