package main

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/chatconsent/chatconsent/internal/textarchive"
)

// runText prints the exact archived document of a text version, from the
// site's archive or, failing that, from the collector's copy in DATA/texts,
// after checking that its SHA-256 is the version.
func runText(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("text", stderr)
	cfgPath := fs.String("config", "config.toml", "site configuration `file`")
	data := fs.String("data", "", "data `folder` (default: collector.data_dir from the config)")
	// Accept the version before or after the flags.
	var version string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		version, args = args[0], args[1:]
	}
	if err := parse(fs, args, 1); err != nil {
		return err
	}
	if version == "" {
		version = fs.Arg(0)
	} else if fs.NArg() > 0 {
		return usageError("text: unexpected argument %q", fs.Arg(0))
	}
	if version == "" {
		return usageError("text: want a VERSION (64 hex digits, as in the log's text_version)")
	}
	short := !textarchive.ValidVersion(version)
	if short && !shortVersionRe.MatchString(version) {
		return usageError("text: %q is not a text version (64 lower-case hex digits, or the first 6 or more of them as status and list print)", version)
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	if *data == "" {
		*data = cfg.Collector.DataDir
	}
	dirs := []string{cfg.Site.Archive, filepath.Join(*data, "texts")}
	if short {
		if version, err = textarchive.Expand(dirs, version); err != nil {
			return fmt.Errorf("text: %w", err)
		}
	}
	var corrupt error
	for _, dir := range dirs {
		b, err := textarchive.Text(dir, version)
		switch {
		case err == nil:
			if _, err := stdout.Write(b); err != nil {
				return err
			}
			fmt.Fprintf(stderr, "chatconsent: %s: SHA-256 matches the version\n", filepath.Join(dir, version+".html"))
			return nil
		case errors.Is(err, textarchive.ErrCorrupt):
			fmt.Fprintf(stderr, "chatconsent: warning: %s: %v\n", dir, err)
			corrupt = err
		case !errors.Is(err, textarchive.ErrUnknownVersion):
			return err
		}
	}
	if corrupt != nil {
		return corrupt
	}
	return &hintError{
		fmt.Errorf("text version %s is neither in %s nor in %s: %w", version, dirs[0], dirs[1], textarchive.ErrUnknownVersion),
		"the versions a build published are listed in " + filepath.Join(dirs[0], textarchive.ManifestFile),
	}
}

// shortVersionRe matches the start of a text version, as status and list
// print it.
var shortVersionRe = regexp.MustCompile(`^[0-9a-f]{6,63}$`)
