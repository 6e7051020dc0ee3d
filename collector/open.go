package collector

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/chatconsent/chatconsent/collector/invite"
	"github.com/chatconsent/chatconsent/collector/ledger"
	"github.com/chatconsent/chatconsent/collector/logfeed"
	"github.com/chatconsent/chatconsent/collector/private"
	snapfile "github.com/chatconsent/chatconsent/collector/snapshot"
	"github.com/chatconsent/chatconsent/collector/translog"
	"github.com/chatconsent/chatconsent/internal/config"
	"github.com/chatconsent/chatconsent/internal/durable"
	"github.com/chatconsent/chatconsent/internal/records"
	"github.com/chatconsent/chatconsent/proof"
	"github.com/chatconsent/chatconsent/themes"
)

// Setup is what [Open] needs besides the config.
type Setup struct {
	// DataDir is the --data flag: "" for collector.data_dir; see
	// config.Config.Paths.
	DataDir string
	// ArchiveDir overrides site.archive (serve's scratch archive).
	ArchiveDir  string
	PublicURL   string // default cfg.Collector.PublicURL
	ConsentURLs map[string]string
	PolicyURLs  map[string]string
	// WithdrawalURLs maps language → the static withdrawal page, for the
	// "back" link of its error pages.
	WithdrawalURLs map[string]string
	Logger         *slog.Logger
	Now            func() time.Time
	// Mail tunes the receipt mailer (used only with an [smtp] table).
	Mail MailerOptions
	// NoGroupCommit makes every decision its own write and fsync
	// (ledger.Options.MaxBatch 1): the baseline the load benchmark compares
	// group commit with. Never useful in production.
	NoGroupCommit bool
	// NoTlog leaves the transparency log out: decisions go to the JSONL
	// file only, receipts carry no inclusion proof, nothing is served under
	// /log/. It is the baseline bench/load.sh compares the fed log with
	// (issue 13: ≥ 0.7× of it). Never useful in production.
	NoTlog bool
	// LogVersion, if not 0, is the decisions log's format version
	// appended (ledger.FormatV1 or ledger.FormatVersion); only version-2
	// lines go to the transparency log.
	LogVersion int
}

// Started reports what [Open] found or did on the way.
type Started struct {
	// Paths are the files the collector uses.
	Paths      config.Paths
	KeyCreated bool
	Public     ed25519.PublicKey
	Records    uint64
	Recovery   ledger.Recovery
	// InviteKey is the invite public key file in use, or "" when personal
	// invite links are off (no key found).
	InviteKey string
	// MissingReceipts counts recorded decisions and withdrawals whose
	// receipt (and mail) a crash left unmade; they are made again now.
	MissingReceipts int
	// TlogCaughtUp counts the entries the transparency log lacked at
	// start and got from the decisions log.
	TlogCaughtUp uint64
	// Trusted counts the log's lines proven at start by the transparency
	// log's own last checkpoint (its root) instead of their signatures.
	Trusted uint64
	// Snapshot counts the log's lines the collector's snapshot stood for
	// (not read at start); 0 when the whole log was read.
	Snapshot uint64
}

// Open prepares everything a collector needs: the data directory, the
// signing key (generated on first start), the log (verified, torn tail cut),
// the theme and the receipt template. Problems with any of them are errors
// now rather than at the first decision. Close the server when done.
func Open(cfg *config.Config, st Setup) (*Server, Started, error) {
	var info Started
	paths := cfg.Paths(st.DataDir)
	if st.ArchiveDir != "" {
		paths.Archive = st.ArchiveDir
	}
	info.Paths = paths
	// A signing key is created only on first setup, never beside a
	// mistyped --data path (see checkDataDir).
	if err := checkDataDir(paths.Data, cfg.Collector.DataDir); err != nil {
		return nil, info, err
	}
	if err := os.MkdirAll(paths.Data, 0o700); err != nil {
		return nil, info, fmt.Errorf("data directory: %w", err)
	}
	priv, created, err := ledger.LoadOrCreateKey(paths.SigningKey, paths.SigningPublicKey)
	if err != nil {
		return nil, info, err
	}
	info.KeyCreated = created
	info.Public = priv.Public().(ed25519.PublicKey)
	theme, err := themes.LoadSite(cfg.Dir, cfg.Site.DefaultLanguage)
	if err != nil {
		return nil, info, err
	}
	if err := theme.SetBrandColor(cfg.Site.BrandColor); err != nil {
		return nil, info, err
	}
	if err := theme.SetLogo(cfg.Site.Logo); err != nil {
		return nil, info, err
	}
	stamper, err := proof.NewStamper(cfg)
	if err != nil {
		return nil, info, err
	}
	mailer, err := OpenMailer(cfg, paths.Outbox, theme, st.Logger, st.Mail)
	if err != nil {
		return nil, info, err
	}
	inviteKey, inviteKeyPath, err := loadInviteKey(paths)
	if err != nil {
		return nil, info, err
	}
	info.InviteKey = inviteKeyPath
	// The log is folded while it is verified: used invites and decisions
	// come from the log itself.
	// Receipts (and their mails) are made after the answer, so a crash can
	// leave a recorded decision without them: the log is the source of
	// truth, and every decision or withdrawal whose receipt is missing is
	// made again after start.
	// A crash between a receipt's temporary file and its rename leaves the
	// temporary file: nothing else removes it. Listing DATA/receipts (one
	// file per decision) takes a noticeable part of a start, so it is done
	// after it (removeOldTemps), for the files older than this moment. The
	// file system's clock, not st.Now's.
	started := time.Now()
	// A crash while the snapshot (about 37 MB at 500,000 decisions) or a
	// private file was being replaced leaves its temporary file in
	// DATA/private, which only this collector writes.
	if err := durable.RemoveTemps(paths.Private); err != nil {
		startLogger(st).Warn("unfinished files in the private folder not removed", "err", err)
	}
	// The snapshot (snapstate.go), if good, stands for the lines up to
	// its head: only those after it are read. Whatever is wrong with it,
	// the whole log is folded instead. It holds the private store's state
	// too (read from it, the store reads only the lines after it).
	var snap *snapfile.State
	var snapIndex *records.Index
	var snapFile *snapfile.File
	useSnap := !st.NoTlog && (st.LogVersion == 0 || st.LogVersion == ledger.FormatVersion)
	if useSnap {
		if snapFile, err = readSnapshot(paths, info.Public); err != nil {
			startLogger(st).Warn("snapshot not used; the whole log is read", "err", err)
		}
	}
	var vaultState *io.SectionReader
	if snapFile != nil {
		snap, vaultState = &snapFile.State, snapFile.Private()
	}
	// The private store and the index are decoded at the same time (on
	// two cores about half a second less at 500,000 people), each as a
	// stream of its part of the snapshot file.
	var vault *private.Store
	var verr error
	opened := make(chan struct{})
	go func() {
		defer close(opened)
		vault, verr = private.Open(paths.Private, private.Options{FromStream: vaultState, Spill: true})
	}()
	if snap != nil {
		if snapIndex, err = snapshotIndex(snapFile, cfg.PurposeIDs(), paths.Private); err != nil {
			startLogger(st).Warn("snapshot not used; the whole log is read", "err", err)
			snap = nil
		}
	}
	<-opened
	if snapFile != nil {
		snapFile.Close()
		snapFile.State.Index, snapFile.State.Private = nil, nil // a form 1 or 2 read whole: not kept
	}
	if verr != nil {
		if mailer != nil {
			mailer.Close()
		}
		return nil, info, verr
	}
	if err := vault.StateRefused(); err != nil {
		startLogger(st).Warn("the snapshot's private store state not used; the private store is read whole", "err", err)
	}
	var r *replay
	var feed *logfeed.Store
	var log *ledger.Log
	var rec ledger.Recovery
	var lo ledger.Options
	for {
		r = newReplay(cfg, paths, vault, snap, snapIndex, startLogger(st))
		lo = r.options()
		if st.NoGroupCommit {
			lo.MaxBatch = 1
		}
		if st.LogVersion != 0 {
			lo.Version = st.LogVersion
		}
		feed, log, rec, err = openLogs(cfg, st, paths, priv, &lo, snap)
		if err == nil || snap == nil {
			break
		}
		startLogger(st).Warn("snapshot not used (the log after it does not fit); the whole log is read", "err", err)
		if log != nil {
			log.Close()
		}
		if snapIndex != nil {
			snapIndex.Close()
		}
		snap, snapIndex = nil, nil
	}
	book := r.book
	backlog, erasures, v1 := r.backlog, r.erasures, r.v1
	if log != nil {
		r.at = log.Head()
		if snap != nil && r.at.Count == snap.Head.Count {
			backlog = nil // nothing after the snapshot, whose receipts were all made
		}
	}
	info.MissingReceipts = r.missing
	// undo closes what was opened, for a start that fails before the
	// server owns it all (after New, Server.Close does it).
	undo := func() {
		if log != nil {
			log.Close()
		}
		if feed != nil {
			closeTlog(feed.Log())
		}
		vault.Close()
		if mailer != nil {
			mailer.Close()
		}
	}
	if err != nil {
		undo()
		return nil, info, err
	}
	if v1 && lo.Version != ledger.FormatV1 {
		undo()
		return nil, info, fmt.Errorf("%s: %w", paths.Log, ErrNotMigrated)
	}
	if feed != nil {
		info.TlogCaughtUp = feed.CaughtUp()
	}
	if lo.Trust != nil {
		info.Trusted = lo.Trust.Entries
	}
	if snap != nil {
		info.Snapshot = snap.Head.Count
	}
	info.Recovery = rec
	info.Records = log.Head().Count
	o := Options{
		Config: cfg, Paths: paths, PublicURL: st.PublicURL,
		ConsentURLs: st.ConsentURLs, Log: log, Feed: feed, Private: vault, Signer: priv, Theme: theme, Stamper: stamper,
		Now: st.Now, Logger: st.Logger, ReceiptTTL: cfg.Receipt.LinkTTL,
		Book: book, InviteKey: inviteKey, PolicyURLs: st.PolicyURLs, WithdrawalURLs: st.WithdrawalURLs,
	}
	if mailer != nil {
		o.Deliver = mailer
	}
	if useSnap {
		o.snap = &snapState{path: snapshotPath(paths), priv: priv, folded: r.at, last: r.last, erasures: r.snapErasures()}
	}
	s, err := New(o)
	if err != nil {
		undo()
		return nil, info, err
	}
	if useSnap {
		if r.tailErasures > 0 {
			// The snapshot was taken before these erasures: it holds the
			// data of the people they erased.
			if err := s.dropSnapshot(); err != nil {
				s.Close()
				return nil, info, fmt.Errorf("remove the snapshot before the erasures after it: %w", err)
			}
		}
	}
	// The log is the erasure list: every erasure in it is carried out
	// again, which finishes one a crash cut short and deletes what a
	// restored older backup of private/, receipts/ or outbox/ brought
	// back. Only then does the mailer start, so no restored mail of an
	// erased person goes out.
	for i := range erasures {
		if err := s.finishErasure(&erasures[i], r.v1Lines(feed)); err != nil {
			s.Close()
			return nil, info, err
		}
	}
	if s.snap != nil {
		s.startSnapshots(SnapshotEvery)
	}
	if mailer != nil {
		mailer.Start()
		s.startDigest(s.receipts.stop)
	}
	if backlog != nil {
		s.receipts.markBacklog(*backlog)
	}
	s.removeOldTemps(started)
	return s, info, nil
}

// tempMargin is how much older than the start a receipt's temporary file
// must be to be removed by removeOldTemps: file times come from a coarse
// clock (a few milliseconds behind), and a receipt written right after the
// start must not lose its file. A crash's leftover younger than that stays
// until the next start.
const tempMargin = 2 * time.Second

// removeOldTemps removes, in the background (Close waits for it), the
// receipts' temporary files a crash before start left.
func (s *Server) removeOldTemps(started time.Time) {
	dir := s.o.Paths.Receipts
	s.receipts.wg.Go(func() {
		if err := durable.RemoveTempsBefore(dir, started.Add(-tempMargin)); err != nil {
			s.o.Logger.Warn("unfinished receipts not removed", "err", err)
		}
	})
}

func startLogger(st Setup) *slog.Logger {
	if st.Logger != nil {
		return st.Logger
	}
	return slog.Default()
}

// openRecord fills a version-2 record's personal fields from the private
// store (records.Open) and returns its disclosures (nil for a version-1
// record or one whose openings were erased).
func openRecord(vault *private.Store, rec *ledger.Record) ([]string, error) {
	if vault == nil || rec.SD == nil || rec.Subject != nil {
		return nil, nil
	}
	ds, err := vault.Disclosures(rec.ID)
	if err == nil {
		if err := ledger.Disclose(rec, ds); err != nil {
			return nil, fmt.Errorf("private store: record %s: %w", rec.ID, err)
		}
		return ds, nil
	}
	if eid, ok := vault.Erased(rec.ID); ok {
		rec.Subject = &ledger.Subject{Phone: records.ErasedPrefix + eid}
	}
	return nil, nil
}

// tlogOptions turns [log] into the transparency log's options: the data
// folder's log/, or with log.storage = "aws" the bucket and database, the
// database password from getenv(config.MySQLPasswordEnv).
func tlogOptions(lc config.Log, paths config.Paths, key translog.Key, getenv func(string) string) (translog.Options, error) {
	to := translog.Options{Dir: paths.Transparency, Key: key, Quorum: lc.WitnessQuorum}
	if a := lc.AWS; lc.Storage == config.StorageAWS && a != nil {
		dsn, err := a.DSN(getenv)
		if err != nil {
			return to, err
		}
		to.AWS = &translog.AWSOptions{Bucket: a.Bucket, Prefix: a.Prefix, Endpoint: a.Endpoint, Region: a.Region, DSN: dsn}
	}
	if lc.TimestampURL != "" {
		if to.AWS != nil {
			// The time-stamp tokens are files beside the tiles (timestamp/N.tsr);
			// the bucket driver has no place for them yet.
			return to, errors.New("log.timestamp_url: time-stamps need log.storage = \"posix\" for now (the AWS driver keeps no files of ours)")
		}
		roots, err := translog.ReadRoots(lc.TimestampRoots)
		if err != nil {
			return to, fmt.Errorf("log.timestamp_roots: %w", err)
		}
		to.Timestamp = translog.TimestampOptions{URL: lc.TimestampURL, Roots: roots}
	}
	for _, w := range lc.Witnesses {
		to.Witnesses = append(to.Witnesses, translog.WitnessConfig{URL: w.URL, Key: w.Key})
	}
	return to, nil
}

// openLogs opens the decisions log (DATA/decisions.jsonl) through a store
// that feeds its version-2 lines to the transparency log (DATA/log, signed
// with DATA/checkpoint.key, created on first start, named after the public
// URL), which is caught up from the file first.
func openLogs(cfg *config.Config, st Setup, paths config.Paths, priv ed25519.PrivateKey, lo *ledger.Options, snap *snapfile.State) (*logfeed.Store, *ledger.Log, ledger.Recovery, error) {
	if st.NoTlog {
		fs, err := ledger.OpenFileStore(paths.Log, ledger.FileOptions{Sync: lo.Sync, Write: lo.Write})
		if err != nil {
			return nil, nil, ledger.Recovery{}, err
		}
		log, rec, err := ledger.New(fs, ledger.NewSigner(priv), *lo)
		if err != nil {
			fs.Close()
			return nil, nil, rec, fmt.Errorf("%s: %w", paths.Log, err)
		}
		return nil, log, rec, nil
	}
	publicURL := st.PublicURL
	if publicURL == "" {
		publicURL = cfg.Collector.PublicURL
	}
	origin, err := translog.Origin(publicURL)
	if err != nil {
		return nil, nil, ledger.Recovery{}, err
	}
	key, _, err := translog.LoadOrCreateKey(paths.CheckpointKey, paths.CheckpointVerifierKey, origin)
	if err != nil {
		return nil, nil, ledger.Recovery{}, err
	}
	to, err := tlogOptions(cfg.Log, paths, key, os.Getenv)
	if err != nil {
		return nil, nil, ledger.Recovery{}, err
	}
	to.Logger = st.Logger
	tl, err := translog.Open(context.Background(), to)
	if err != nil {
		return nil, nil, ledger.Recovery{}, err
	}
	// Trusted start (issue 13, step 7): the lines the log's own last
	// checkpoint covers are proven by its root, one signature for all of
	// them; only the lines after it have their signatures checked. A log
	// that does not extend that checkpoint does not open.
	// With a snapshot, the lines up to its head are not read at all (see
	// snapstate.go); those after it have their signatures checked.
	fo := ledger.FileOptions{Sync: lo.Sync, Write: lo.Write}
	if snap != nil {
		h := snap.Head
		lo.From, fo.From = &h, &h
	} else {
		cp, err := tl.LastCheckpoint(context.Background())
		if err != nil {
			closeTlog(tl)
			return nil, nil, ledger.Recovery{}, err
		}
		if cp != nil && cp.Size > 0 {
			lo.Trust = &ledger.Trust{Entries: cp.Size, Root: cp.Hash}
		}
	}
	path := paths.Log
	fs, err := ledger.OpenFileStore(path, fo)
	if err != nil {
		closeTlog(tl)
		return nil, nil, ledger.Recovery{}, err
	}
	feed := logfeed.New(fs, tl, st.Logger)
	if snap != nil {
		feed.Resume(snap.Head, snap.V1, snap.V2)
	}
	log, rec, err := ledger.New(feed, ledger.NewSigner(priv), *lo)
	if err != nil {
		fs.Close()
		closeTlog(tl)
		return nil, nil, rec, fmt.Errorf("%s: %w", path, err)
	}
	return feed, log, rec, nil
}

// TlogDir is the transparency log's folder inside the data directory
// (config.Paths.Transparency), served read-only under PUBLIC_URL/log/.
const TlogDir = config.TransparencyDir

// closeTlog closes the transparency log, waiting up to 3 s for a
// checkpoint covering what was fed (what it misses is fed on next start).
func closeTlog(tl *translog.Log) error {
	// Short: SIGTERM must end within 5 s (systemd kills at 20 s), and
	// what is not yet integrated is fed again from the file on start.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	return tl.Close(ctx)
}

// LogStats reports the records appended since start and the fsyncs
// that took (see ledger.Log.Stats).
func (s *Server) LogStats() (records, syncs uint64) { return s.log.Stats() }

// Close stops the receipt workers, writes the snapshot (so the next start
// reads only what comes after), closes the log after the appends in
// flight, and stops the mailer (waiting mails stay in the outbox).
func (s *Server) Close() error {
	s.stopReceipts()
	s.stopSnapshots()
	if err := s.writeSnapshot(); err != nil {
		s.o.Logger.Warn("no snapshot written; the next start reads the whole log", "err", err)
	}
	err := s.log.Close()
	if s.o.Private != nil {
		s.o.Private.Close()
	}
	if s.o.Feed != nil {
		if terr := closeTlog(s.o.Feed.Log()); terr != nil && err == nil {
			err = fmt.Errorf("transparency log: %w", terr)
		}
	}
	if c, ok := s.o.Deliver.(io.Closer); ok {
		c.Close()
	}
	return err
}

// ShutdownGrace is how long [Serve] lets requests in flight finish after
// its context ends: with the receipt workers' stop (one receipt, a few
// milliseconds) the collector exits within 5 s of SIGTERM, well before
// systemd's TimeoutStopSec. Receipts not yet made are left to the next
// start.
const ShutdownGrace = 4 * time.Second

// Serve serves h on ln until ctx ends, then stops accepting, lets requests
// in flight finish (up to [ShutdownGrace]) and returns. The timeouts and header limit
// keep slow or oversized clients from holding the server.
func Serve(ctx context.Context, ln net.Listener, h http.Handler) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    16 << 10,
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), ShutdownGrace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
		return fmt.Errorf("stop: requests still in flight after %s were cut: %w", ShutdownGrace, err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// loadInviteKey reads the invite public key: invite.public_key from the
// config (which must exist), else invite.pub in the data directory if it
// is there. No key means personal invite links are off.
func loadInviteKey(p config.Paths) (ed25519.PublicKey, string, error) {
	path := p.InvitePublicKey
	if !p.InvitePublicKeySet {
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			return nil, "", nil
		}
	}
	pub, err := invite.ReadPublicKey(path)
	if err != nil {
		return nil, "", fmt.Errorf("invite.public_key: %w", err)
	}
	return pub, path, nil
}
