// Command mangen writes the s3dns man pages (s3dns.8 and one page per
// command, s3dns-serve.8 …) from the command tree itself, so that they
// cannot drift from --help, with FILES, ENVIRONMENT, SIGNALS and EXIT
// STATUS on s3dns.8; and s3dns.yaml.5 from README.md's configuration. The
// release script runs it (with the release's version stamped); it is not
// shipped.
//
//	go run ./internal/tools/mangen DIR
package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
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
	root.Long += rootSections
	header := &doc.GenManHeader{Title: "S3DNS", Section: "8", Source: "s3dns " + app.BuildVersion(), Manual: "System Manager's Manual"}
	if epoch, err := strconv.ParseInt(os.Getenv("SOURCE_DATE_EPOCH"), 10, 64); err == nil {
		date := time.Unix(epoch, 0).UTC() // reproducible builds
		header.Date = &date
	}
	if err := doc.GenManTree(root, header, dir); err != nil {
		return err
	}
	return writeConfigPage(filepath.Join(dir, "s3dns.yaml.5"), header)
}

// rootSections are s3dns.8's sections beyond the command tree's (markdown,
// as cobra hands the description to go-md2man).
const rootSections = `

# FILES
**/etc/s3dns/s3dns.yaml**
: the configuration (see **s3dns.yaml**(5)); without **--config**, **./s3dns.yaml** is tried first.

**/var/lib/s3dns/discovery.json**
: the last good discovery result (**discovery.state_file**), kept across restarts.

**/run/s3dns/**, **/var/log/s3dns/**
: the systemd unit's runtime and log directories (dnstap socket and file).

# ENVIRONMENT
**S3DNS_**_KEY_
: every configuration key, nested keys joined by "_" in upper case (**S3DNS_CACHE_MAX_ENTRIES**); beats the file, loses to flags.

**AWS_***
: the AWS SDK's standard settings for discovery (credentials, **AWS_REGION**, **AWS_ENDPOINT_URL_EC2**, **AWS_CA_BUNDLE**).

**GOMEMLIMIT**, **GOGC**
: the Go runtime's memory limit and collector pace (s3dns sets a limit from **cache.max_entries** unless **GOMEMLIMIT** is set).

# SIGNALS
**SIGHUP**
: reload the configuration (a bad file is logged and the running one stays).

**SIGTERM**, **SIGINT**
: /readyz turns 503, queries are answered for **shutdown.lameduck**, then the listeners close, queries in flight finish (at most 5 s) and s3dns exits 0.

# EXIT STATUS
**0**
: success; **serve** after a clean stop.

**1**
: a bad configuration, a failed command or a server that could not start.

**2**
: a usage error: an unknown command or flag, a missing or extra argument.
`

// writeConfigPage writes s3dns.yaml(5): every key with its default and
// meaning, as README.md's "Configuration" block gives them.
func writeConfigPage(path string, header *doc.GenManHeader) error {
	readme, err := os.ReadFile(filepath.Join(moduleRoot(), "README.md"))
	if err != nil {
		return fmt.Errorf("s3dns.yaml(5) is made from the repository's README.md: %w", err)
	}
	_, rest, ok := strings.Cut(string(readme), "## Configuration\n\n```yaml\n")
	block, _, found := strings.Cut(rest, "```")
	if !ok || !found {
		return fmt.Errorf("README.md has no configuration block")
	}
	date := time.Now().UTC()
	if header.Date != nil {
		date = *header.Date
	}
	var b strings.Builder
	fmt.Fprintf(&b, ".TH \"S3DNS.YAML\" \"5\" \"%s\" \"%s\" \"File Formats Manual\"\n", date.Format("Jan 2006"), header.Source)
	b.WriteString(".SH NAME\ns3dns.yaml \\- s3dns configuration file\n")
	b.WriteString(".SH SYNOPSIS\n/etc/s3dns/s3dns.yaml\n")
	b.WriteString(".SH DESCRIPTION\nYAML; every key may also be set by an S3DNS_ variable and by a flag (flags beat the environment, ")
	b.WriteString("which beats the file). Unknown keys are errors. Durations are Go durations (2s, 5m) or seconds. ")
	b.WriteString("The keys, with their defaults:\n.PP\n.nf\n")
	for _, line := range strings.Split(block, "\n") {
		b.WriteString(roff(line) + "\n")
	}
	b.WriteString(".fi\n.SH FILES\n/etc/s3dns/s3dns.yaml\n.SH SEE ALSO\n\\fBs3dns\\fP(8), \\fBs3dns-validate\\fP(8), README.md under /usr/share/doc/s3dns\n")
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

// moduleRoot is the nearest directory up from here holding go.mod (the
// repository root, wherever mangen runs from), else ".".
func moduleRoot() string {
	dir, err := os.Getwd()
	if err != nil {
		return "."
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "."
		}
		dir = parent
	}
}

// roff escapes a line of text for troff: backslashes, hyphens (which are
// minus signs in option names) and every character beyond ASCII, as groff's
// \[uXXXX].
func roff(line string) string {
	var b strings.Builder
	for _, r := range line {
		switch {
		case r == '\\':
			b.WriteString("\\e")
		case r == '-':
			b.WriteString("\\-")
		case r > 127:
			fmt.Fprintf(&b, "\\[u%04X]", r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
