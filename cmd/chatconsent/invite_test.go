package main

import (
	"strings"
	"testing"
)

// TestLoopbackWarning (issue 11 item 16): links to this computer get a
// warning, links to any other host none.
func TestLoopbackWarning(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		url  string
		warn bool
	}{
		{"http://127.0.0.1:8080/", true},
		{"http://localhost:8080/", true},
		{"http://LOCALHOST/", true},
		{"http://shop.localhost/", true},
		{"http://[::1]:8080/", true},
		{"http://127.1.2.3/", true},
		{"http://0.0.0.0:8080/", true},
		{"https://consent.example.org/", false},
		{"https://192.0.2.10/", false},
		{"https://[2001:db8::1]/", false},
		{"https://localhost.example.org/", false},
	} {
		w := loopbackWarning(tt.url)
		if (w != "") != tt.warn || (tt.warn && !strings.Contains(w, "collector.public_url")) {
			t.Errorf("%s: %q", tt.url, w)
		}
	}
}
