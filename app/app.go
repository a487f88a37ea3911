// Package app implements the s3dns command line: flags, help, completion,
// and each subcommand (serve hands a loaded configuration to package
// daemon). cmd/s3dns only calls Main.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/miekg/dns"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/s3dns/s3dns/config"
	"github.com/s3dns/s3dns/model"
)

// IO is where a command reads its environment and writes its output.
type IO struct {
	Stdout, Stderr io.Writer
	// Ctx ends serve when cancelled, as SIGINT/SIGTERM do.
	Ctx context.Context
	// Reload makes serve reload its configuration, as SIGHUP does.
	Reload <-chan struct{}
}

// usageError is a command line s3dns cannot run: exit 2, with the usage.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// Run executes one command line and returns the process exit code.
func Run(args []string, io IO) int {
	if io.Ctx == nil {
		io.Ctx = context.Background()
	}
	code := 0
	root := Command(io, &code)
	root.SetArgs(joinBoolValues(root, args))
	cmd, err := root.ExecuteContextC(io.Ctx)
	if err == nil {
		return code
	}
	// Cobra's own errors (unknown command, flag or value) are usage errors too.
	var usage usageError
	if !errors.As(err, &usage) && !strings.HasPrefix(err.Error(), "unknown command") && !isFlagError(err) {
		fmt.Fprintf(io.Stderr, "s3dns: %v\n", err)
		return 1
	}
	// The cause, the command's one usage line and where the rest is: a page
	// of help would bury the one line that says what is wrong.
	fmt.Fprintf(io.Stderr, "%s: %v\nusage: %s\nRun '%s --help' for the commands and flags.\n",
		cmd.CommandPath(), err, cmd.UseLine(), cmd.CommandPath())
	return 2
}

func isFlagError(err error) bool {
	var flagErr flagError
	return errors.As(err, &flagErr)
}

// flagError wraps what pflag says about a flag (unknown, missing value).
type flagError struct{ error }

// Command is the whole command tree; each command's exit code goes to
// *code. The man page and completion generators walk the same tree.
func Command(io IO, code *int) *cobra.Command {
	runs := func(f func(fs *pflag.FlagSet, io IO) int) func(*cobra.Command, []string) error {
		return func(cmd *cobra.Command, _ []string) error {
			*code = f(cmd.Flags(), io)
			return nil
		}
	}
	root := &cobra.Command{
		Use:   "s3dns",
		Short: "DNS server for hybrid access to Amazon S3 and other services over AWS PrivateLink",
		Long: `s3dns answers the names of the buckets (and other services) an operator lists with an
interface VPC endpoint, and resolves everything else through its upstreams. Without a
command it serves.`,
		SilenceErrors: true,
		SilenceUsage:  true,
		Args:          noArgsOrCommand,
		RunE: func(cmd *cobra.Command, args []string) error {
			if v, _ := cmd.Flags().GetBool("version"); v {
				fmt.Fprintln(io.Stdout, VersionString())
				return nil
			}
			return runs(serve)(cmd, args)
		},
	}
	root.SetOut(io.Stdout)
	root.SetErr(io.Stderr)
	root.SetUsageFunc(func(c *cobra.Command) error {
		_, err := fmt.Fprint(c.OutOrStderr(), usageText(c))
		return err
	})
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return flagError{err} })
	config.RegisterFlags(root.PersistentFlags())
	root.Flags().Bool("version", false, "print version, commit, build date and Go version, as s3dns version does")

	serveCmd := &cobra.Command{Use: "serve", Short: "serve DNS on UDP and TCP, plus HTTP for metrics and health (the default)",
		Args: maxArgs(0), RunE: runs(serve)}
	validateCmd := &cobra.Command{Use: "validate", Short: "check the configuration and summarise what would be served",
		Args: maxArgs(0), RunE: runs(validate)}
	explainCmd := &cobra.Command{Use: "explain NAME [TYPE]", Short: "say which endpoint and rule answer NAME, and what would be answered",
		Args: nameAndType, RunE: runs(explain)}
	explainCmd.Flags().String("client", "", "the client's IP address: its site's policy decides")
	exportCmd := &cobra.Command{Use: "export", Short: "print the on-prem resolvers' side: BIND, Unbound, Windows DNS or RPZ",
		Args: maxArgs(0), RunE: runs(export)}
	exportCmd.Flags().String("format", "", "bind | unbound | windows | rpz | bucket-policy | endpoint-policy")
	exportCmd.Flags().String("bucket", "", "with --format bucket-policy: the listed bucket to lock to the endpoints DNS answers it with")
	exportCmd.Flags().StringArray("allow-principal", nil, "with --format bucket-policy: an ARN (role, user) the lock leaves out, repeated for several")
	exportCmd.Flags().String("endpoint", "", "with --format endpoint-policy: the endpoint whose listed buckets the policy allows (default: every S3 endpoint)")
	exportCmd.Flags().StringArray("server", nil, "where on-prem resolvers reach s3dns: IP[:PORT], repeated or comma-separated for several instances (default: the first listen address)")
	exportCmd.Flags().Bool("per-bucket", false, "forward each exact bucket on its own (regions with globs stay whole)")
	exportCmd.Flags().String("tls-name", "", "forward over DNS over TLS, verifying s3dns's certificate for this name (port 853 unless --server gives one)")
	exportCmd.Flags().String("tls-ca", "", "with --tls-name: the PEM roots the resolver verifies s3dns's certificate against (Unbound's tls-cert-bundle)")
	exportCmd.Flags().String("site", "", "only what this site's resolvers forward (a BIND view per site); public: nothing")
	discoverCmd := &cobra.Command{Use: "discover", Short: "print endpoints: YAML for the interface endpoints EC2 lists",
		Args: maxArgs(0), RunE: runs(discover)}
	discoverCmd.Flags().String("region", "", "AWS region (default: aws.region, else the SDK's AWS_REGION / profile)")
	discoverCmd.Flags().String("vpc-id", "", "list only this VPC's endpoints")
	discoverCmd.Flags().String("profile", "", "AWS shared config profile (default: aws.profile, else AWS_PROFILE)")
	discoverCmd.Flags().String("endpoint-url", "", "EC2 API URL (default: aws.endpoint_url, else AWS's own)")
	auditCommand := &cobra.Command{Use: "audit", Short: "check that the bucket, access point and endpoint policies agree with the DNS split",
		Args: maxArgs(0), RunE: runs(auditCmd)}
	auditCommand.Flags().Bool("all-buckets", false, "judge every bucket of the account (ListBuckets), listed or not")
	auditCommand.Flags().String("site", "", "judge only this site's routes")
	auditCommand.Flags().String("format", "table", "table | json")
	statusCmd := &cobra.Command{Use: "status", Short: "print the running server's endpoint health (GET /status) as a table",
		Args: maxArgs(0), RunE: runs(status)}
	healthCmd := &cobra.Command{Use: "healthcheck", Short: "exit 0 if the running server's /readyz answers 200, else 1",
		Args: maxArgs(0), RunE: runs(healthcheck)}
	cacheCmd := &cobra.Command{Use: "cache", Short: "the running server's cache: flush it, or list what it holds (HTTP admin paths)",
		Args: noArgsOrCommand, SuggestionsMinimumDistance: 2,
		RunE: func(*cobra.Command, []string) error { return usageError{"a command is needed: flush or dump"} }}
	flushCmd := &cobra.Command{Use: "flush [NAME]", Short: "drop the running server's answers for NAME (every type), or all of them",
		Args: maxArgs(1), RunE: runs(cacheFlush)}
	dumpCmd := &cobra.Command{Use: "dump", Short: "list the running server's answers: name, type, TTL left, rcode, site",
		Args: maxArgs(0), RunE: runs(cacheDump)}
	cacheCmd.AddCommand(flushCmd, dumpCmd)
	reloadCmd := &cobra.Command{Use: "reload", Short: "make the running server read its configuration again (as SIGHUP does)",
		Args: maxArgs(0), RunE: runs(reloadServer)}
	for _, c := range []*cobra.Command{statusCmd, healthCmd, flushCmd, dumpCmd, reloadCmd} {
		c.Flags().String("http", "", "the running server's HTTP address (default: http_listen)")
	}
	versionCmd := &cobra.Command{Use: "version", Short: "print version, commit, build date and Go version",
		Args: maxArgs(0), RunE: func(*cobra.Command, []string) error {
			fmt.Fprintln(io.Stdout, VersionString())
			return nil
		}}
	root.AddCommand(serveCmd, validateCmd, explainCmd, exportCmd, auditCommand, discoverCmd, statusCmd, healthCmd, cacheCmd, reloadCmd, versionCmd)
	root.SuggestionsMinimumDistance = 2
	strictCompletion(root)
	strictHelp(root, io)
	completeValues(root)
	return root
}

// strictHelp makes `help UNKNOWN` a usage error (exit 2) with a
// suggestion, where cobra would print the root's help and exit 0.
func strictHelp(root *cobra.Command, io IO) {
	root.SetHelpCommand(&cobra.Command{Use: "help [COMMAND]", Short: "help about a command",
		RunE: func(_ *cobra.Command, args []string) error {
			cmd, rest, err := root.Find(args)
			if err != nil || len(rest) > 0 {
				typed := strings.Join(args, " ")
				return usageError{fmt.Sprintf("no help for %q: no such command%s", typed, didYouMean(root, typed))}
			}
			cmd.SetOut(io.Stdout)
			return cmd.Help()
		}})
}

// joinBoolValues lets a boolean flag take its value as the next word too
// (--log-queries true), as it always has, now that the flag alone means
// true (--log-queries) and --flag=false works as with any Go program.
func joinBoolValues(root *cobra.Command, args []string) []string {
	bools := map[string]bool{}
	mark := func(fs *pflag.FlagSet) {
		fs.VisitAll(func(f *pflag.Flag) {
			if f.NoOptDefVal == "true" {
				bools["--"+f.Name] = true
			}
		})
	}
	mark(root.PersistentFlags())
	mark(root.Flags())
	for _, c := range root.Commands() {
		mark(c.Flags())
	}
	out := make([]string, 0, len(args))
	for i := 0; i < len(args); i++ {
		if bools[args[i]] && i+1 < len(args) && (strings.EqualFold(args[i+1], "true") || strings.EqualFold(args[i+1], "false")) {
			out = append(out, args[i]+"="+strings.ToLower(args[i+1]))
			i++
			continue
		}
		out = append(out, args[i])
	}
	return out
}

// strictCompletion makes cobra's completion command refuse what it would
// otherwise answer with its help and exit 0: no shell, or an unknown one.
func strictCompletion(root *cobra.Command) {
	root.InitDefaultCompletionCmd()
	for _, c := range root.Commands() {
		if c.Name() != "completion" {
			continue
		}
		c.Args = func(_ *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageError{fmt.Sprintf("unknown shell %q: bash, zsh, fish or powershell", args[0])}
			}
			return nil
		}
		c.RunE = func(*cobra.Command, []string) error {
			return usageError{"a shell is needed: bash, zsh, fish or powershell"}
		}
	}
}

// noArgsOrCommand lets the root take no arguments: a word that is not a
// command is an unknown command.
func noArgsOrCommand(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageError{fmt.Sprintf("unknown command %q%s", args[0], didYouMean(cmd, args[0]))}
	}
	return nil
}

// didYouMean names the commands close to a mistyped one, as git does.
func didYouMean(root *cobra.Command, typed string) string {
	if s := root.SuggestionsFor(typed); len(s) > 0 {
		return fmt.Sprintf(" (did you mean %q?)", strings.Join(s, `" or "`))
	}
	return ""
}

// nameAndType are explain's arguments: a NAME, and a TYPE or not.
func nameAndType(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return usageError{"a NAME is needed"}
	}
	if why := nameProblem(dns.Fqdn(args[0])); why != "" {
		return usageError{fmt.Sprintf("%q is not a DNS name a client could ask: %s", args[0], why)}
	}
	return maxArgs(2)(cmd, args)
}

// maxArgs is cobra.MaximumNArgs saying which arguments are too many.
func maxArgs(n int) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		if len(args) > n {
			return usageError{fmt.Sprintf("unexpected arguments %q", args[n:])}
		}
		return nil
	}
}

// usageText is a command's usage. It is Go, not a cobra template: a
// template would bring in text/template, whose reflection keeps every
// method of every type in the binary (the EC2 SDK's: 45 MB).
func usageText(c *cobra.Command) string {
	var b strings.Builder
	fmt.Fprintf(&b, "usage: %s\n", c.UseLine())
	if c.HasAvailableSubCommands() {
		fmt.Fprintf(&b, "       %s COMMAND [flags]\n\ncommands:\n", c.CommandPath())
		for _, sub := range c.Commands() {
			if sub.IsAvailableCommand() || sub.Name() == "help" {
				fmt.Fprintf(&b, "  %-*s %s\n", c.NamePadding(), sub.Name(), sub.Short)
			}
		}
	}
	if c.HasAvailableLocalFlags() {
		fmt.Fprintf(&b, "\nflags:\n%s", c.LocalFlags().FlagUsages())
	}
	if c.HasAvailableInheritedFlags() {
		fmt.Fprintf(&b, "\nconfiguration flags (each sets the key in brackets; see README \"Configuration\"):\n%s", c.InheritedFlags().FlagUsages())
	}
	return b.String()
}

// load reads the configuration and reports errors on stderr. The
// warnings are printed there too unless the caller logs them itself.
func load(fs *pflag.FlagSet, io IO) (*model.Config, bool) {
	cfg, warnings, ok := loadQuietly(fs, io)
	for _, w := range warnings {
		fmt.Fprintf(io.Stderr, "warning: %s\n", w)
	}
	return cfg, ok
}

func loadQuietly(fs *pflag.FlagSet, io IO) (*model.Config, []string, bool) {
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
