package doctor

import (
	"go/build"
	"strings"
	"testing"
)

// doctor checks a deployment without the HTTP server: it must not import
// the collector package, even through another of ours (issue 10, seam 2).
func TestNoHTTPCollectorImport(t *testing.T) {
	t.Parallel()
	const mod = "github.com/chatconsent/chatconsent/"
	seen := map[string]bool{}
	var walk func(path, via string)
	walk = func(path, via string) {
		if seen[path] {
			return
		}
		seen[path] = true
		if path == mod+"collector" {
			t.Errorf("internal/doctor imports the HTTP package collector via %s", via)
			return
		}
		p, err := build.Import(path, ".", 0)
		if err != nil {
			t.Fatalf("import %s: %v", path, err)
		}
		for _, imp := range p.Imports {
			if strings.HasPrefix(imp, mod) {
				walk(imp, via+" → "+strings.TrimPrefix(imp, mod))
			}
		}
	}
	walk(mod+"internal/doctor", "internal/doctor")
}
