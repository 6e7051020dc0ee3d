package collector

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io/fs"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chatconsent/chatconsent/collector/ledger"
	"github.com/chatconsent/chatconsent/collector/private"
	"github.com/chatconsent/chatconsent/collector/receipt"
	"github.com/chatconsent/chatconsent/internal/config"
	"github.com/chatconsent/chatconsent/internal/records"
	"github.com/chatconsent/chatconsent/internal/textarchive"
	"github.com/chatconsent/chatconsent/proof"
)

var (
	annaValues = []string{"Anna Alt", "+491701111111", "491701111111", "anna@example.org", "Anna rief an"}
	annaDec    = strings.Repeat("a", 31) + "1"
	annaWd     = strings.Repeat("a", 31) + "2"
	berndDec   = strings.Repeat("b", 31) + "1"
)

// v1Folder writes a data folder as a version before format 2 left it:
// signing key, a version-1 log (Anna granted and withdrew one purpose by
// phone, Bernd granted), and Anna's receipt.
func v1Folder(t *testing.T) (*config.Config, string) {
	t.Helper()
	cfg, err := config.Load(filepath.Join("..", "config.toml"))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Collector.RatePerMinute = 0
	m, err := textarchive.ReadManifest(filepath.Join("..", "archive"))
	if err != nil {
		t.Fatal(err)
	}
	de := m.Latest("de")
	data := filepath.Join(t.TempDir(), "data")
	if err := os.MkdirAll(filepath.Join(data, config.ReceiptsDir), 0o700); err != nil {
		t.Fatal(err)
	}
	priv, _, err := ledger.LoadOrCreateKey(filepath.Join(data, config.SigningKeyFile), filepath.Join(data, config.SigningPublicKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	l, _, err := ledger.Open(filepath.Join(data, config.LogFile), priv, ledger.Options{Version: ledger.FormatV1})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC)
	if _, err := l.Append(context.Background(),
		ledger.Record{Type: ledger.TypeDecision, ID: annaDec, Time: t0, Decision: ledger.Granted, Purposes: []string{"orders", "documents"},
			Subject: &ledger.Subject{Name: "Anna Alt", Phone: "+491701111111", Email: "anna@example.org"}, Lang: "de", TextVersion: de},
		ledger.Record{Type: ledger.TypeDecision, ID: berndDec, Time: t0.Add(time.Hour), Decision: ledger.Granted, Purposes: []string{"orders"},
			Subject: &ledger.Subject{Name: "Bernd Brot", Phone: "+491702222222"}, Lang: "de", TextVersion: de},
		ledger.Record{Type: ledger.TypeWithdrawal, ID: annaWd, Time: t0.Add(2 * time.Hour), Ref: annaDec, Decision: ledger.Withdrawn,
			Purposes: []string{"documents"}, Subject: &ledger.Subject{Name: "Anna Alt", Phone: "+491701111111"}, Lang: "de", TextVersion: de,
			Via: "phone", By: "owner", Note: "Anna rief an"},
	); err != nil {
		t.Fatal(err)
	}
	l.Close()
	if err := os.WriteFile(filepath.Join(data, config.ReceiptsDir, annaDec+".pdf"), []byte("%PDF- Anna Alt +491701111111"), 0o600); err != nil {
		t.Fatal(err)
	}
	return cfg, data
}

// openFolder opens the collector on data; it is closed at the test's end
// unless closeServer closed it.
func openFolder(t *testing.T, cfg *config.Config, data string) (*Server, error) {
	t.Helper()
	srv, _, err := Open(cfg, Setup{DataDir: data, ArchiveDir: filepath.Join("..", "archive")})
	if err == nil {
		t.Cleanup(func() {
			closedMu.Lock()
			done := closed[srv]
			closedMu.Unlock()
			if !done {
				srv.Close()
			}
		})
	}
	return srv, err
}

var (
	closedMu sync.Mutex
	closed   = map[*Server]bool{} // by closeServer
)

func closeServer(srv *Server) {
	closedMu.Lock()
	closed[srv] = true
	closedMu.Unlock()
	srv.Close()
}

func signingKey(t *testing.T, data string) ed25519.PrivateKey {
	t.Helper()
	priv, err := ledger.ReadPrivateKey(filepath.Join(data, config.SigningKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	return priv
}

// snapshot reads every file under data.
func snapshot(t *testing.T, data string) map[string]string {
	t.Helper()
	got := map[string]string{}
	filepath.WalkDir(data, func(path string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			b, _ := os.ReadFile(path)
			rel, _ := filepath.Rel(data, path)
			got[rel] = string(b)
		}
		return nil
	})
	return got
}

// holds returns the files under data that hold one of values, as text,
// hex or base64.
func holds(t *testing.T, data string, values []string) []string {
	t.Helper()
	var found []string
	for name, b := range snapshot(t, data) {
		for _, v := range values {
			for _, f := range []string{v, hex.EncodeToString([]byte(v)), base64.StdEncoding.EncodeToString([]byte(v)), base64.RawURLEncoding.EncodeToString([]byte(v))} {
				if strings.Contains(b, f) {
					found = append(found, name+": "+f)
				}
			}
		}
	}
	return found
}

// TestMigrateFolder: a version-1 folder is refused until migrated; after
// migrate the collector opens, the people of the history are there, and
// erasing one of them leaves none of their values in any file while the
// log verifies (two lines redacted) and the other person is unchanged.
func TestMigrateFolder(t *testing.T) {
	t.Parallel()
	cfg, data := v1Folder(t)
	before := snapshot(t, data)
	if _, err := openFolder(t, cfg, data); !errors.Is(err, ErrNotMigrated) {
		t.Fatalf("open before migrate: %v", err)
	}
	mig, err := Migrate(cfg.Paths(data), signingKey(t, data), time.Now(), MigrateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if mig.History != 3 || mig.V1 != 3 || mig.V1Personal != 3 || mig.Lines != 4 {
		t.Fatalf("migration %+v", mig)
	}
	after := snapshot(t, data)
	if !strings.HasPrefix(after[config.LogFile], before[config.LogFile]) {
		t.Fatal("the history lines changed")
	}
	if _, err := Migrate(cfg.Paths(data), signingKey(t, data), time.Now(), MigrateOptions{}); !errors.Is(err, ledger.ErrMigrated) {
		t.Fatalf("migrate twice: %v", err)
	}
	srv, err := openFolder(t, cfg, data)
	if err != nil {
		t.Fatal(err)
	}
	if d, left := srv.decision(annaDec); d == nil || d.Subject.GetPhone() != "+491701111111" || len(left) != 1 {
		t.Fatalf("Anna after migration: %+v %v", d, left)
	}
	bernd, berndLeft := srv.decision(berndDec)
	e, err := srv.EraseNumber(context.Background(), OwnerErasure{Phone: "0170 1111111"})
	if err != nil {
		t.Fatal(err)
	}
	if len(e.Records) != 2 || e.Files != 1 {
		t.Errorf("erased %+v", e)
	}
	if found := holds(t, data, annaValues); len(found) > 0 {
		t.Errorf("after erasure the data folder holds: %v", found)
	}
	b, _ := os.ReadFile(filepath.Join(data, config.LogFile))
	ls, err := ledger.VerifyLines(bytes.NewReader(b), signingKey(t, data).Public().(ed25519.PublicKey))
	if err != nil || ls.Redacted != 2 || ls.Head.Count != 8 {
		t.Fatalf("log after erasure: %+v %v", ls, err)
	}
	if d, left := srv.decision(annaDec); d == nil || !records.IsErased(d.Subject.GetPhone()) || len(left) != 1 {
		t.Errorf("Anna erased: %+v %v", d, left)
	}
	if d, left := srv.decision(berndDec); d == nil || *d.Subject != *bernd.Subject || len(left) != len(berndLeft) {
		t.Errorf("Bernd changed: %+v %v", d, left)
	}
	if !strings.Contains(string(b), "Bernd Brot") {
		t.Error("Bernd's history line (not erased) lost its text")
	}
	// Anna's remaining consent is still withdrawable by its record id
	// (her personal link), and the withdrawal records nobody.
	u, _ := url.Parse(srv.WithdrawalURL(annaDec))
	r := httptest.NewRequest("POST", "/v1/withdraw", strings.NewReader(`{"id":"`+annaDec+`","k":"`+u.Query().Get("k")+`","purpose":["orders"]}`))
	r.RemoteAddr = "192.0.2.1:4711"
	r.Header.Set("Content-Type", ctJSON)
	w := httptest.NewRecorder()
	srv.Handler().ServeHTTP(w, r)
	if w.Code != 201 {
		t.Fatalf("withdraw by record id after erasure: %d %s", w.Code, w.Body)
	}
	if _, left := srv.decision(annaDec); len(left) != 0 {
		t.Errorf("left after withdrawing: %v", left)
	}
	if found := holds(t, data, annaValues); len(found) > 0 {
		t.Errorf("after the withdrawal the data folder holds: %v", found)
	}
	// A restart folds the same (history from the re-records).
	closeServer(srv)
	srv, err = openFolder(t, cfg, data)
	if err != nil {
		t.Fatal(err)
	}
	if d, _ := srv.decision(annaDec); d == nil || !records.IsErased(d.Subject.GetPhone()) {
		t.Errorf("Anna after a restart: %+v", d)
	}
	if d, _ := srv.decision(berndDec); d == nil || *d.Subject != *bernd.Subject {
		t.Errorf("Bernd after a restart: %+v", d)
	}
	book, err := records.Read(ledger.FileSource(filepath.Join(data, config.LogFile)), "log", signingKey(t, data).Public().(ed25519.PublicKey), srv.o.Private, cfg.PurposeIDs(), false)
	if err != nil {
		t.Fatal(err)
	}
	if p := book.Person("+491702222222"); p == nil || len(p.Events) != 1 {
		t.Errorf("Bernd in the book: %+v", p)
	}
	if n := len(book.People()); n != 2 {
		t.Errorf("%d people in the book, want 2 (Bernd, Anna erased)", n)
	}
}

// TestMigrateCrash: a crash at each step of migrate leaves the old log
// (and at most openings the next run uses) or the migrated one; running
// migrate again then finishes, and the collector opens.
func TestMigrateCrash(t *testing.T) {
	t.Parallel()
	for _, step := range append([]string{StepPrivate}, ledger.ReplaceSteps...) {
		t.Run(step, func(t *testing.T) {
			cfg, data := v1Folder(t)
			old := snapshot(t, data)[config.LogFile]
			_, err := Migrate(cfg.Paths(data), signingKey(t, data), time.Now(), MigrateOptions{Crash: func(s string) bool { return s == step }})
			if !errors.Is(err, ledger.ErrCrash) {
				t.Fatalf("crash: %v", err)
			}
			got := snapshot(t, data)[config.LogFile]
			migrated := step == ledger.StepDirSync
			if migrated != (got != old) {
				t.Fatalf("after a crash at %s: migrated %v, log changed %v", step, migrated, got != old)
			}
			_, err = Migrate(cfg.Paths(data), signingKey(t, data), time.Now(), MigrateOptions{})
			if migrated && !errors.Is(err, ledger.ErrMigrated) || !migrated && err != nil {
				t.Fatalf("migrate again: %v", err)
			}
			srv, err := openFolder(t, cfg, data)
			if err != nil {
				t.Fatal(err)
			}
			if d, _ := srv.decision(annaDec); d == nil || d.Subject.GetPhone() != "+491701111111" {
				t.Fatalf("Anna after migrate: %+v", d)
			}
			for name := range snapshot(t, data) {
				if strings.Contains(name, ".tmp-") {
					t.Errorf("left behind: %s", name)
				}
			}
		})
	}
}

// TestEraseRedactionCrash: a crash at each step of the redaction of the
// version-1 lines leaves the erasure record in the log; the next start
// finishes the erasure, redaction included.
func TestEraseRedactionCrash(t *testing.T) {
	t.Parallel()
	for _, step := range ledger.ReplaceSteps {
		t.Run(step, func(t *testing.T) {
			cfg, data := v1Folder(t)
			if _, err := Migrate(cfg.Paths(data), signingKey(t, data), time.Now(), MigrateOptions{}); err != nil {
				t.Fatal(err)
			}
			srv, err := openFolder(t, cfg, data)
			if err != nil {
				t.Fatal(err)
			}
			srv.redactCrash = func(s string) bool { return s == step }
			if _, err := srv.EraseNumber(context.Background(), OwnerErasure{Phone: "0170 1111111"}); !errors.Is(err, ledger.ErrCrash) {
				t.Fatalf("erase: %v", err)
			}
			closeServer(srv)
			srv, err = openFolder(t, cfg, data)
			if err != nil {
				t.Fatal(err)
			}
			if found := holds(t, data, annaValues); len(found) > 0 {
				t.Errorf("after the restart the data folder holds: %v", found)
			}
			if d, _ := srv.decision(annaDec); d == nil || !records.IsErased(d.Subject.GetPhone()) {
				t.Errorf("Anna after the restart: %+v", d)
			}
		})
	}
}

// TestMigrateRefuses: an empty folder, a version-2 log and a broken
// version-1 log are refused, and nothing changes.
func TestMigrateRefuses(t *testing.T) {
	t.Parallel()
	cfg, data := v1Folder(t)
	logPath := filepath.Join(data, config.LogFile)
	b, _ := os.ReadFile(logPath)
	os.WriteFile(logPath, bytes.Replace(b, []byte("Bernd Brot"), []byte("Bernd Brit"), 1), 0o600)
	broken := snapshot(t, data)
	_, err := Migrate(cfg.Paths(data), signingKey(t, data), time.Now(), MigrateOptions{})
	var le *ledger.LineError
	if !errors.As(err, &le) || le.Line != 2 || !errors.Is(err, ledger.ErrBadSignature) {
		t.Errorf("broken log: %v", err)
	}
	if got := snapshot(t, data); len(got) != len(broken) || got[config.LogFile] != broken[config.LogFile] {
		t.Errorf("a refused migration changed the folder: %v", got)
	}
	os.WriteFile(logPath, nil, 0o600)
	if _, err := Migrate(cfg.Paths(data), signingKey(t, data), time.Now(), MigrateOptions{}); !errors.Is(err, ledger.ErrEmpty) {
		t.Errorf("empty log: %v", err)
	}
	// A version-2 log (as a collector of this version writes it), locked
	// while it is open.
	v2 := filepath.Join(t.TempDir(), "data")
	os.MkdirAll(v2, 0o700)
	priv, _, err := ledger.LoadOrCreateKey(filepath.Join(v2, config.SigningKeyFile), filepath.Join(v2, config.SigningPublicKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	l, _, err := ledger.Open(filepath.Join(v2, config.LogFile), priv, ledger.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Append(context.Background(), ledger.Record{Type: ledger.TypeInvite, ID: strings.Repeat("c", 32), Time: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if _, err := Migrate(cfg.Paths(v2), priv, time.Now(), MigrateOptions{}); !errors.Is(err, ledger.ErrLocked) {
		t.Errorf("a collector runs: %v", err)
	}
	l.Close()
	if _, err := Migrate(cfg.Paths(v2), priv, time.Now(), MigrateOptions{}); !errors.Is(err, ledger.ErrNothingToMigrate) {
		t.Errorf("version-2 log: %v", err)
	}
}

// TestMigrateMixedFolder: a version-1 log to which a collector of this
// version appended version-2 lines before migrate existed (the openings of
// those are in the private store already). Migrate re-records both kinds
// in order; then the version-1 person and the version-2 person can each be
// erased, and the other's records stay as they were.
func TestMigrateMixedFolder(t *testing.T) {
	t.Parallel()
	cfg, data := v1Folder(t)
	priv := signingKey(t, data)
	vault, err := private.Open(filepath.Join(data, private.Dir), private.Options{})
	if err != nil {
		t.Fatal(err)
	}
	l, _, err := ledger.Open(filepath.Join(data, config.LogFile), priv, ledger.Options{Disclose: vault.Put})
	if err != nil {
		t.Fatal(err)
	}
	carla := strings.Repeat("c", 31) + "1"
	if _, err := l.Append(context.Background(), ledger.Record{Type: ledger.TypeDecision, ID: carla, Time: time.Now().UTC(), Decision: ledger.Granted,
		Purposes: []string{"orders"}, Subject: &ledger.Subject{Name: "Carla Cremer", Phone: "+491703333333"}, Lang: "de", TextVersion: strings.Repeat("ab", 32)}); err != nil {
		t.Fatal(err)
	}
	l.Close()
	vault.Close()
	mig, err := Migrate(cfg.Paths(data), priv, time.Now(), MigrateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if mig.History != 4 || mig.V1 != 3 || mig.Lines != 5 {
		t.Fatalf("migration %+v", mig)
	}
	srv, err := openFolder(t, cfg, data)
	if err != nil {
		t.Fatal(err)
	}
	if d, _ := srv.decision(carla); d == nil || d.Subject.GetPhone() != "+491703333333" {
		t.Fatalf("Carla after migration: %+v", d)
	}
	if _, err := srv.EraseNumber(context.Background(), OwnerErasure{Phone: "0170 3333333"}); err != nil {
		t.Fatal(err)
	}
	if found := holds(t, data, []string{"Carla Cremer", "+491703333333"}); len(found) > 0 {
		t.Errorf("after erasing Carla: %v", found)
	}
	if d, _ := srv.decision(annaDec); d == nil || d.Subject.GetPhone() != "+491701111111" {
		t.Errorf("Anna after Carla's erasure: %+v", d)
	}
	if _, err := srv.EraseNumber(context.Background(), OwnerErasure{Phone: "0170 1111111"}); err != nil {
		t.Fatal(err)
	}
	if found := holds(t, data, annaValues); len(found) > 0 {
		t.Errorf("after erasing Anna: %v", found)
	}
	b, _ := os.ReadFile(filepath.Join(data, config.LogFile))
	ls, err := ledger.VerifyLines(bytes.NewReader(b), priv.Public().(ed25519.PublicKey))
	if err != nil || ls.Redacted != 2 || ls.Head.Count != 11 {
		t.Fatalf("log: %+v %v", ls.Head, err)
	}
	if d, _ := srv.decision(berndDec); d == nil || d.Subject.GetPhone() != "+491702222222" {
		t.Errorf("Bernd: %+v", d)
	}
}

// TestV1ReceiptAfterRedaction: the receipt a collector stamped on a
// version-1 line still proves the decision against the log after the
// person was erased and their line redacted (its hash is the line's).
func TestV1ReceiptAfterRedaction(t *testing.T) {
	t.Parallel()
	cfg, err := config.Load(filepath.Join("..", "config.toml"))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Collector.RatePerMinute = 0
	arch := filepath.Join("..", "archive")
	m, err := textarchive.ReadManifest(arch)
	if err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(t.TempDir(), "data")
	srv, _, err := Open(cfg, Setup{DataDir: data, ArchiveDir: arch, LogVersion: ledger.FormatV1})
	if err != nil {
		t.Fatal(err)
	}
	serve := func(method, target, body string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(method, target, strings.NewReader(body))
		r.RemoteAddr = "192.0.2.1:4711"
		if body != "" {
			r.Header.Set("Content-Type", ctJSON)
		}
		w := httptest.NewRecorder()
		srv.Handler().ServeHTTP(w, r)
		return w
	}
	w := serve("POST", "/v1/consent", `{"decision":"granted","name":"Anna Alt","phone":"0170 1111111","email":"anna@example.org","purpose":["orders"],"lang":"de","text_version":"`+m.Latest("de")+`"}`)
	if w.Code != 201 {
		t.Fatalf("post: %d %s", w.Code, w.Body)
	}
	var res struct {
		ReceiptURL string `json:"receipt_url"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &res); err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(res.ReceiptURL)
	w = serve("GET", u.RequestURI(), "")
	if w.Code != 200 {
		t.Fatalf("receipt: %d", w.Code)
	}
	pdf := w.Body.Bytes()
	srv.Close()
	if _, err := Migrate(cfg.Paths(data), signingKey(t, data), time.Now(), MigrateOptions{}); err != nil {
		t.Fatal(err)
	}
	srv, err = openFolder(t, cfg, data)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.EraseNumber(context.Background(), OwnerErasure{Phone: "0170 1111111"}); err != nil {
		t.Fatal(err)
	}
	if found := holds(t, data, []string{"Anna Alt", "+491701111111", "anna@example.org"}); len(found) > 0 {
		t.Errorf("after erasure: %v", found)
	}
	log, _ := os.ReadFile(filepath.Join(data, config.LogFile))
	if !ledger.IsRedacted(bytes.SplitN(log, []byte("\n"), 2)[0]) {
		t.Fatalf("line 1 is not redacted")
	}
	st, err := receipt.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := proof.VerifyReceipt(pdf, proof.ReceiptCheck{Config: cfg, Stamper: st, Key: signingKey(t, data).Public().(ed25519.PublicKey), Log: bytes.NewReader(log)})
	if err != nil {
		t.Fatalf("the version-1 receipt against the redacted log: %v", err)
	}
	if got.Record.Subject.GetPhone() != "+491701111111" || got.Record.V != ledger.FormatV1 {
		t.Errorf("receipt record %+v", got.Record)
	}
}
