package main

import (
	"bytes"
	"context"
	"runtime/debug"
	"strings"
	"testing"
)

func TestVersionText(t *testing.T) {
	tests := []struct {
		name string
		info *debug.BuildInfo
		ok   bool
		want string
	}{
		{"go install of a tag", &debug.BuildInfo{
			GoVersion: "go1.26.0", Main: debug.Module{Path: "github.com/chatconsent/chatconsent", Version: "v1.2.3"},
		}, true, "chatconsent v1.2.3\nmodule   github.com/chatconsent/chatconsent\nrevision unknown (built without VCS information)\ngo       go1.26.0\n"},
		{"checkout with VCS stamping", &debug.BuildInfo{
			GoVersion: "go1.26.0", Main: debug.Module{Path: "github.com/chatconsent/chatconsent", Version: "(devel)"},
			Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "8b6e7cc0"}, {Key: "vcs.time", Value: "2026-11-29T22:00:00Z"}, {Key: "vcs.modified", Value: "true"}},
		}, true, "chatconsent (devel)\nmodule   github.com/chatconsent/chatconsent\nrevision 8b6e7cc0 (2026-11-29T22:00:00Z), with uncommitted changes\ngo       go1.26.0\n"},
		{"no build info", nil, false, "chatconsent: no build information in this binary\n"},
	}
	for _, tt := range tests {
		if got := versionText(tt.info, tt.ok); got != tt.want {
			t.Errorf("%s:\ngot  %q\nwant %q", tt.name, got, tt.want)
		}
	}
}

// TestVersionCommand runs "chatconsent version" in this test binary, built
// with whatever -buildvcs says: it must print a version line and not fail.
func TestVersionCommand(t *testing.T) {
	var out, errb bytes.Buffer
	if err := run(context.Background(), []string{"version"}, nil, &out, &errb); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "chatconsent ") || !strings.Contains(out.String(), "\ngo       go1.") {
		t.Errorf("version printed %q", out.String())
	}
	if err := run(context.Background(), []string{"version", "extra"}, nil, &out, &errb); err == nil {
		t.Error("version with an argument: no error")
	}
}

// "COMMAND -h" prints the command's flags and exits 0, like "help";
// an unknown flag exits 2 naming it.
func TestCommandHelp(t *testing.T) {
	for _, cmd := range []string{"verify", "build", "collect", "status", "invite"} {
		stdout, stderr, code := chatconsent(t, cmd, "-h")
		if code != 0 || !strings.Contains(stdout+stderr, "Usage of chatconsent "+cmd) || strings.Contains(stderr, "error") {
			t.Errorf("%s -h: exit %d\n%s%s", cmd, code, stdout, stderr)
		}
	}
	if _, stderr, code := chatconsent(t, "verify", "--bogus"); code != 2 || !strings.Contains(stderr, "flag provided but not defined: -bogus") {
		t.Errorf("unknown flag: exit %d: %s", code, stderr)
	}
}
