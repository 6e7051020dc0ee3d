package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestNumbersAsTyped: invite --phone and the commands taking a NUMBER read
// a number by the form's rule: country code without + (as WhatsApp shows
// numbers) is not doubled, an ambiguous number is refused with the ways to
// write it, letters are refused.
func TestNumbersAsTyped(t *testing.T) {
	t.Parallel()
	dir := site(t)
	cfg := filepath.Join(dir, "config.toml")
	data := filepath.Join(dir, "data")
	runOK(t, "keygen", "--config", cfg, "--data", data)
	runOK(t, "keygen", "--invite", "--config", cfg, "--data", data)
	for _, tt := range []struct{ in, e164 string }{
		{"4915112345678", "+4915112345678"},
		{"49 170 1234567", "+491701234567"},
		{"0170 1234567", "+491701234567"},
		{"+1 212 555 0100", "+12125550100"},
	} {
		out := runOK(t, "invite", "--config", cfg, "--data", data, "--phone", tt.in)
		if !strings.Contains(out, " for "+tt.e164+",") || !strings.Contains(out, "https://wa.me/"+tt.e164[1:]+"?") {
			t.Errorf("invite --phone %q:\n%s", tt.in, out)
		}
		for _, cmd := range []string{"status", "export"} {
			if _, stderr, code := chatconsent(t, cmd, "--config", cfg, "--data", data, tt.in); code != 1 || !strings.Contains(stderr, "no records for "+tt.e164+" ") {
				t.Errorf("%s %q: exit %d, %s", cmd, tt.in, code, stderr)
			}
		}
	}
	for _, tt := range []struct{ in, want string }{
		{"33612345678", "+33 6 12 34 56 78 or +49 3361 2345678"},
		{"0170 1234567x", "only digits, spaces"},
		{"12", "not a valid phone number"},
	} {
		for _, args := range [][]string{{"invite", "--phone", tt.in}, {"status", tt.in}, {"export", tt.in}} {
			args = append([]string{args[0], "--config", cfg, "--data", data}, args[1:]...)
			if _, stderr, code := chatconsent(t, args...); code != 2 || !strings.Contains(stderr, tt.want) {
				t.Errorf("%v: exit %d, %s; want 2 with %q", args, code, stderr, tt.want)
			}
		}
	}
}
