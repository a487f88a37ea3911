package app

import (
	"github.com/spf13/cobra"

	"github.com/s3dns/s3dns/config"
)

// completeValues teaches shell completion the values of the flags that
// take one of a few: formats and log settings, and the names of the sites
// the configuration (as --config or the default search finds it) defines.
func completeValues(root *cobra.Command) {
	fixed := func(values ...string) cobra.CompletionFunc {
		return cobra.FixedCompletions(values, cobra.ShellCompDirectiveNoFileComp)
	}
	_ = root.RegisterFlagCompletionFunc("log-level", fixed("debug", "info", "warn", "error"))
	_ = root.RegisterFlagCompletionFunc("log-format", fixed("text", "json"))
	for _, c := range root.Commands() {
		switch c.Name() {
		case "export":
			_ = c.RegisterFlagCompletionFunc("format", fixed("bind", "unbound", "windows", "rpz", "bucket-policy", "endpoint-policy"))
		case "audit":
			_ = c.RegisterFlagCompletionFunc("format", fixed("table", "json"))
		default:
			continue
		}
		_ = c.RegisterFlagCompletionFunc("site", func(cmd *cobra.Command, _ []string, _ string) ([]string, cobra.ShellCompDirective) {
			cfg, _, err := config.Load(config.Options{Flags: cmd.Flags()})
			if err != nil {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			var names []string
			for _, s := range cfg.Sites {
				names = append(names, s.Name)
			}
			return names, cobra.ShellCompDirectiveNoFileComp
		})
	}
}
