package main

import (
	"runtime/debug"
	"testing"
)

func TestVersionText(t *testing.T) {
	t.Parallel()
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
