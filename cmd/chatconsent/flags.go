package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/chatconsent/chatconsent/internal/config"
)

// newFlags returns a flag set that reports errors instead of exiting.
func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("chatconsent "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// parse parses args and refuses stray positional arguments beyond max
// (max < 0: any number).
func parse(fs *flag.FlagSet, args []string, max int) error {
	if err := fs.Parse(args); err != nil {
		return usageError("%s: %v", fs.Name(), err)
	}
	if max >= 0 && fs.NArg() > max {
		return usageError("%s: unexpected argument %q", fs.Name(), fs.Arg(max))
	}
	return nil
}

func loadConfig(path string) (*config.Config, error) {
	cfg, err := config.Load(path)
	if err != nil {
		return nil, fmt.Errorf("%w", err)
	}
	return cfg, nil
}
