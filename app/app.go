// Package app implements the s3dns command line: each subcommand loads the
// configuration and wires the packages together. cmd/s3dns only calls Run.
package app

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/pflag"

	"github.com/s3dns/s3dns/config"
)

// IO is where a command reads its environment and writes its output.
type IO struct {
	Stdout, Stderr io.Writer
	// Ctx ends serve when cancelled, as SIGINT/SIGTERM do.
	Ctx context.Context
	// Reload makes serve reload its configuration, as SIGHUP does.
	Reload <-chan struct{}
}

const usage = `usage: s3dns [serve|validate|explain NAME [TYPE]|export|discover|status|healthcheck|version] [flags]

  serve      serve DNS on UDP and TCP (the default)
  validate   check the configuration and summarise what would be served
  explain    say which endpoint and rule answer NAME, and what would be answered
  export     print the on-prem side: --format bind|unbound|windows|rpz [--server IP[:PORT]] [--per-bucket]
  discover   print endpoints: YAML for the interface endpoints EC2 lists: [--region R] [--vpc-id V] [--profile P] [--endpoint-url URL]
  status     print the running server's endpoint health (GET /status) as a table: [--http ADDR]
  healthcheck  exit 0 if the running server's /readyz answers 200, else 1
  version    print version, commit and Go version

flags:
`

// maxArgs is how many arguments each command takes besides its flags.
var maxArgs = map[string]int{"serve": 0, "validate": 0, "explain": 2, "export": 0, "discover": 0, "healthcheck": 0, "status": 0, "version": 0, "help": 0}

// Run executes one command line and returns the process exit code.
func Run(args []string, io IO) int {
	cmd := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	fs := pflag.NewFlagSet("s3dns", pflag.ContinueOnError)
	fs.SetOutput(io.Stderr)
	config.RegisterFlags(fs)
	showVersion := fs.Bool("version", false, "print version, commit and Go version, as s3dns version does")
	if cmd == "status" {
		fs.String("http", "", "the running server's HTTP address (default: http_listen)")
	}
	if cmd == "export" {
		fs.String("format", "", "bind | unbound | windows | rpz")
		fs.String("server", "", "where on-prem resolvers reach s3dns: IP[:PORT] (default: the first listen address)")
		fs.Bool("per-bucket", false, "forward each exact bucket on its own (regions with globs stay whole)")
	}
	if cmd == "discover" {
		fs.String("region", "", "AWS region (default: aws.region, else the SDK's AWS_REGION / profile)")
		fs.String("vpc-id", "", "list only this VPC's endpoints")
		fs.String("profile", "", "AWS shared config profile (default: aws.profile, else AWS_PROFILE)")
		fs.String("endpoint-url", "", "EC2 API URL (default: aws.endpoint_url, else AWS's own)")
	}
	fs.Usage = func() {
		fmt.Fprint(io.Stderr, usage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if err == pflag.ErrHelp {
			return 0
		}
		// pflag says nothing itself under ContinueOnError: an unknown flag
		// or a missing value is never a silent exit.
		fmt.Fprintf(io.Stderr, "s3dns %s: %v\n", cmd, err)
		fs.Usage()
		return 2
	}
	if most, known := maxArgs[cmd]; known && fs.NArg() > most {
		fmt.Fprintf(io.Stderr, "s3dns %s: unexpected arguments %q\n", cmd, fs.Args()[most:])
		fs.Usage()
		return 2
	}
	if *showVersion {
		cmd = "version"
	}
	if io.Ctx == nil {
		io.Ctx = context.Background()
	}
	switch cmd {
	case "serve":
		return serve(fs, io)
	case "validate":
		return validate(fs, io)
	case "explain":
		return explain(fs, io)
	case "export":
		return export(fs, io)
	case "discover":
		return discover(fs, io)
	case "healthcheck":
		return healthcheck(fs, io)
	case "status":
		return status(fs, io)
	case "version":
		fmt.Fprintln(io.Stdout, VersionString())
		return 0
	case "help":
		fs.Usage()
		return 0
	}
	fmt.Fprintf(io.Stderr, "s3dns: unknown command %q\n", cmd)
	fs.Usage()
	return 2
}

// load reads the configuration and reports errors on stderr. The
// warnings are printed there too unless the caller logs them itself.
func load(fs *pflag.FlagSet, io IO) (*config.Config, bool) {
	cfg, warnings, ok := loadQuietly(fs, io)
	for _, w := range warnings {
		fmt.Fprintf(io.Stderr, "warning: %s\n", w)
	}
	return cfg, ok
}

func loadQuietly(fs *pflag.FlagSet, io IO) (*config.Config, []string, bool) {
	cfg, warnings, err := config.Load(config.Options{Flags: fs})
	if err != nil {
		for _, w := range warnings {
			fmt.Fprintf(io.Stderr, "warning: %s\n", w)
		}
		fmt.Fprintf(io.Stderr, "configuration errors:\n")
		for _, line := range config.Messages(err) {
			fmt.Fprintf(io.Stderr, "  %s\n", line)
		}
		return nil, nil, false
	}
	return cfg, warnings, true
}

// Main is cmd/s3dns's whole body.
func Main() {
	ctx, stop := signalContext()
	defer stop()
	os.Exit(Run(os.Args[1:], IO{Stdout: os.Stdout, Stderr: os.Stderr, Ctx: ctx, Reload: hangups()}))
}
