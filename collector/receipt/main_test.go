package receipt

import (
	"os"
	"testing"
)

// TestMain removes pdfcpu's temporary configuration directory, which a
// long-running process keeps, after the tests.
func TestMain(m *testing.M) {
	code := m.Run()
	if configDir != "" {
		os.RemoveAll(configDir)
	}
	os.Exit(code)
}
