// Command mangen writes the s3dns man pages (s3dns.8 and one page per
// command, s3dns-serve.8 …) from the command tree itself, so that they
// cannot drift from --help. The release script runs it; it is not shipped.
//
//	go run ./internal/tools/mangen DIR
package main

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/spf13/cobra/doc"

	"github.com/s3dns/s3dns/app"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: mangen DIR")
		os.Exit(2)
	}
	if err := write(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "mangen:", err)
		os.Exit(1)
	}
}

func write(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var code int
	root := app.Command(app.IO{Stdout: io.Discard, Stderr: io.Discard}, &code)
	root.DisableAutoGenTag = true // the same tree gives the same pages
	header := &doc.GenManHeader{Title: "S3DNS", Section: "8", Source: "s3dns " + app.BuildVersion(), Manual: "System Manager's Manual"}
	if epoch, err := strconv.ParseInt(os.Getenv("SOURCE_DATE_EPOCH"), 10, 64); err == nil {
		date := time.Unix(epoch, 0).UTC() // reproducible builds
		header.Date = &date
	}
	return doc.GenManTree(root, header, dir)
}
