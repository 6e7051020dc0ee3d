package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/chatconsent/chatconsent/internal/config"
)

// newFlags returns a flag set that reports errors instead of exiting.
func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("chatconsent "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// parse parses args, flags before, between or after the positional
// arguments (`status NUMBER --data DIR` as well as `status --data DIR
// NUMBER`), and refuses positional arguments beyond max (max < 0: any
// number). Afterwards fs.Args holds the positional arguments.
func parse(fs *flag.FlagSet, args []string, max int) error {
	name := strings.TrimPrefix(fs.Name(), "chatconsent ")
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return err // the flag set printed the usage; main exits 0
			}
			return usageError("%s: %v", name, err)
		}
		if fs.NArg() == 0 {
			break
		}
		rest := fs.Args()
		if len(args) > len(rest) && args[len(args)-len(rest)-1] == "--" {
			pos = append(pos, rest...) // everything after "--" is positional
			break
		}
		pos, args = append(pos, rest[0]), rest[1:]
	}
	fs.Parse(append([]string{"--"}, pos...))
	if max >= 0 && fs.NArg() > max {
		return usageError("%s: unexpected argument %q", name, fs.Arg(max))
	}
	return nil
}

// dataFlag defines --data on fs, the data folder every command that reads
// or writes it takes; "" means collector.data_dir (see config.Paths).
func dataFlag(fs *flag.FlagSet) *string {
	return fs.String("data", "", "data `folder` (default: collector.data_dir from the config)")
}

func loadConfig(path string) (*config.Config, error) {
	cfg, err := config.Load(path)
	if err != nil {
		return nil, fmt.Errorf("%w", err)
	}
	return cfg, nil
}

// count returns "1 record" or "n records" for n and the singular noun
// (plural with "s", or the given plural).
func count(n uint64, one string, many ...string) string {
	if n == 1 {
		return "1 " + one
	}
	if len(many) > 0 {
		return fmt.Sprintf("%d %s", n, many[0])
	}
	return fmt.Sprintf("%d %ss", n, one)
}
