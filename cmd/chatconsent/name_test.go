package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestInviteNameAsTheForm: invite --name applies the form's rule for names
// (proof.CheckName), so a link never pre-fills a name the form refuses;
// the refusal names the character and says what to type instead.
func TestInviteNameAsTheForm(t *testing.T) {
	t.Parallel()
	dir := site(t)
	cfg := filepath.Join(dir, "config.toml")
	data := filepath.Join(dir, "data")
	runOK(t, "keygen", "--invite", "--config", cfg, "--data", data)
	for _, name := range []string{" Jürgen Weiß ", "محمد عبد الله", "张伟", "山田 花子", "김민준"} {
		runOK(t, "invite", "--config", cfg, "--data", data, "--phone", "0170 1234567", "--name", name)
	}
	for _, tt := range []struct{ name, want string }{
		{"김민준 😀", `the character "😀" (U+1F600 GRINNING FACE) cannot be printed on the receipt; type the name without it`},
		{"Anna 😀", "(U+1F600 GRINNING FACE)"},
		{"Anna\u200bBerg", "U+200B"},
	} {
		_, stderr, code := chatconsent(t, "invite", "--config", cfg, "--data", data, "--phone", "0170 1234567", "--name", tt.name)
		if code != 2 || !strings.Contains(stderr, "--name") || !strings.Contains(stderr, tt.want) {
			t.Errorf("invite --name %q: exit %d, %s; want 2 with %q", tt.name, code, stderr, tt.want)
		}
	}
}
