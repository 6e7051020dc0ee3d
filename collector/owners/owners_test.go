package owners

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-webauthn/webauthn/webauthn"
)

var t0 = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

// TestStoreFile: the file is mode 0600, holds the enrolment's hash and
// never its secret, and a removed owner is gone.
func TestStoreFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "owners.json")
	s := OpenStore(path)
	if list, err := s.Owners(); err != nil || len(list) != 0 {
		t.Fatalf("no file: %v, %v; want none and no error", list, err)
	}
	secret, err := s.Add("anna", t0)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("owners.json: %v, %v; want mode 0600", st, err)
	}
	b, _ := os.ReadFile(path)
	if strings.Contains(string(b), secret) || !strings.Contains(string(b), hashSecret(secret)) {
		t.Errorf("the file holds the secret or not its hash:\n%s", b)
	}
	o, err := s.Enrol(secret, t0.Add(time.Minute), webauthn.Credential{ID: []byte("k")})
	if err != nil || o.Enrolment != nil || len(o.Credentials) != 1 {
		t.Fatalf("Enrol: %+v, %v", o, err)
	}
	if got, err := s.ByID(o.ID); err != nil || got == nil || got.Name != "anna" {
		t.Errorf("ByID: %+v, %v", got, err)
	}
	if err := s.Remove("anna"); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.ByID(o.ID); got != nil {
		t.Errorf("removed owner still found: %+v", got)
	}
	if _, err := s.Add("Anna Maria", t0); !errors.Is(err, ErrBadOwnerName) {
		t.Errorf("a name with a space: %v, want ErrBadOwnerName", err)
	}
}

// TestStoreBadFile: a damaged or newer file is an error naming the file,
// and nothing is written over it.
func TestStoreBadFile(t *testing.T) {
	t.Parallel()
	for _, content := range []string{`{"v":1,"owners":[`, `{"v":2,"owners":[]}`, `[]`} {
		path := filepath.Join(t.TempDir(), "owners.json")
		os.WriteFile(path, []byte(content), 0o600)
		s := OpenStore(path)
		if _, err := s.Owners(); err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: %v, want an error naming the file", content, err)
		}
		if _, err := s.Add("anna", t0); err == nil {
			t.Errorf("%s: Add wrote over a damaged file", content)
		}
		if b, _ := os.ReadFile(path); string(b) != content {
			t.Errorf("%s: the file changed to %s", content, b)
		}
	}
}

// TestStoreConcurrentAdds: updates are serialised by the lock: none is
// lost.
func TestStoreConcurrentAdds(t *testing.T) {
	t.Parallel()
	s := OpenStore(filepath.Join(t.TempDir(), "owners.json"))
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			if _, err := s.Add(string(rune('a'+i))+"-owner", t0); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if list, _ := s.Owners(); len(list) != 8 {
		t.Errorf("%d owners after 8 concurrent adds", len(list))
	}
}

// FuzzRead: any file content is read without a panic; what is accepted
// writes back to a file that reads the same.
func FuzzRead(f *testing.F) {
	f.Add([]byte(`{"v":1,"owners":[{"name":"anna","id":"00","added":"2026-12-01T09:00:00Z","enrolment":{"hash":"ab","expires":"2026-12-01T09:15:00Z"}}]}`))
	f.Add([]byte(`{"v":1,"owners":[]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		dir := t.TempDir()
		path := filepath.Join(dir, "owners.json")
		os.WriteFile(path, b, 0o600)
		s := OpenStore(path)
		list, err := s.Owners()
		if err != nil {
			return
		}
		if err := s.update(func(*ownersFile) error { return nil }); err != nil {
			t.Fatalf("rewrite of an accepted file: %v", err)
		}
		again, err := s.Owners()
		if err != nil || len(again) != len(list) {
			t.Fatalf("reread: %d owners, %v; want %d", len(again), err, len(list))
		}
	})
}
