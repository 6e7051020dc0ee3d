package main

import (
	"fmt"
	"io"
	"runtime/debug"
	"slices"
	"strings"
)

// version is the release version stamped by scripts/release.sh
// (-ldflags "-X main.version=v1.2.3"); empty in other builds, which take
// the module version from the build information.
var version string

// revision is the commit scripts/release.sh built from
// (-X main.revision=…), for builds without VCS information.
var revision string

func runVersion(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("version", stderr)
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	info, ok := debug.ReadBuildInfo()
	if ok && version != "" {
		info.Main.Version = version
	}
	if ok && revision != "" && !slices.ContainsFunc(info.Settings, func(s debug.BuildSetting) bool { return s.Key == "vcs.revision" }) {
		info.Settings = append(info.Settings, debug.BuildSetting{Key: "vcs.revision", Value: revision})
	}
	fmt.Fprint(stdout, versionText(info, ok))
	return nil
}

// versionText describes the build: the module version ("v1.2.3" from go
// install …@v1.2.3, "(devel)" from a checkout), the VCS revision and time
// when the build recorded them (not with -buildvcs=false), and the Go
// version.
func versionText(info *debug.BuildInfo, ok bool) string {
	if !ok || info == nil {
		return "chatconsent: no build information in this binary\n"
	}
	version := info.Main.Version
	if version == "" {
		version = "(devel)"
	}
	settings := map[string]string{}
	for _, s := range info.Settings {
		settings[s.Key] = s.Value
	}
	var b strings.Builder
	fmt.Fprintf(&b, "chatconsent %s\n", version)
	if info.Main.Path != "" {
		fmt.Fprintf(&b, "module   %s\n", info.Main.Path)
	}
	if rev := settings["vcs.revision"]; rev != "" {
		line := rev
		if t := settings["vcs.time"]; t != "" {
			line += " (" + t + ")"
		}
		if settings["vcs.modified"] == "true" {
			line += ", with uncommitted changes"
		}
		fmt.Fprintf(&b, "revision %s\n", line)
	} else {
		fmt.Fprintf(&b, "revision unknown (built without VCS information)\n")
	}
	fmt.Fprintf(&b, "go       %s\n", info.GoVersion)
	return b.String()
}
