package translog

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
	"golang.org/x/mod/sumdb/note"
)

// The witness the tests run: filippo.io/torchwood's litewitness, built with
// our Go from the module proxy.
const torchwood = "filippo.io/torchwood/cmd/%s@v0.6.1"

var (
	witnessBinOnce sync.Once
	witnessBin     string
	witnessBinErr  error
)

func witnessBinaries(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds litewitness; not in -short")
	}
	witnessBinOnce.Do(func() {
		dir, err := os.MkdirTemp("", "litewitness")
		if err != nil {
			witnessBinErr = err
			return
		}
		cmd := exec.Command("go", "install", fmt.Sprintf(torchwood, "litewitness"), fmt.Sprintf(torchwood, "witnessctl"))
		cmd.Env = append(os.Environ(), "GOBIN="+dir, "GOFLAGS=-mod=mod")
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			witnessBinErr = fmt.Errorf("go install litewitness: %v\n%s", err, out)
		}
		witnessBin = dir
	})
	if witnessBinErr != nil {
		t.Fatal(witnessBinErr)
	}
	return witnessBin
}

// litewitness is one running witness.
type litewitness struct {
	url, vkey string
	db        string
	bin       string
}

// startWitness runs a litewitness on loopback that knows the log origin
// with verifier key logVKey. Its key lives in an ssh-agent served by the
// test itself.
func startWitness(t *testing.T, name, origin, logVKey string) *litewitness {
	t.Helper()
	bin := witnessBinaries(t)
	dir, err := os.MkdirTemp("", "lw")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	kr := agent.NewKeyring()
	if err := kr.Add(agent.AddedKey{PrivateKey: priv}); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "a.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go agent.ServeAgent(kr, c)
		}
	}()
	sp, _ := ssh.NewPublicKey(priv.Public())
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := l.Addr().String()
	l.Close()
	db := filepath.Join(dir, "w.db")
	cmd := exec.Command(filepath.Join(bin, "litewitness"), "-db", db, "-name", name, "-ssh-agent", sock,
		"-key", ssh.FingerprintSHA256(sp), "-listen", addr)
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	vkeyRE := regexp.MustCompile(`vkey=(\S+)`)
	lines := bufio.NewScanner(stderr)
	var vkey string
	for lines.Scan() {
		if m := vkeyRE.FindStringSubmatch(lines.Text()); m != nil {
			vkey = strings.Trim(m[1], `"`)
		}
		if strings.Contains(lines.Text(), "listening") {
			break
		}
	}
	go func() {
		for lines.Scan() {
		}
	}()
	if vkey == "" {
		t.Fatal("litewitness printed no verifier key")
	}
	w := &litewitness{url: "http://" + addr, vkey: vkey, db: db, bin: bin}
	w.ctl(t, "add-log", "-origin", origin)
	w.ctl(t, "add-key", "-origin", origin, "-key", logVKey)
	return w
}

func (w *litewitness) ctl(t *testing.T, args ...string) {
	t.Helper()
	full := append([]string{args[0], "-db", w.db}, args[1:]...)
	if out, err := exec.Command(filepath.Join(w.bin, "witnessctl"), full...).CombinedOutput(); err != nil {
		t.Fatalf("witnessctl %v: %v\n%s", args, err, out)
	}
}

// TestWitnesses: checkpoints are cosigned by real witnesses over
// tlog-witness; verify demands the quorum; a witness refuses a fork signed
// with the log's own key, so the fork gets no cosigned checkpoint.
func TestWitnesses(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	k := testKey(t, dir)
	vkey, _ := VerifierKey(filepath.Join(dir, "checkpoint.vkey"))
	w1 := startWitness(t, "w1.example/witness", k.Verifier.Name(), vkey)
	w2 := startWitness(t, "w2.example/witness", k.Verifier.Name(), vkey)
	ws := []WitnessConfig{{URL: w1.url, Key: w1.vkey}, {URL: w2.url, Key: w2.vkey}}
	open := func(d string) *Log {
		l, err := Open(ctx, Options{Dir: filepath.Join(d, "log"), Key: k, Witnesses: ws, Quorum: 2,
			BatchMaxAge: 5 * time.Millisecond, CheckpointInterval: 100 * time.Millisecond, WitnessTimeout: 3 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	l := open(dir)
	feed(t, l, 0, 10)
	feed(t, l, 10, 300)
	p, err := l.Prove(ctx, 299)
	if err != nil {
		t.Fatal(err)
	}
	closeTest(t, l)
	var wv []note.Verifier
	for _, w := range ws {
		v, err := ParseWitnessKey(w.Key)
		if err != nil {
			t.Fatal(err)
		}
		wv = append(wv, v)
	}
	_, cp, err := VerifyProof(entry(299), p.Marshal(), k.Verifier, wv, 2)
	if err != nil {
		t.Fatalf("receipt proof with 2 cosignatures: %v", err)
	}
	if len(cp.Cosigners) != 2 {
		t.Fatalf("cosigners %v", cp.Cosigners)
	}
	src := DirSource(filepath.Join(dir, "log"))
	if _, err := VerifyLog(ctx, src, k.Verifier, VerifyOptions{Witnesses: wv, Quorum: 2}); err != nil {
		t.Fatalf("verify --witness w1 --witness w2: %v", err)
	}
	// A third witness that never saw the log cannot be in the quorum.
	_, stranger, _ := note.GenerateKey(rand.Reader, "w3.example/witness")
	sv, _ := ParseWitnessKey(stranger)
	if _, err := VerifyLog(ctx, src, k.Verifier, VerifyOptions{Witnesses: append(wv[:1:1], sv), Quorum: 2}); !errors.Is(err, ErrQuorum) {
		t.Fatalf("quorum with an unknown witness: %v, want ErrQuorum", err)
	}

	// A fork: the same key signs another history in another folder. The
	// witnesses hold size 300 of the real log and refuse its checkpoints.
	fdir := t.TempDir()
	f := openTest(t, fdir, k) // first without witnesses
	for i := uint64(0); i < 400; i++ {
		e := entry(i)
		if i == 5 {
			e = []byte(`{"forked":true}`)
		}
		if err := f.Feed(i, e); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	closeTest(t, f)
	f = open(fdir) // now with the witnesses: they get the fork's checkpoints
	feed(t, f, 400, 450)
	wctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if _, err := f.AwaitCheckpoint(wctx, 449); err == nil {
		t.Fatal("the fork got a checkpoint cosigned by witnesses that hold the real log")
	}
	// Tessera publishes no checkpoint the witnesses refused: the fork's
	// stays the unwitnessed one of size 400.
	raw, _ := DirSource(filepath.Join(fdir, "log")).ReadCheckpoint(ctx)
	if c, err := OpenCheckpoint(raw, k.Verifier, wv, 0); err != nil || c.Size != 400 || len(c.Cosigners) != 0 {
		t.Fatalf("the fork's published checkpoint: %+v, %v", c, err)
	}
	cctx, cancel2 := context.WithTimeout(ctx, time.Second)
	defer cancel2()
	f.Close(cctx)
}
