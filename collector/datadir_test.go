package collector

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chatconsent/chatconsent/internal/config"
)

// TestCheckDataDir: a signing key is created only on first setup, never
// beside a mistyped --data path.
func TestCheckDataDir(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	mk := func(dir string, files ...string) string {
		dir = filepath.Join(root, dir)
		os.MkdirAll(dir, 0o700)
		for _, f := range files {
			content := "x"
			if f == "empty-log" {
				f, content = config.LogFile, ""
			}
			if err := os.WriteFile(filepath.Join(dir, f), []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		return dir
	}
	live := mk("live", config.SigningKeyFile, config.SigningPublicKeyFile, config.LogFile)
	fresh := filepath.Join(root, "fresh") // no collector anywhere yet
	tests := []struct {
		name, dir, configured string
		want                  string // in the hint; "" for allowed
	}{
		{"the configured folder with its key", live, live, ""},
		{"first setup: absent folder", filepath.Join(root, "new"), filepath.Join(root, "new"), ""},
		{"first setup: absent --data, nothing configured yet", filepath.Join(root, "other"), fresh, ""},
		{"first setup: only keygen --invite ran", mk("inv", "invite.key", "invite.pub"), "", ""},
		{"first setup: an empty log", mk("emptylog", "empty-log"), "", ""},
		{"a typo beside the live folder", filepath.Join(root, "liv"), live, "did you mean --data " + live},
		{"an existing empty folder that is not the configured one", mk("empty"), live, "did you mean --data " + live},
		{"a log without its key", mk("nokey", config.LogFile), "", "restore signing.key"},
		{"a public key without the private one", mk("pubonly", config.SigningPublicKeyFile), "", "restore signing.key"},
		{"a torn tail without the key", mk("torn", config.LogFile+".torn"), "", "restore signing.key"},
		{"some other folder", mk("home", ".bashrc", "notes.txt"), "", "keygen --data"},
	}
	for _, tt := range tests {
		err := checkDataDir(tt.dir, tt.configured)
		var de *DataDirError
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: %v", tt.name, err)
		case tt.want != "" && (!errors.As(err, &de) || !errors.Is(err, ErrNoSigningKey) || !strings.Contains(de.Hint(), tt.want)):
			t.Errorf("%s: err %v; want a hint with %q", tt.name, err, tt.want)
		}
	}
}
