// Package doctor checks a chatconsent deployment and says what to fix.
//
// Each check looks at one thing an owner can get wrong on a server and
// returns a [Result]: [OK], [Warn] (works, but worth a look) or [Fail]
// (must be fixed: the collector will not start, or will lose or expose
// data). The checks are:
//
//   - config: config.toml parses and validates;
//   - signing key: DATA/signing.key is there, readable only by its owner
//     (mode 0600), and DATA/signing.pub matches it;
//   - checkpoint key: the transparency log's DATA/checkpoint.key (mode
//     0600) and its verifier key DATA/checkpoint.vkey belong together
//     ([CheckCheckpointKey]);
//   - data directory: exists, is writable (a file is written, synced and
//     removed), and its disk has room;
//   - decisions log: verifies (signatures, hash chain) if present;
//   - receipt template: the built-in or the configured letterhead PDF can
//     be stamped;
//   - invite key: the collector's invite.pub reads, with its fingerprint
//     to compare with what chatconsent invite prints on the owner's
//     computer;
//   - SMTP: the mail server answers, when one is configured;
//   - receipt mail: warns when no [smtp] is configured (no receipt is
//     mailed, the form asks for no e-mail address);
//   - clock: not before the newest record in the log, and synchronised
//     (systemd-timesyncd), because records carry the time of consent;
//   - URLs: the site and the collector use HTTPS off loopback, and the
//     collector accepts posts from the site's origin;
//   - notice periods: warns where content/ states a period for keeping
//     the proof of consent ("zwei Jahre", "24 months") other than
//     retention.proof_years ([CheckProofPeriods]).
//
// Nothing here changes the deployment; the one file written is a probe in
// the data directory, removed at once.
package doctor

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"crypto/tls"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/textproto"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/chatconsent/chatconsent/collector/invite"
	"github.com/chatconsent/chatconsent/collector/ledger"
	"github.com/chatconsent/chatconsent/collector/translog"
	"github.com/chatconsent/chatconsent/internal/config"
	"github.com/chatconsent/chatconsent/proof"
)

// Status is a check's verdict.
type Status int

const (
	OK   Status = iota // nothing to do
	Warn               // works, but look at it
	Fail               // must be fixed
)

func (s Status) String() string {
	switch s {
	case OK:
		return "ok"
	case Warn:
		return "warn"
	default:
		return "FAIL"
	}
}

// Result is what one check found.
type Result struct {
	Check  string // short name, e.g. "signing key"
	Status Status
	Detail string // what was found
	Fix    string // what to do; "" when Status is OK
}

// Options say what to check.
type Options struct {
	// ConfigPath is the config.toml to check.
	ConfigPath string
	// DataDir overrides collector.data_dir when not "".
	DataDir string
	// SMTPAddr is the mail server's host:port; default from [smtp] in the
	// config. "" with no [smtp]: the SMTP check reports that and passes.
	SMTPAddr string
	// SMTPTLS says the server speaks TLS from the first byte (port 465,
	// smtp.security = "tls"); default from the config.
	SMTPTLS bool
	// AllowedOrigins are the origins the collector accepts posts from;
	// default collector.allowed_origins.
	AllowedOrigins []string
	// MinFreeBytes is the free space below which the data disk fails the
	// check; default 64 MiB. Below 16 times that it warns.
	MinFreeBytes uint64
	// Now is the clock; default time.Now.
	Now func() time.Time
	// TimeSyncFile exists while systemd-timesyncd has synchronised the
	// clock; default /run/systemd/timesync/synchronized. "-" skips it.
	TimeSyncFile string
	// Timeout bounds network checks; default 5 s.
	Timeout time.Duration
}

// Run runs every check and returns the results in a fixed order. Checks
// that need a valid configuration are reported as failed with a pointer to
// the config when it does not load.
func Run(ctx context.Context, o Options) []Result {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.MinFreeBytes == 0 {
		o.MinFreeBytes = 64 << 20
	}
	if o.TimeSyncFile == "" {
		o.TimeSyncFile = "/run/systemd/timesync/synchronized"
	}
	if o.Timeout == 0 {
		o.Timeout = 5 * time.Second
	}
	cfg, err := config.Load(o.ConfigPath)
	if err != nil {
		fix := "correct the named key in " + o.ConfigPath + " (see the README's configuration table); the other checks need a valid config"
		if errors.Is(err, fs.ErrNotExist) {
			fix = "give the site's config.toml with --config FILE (chatconsent init DIR makes one); the other checks need it"
		}
		return []Result{{Check: "config", Status: Fail, Detail: err.Error(), Fix: fix}}
	}
	res := []Result{{Check: "config", Status: OK, Detail: o.ConfigPath + " is valid"}}
	paths := cfg.Paths(o.DataDir)
	dd, usable := dataDir(paths.Data, o.MinFreeBytes)
	res = append(res, dd)
	// The key and the log live in the data directory: with no usable
	// directory their checks would only repeat its problem.
	if usable {
		key, pub := CheckKey(paths)
		res = append(res, key)
		res = append(res, CheckCheckpointKey(paths))
		res = append(res, CheckLog(paths, pub, o.Now()))
	}
	if usable || cfg.Invite.PublicKey != "" {
		res = append(res, CheckInviteKey(paths))
	}
	res = append(res, CheckTemplate(cfg))
	res = append(res, CheckProofPeriods(paths.Content, cfg.Retention.ProofYears))
	if o.SMTPAddr == "" && cfg.SMTP != nil {
		o.SMTPAddr = net.JoinHostPort(cfg.SMTP.Host, strconv.Itoa(cfg.SMTP.Port))
		o.SMTPTLS = cfg.SMTP.Security == "tls"
	}
	if o.AllowedOrigins == nil {
		o.AllowedOrigins = cfg.Collector.AllowedOrigins
	}
	res = append(res, CheckSMTP(ctx, o.SMTPAddr, o.SMTPTLS, o.Timeout))
	res = append(res, CheckMail(cfg))
	res = append(res, CheckClock(o.Now(), o.TimeSyncFile))
	res = append(res, CheckURLs(cfg, o.AllowedOrigins)...)
	return res
}

// CheckInviteKey reads the invite key's public half the collector checks
// invite links with (invite.public_key, default DATA/invite.pub) and
// reports its fingerprint; without one, personal links are off (OK).
func CheckInviteKey(paths config.Paths) Result {
	r := Result{Check: "invite key"}
	p := paths.InvitePublicKey
	pub, err := invite.ReadPublicKey(p)
	switch {
	case errors.Is(err, fs.ErrNotExist) && !paths.InvitePublicKeySet:
		r.Detail = "no " + p + ": personal invite links are off"
	case err != nil:
		r.Status, r.Detail = Fail, err.Error()
		r.Fix = "copy invite.pub from the computer you invite from (chatconsent keygen --invite made it) to " + p
	default:
		r.Detail = fmt.Sprintf("%s, fingerprint %s (chatconsent invite prints the fingerprint of its invite key: they must be equal)", p, invite.Fingerprint(pub))
	}
	return r
}

// CheckMail warns when receipts cannot be mailed: without an [smtp] table
// no one gets a receipt by mail, so the form hides its e-mail field.
func CheckMail(cfg *config.Config) Result {
	r := Result{Check: "receipt mail"}
	if cfg.SMTP != nil {
		r.Detail = "receipts are mailed to " + cfg.SMTP.OwnerTo + " and to those who give an address"
		return r
	}
	r.Status, r.Detail = Warn, "no [smtp] in the config: receipts are not mailed, and the form asks for no e-mail address"
	r.Fix = "to mail receipts, add an [smtp] table (host, port, from; see the README's configuration table)"
	return r
}

// Failed reports whether any result must be fixed.
func Failed(rs []Result) bool {
	return slices.ContainsFunc(rs, func(r Result) bool { return r.Status == Fail })
}

// CheckDataDir checks that dir exists, is a directory, can be written and
// synced, and that its disk has at least minFree bytes free.
func CheckDataDir(dir string, minFree uint64) Result {
	r, _ := dataDir(dir, minFree)
	return r
}

// dataDir is [CheckDataDir]; usable is false if dir cannot be read and
// written at all (a full disk still leaves it usable for the other checks).
func dataDir(dir string, minFree uint64) (r Result, usable bool) {
	r = Result{Check: "data directory"}
	st, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		r.Status, r.Detail = Fail, dir+" does not exist"
		r.Fix = "create it for the collector's user: install -d -m 0700 -o chatconsent -g chatconsent " + dir + " (or run chatconsent keygen --data " + dir + ")"
		return r, false
	case err != nil:
		r.Status, r.Detail, r.Fix = Fail, err.Error(), "make "+dir+" readable by the collector's user"
		return r, false
	case !st.IsDir():
		r.Status, r.Detail, r.Fix = Fail, dir+" is not a directory", "point collector.data_dir (or --data) at a directory"
		return r, false
	}
	probe, err := os.CreateTemp(dir, ".doctor-")
	if err == nil {
		_, err = probe.Write([]byte("chatconsent doctor probe\n"))
		if err == nil {
			err = probe.Sync()
		}
		probe.Close()
		os.Remove(probe.Name())
	}
	if err != nil {
		r.Status, r.Detail = Fail, fmt.Sprintf("cannot write to %s: %v", dir, err)
		r.Fix = "give the collector's user write access: chown -R chatconsent:chatconsent " + dir + " (and, under systemd, list it in ReadWritePaths=)"
		return r, false
	}
	free, err := freeBytes(dir)
	if err != nil {
		r.Status, r.Detail, r.Fix = Warn, fmt.Sprintf("%s is writable; free space unknown: %v", dir, err), "check the disk with df -h "+dir
		return r, true
	}
	r.Detail = fmt.Sprintf("%s is writable, %s free", dir, human(free))
	switch {
	case free < minFree:
		r.Status = Fail
		r.Fix = fmt.Sprintf("free space on the disk of %s (need at least %s): decisions that cannot be stored are refused", dir, human(minFree))
	case free < 16*minFree:
		r.Status = Warn
		r.Fix = "the disk is getting full: free space or move the data directory to a larger disk"
	}
	return r, true
}

func human(b uint64) string {
	switch {
	case b >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(b)/(1<<30))
	case b >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20))
	default:
		return fmt.Sprintf("%d bytes", b)
	}
}

// CheckKey checks the signing key pair p.SigningKey, p.SigningPublicKey
// and returns the public key (nil if it cannot be read).
func CheckKey(p config.Paths) (Result, ed25519.PublicKey) {
	r := Result{Check: "signing key"}
	dir, privPath, pubPath := p.Data, p.SigningKey, p.SigningPublicKey
	st, err := os.Stat(privPath)
	if errors.Is(err, fs.ErrNotExist) {
		r.Status, r.Detail = Fail, privPath+" is missing"
		r.Fix = "restore it from your backup, or, for a new deployment only, create one: chatconsent keygen --data " + dir + " (a new key cannot sign for the old log)"
		return r, nil
	}
	if err != nil {
		r.Status, r.Detail, r.Fix = Fail, err.Error(), "make "+privPath+" readable by the collector's user"
		return r, nil
	}
	if perm := st.Mode().Perm(); perm != 0o600 && perm != 0o400 {
		r.Status, r.Detail = Fail, fmt.Sprintf("%s has mode %04o; want 0600", privPath, perm)
		r.Fix = "chmod 600 " + privPath
		return r, nil
	}
	priv, err := ledger.ReadPrivateKey(privPath)
	if err != nil {
		r.Status, r.Detail, r.Fix = Fail, err.Error(), "restore "+privPath+" from your backup"
		return r, nil
	}
	want := priv.Public().(ed25519.PublicKey)
	pub, err := ledger.ReadPublicKey(pubPath)
	if err != nil {
		r.Status, r.Detail = Fail, err.Error()
		r.Fix = "restore " + pubPath + " from your backup; chatconsent verify needs it"
		return r, want
	}
	if !pub.Equal(want) {
		r.Status, r.Detail = Fail, pubPath+" does not belong to "+privPath
		r.Fix = "restore the matching pair from one backup; verify checks the log against " + pubPath
		return r, want
	}
	r.Detail = fmt.Sprintf("%s, mode 0600, SHA256:%s", privPath, ledger.Fingerprint(want))
	return r, want
}

// CheckCheckpointKey checks the transparency log's checkpoint key
// (paths.CheckpointKey, mode 0600, and its verifier key
// paths.CheckpointVerifierKey) and names the verifier key, the one
// auditors and data subjects check checkpoints and receipts with.
func CheckCheckpointKey(paths config.Paths) Result {
	r := Result{Check: "checkpoint key"}
	p, dir := paths.CheckpointKey, paths.Data
	st, err := os.Stat(p)
	if errors.Is(err, fs.ErrNotExist) {
		r.Status, r.Detail = Warn, p+" is missing"
		r.Fix = "chatconsent keygen --data " + dir + " creates it (the collector also does on its first start); restore it from your backup if the log has checkpoints already"
		return r
	}
	if err != nil {
		r.Status, r.Detail, r.Fix = Fail, err.Error(), "make "+p+" readable by the collector's user"
		return r
	}
	if perm := st.Mode().Perm(); perm != 0o600 && perm != 0o400 {
		r.Status, r.Detail, r.Fix = Fail, fmt.Sprintf("%s has mode %04o; want 0600", p, perm), "chmod 600 "+p
		return r
	}
	k, err := translog.ReadKey(p)
	if err != nil {
		r.Status, r.Detail, r.Fix = Fail, err.Error(), "restore "+p+" from your backup"
		return r
	}
	vkey, err := translog.VerifierKey(paths.CheckpointVerifierKey)
	if err != nil {
		r.Status, r.Detail, r.Fix = Fail, err.Error(), "restore "+paths.CheckpointVerifierKey+" from your backup"
		return r
	}
	if v, err := translog.ParseVerifier(vkey); err != nil || v.Name() != k.Verifier.Name() || v.KeyHash() != k.Verifier.KeyHash() {
		r.Status, r.Detail = Fail, paths.CheckpointVerifierKey+" does not belong to "+p
		r.Fix = "restore the matching pair from one backup"
		return r
	}
	r.Detail = "verifier key " + vkey
	return r
}

// CheckLog verifies the decisions log p.Log with pub, and that now is not
// before its newest record (a clock set back would date new consents
// wrongly). A missing log is fine (no decision yet).
func CheckLog(p config.Paths, pub ed25519.PublicKey, now time.Time) Result {
	r := Result{Check: "decisions log"}
	path := p.Log
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		r.Detail = path + " does not exist yet (no decision recorded)"
		return r
	}
	if err != nil {
		r.Status, r.Detail, r.Fix = Fail, err.Error(), "make "+path+" readable and writable by the collector's user"
		return r
	}
	f.Close()
	if pub == nil {
		r.Status, r.Detail, r.Fix = Fail, "cannot verify "+path+" without the public key", "fix the signing key first"
		return r
	}
	var newest time.Time
	v1 := false // a version-1 line that no migration record followed
	head, err := ledger.VerifySource(ledger.FileSource(path), ledger.NewVerifier(pub), func(rec *ledger.Record, _ []byte) error {
		if rec.Time.After(newest) {
			newest = rec.Time
		}
		switch {
		case rec.V == ledger.FormatV1:
			v1 = true
		case rec.Type == ledger.TypeMigration:
			v1 = false
		}
		return nil
	})
	if err != nil {
		r.Status, r.Detail = Fail, fmt.Sprintf("%s: %v", path, err)
		r.Fix = "restore the log from your backup and run chatconsent verify " + path + "; keep the damaged file for the record"
		if errors.Is(err, ledger.ErrTorn) {
			r.Status = Warn
			r.Fix = "the last line was cut by a crash; the collector moves it aside on its next start"
		}
		return r
	}
	r.Detail = fmt.Sprintf("%s verifies: %d records", path, head.Count)
	if !newest.IsZero() && now.Before(newest) {
		r.Status = Fail
		r.Detail += fmt.Sprintf("; the clock (%s) is before the newest record (%s)", now.UTC().Format(time.RFC3339), newest.Format(time.RFC3339))
		r.Fix = "set the system clock right (timedatectl set-ntp true) before recording more decisions"
		return r
	}
	if v1 {
		// chatconsent collect refuses such a log (collector.ErrNotMigrated).
		r.Status = Warn
		r.Detail += "; it is of format 1 (personal data in clear) and not migrated: the collector does not start with it"
		r.Fix = "stop the collector, back up the data folder, then run chatconsent migrate"
	}
	return r
}

// CheckTemplate stamps a sample receipt with the stamper the collector
// builds from cfg (proof.NewStamper: the built-in template, a letterhead,
// its form fields or its [[receipt.fields]] placements).
func CheckTemplate(cfg *config.Config) Result {
	r := Result{Check: "receipt template"}
	name := "built-in template"
	if cfg.Receipt.Template != "" {
		name = cfg.Receipt.Template
	}
	lang := cfg.Site.DefaultLanguage
	st, err := proof.NewStamper(cfg)
	if err == nil {
		var pdf []byte
		pdf, err = st.Stamp(proof.Sample(cfg, lang))
		if err == nil && !strings.HasPrefix(string(pdf), "%PDF-") {
			err = errors.New("stamped file is not a PDF")
		}
		if err != nil {
			err = fmt.Errorf("%s: %w", name, err)
		}
	}
	if err != nil {
		r.Status, r.Detail = Fail, err.Error()
		r.Fix = "use a one-page PDF letterhead with room at the top, a PDF form or [[receipt.fields]] placements (see collector/receipt), or empty receipt.template for the built-in one"
		return r
	}
	r.Detail = name + " stamps a sample receipt"
	return r
}

// CheckSMTP connects to the mail server at addr (over TLS first if
// implicitTLS, RFC 8314, checking its certificate) and reads its greeting
// (RFC 5321 section 4.2: "220"). An empty addr means no mail is configured.
func CheckSMTP(ctx context.Context, addr string, implicitTLS bool, timeout time.Duration) Result {
	r := Result{Check: "SMTP"}
	if addr == "" {
		r.Detail = "not configured (receipts are not mailed)"
		return r
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var conn net.Conn
	var err error
	if implicitTLS {
		host, _, _ := net.SplitHostPort(addr)
		conn, err = (&tls.Dialer{Config: &tls.Config{ServerName: host}}).DialContext(ctx, "tcp", addr)
	} else {
		conn, err = (&net.Dialer{}).DialContext(ctx, "tcp", addr)
	}
	if err != nil {
		r.Status, r.Detail = Fail, fmt.Sprintf("cannot reach %s: %v", addr, err)
		r.Fix = "check the mail server's host and port in the config, and that the firewall lets the server connect out to it"
		return r
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(timeout))
	code, msg, err := textproto.NewReader(bufio.NewReader(conn)).ReadResponse(220)
	if err != nil {
		r.Status, r.Detail = Fail, fmt.Sprintf("%s does not greet as a mail server: %d %s %v", addr, code, msg, err)
		r.Fix = "the port is open but not an SMTP server: check the port (587 for submission with STARTTLS, 465 for TLS)"
		return r
	}
	fmt.Fprintf(conn, "QUIT\r\n")
	r.Detail = fmt.Sprintf("%s answers: 220 %s", addr, msg)
	return r
}

// CheckClock checks that now is plausible (not before 2025, when no
// chatconsent record can have been made) and that systemd-timesyncd has
// synchronised the clock (it creates syncFile then; "-" skips that part).
// Without systemd the check cannot tell and warns: records carry the time
// of each decision.
func CheckClock(now time.Time, syncFile string) Result {
	r := Result{Check: "clock"}
	at := now.UTC().Format(time.RFC3339)
	switch {
	case now.Year() < 2025:
		r.Status, r.Detail = Fail, "system time "+at+" is in the past"
		r.Fix = "set the clock: timedatectl set-ntp true (systemd-timesyncd), or run chrony"
	case syncFile == "-":
		r.Detail = "system time " + at + " (synchronisation not checked)"
	default:
		if _, err := os.Stat(syncFile); err == nil {
			r.Detail = "system time " + at + ", synchronised by NTP"
			break
		}
		r.Status = Warn
		r.Detail = "system time " + at + "; cannot tell whether NTP keeps it right (" + syncFile + " missing)"
		r.Fix = "turn on time synchronisation: timedatectl set-ntp true (systemd-timesyncd), or run chrony"
	}
	return r
}

// CheckURLs checks site.base_url and collector.public_url together: HTTPS
// off loopback, and a collector that accepts the form's posts (the same
// origin as the site, or the site's origin in allowed).
func CheckURLs(cfg *config.Config, allowed []string) []Result {
	var rs []Result
	site, _ := url.Parse(cfg.Site.BaseURL)
	coll, _ := url.Parse(cfg.Collector.PublicURL)
	for _, u := range []struct {
		key string
		u   *url.URL
	}{{"site.base_url", site}, {"collector.public_url", coll}} {
		r := Result{Check: u.key, Detail: u.u.String()}
		switch {
		case isLoopback(u.u.Hostname()):
			r.Status = Warn
			r.Detail += " is a loopback address: fine for a local trial, unreachable for anyone else"
			r.Fix = "set " + u.key + " to your public https:// address before you send links"
		case u.u.Scheme != "https":
			r.Status = Fail
			r.Detail += " is not HTTPS: names and phone numbers would travel unencrypted"
			r.Fix = "use https:// (the Caddyfile in deploy/ gets a certificate automatically)"
		}
		rs = append(rs, r)
	}
	r := Result{Check: "origins"}
	so, co := origin(site), origin(coll)
	switch {
	case so == co:
		r.Detail = "the form posts to its own origin " + so
	case slices.Contains(allowed, so):
		r.Detail = "the collector " + co + " accepts posts from the site " + so
	default:
		r.Status = Fail
		r.Detail = fmt.Sprintf("the site %s posts to the collector on another origin %s, which does not list the site among its allowed origins", so, co)
		r.Fix = fmt.Sprintf("serve both under one address (deploy/Caddyfile proxies /v1/* to the collector: set collector.public_url = %q), or add %q to collector.allowed_origins", cfg.Site.BaseURL, so)
	}
	return append(rs, r)
}

func origin(u *url.URL) string { return u.Scheme + "://" + u.Host }

func isLoopback(host string) bool {
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
