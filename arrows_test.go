package chatconsent

import (
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/chatconsent/chatconsent/"

// leaves are the shared leaf packages every room may import: they import
// nothing of ours (checked below) and hold no feature.
var leaves = []string{"internal/binform", "internal/durable", "internal/fields", "internal/httpsec"}

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

// TestNoHTMLFromStrings keeps issue 10's seam 7: HTML answers are built
// with html/template (themes.Message, themes.LinkList, the layouts), never
// by concatenating escaped strings. It fails on an escaping helper or a
// template.HTML conversion of a string literal in any non-test file.
func TestNoHTMLFromStrings(t *testing.T) {
	t.Parallel()
	var bad []string
	err := filepath.WalkDir(".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "node_modules" || d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) && p != "." {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for i, line := range strings.Split(string(b), "\n") {
			for _, s := range []string{"HTMLEscapeString(", "html.EscapeString(", "template.HTML(\"", "template.HTML(`"} {
				if strings.Contains(line, s) {
					bad = append(bad, fmt.Sprintf("%s:%d: %s", p, i+1, strings.TrimSpace(line)))
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range bad {
		t.Errorf("HTML built from strings (use html/template): %s", b)
	}
}
