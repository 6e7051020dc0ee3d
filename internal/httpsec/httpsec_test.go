package httpsec

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestHandler: every header on every kind of answer (written, only a
// status, only flushed, an http.Error), a handler's own override kept,
// and no cookie ever.
func TestHandler(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		h    http.HandlerFunc
		code int
	}{
		{"write", func(w http.ResponseWriter, r *http.Request) {
			http.SetCookie(w, &http.Cookie{Name: "s", Value: "1"})
			w.Write([]byte("<p>x</p>"))
		}, 200},
		{"status", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Add("Set-Cookie", "s=1")
			w.WriteHeader(http.StatusConflict)
		}, 409},
		{"error", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Add("Set-Cookie", "s=1")
			http.Error(w, "nope", http.StatusInternalServerError)
		}, 500},
		{"flush", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Add("Set-Cookie", "s=1")
			if err := http.NewResponseController(w).Flush(); err != nil {
				t.Errorf("flush: %v", err)
			}
			w.Write([]byte("data: 1\n\n"))
		}, 200},
		{"early hint", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusEarlyHints)
			w.Header().Add("Set-Cookie", "s=1")
			w.WriteHeader(http.StatusOK)
		}, 200},
	} {
		srv := httptest.NewServer(Handler(tt.h))
		res, err := srv.Client().Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		srv.Close()
		if res.StatusCode != tt.code {
			t.Errorf("%s: status %d, want %d", tt.name, res.StatusCode, tt.code)
		}
		for k, want := range Headers {
			if got := res.Header.Get(k); got != want {
				t.Errorf("%s: %s = %q, want %q", tt.name, k, got, want)
			}
		}
		if c := res.Header.Values("Set-Cookie"); len(c) > 0 {
			t.Errorf("%s: Set-Cookie %q went out", tt.name, c)
		}
	}
}

func TestOverride(t *testing.T) {
	t.Parallel()
	h := Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		w.Write([]byte("x"))
	}))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/log/tile/0/000", nil))
	if got := w.Header().Get("Cache-Control"); got != "public, max-age=31536000, immutable" {
		t.Errorf("Cache-Control = %q, the handler's override lost", got)
	}
	if w.Header().Get("X-Content-Type-Options") != "nosniff" {
		t.Error("nosniff missing")
	}
}

// TestCSPNoThirdParty: the policy names no host, scheme or wildcard
// but data: for images, and forbids framing.
func TestCSPNoThirdParty(t *testing.T) {
	t.Parallel()
	for _, d := range strings.Split(CSP, ";") {
		f := strings.Fields(d)
		for _, src := range f[1:] {
			if !strings.HasPrefix(src, "'") && !(f[0] == "img-src" && src == "data:") {
				t.Errorf("CSP directive %q allows %q", f[0], src)
			}
		}
	}
	if !strings.Contains(CSP, "frame-ancestors 'none'") || !strings.HasPrefix(CSP, "default-src 'none'") {
		t.Errorf("CSP %q", CSP)
	}
}
