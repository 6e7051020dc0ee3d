package main

import (
	"context"
	"crypto/x509"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/chatconsent/chatconsent/collector/ledger"
	"github.com/chatconsent/chatconsent/collector/translog"
	"github.com/chatconsent/chatconsent/internal/config"
	"golang.org/x/mod/sumdb/note"
)

// listFlag collects a repeated flag's values.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// isTlog says whether loc names a transparency log: a URL, or a folder
// with a checkpoint in it or in its log folder.
func isTlog(loc string) bool {
	if strings.HasPrefix(loc, "http://") || strings.HasPrefix(loc, "https://") {
		return true
	}
	st, err := os.Stat(loc)
	return err == nil && st.IsDir()
}

// tlogFlags are verify's and mirror's flags for transparency logs.
type tlogFlags struct {
	vkey      *string
	older     listFlag
	witnesses listFlag
	quorum    *int
	tsRoots   *string // nil for mirror
}

// timestampRoots returns the time-stamp roots to check tokens against:
// --timestamp-roots, or log.timestamp_roots of the config (explicit is
// false then); nil if neither.
func timestampRoots(tf *tlogFlags, cfgPath string) (roots *x509.CertPool, from string, explicit bool, err error) {
	if tf.tsRoots != nil && *tf.tsRoots != "" {
		r, err := translog.ReadRoots(*tf.tsRoots)
		return r, *tf.tsRoots, true, err
	}
	if c, err := config.Load(cfgPath); err == nil && c.Log.TimestampRoots != "" {
		r, err := translog.ReadRoots(c.Log.TimestampRoots)
		return r, c.Log.TimestampRoots, false, err
	}
	return nil, "", false, nil
}

// printStamp says what a verified time-stamp shows.
func printStamp(w io.Writer, indent string, st *translog.Stamp, roots string) {
	q := ""
	if st.Qualified {
		q = ", qualified"
	}
	fmt.Fprintf(w, "%stime-stamped: the checkpoint of %s existed at %s (RFC 3161 token by %s, policy %s%s; checked against %s)\n",
		indent, count(st.Size, "entry", "entries"), st.Time.UTC().Format(time.RFC3339), st.TSA, st.Policy, q, roots)
}

// checkpointVerifier finds the checkpoint verifier key: --checkpoint-key, or
// checkpoint.vkey in the folder, beside it, or in the config's data folder.
func checkpointVerifier(flagVal, loc, cfgPath string) (note.Verifier, error) {
	if flagVal != "" {
		return translog.ParseVerifier(flagVal)
	}
	var cands []string
	if !strings.Contains(loc, "://") {
		cands = append(cands, filepath.Join(loc, config.CheckpointVerifierKeyFile), filepath.Join(filepath.Dir(filepath.Clean(loc)), config.CheckpointVerifierKeyFile))
	}
	if c, err := config.Load(cfgPath); err == nil {
		cands = append(cands, c.Paths("").CheckpointVerifierKey)
	}
	for _, c := range cands {
		if _, err := os.Stat(c); err == nil {
			return translog.ParseVerifier(c)
		}
	}
	return nil, &hintError{fmt.Errorf("no checkpoint verifier key for %s", loc),
		"give the log's verifier key (printed by chatconsent keygen and doctor, name+hash+base64) with --checkpoint-key KEY or FILE"}
}

// verifyTlog checks a transparency log (a folder, a copy, a URL) fully:
// checkpoint, witnesses, every entry's signature and number, every tile,
// older checkpoints.
func verifyTlog(loc, keyPath, cfgPath string, tf *tlogFlags, stdout io.Writer) error {
	ctx := context.Background()
	v, err := checkpointVerifier(*tf.vkey, loc, cfgPath)
	if err != nil {
		return err
	}
	src, err := translog.OpenSource(loc, nil)
	if err != nil {
		return err
	}
	var ws []note.Verifier
	for _, w := range tf.witnesses {
		wv, err := translog.ParseWitnessKey(w)
		if err != nil {
			return err
		}
		ws = append(ws, wv)
	}
	q := *tf.quorum
	if q < 0 {
		q = len(ws)
	}
	if q > len(ws) {
		return usageError("verify: --quorum %d but %d --witness keys given", q, len(ws))
	}
	var older [][]byte
	for _, o := range tf.older {
		b, err := translog.ReadCheckpointFile(o)
		if err != nil {
			return err
		}
		older = append(older, b)
	}
	// Each entry is a signed line of the log: check its signature with the
	// collector's key (when found) and that its number is its index + 1.
	if keyPath == "" && !strings.Contains(loc, "://") {
		var cfg *config.Config
		if c, err := config.Load(cfgPath); err == nil {
			cfg = c
		}
		keyPath = defaultKey(filepath.Join(loc, "x"), cfg)
	}
	var check func(uint64, []byte) error
	signed := false
	if keyPath != "" {
		if pub, err := ledger.ReadPublicKey(keyPath); err == nil {
			signed = true
			check = func(i uint64, e []byte) error {
				rec, err := ledger.ParseLine(e, pub)
				if err != nil {
					return err
				}
				if rec.Seq != i+1 {
					return fmt.Errorf("holds record number %d, want %d (entry index + 1)", rec.Seq, i+1)
				}
				return nil
			}
		}
	}
	roots, rootsFrom, _, err := timestampRoots(tf, cfgPath)
	if err != nil {
		return err
	}
	var n atomic.Uint64
	start := time.Now()
	rep, err := translog.VerifyLog(ctx, src, v, translog.VerifyOptions{Older: older, Witnesses: ws, Quorum: q, TimestampRoots: roots,
		Entry: func(i uint64, e []byte) error {
			n.Add(1)
			if check != nil {
				return check(i, e)
			}
			return nil
		}})
	if err != nil {
		return fmt.Errorf("verify %s: %w", loc, err)
	}
	d := time.Since(start)
	rate := ""
	if d > 0 && rep.Entries > 0 {
		rate = fmt.Sprintf(", %.0f entries/s", float64(rep.Entries)/d.Seconds())
	}
	fmt.Fprintf(stdout, "%s: OK, transparency log %s, %s, %d tiles, checkpoint %s%s\n", loc, rep.Checkpoint.Origin, count(rep.Entries, "entry", "entries"), rep.Tiles, short8(rep.Checkpoint.Hash), rate)
	if signed {
		fmt.Fprintf(stdout, "  every entry's signature checked with %s\n", keyPath)
	} else {
		fmt.Fprintf(stdout, "  entries' signatures NOT checked (no public key; give --key signing.pub)\n")
	}
	if len(rep.Checkpoint.Cosigners) > 0 {
		fmt.Fprintf(stdout, "  cosigned by %s (quorum %d)\n", strings.Join(rep.Checkpoint.Cosigners, ", "), q)
	}
	for _, s := range rep.Older {
		fmt.Fprintf(stdout, "  extends the older checkpoint of size %d\n", s)
	}
	if rep.Timestamp != nil {
		printStamp(stdout, "  ", rep.Timestamp, rootsFrom)
	}
	return nil
}

func short8(b []byte) string {
	s := fmt.Sprintf("%x", b)
	if len(s) > 16 {
		s = s[:16]
	}
	return s
}

// runMirror copies the transparency log to a folder for a static host or a
// second machine, and verifies the copy.
func runMirror(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("mirror", stderr)
	cfgPath := fs.String("config", "config.toml", "site configuration `file` (for the data folder)")
	from := fs.String("from", "", "the log to copy: its `folder` or URL (default: the data folder's log)")
	data := dataFlag(fs)
	vkey := fs.String("checkpoint-key", "", "the log's checkpoint verifier `key` (text or file; default: checkpoint.vkey of the data folder)")
	if err := parse(fs, args, 1); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError("mirror: want the target folder: chatconsent mirror DIR")
	}
	dst := fs.Arg(0)
	loc := *from
	if loc == "" {
		cfg := &config.Config{} // --data needs no config
		if *data == "" {
			var err error
			if cfg, err = loadConfig(*cfgPath); err != nil {
				return err
			}
			if cfg.Log.Storage == config.StorageAWS {
				return usageError("mirror: the log is in bucket %s (log.storage = \"aws\"), not in the data folder: give --from the collector's PUBLIC_URL/log/", cfg.Log.AWS.Bucket)
			}
		}
		loc = cfg.Paths(*data).Transparency
	}
	v, err := checkpointVerifier(*vkey, loc, *cfgPath)
	if err != nil {
		return err
	}
	src, err := translog.OpenSource(loc, nil)
	if err != nil {
		return err
	}
	rep, err := translog.Mirror(context.Background(), src, v, dst)
	if err != nil {
		return fmt.Errorf("mirror: %w", err)
	}
	fmt.Fprintf(stdout, "%s: %s of %s, %s written, %s kept; copy verified\n", dst, count(rep.Checkpoint.Size, "entry", "entries"), rep.Checkpoint.Origin,
		count(uint64(rep.Written), "file"), strconv.Itoa(rep.Kept))
	return nil
}
