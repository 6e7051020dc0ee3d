package main

import (
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// countReceipts counts the PDF receipts in DATA/receipts and the
// temporary files beside them.
func countReceipts(t *testing.T, data string) (pdfs, temps int) {
	t.Helper()
	des, err := os.ReadDir(filepath.Join(data, "receipts"))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	for _, de := range des {
		switch {
		case strings.HasSuffix(de.Name(), ".pdf"):
			pdfs++
		case strings.HasPrefix(de.Name(), "."):
			temps++
		}
	}
	return pdfs, temps
}

// TestStopLeavesReceiptBacklog: SIGTERM while the collector makes the
// receipts of a burst that overflowed its queue does not wait for that
// backlog (it used to make every receipt first: 13 s after 3,000
// decisions); the next start makes the missing receipts, and removes the
// temporary file a SIGKILL during a receipt write leaves.
func TestStopLeavesReceiptBacklog(t *testing.T) {
	t.Parallel()
	const n = 600 // more than the receipt queue (256) holds
	cfg, data, version := crashSite(t)
	args := []string{"collect", "--config", cfg, "--addr", "127.0.0.1:0", "--data", data}
	p := launch(t, args...)
	client := &http.Client{Timeout: 30 * time.Second}
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for w := range 8 {
		wg.Go(func() {
			for i := w; i < n; i += 8 {
				if _, err := postDecision(client, p.base, decisionJSON(version, i)); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	// Wait until the collector works on the overflow from the log (the
	// receipts that did not fit into the queue), then stop it.
	sweeping := regexp.MustCompile(`msg="making (missing )?receipts`)
	for deadline := time.Now().Add(60 * time.Second); !sweeping.MatchString(p.stderr.String()); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the collector never made the receipts that did not fit into the queue:\n%s", p.stderr)
		}
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	exited := make(chan error, 1)
	go func() { exited <- p.cmd.Wait() }()
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("collector after SIGTERM: %v\n%s", err, p.stderr)
		}
	case <-time.After(20 * time.Second): // systemd's TimeoutStopSec: a generous bound on the 5 s promise
		t.Fatalf("collector still running 20 s after SIGTERM")
	}
	made, _ := countReceipts(t, data)
	if made >= n {
		t.Fatalf("all %d receipts were made before the collector exited: the stop waited for the backlog", n)
	}
	// A SIGKILL between a receipt's temporary file and its rename.
	tmp := filepath.Join(data, "receipts", ".00000000000000000000000000000000.pdf.tmp-123456")
	if err := os.WriteFile(tmp, []byte("%PDF-1.7 half"), 0o600); err != nil {
		t.Fatal(err)
	}
	// Left by a crash a while ago: the collector removes, after it
	// started, the temporary files older than its start (less a margin).
	ago := time.Now().Add(-time.Minute)
	os.Chtimes(tmp, ago, ago)

	p = launch(t, args...)
	want := regexp.MustCompile(`warning: (\d+) recorded decisions had no receipt yet`)
	for deadline := time.Now().Add(10 * time.Second); !want.MatchString(p.stderr.String()); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no warning about the missing receipts:\n%s", p.stderr)
		}
	}
	if m := want.FindStringSubmatch(p.stderr.String()); m[1] != strconv.Itoa(n-made) {
		t.Errorf("start counts %s missing receipts, want %d", m[1], n-made)
	}
	for deadline := time.Now().Add(120 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		pdfs, temps := countReceipts(t, data)
		if _, err := os.Stat(tmp); pdfs == n && temps == 0 && os.IsNotExist(err) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the restart: %d of %d receipts, %d temporary files\n%s", pdfs, n, temps, p.stderr)
		}
	}
}
