package collector

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/chatconsent/chatconsent/collector/ledger"
	"github.com/chatconsent/chatconsent/collector/private"
	"github.com/chatconsent/chatconsent/collector/receipt"
	"github.com/chatconsent/chatconsent/internal/config"
	"github.com/chatconsent/chatconsent/internal/textarchive"
	"github.com/chatconsent/chatconsent/themes"
)

// harness is a collector on the repository's config.toml and archive/,
// with its data in a temporary folder and a disk that can be made to fail.
type harness struct {
	srv      *Server
	h        http.Handler
	cfg      *config.Config
	data     string
	logPath  string
	versions map[string]string // lang → a text version
	diskFull atomic.Bool       // write and fsync fail with ENOSPC
	logs     *syncBuffer       // the collector's slog output
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var (
	stamperOnce sync.Once
	stamper     *receipt.Stamper
	stamperErr  error
)

func testKey() ed25519.PrivateKey {
	return ed25519.NewKeyFromSeed(bytes.Repeat([]byte{9}, ed25519.SeedSize))
}

// newHarness starts a collector; mod may change the configuration first.
// The rate limit is off unless mod sets it.
func newHarness(t testing.TB, mod func(*config.Config)) *harness {
	t.Helper()
	return newHarnessOpts(t, mod, nil)
}

// newHarnessOpts is newHarness; opt may change the server's Options.
func newHarnessOpts(t testing.TB, mod func(*config.Config), opt func(*Options)) *harness {
	t.Helper()
	cfg, err := config.Load(filepath.Join("..", "config.toml"))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Collector.RatePerMinute = 0
	if mod != nil {
		mod(cfg)
	}
	h := &harness{cfg: cfg, data: t.TempDir(), versions: map[string]string{}, logs: &syncBuffer{}}
	h.logPath = filepath.Join(h.data, config.LogFile)
	arch := filepath.Join("..", "archive")
	m, err := textarchive.ReadManifest(arch)
	if err != nil {
		t.Fatal(err)
	}
	for v, info := range m.Versions {
		h.versions[info.Lang] = v
	}
	vault, err := private.Open(filepath.Join(h.data, private.Dir), private.Options{})
	if err != nil {
		t.Fatal(err)
	}
	log, _, err := ledger.Open(h.logPath, testKey(), ledger.Options{Disclose: vault.Put,
		Sync: func(f *os.File) error {
			if h.diskFull.Load() {
				return syscall.ENOSPC
			}
			return syscall.Fdatasync(int(f.Fd()))
		},
		Write: func(f *os.File, b []byte) (int, error) {
			if h.diskFull.Load() {
				n, _ := f.Write(b[:len(b)/3])
				return n, syscall.ENOSPC
			}
			return f.Write(b)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	theme, err := themes.Load(cfg.Dir)
	if err != nil {
		t.Fatal(err)
	}
	stamperOnce.Do(func() { stamper, stamperErr = receipt.New(nil) })
	if stamperErr != nil {
		t.Fatal(stamperErr)
	}
	o := Options{
		Config: cfg, Paths: harnessPaths(cfg, h.data, arch), Log: log, Private: vault, Signer: testKey(),
		Theme: theme, Stamper: stamper, Logger: slog.New(slog.NewTextHandler(h.logs, nil)),
		ConsentURLs:    map[string]string{"de": "https://shop.example/de/einwilligung/", "en": "https://shop.example/en/consent/"},
		WithdrawalURLs: map[string]string{"de": "https://shop.example/de/widerruf/", "en": "https://shop.example/en/withdrawal/"},
		PolicyURLs:     map[string]string{"de": "https://shop.example/de/datenschutz/", "en": "https://shop.example/en/privacy/"},
	}
	if opt != nil {
		opt(&o)
	}
	h.srv, err = New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.srv.Close() })
	h.h = h.srv.Handler()
	return h
}

// do sends a request through the handler from remote (default 192.0.2.1).
func (h *harness) do(method, path, ct, body string, hdr ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	r.RemoteAddr = "192.0.2.1:4711"
	if ct != "" {
		r.Header.Set("Content-Type", ct)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i] == "RemoteAddr" {
			r.RemoteAddr = hdr[i+1]
			continue
		}
		r.Header.Add(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	h.h.ServeHTTP(w, r)
	return w
}

const (
	ctForm = "application/x-www-form-urlencoded"
	ctJSON = "application/json"
)

// jsonBody is a valid decision in lang, changed by the key=value pairs in
// set (a value of nil removes the key).
func (h *harness) jsonBody(lang string, set ...any) string {
	m := map[string]any{
		"decision": "granted", "name": "Jürgen Weiß", "phone": "0170 1234567",
		"purpose": []string{"orders"}, "lang": lang, "text_version": h.versions[lang],
	}
	for i := 0; i+1 < len(set); i += 2 {
		if set[i+1] == nil {
			delete(m, set[i].(string))
		} else {
			m[set[i].(string)] = set[i+1]
		}
	}
	b, _ := json.Marshal(m)
	return string(b)
}

// formBody is a valid form post in lang followed by extra (raw, encoded).
func (h *harness) formBody(lang, extra string) string {
	s := "decision=granted&name=J%C3%BCrgen+Wei%C3%9F&phone=0170+1234567&purpose=orders&lang=" + lang + "&text_version=" + h.versions[lang]
	if extra != "" {
		s += "&" + extra
	}
	return s
}

// records returns the log's records (verified).
func (h *harness) records(t testing.TB) []ledger.Record {
	t.Helper()
	b, err := os.ReadFile(h.logPath)
	if err != nil {
		t.Fatal(err)
	}
	vault, err := private.Open(filepath.Join(h.data, private.Dir), private.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer vault.Close()
	var recs []ledger.Record
	if _, err := ledger.Verify(bytes.NewReader(b), testKey().Public().(ed25519.PublicKey), func(r *ledger.Record, _ []byte) error {
		// The log holds commitments only; the test looks at the opened
		// records, as the owner's commands do.
		if _, err := openRecord(vault, r); err != nil {
			return err
		}
		recs = append(recs, *r)
		return nil
	}); err != nil {
		t.Fatalf("log does not verify: %v", err)
	}
	return recs
}

// checkSecurityHeaders fails unless w carries the headers every answer must.
func checkSecurityHeaders(t *testing.T, w *httptest.ResponseRecorder) {
	t.Helper()
	for k, want := range map[string]string{
		"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Referrer-Policy": "same-origin",
		"Cache-Control": "no-store",
	} {
		if got := w.Header().Get(k); got != want {
			t.Errorf("status %d: %s = %q, want %q", w.Code, k, got, want)
		}
	}
	if !strings.Contains(w.Header().Get("Content-Security-Policy"), "default-src 'none'") {
		t.Errorf("status %d: no CSP", w.Code)
	}
}

type netipPrefix = netip.Prefix

func mustPrefix(s string) netip.Prefix { return netip.MustParsePrefix(s) }

// harnessPaths are cfg's paths with data folder data and archive arch.
func harnessPaths(cfg *config.Config, data, arch string) config.Paths {
	p := cfg.Paths(data)
	p.Archive = arch
	return p
}

// serveOwner serves the harness's owner socket (DATA/owner.sock) until the
// test ends and returns a client of it.
func (h *harness) serveOwner(t testing.TB) *OwnerClient {
	t.Helper()
	ln, err := ListenOwner(h.data)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h.srv.OwnerHandler()}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	c, err := DialOwner(h.data)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}
