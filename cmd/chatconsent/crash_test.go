package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var crashRounds = flag.Int("crash.rounds", 10, "SIGKILL rounds of TestCrashLosesNothingAcknowledged")

// proc is a running collector.
type proc struct {
	cmd    *exec.Cmd
	base   string
	stderr *syncBuffer
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

// launch starts the binary and waits until it listens. It fails the test
// if the binary exits first; the process is killed at the test's end if it
// still runs.
func launch(t *testing.T, args ...string) *proc {
	t.Helper()
	p := &proc{cmd: exec.Command(binary, args...), stderr: &syncBuffer{}}
	p.cmd.Env = childEnv()
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p.cmd.Stderr = p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		re := regexp.MustCompile(`listening on (http://\S+/)`)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
			}
		}
		io.Copy(io.Discard, stdout)
		close(exited)
	}()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-exited
		p.cmd.Wait()
	})
	select {
	case p.base = <-found:
		return p
	case <-exited:
		t.Fatalf("%v exited before listening:\n%s", args, p.stderr)
	case <-time.After(60 * time.Second):
		t.Fatalf("%v did not start:\n%s", args, p.stderr)
	}
	return nil
}

// crashSite is a copy of the repository's site with the rate limit off,
// and a German text version from its archive.
func crashSite(t *testing.T) (cfg, data, version string) {
	t.Helper()
	dir := site(t)
	cfg = filepath.Join(dir, "config.toml")
	b, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	b = bytes.Replace(b, []byte("\n[collector]\n"), []byte("\n[collector]\nrate_per_minute = 0\n"), 1)
	if err := os.WriteFile(cfg, b, 0o644); err != nil {
		t.Fatal(err)
	}
	var m struct {
		Versions map[string]struct{ Lang string }
	}
	mb, err := os.ReadFile(filepath.Join(dir, "archive", "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	json.Unmarshal(mb, &m)
	for v, info := range m.Versions {
		if info.Lang == "de" {
			version = v
		}
	}
	return cfg, filepath.Join(dir, "data"), version
}

func decisionJSON(version string, i int) string {
	return fmt.Sprintf(`{"decision":"granted","name":"Kunde %d","phone":"+49 170 %07d","purpose":["orders"],"lang":"de","text_version":%q}`, i, 1000000+i%9000000, version)
}

// postDecision posts one decision and returns its id if the collector
// acknowledged it (201).
func postDecision(c *http.Client, base, body string) (string, error) {
	resp, err := c.Post(base+"v1/consent", "application/json", strings.NewReader(body))
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusCreated {
		return "", fmt.Errorf("status %d: %s", resp.StatusCode, b)
	}
	var got struct{ ID string }
	if err := json.Unmarshal(b, &got); err != nil || len(got.ID) != 32 {
		return "", fmt.Errorf("201 without an id: %s", b)
	}
	return got.ID, nil
}

// logIDs verifies the log with the real binary and returns its record ids.
func logIDs(t *testing.T, data string) map[string]bool {
	t.Helper()
	stdout, stderr, code := chatconsent(t, "verify", "--key", filepath.Join(data, "signing.pub"), filepath.Join(data, "decisions.jsonl"))
	if code != 0 {
		t.Fatalf("verify: exit %d: %s %s", code, stdout, stderr)
	}
	b, err := os.ReadFile(filepath.Join(data, "decisions.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, line := range bytes.Split(bytes.TrimSuffix(b, []byte("\n")), []byte("\n")) {
		var l struct{ Rec struct{ ID string } }
		if err := json.Unmarshal(line, &l); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		ids[l.Rec.ID] = true
	}
	return ids
}

// TestCrashLosesNothingAcknowledged runs the real collector, fires
// concurrent decisions at it, SIGKILLs it at a random moment, restarts it,
// and repeats: every decision it acknowledged with 201 must be in the log,
// and the log must verify. -crash.rounds sets the number of kills.
func TestCrashLosesNothingAcknowledged(t *testing.T) {
	t.Parallel()
	cfg, data, version := crashSite(t)
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 4))
	acked := map[string]bool{}
	var mu sync.Mutex
	n := 0
	for round := range *crashRounds {
		p := launch(t, "collect", "--config", cfg, "--addr", "127.0.0.1:0", "--data", data)
		var wg sync.WaitGroup
		for c := range 16 {
			wg.Go(func() {
				client := &http.Client{Timeout: 10 * time.Second}
				for i := 0; ; i++ {
					id, err := postDecision(client, p.base, decisionJSON(version, round*1_000_000+c*10_000+i))
					if err != nil {
						if strings.HasPrefix(err.Error(), "status") {
							t.Errorf("round %d: %v", round, err)
						}
						return // the collector is gone
					}
					mu.Lock()
					acked[id] = true
					mu.Unlock()
				}
			})
		}
		time.Sleep(time.Duration(20+rng.IntN(400)) * time.Millisecond)
		if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		wg.Wait()
		p.cmd.Wait()
		mu.Lock()
		n = len(acked)
		mu.Unlock()
		if s := p.stderr.String(); strings.Contains(s, "panic") || strings.Contains(s, "level=ERROR") {
			t.Errorf("round %d: collector stderr:\n%s", round, s)
		}
	}
	ids := logIDs(t, data)
	lost := 0
	for id := range acked {
		if !ids[id] {
			lost++
		}
	}
	t.Logf("%d rounds: %d decisions acknowledged, %d in the log", *crashRounds, n, len(ids))
	if lost > 0 {
		t.Errorf("%d acknowledged decisions are not in the log", lost)
	}
	if n == 0 {
		t.Error("no decision was acknowledged at all")
	}
	// And it starts once more on the log the kills left.
	launch(t, "collect", "--config", cfg, "--addr", "127.0.0.1:0", "--data", data)
}

// TestStartRecovers: SIGTERM drains and exits 0; a torn last line is cut
// on the next start into decisions.jsonl.torn with a warning; a broken
// line in the middle stops start-up naming the line, leaving the log as
// it was.
func TestStartRecovers(t *testing.T) {
	t.Parallel()
	cfg, data, version := crashSite(t)
	args := []string{"collect", "--config", cfg, "--addr", "127.0.0.1:0", "--data", data}
	p := launch(t, args...)
	client := &http.Client{Timeout: 10 * time.Second}
	for i := range 3 {
		if _, err := postDecision(client, p.base, decisionJSON(version, i)); err != nil {
			t.Fatal(err)
		}
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	if err := p.cmd.Wait(); err != nil {
		t.Fatalf("collector after SIGTERM: %v\n%s", err, p.stderr)
	}
	logPath := filepath.Join(data, "decisions.jsonl")
	good, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	torn := []byte(`{"rec":{"v":1,"seq":4,"prev":"ab`)
	os.WriteFile(logPath, append(bytes.Clone(good), torn...), 0o600)

	p = launch(t, args...)
	warning := "chatconsent: warning: the log ended in an incomplete line (32 bytes, from a crash); moved to " + logPath + ".torn"
	// stderr is copied by its own goroutine: it may lag behind stdout.
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(p.stderr.String(), warning); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Errorf("no torn-tail warning:\n%s", p.stderr)
			break
		}
	}
	if b, err := os.ReadFile(logPath + ".torn"); err != nil || !bytes.Equal(b, torn) {
		t.Errorf(".torn = %q, %v; want the torn bytes", b, err)
	}
	if _, err := postDecision(client, p.base, decisionJSON(version, 4)); err != nil {
		t.Fatal(err)
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	p.cmd.Wait()
	if ids := logIDs(t, data); len(ids) != 4 {
		t.Errorf("%d records after recovery, want 4", len(ids))
	}

	// A changed byte in line 2 (its seq: from format version 2 on the
	// log holds no names to change).
	b, _ := os.ReadFile(logPath)
	bad := bytes.Replace(b, []byte(`"seq":2,`), []byte(`"seq":7,`), 1)
	if bytes.Equal(bad, b) {
		t.Fatal("line 2 not found")
	}
	os.WriteFile(logPath, bad, 0o600)
	// A clean stop may leave a signed snapshot (collector/snapshot; not
	// while receipts are still queued): a start from it reads only the
	// lines after it, by design (issue 13: start-up without re-reading
	// history), so the changed line 2 is what `chatconsent verify` finds,
	// and a start without the snapshot.
	if _, stderr, code := chatconsent(t, "verify", logPath); code == 0 || !strings.Contains(stderr, "line 2") {
		t.Errorf("verify of a log with a changed line 2: exit %d\n%s", code, stderr)
	}
	if err := os.Remove(filepath.Join(data, "private", "snapshot")); err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	stdout, stderr, code := chatconsent(t, args...)
	// Line 2 fails its signature, or, where the collector's last
	// checkpoint covers it (a trusted start checks those lines by the
	// checkpoint's root, not one by one), its sequence number.
	if code != 1 || !(strings.Contains(stderr, "line 2: signature does not match") || strings.Contains(stderr, "line 2: sequence number out of order")) || strings.Contains(stdout, "listening") {
		t.Errorf("start on a broken log: exit %d\n%s%s", code, stdout, stderr)
	}
	if after, _ := os.ReadFile(logPath); !bytes.Equal(after, bad) {
		t.Error("start-up changed a log it refused")
	}
	if _, err := os.Stat(logPath + ".torn.1"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a broken middle line was moved aside: %v", err)
	}
}
