package app

import (
	"fmt"

	"github.com/spf13/pflag"
)

func validate(fs *pflag.FlagSet, io IO) int {
	if fs.NArg() > 0 {
		fmt.Fprintf(io.Stderr, "s3dns validate: unexpected arguments %v\n", fs.Args())
		return 2
	}
	cfg, ok := load(fs, io)
	if !ok {
		return 1
	}
	writeSummary(io.Stdout, cfg)
	fmt.Fprintln(io.Stdout, "configuration OK")
	return 0
}
