package app

import (
	"fmt"

	"github.com/spf13/pflag"
)

func validate(fs *pflag.FlagSet, io IO) int {
	cfg, ok := load(fs, io)
	if !ok {
		return 1
	}
	writeSummary(io.Stdout, cfg)
	fmt.Fprintln(io.Stdout, "configuration OK")
	return 0
}
