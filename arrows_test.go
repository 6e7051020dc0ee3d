package chatconsent

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/chatconsent/chatconsent/"

// leaves are the shared leaf packages every room may import: they import
// nothing of ours (checked below) and hold no feature.
var leaves = []string{"internal/durable"}

// TestArrows keeps the import rules of README's architecture section:
// arrows point down only. The log and receipt rooms import nothing of ours
// but shared leaf types; doctor never imports the HTTP collector; the
// generator never imports the collector; leaves import no room.
func TestArrows(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command")
	}
	for _, tc := range []struct {
		pkgs    []string
		allowed []string // nil: nothing of ours but pkgs and leaves; {"*"}: anything not refused
		refused []string // of ours that must never occur
	}{
		{pkgs: []string{"collector/ledger", "collector/receipt"}},
		{pkgs: leaves},
		{pkgs: []string{"internal/config"}},
		{pkgs: []string{"internal/textarchive"}},
		{pkgs: []string{"collector/translog"}},
		{pkgs: []string{"internal/doctor"}, allowed: []string{"*"}, refused: []string{"collector", "generator"}},
		{pkgs: []string{"generator"}, allowed: []string{"*"}, refused: []string{"collector"}},
	} {
		deps := goListDeps(t, tc.pkgs...)
		for _, d := range deps {
			if slices.Contains(tc.pkgs, d) || slices.Contains(leaves, d) {
				continue
			}
			if slices.Contains(tc.refused, d) {
				t.Errorf("%s imports %s", strings.Join(tc.pkgs, ", "), d)
				continue
			}
			if tc.allowed == nil {
				t.Errorf("%s imports %s (only leaves %v are allowed)", strings.Join(tc.pkgs, ", "), d, leaves)
			}
		}
	}
}

// goListDeps returns the packages of this module that pkgs depend on
// (themselves included), relative to the module path.
func goListDeps(t *testing.T, pkgs ...string) []string {
	t.Helper()
	args := []string{"list", "-deps"}
	for _, p := range pkgs {
		args = append(args, "./"+p)
	}
	out, err := exec.Command("go", args...).Output()
	if err != nil {
		t.Fatalf("go %s: %v", strings.Join(args, " "), err)
	}
	var ours []string
	for _, l := range strings.Split(string(out), "\n") {
		if p, ok := strings.CutPrefix(l, module); ok {
			ours = append(ours, p)
		}
	}
	if len(ours) == 0 {
		t.Fatalf("go %s names none of our packages", strings.Join(args, " "))
	}
	return ours
}
