package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/chatconsent/chatconsent/collector"
	"github.com/chatconsent/chatconsent/collector/console"
	"github.com/chatconsent/chatconsent/collector/ledger"
	"github.com/chatconsent/chatconsent/generator"
	"github.com/chatconsent/chatconsent/internal/config"
	"github.com/chatconsent/chatconsent/internal/heapgoal"
	"github.com/chatconsent/chatconsent/internal/procs"
)

func runCollect(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("collect", stderr)
	cfgPath := fs.String("config", "config.toml", "site configuration `file`")
	addr := fs.String("addr", "", "listen `host:port` (default: collector.listen from the config)")
	data := dataFlag(fs)
	noGroup := fs.Bool("no-group-commit", false, "one fsync per decision instead of one per batch (for benchmarks only: much slower)")
	noTlog := fs.Bool("no-tlog", false, "do not feed the transparency log: the JSONL file only, receipts without inclusion proof (for benchmarks only: the baseline of bench/load.sh)")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	if *addr == "" {
		*addr = cfg.Collector.Listen
	}
	if *addr, err = listenAddr("collect: --addr", *addr); err != nil {
		return err
	}
	if os.Getenv("GOGC") == "" {
		// The collector's memory is what a small VPS pays for: the heap
		// may grow 8 MiB above its live data, or half of it when that is
		// less (GOGC=50: a few per cent of peak throughput for about a
		// fifth less memory under load). At 500,000 people the live data
		// are about 43 MiB, mostly slices without pointers, cheap to
		// collect often (bench/README.md, "Start-up memory").
		heapgoal.Keep(ctx, 8<<20, 10, 50, 100*time.Millisecond)
	}
	// Two Ps per CPU: the handlers run while fsyncs hold Ps (package
	// procs; bench/README.md, "More Ps than CPUs"). GOMAXPROCS overrides.
	procs.Scale(2)
	urls, err := generator.PageURLs(cfg)
	if err != nil {
		return err
	}
	consent := map[string]string{}
	for l, m := range urls {
		consent[l] = cfg.SiteURL(m["consent"])
	}
	policy, err := siteURLs(cfg, "policy")
	if err != nil {
		return err
	}
	withdrawal, err := siteURLs(cfg, "withdrawal")
	if err != nil {
		return err
	}
	return startCollector(ctx, cfg, collector.Setup{DataDir: *data, ConsentURLs: consent, PolicyURLs: policy, WithdrawalURLs: withdrawal, NoGroupCommit: *noGroup, NoTlog: *noTlog}, *addr, false, nil, stdout, stderr)
}

// stoppedLine says what this run wrote: the log's lines are decisions,
// withdrawals and invite openings alike, so they are counted as records.
func stoppedLine(records, syncs uint64) string {
	return fmt.Sprintf("%s written to the log (decisions, withdrawals, invite openings) with %s", count(records, "record"), count(syncs, "fsync"))
}

// startCollector listens on addr, opens the collector and serves until ctx
// ends. If sameOrigin, the collector's public URL is the listen address and
// wrap adds the static site around the collector's handler.
func startCollector(ctx context.Context, cfg *config.Config, st collector.Setup, addr string, sameOrigin bool, wrap func(*collector.Server, http.Handler) http.Handler, stdout, stderr io.Writer) error {
	st.Logger = slog.New(slog.NewTextHandler(stderr, nil))
	ln, err := net.Listen("tcp", addr)
	if errors.Is(err, syscall.EADDRINUSE) {
		return &hintError{fmt.Errorf("listen: %w", err), fmt.Sprintf("another program already listens on %s: is chatconsent serve or collect running already (stop it with Ctrl-C, or systemctl stop chatconsent)? Or give another port with --addr, e.g. --addr 127.0.0.1:8081", addr)}
	}
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	defer ln.Close()
	if sameOrigin {
		st.PublicURL = "http://" + ln.Addr().String() + "/"
	}
	srv, info, err := collector.Open(cfg, st)
	if err != nil {
		return notMigrated(err, filepath.Join(cfg.Dir, "config.toml"), st.DataDir)
	}
	defer srv.Close()
	if err := console.Attach(srv); err != nil {
		fmt.Fprintf(stderr, "chatconsent: warning: the owner console is off: %v\n", err)
	}
	if info.KeyCreated {
		fmt.Fprintf(stdout, "created a new signing key\n")
	}
	fmt.Fprintf(stdout, "public key SHA256:%s (%s)\n", ledger.Fingerprint(info.Public), info.Paths.SigningPublicKey)
	if info.MissingReceipts > 0 {
		fmt.Fprintf(stderr, "chatconsent: warning: %d recorded decisions had no receipt yet (the collector stopped before making them); making them now\n", info.MissingReceipts)
	}
	if info.Recovery.TornBytes > 0 {
		fmt.Fprintf(stderr, "chatconsent: warning: the log ended in an incomplete line (%d bytes, from a crash); moved to %s\n", info.Recovery.TornBytes, info.Recovery.TornPath)
	}
	if info.Recovery.Newline {
		fmt.Fprintf(stderr, "chatconsent: warning: the log's last record lacked its final newline; added it (the record is kept)\n")
	}
	if info.Recovery.Pending != nil {
		fmt.Fprintf(stderr, "chatconsent: warning: the log needs a repair that could not be written: %v; decisions are refused (503) until there is space, /healthz says so\n", info.Recovery.Pending)
	}
	fmt.Fprintf(stdout, "log %s: %s\n", info.Paths.Log, count(info.Records, "record"))
	if info.Snapshot > 0 {
		fmt.Fprintf(stdout, "  %s taken from the collector's signed snapshot, not read again (chatconsent verify checks the whole log)\n", count(info.Snapshot, "record"))
	}
	if info.Trusted > 0 {
		fmt.Fprintf(stdout, "  %s proven by the transparency log's last checkpoint (their signatures are checked by chatconsent verify)\n", count(info.Trusted, "entry", "entries"))
	}
	if l := cfg.Collector.Limits; l.RatePerMinute > 0 {
		fmt.Fprintf(stdout, "rate limit: %d decisions per minute per client, bursts of %d\n", l.RatePerMinute, l.RateBurst)
	} else {
		fmt.Fprintf(stdout, "rate limit: off (collector.rate_per_minute = 0)\n")
	}
	if st.NoTlog {
		fmt.Fprintf(stderr, "chatconsent: warning: --no-tlog: the transparency log is not fed, receipts carry no inclusion proof (benchmark mode)\n")
	}
	if st.NoGroupCommit {
		fmt.Fprintf(stderr, "chatconsent: warning: --no-group-commit: one fsync per decision (benchmark mode)\n")
	}
	if info.InviteKey != "" {
		fmt.Fprintf(stdout, "personal invite links checked with %s\n", info.InviteKey)
	} else {
		fmt.Fprintf(stdout, "personal invite links are off (no invite.pub; see chatconsent keygen --invite)\n")
	}
	h := srv.Handler()
	if wrap != nil {
		h = wrap(srv, h)
	}
	// The owner's CLI reaches the log's only writer through a socket in
	// the data folder (chatconsent withdraw).
	octx, ocancel := context.WithCancel(ctx)
	defer ocancel()
	ownerDone := make(chan struct{})
	if oln, err := collector.ListenOwner(info.Paths.Data); err != nil {
		fmt.Fprintf(stderr, "chatconsent: warning: %v; chatconsent withdraw works only while the collector is stopped\n", err)
		close(ownerDone)
	} else {
		go func() {
			defer close(ownerDone)
			if err := collector.Serve(octx, oln, srv.OwnerHandler()); err != nil {
				fmt.Fprintf(stderr, "chatconsent: warning: owner socket: %v\n", err)
			}
		}()
	}
	if cfg.Retention.Auto {
		// Erase what retention.proof_years says is due: a minute after
		// start, then once a day.
		go srv.RunRetention(octx, time.Minute, 24*time.Hour)
		fmt.Fprintf(stdout, "retention: personal data erased %s after the end of the year of a person's last event, unless a grant is in force (checked daily)\n", count(uint64(cfg.Retention.ProofYears), "year"))
	}
	fmt.Fprintf(stdout, "listening on http://%s/\n", ln.Addr())
	err = collector.Serve(ctx, ln, h)
	ocancel()
	<-ownerDone
	n, syncs := srv.LogStats()
	fmt.Fprintf(stdout, "stopped: %s\n", stoppedLine(n, syncs))
	return err
}
