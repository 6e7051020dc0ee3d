package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strings"

	"github.com/BurntSushi/toml"
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
		return nil, configHint(path, err)
	}
	return cfg, nil
}

// configHint adds what to do to the config errors owners meet first: no
// config.toml where the command looks, and a text value without quotes.
func configHint(path string, err error) error {
	// config.Load keeps the TOML parser's message, not its error type.
	var perr toml.ParseError
	switch {
	case errors.Is(err, os.ErrNotExist):
		return &hintError{err, fmt.Sprintf("run chatconsent in the site's folder (the one with config.toml), or give the file with --config FILE; chatconsent init DIR makes a new site (looked for %s)", path)}
	case (errors.As(err, &perr) && strings.Contains(perr.Message, "expected value but found")) || strings.Contains(err.Error(), "expected value but found"):
		return &hintError{err, `a text value needs double quotes, e.g. title = "Fahrradladen Beispiel" (numbers, true/false and [lists] do not)`}
	}
	return err
}

// listenAddr reads an --addr value: HOST:PORT, or only a PORT (8080),
// which means 127.0.0.1:PORT.
func listenAddr(flag, a string) (string, error) {
	if a != "" && strings.Trim(a, "0123456789") == "" {
		return "127.0.0.1:" + a, nil
	}
	if _, port, err := net.SplitHostPort(a); err != nil || port == "" {
		return "", usageError("%s %q: want HOST:PORT (127.0.0.1:8080) or a port (8080)", flag, a)
	}
	return a, nil
}

// browserAddr is addr as a browser on this computer reaches it: an
// address that listens on every interface is shown as 127.0.0.1.
func browserAddr(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	switch host {
	case "", "0.0.0.0":
		host = "127.0.0.1"
	case "::":
		host = "::1"
	}
	return net.JoinHostPort(host, port)
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
