// Package collector is chatconsent's HTTP service: it receives a data
// subject's decision from the consent form, validates it, appends it to the
// signed log (package ledger) before answering, and issues a PDF receipt
// (package receipt) behind an unguessable, expiring link.
//
// # HTTP interface
//
//	POST /v1/consent              a decision, form-encoded or JSON
//	GET  /v1/receipts/ID.pdf?e=EXPIRY&k=MAC   the receipt
//	GET  /healthz                 "ok" while the log is writable and the index readable
//	GET  /v1/consent?invite=TOKEN the personal consent page (invite.go)
//	GET  /v1/withdraw?id=ID&k=MAC the personal withdrawal page (withdraw.go)
//	POST /v1/withdraw             a withdrawal (GDPR Art. 7(3))
//	GET  /log/…                   the transparency log's tiles and checkpoints (with one)
//	     /owner/…                 the owner console (package collector/console, [Server.Mount])
//
// The fields of POST /v1/consent are decision ("granted" or "refused"), name,
// phone, email (optional), purpose (repeated, or a JSON array), lang and
// text_version. A JSON request gets 201 {"id":…, "receipt_url":…} or 400
// {"error":…, "fields":[{"field":…,"code":…,"message":…}]}; a form post gets
// an HTML page in the data subject's language. Nothing is written for a
// refused request.
package collector

import (
	"context"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/chatconsent/chatconsent/collector/ledger"
	"github.com/chatconsent/chatconsent/collector/logfeed"
	"github.com/chatconsent/chatconsent/collector/private"
	"github.com/chatconsent/chatconsent/collector/receipt"
	"github.com/chatconsent/chatconsent/collector/translog"
	"github.com/chatconsent/chatconsent/internal/config"
	"github.com/chatconsent/chatconsent/internal/durable"
	"github.com/chatconsent/chatconsent/internal/fields"
	"github.com/chatconsent/chatconsent/internal/httpsec"
	"github.com/chatconsent/chatconsent/internal/phone"
	"github.com/chatconsent/chatconsent/internal/records"
	"github.com/chatconsent/chatconsent/internal/textarchive"
	"github.com/chatconsent/chatconsent/proof"
	"github.com/chatconsent/chatconsent/themes"
)

// Options configure a [Server].
type Options struct {
	Config *config.Config
	// Paths are the data folder's files (receipts, text copies) and the
	// text archive (Paths.Archive): the versions in it are the ones the
	// collector accepts.
	Paths config.Paths
	// PublicURL is the collector's URL as browsers see it, ending in "/";
	// default Config.Collector.PublicURL.
	PublicURL string
	// ConsentURLs maps language → the consent page's URL, for "back" links.
	ConsentURLs map[string]string
	// Log is the open decisions log.
	Log *ledger.Log
	// Private is the private store of the log's openings (the Log's
	// Disclose hook must be its Put); the server closes it. nil only for
	// a version-1 log.
	Private *private.Store
	// Feed, if not nil, is Log's store feeding the transparency log: the
	// server serves that log read-only under /log/ and puts inclusion
	// proofs into receipts; the server closes its transparency log.
	Feed *logfeed.Store
	// Signer is the private key (also the root of the receipt link MAC key).
	Signer ed25519.PrivateKey
	// Theme renders pages; Stamper makes receipts.
	Theme   *themes.Theme
	Stamper *receipt.Stamper
	// ReceiptTTL is how long a receipt link works; default 30 days.
	ReceiptTTL time.Duration
	// Deliver, if not nil, gets each receipt once it is stored in
	// DATA/receipts, e.g. a [*Mailer]; an error is logged.
	Deliver interface {
		Deliver(d receipt.Data, pdf []byte) error
	}
	// DefaultRegion is the ISO 3166-1 region for phone numbers typed
	// without a country code; default "DE".
	DefaultRegion string
	Now           func() time.Time
	Logger        *slog.Logger
	// ReceiptWorkers stamp receipts off the request path (default 1);
	// ReceiptQueue bounds the entries waiting for them (default 256).
	ReceiptWorkers, ReceiptQueue int
	// Book is the log folded so far into the collector's index
	// (records.Index); nil means an empty log.
	Book *records.Index
	// snap is the snapshot's state from [Open] (nil: no snapshots).
	snap *snapState
	// InviteKey is the invite key's public half; nil turns personal
	// invite links off.
	InviteKey ed25519.PublicKey
	// PolicyURLs maps language → the privacy notice's URL, for the pages
	// the collector renders.
	PolicyURLs map[string]string
	// WithdrawalURLs maps language → the static withdrawal page.
	WithdrawalURLs map[string]string
}

// Server handles the collector's HTTP interface.
type Server struct {
	o        Options
	log      *ledger.Log
	versions map[string]textarchive.Version // guarded by vmu; see ReloadVersions
	vmu      sync.RWMutex
	// Guarded by vmu: the manifest file's stamp when versions were read,
	// and the consent pages read so far (version → page), see consentPage.
	manifestSeen string
	pages        map[string]*textarchive.ConsentPage
	linkKey      []byte
	keyFP        string
	texts        sync.Map // version → struct{}: copied into DATA/texts
	limiter      *clientLimiter
	origins      map[string]struct{}
	cop          *http.CrossOriginProtection
	receipts     *receiptQueue
	inflight     atomic.Int64 // decisions being handled; receipts wait for 0
	eraseMu      sync.RWMutex // held by an erasure (write) and a receipt's writing (read)
	proc         procedure
	// redactCrash is the crash tests' hook into the redaction of
	// version-1 lines during an erasure (ledger.FileStore.Replace).
	redactCrash func(step string) bool
	mounts      []mount // see Mount (console.go)
	// snap is the snapshot's watermark and file (snapstate.go); nil
	// without snapshots.
	snap *snapState
}

// New checks the options and returns a server. The archive's manifest is
// read once; call [Server.ReloadVersions] (or restart) after publishing new
// text versions.
func New(o Options) (*Server, error) {
	if o.Config == nil || o.Log == nil || o.Signer == nil || o.Theme == nil || o.Stamper == nil {
		return nil, errors.New("collector: missing config, log, key, theme or stamper")
	}
	if o.PublicURL == "" {
		o.PublicURL = o.Config.Collector.PublicURL
	}
	if o.ReceiptTTL == 0 {
		o.ReceiptTTL = 30 * 24 * time.Hour
	}
	if o.DefaultRegion == "" {
		o.DefaultRegion = phone.DefaultRegion
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.ReceiptWorkers <= 0 {
		o.ReceiptWorkers = 1
	}
	if o.ReceiptQueue <= 0 {
		o.ReceiptQueue = 256
	}
	stamp := manifestStamp(o.Paths.Archive)
	m, err := textarchive.ReadManifest(o.Paths.Archive)
	if err != nil {
		return nil, err
	}
	if len(m.Versions) == 0 {
		return nil, fmt.Errorf("collector: the text archive %s holds no versions; run chatconsent build first", o.Paths.Archive)
	}
	for _, d := range []string{o.Paths.Receipts, o.Paths.Texts} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("collector: %w", err)
		}
	}
	// The link key is derived from the signing key so that links survive a
	// restart without another secret to keep.
	h := sha256.New()
	h.Write([]byte("chatconsent receipt link key v1\x00"))
	h.Write(o.Signer.Seed())
	pub := o.Signer.Public().(ed25519.PublicKey)
	lim := o.Config.Collector.Limits
	cop, err := newCrossOrigin(lim.AllowedOrigins, o.PublicURL)
	if err != nil {
		return nil, err
	}
	s := &Server{
		o: o, log: o.Log, versions: m.Versions, manifestSeen: stamp, pages: map[string]*textarchive.ConsentPage{}, linkKey: h.Sum(nil), keyFP: ledger.Fingerprint(pub),
		limiter: newClientLimiter(lim.RatePerMinute, lim.RateBurst),
		origins: map[string]struct{}{}, cop: cop,
	}
	for _, a := range lim.AllowedOrigins {
		s.origins[a] = struct{}{}
	}
	cop.SetDenyHandler(http.HandlerFunc(s.forbidden))
	if err := s.initProcedure(); err != nil {
		return nil, err
	}
	s.snap = o.snap // before the receipt workers, which read it
	s.startReceipts(o.ReceiptWorkers, o.ReceiptQueue)
	return s, nil
}

// route is one of the collector's routes: a net/http ServeMux pattern
// ("METHOD /path") and its handler.
type route struct {
	pattern string
	h       http.Handler
}

// routes lists the collector's public routes, in the order
// [Server.Handler] registers them; /log/ is there only with a
// transparency log.
func (s *Server) routes() []route {
	rs := []route{
		{"POST /v1/consent", s.withCORS(http.HandlerFunc(s.handleConsent))},
		{"OPTIONS /v1/consent", http.HandlerFunc(s.handlePreflight)},
		{"GET /v1/receipts/{file}", http.HandlerFunc(s.handleReceipt)},
		{"GET /v1/consent", http.HandlerFunc(s.handleInvitePage)},
		{"GET /v1/withdraw", http.HandlerFunc(s.handleWithdrawPage)},
		{"POST /v1/withdraw", http.HandlerFunc(s.handleWithdraw)},
	}
	if s.o.Feed != nil {
		tl := s.o.Feed.Log()
		h := translog.Handler(tl.Dir())
		if tl.Dir() == "" { // in a bucket (log.storage = "aws")
			h = translog.SourceHandler(tl.Source())
		}
		rs = append(rs, route{"GET /log/", http.StripPrefix("/log", h)})
	}
	return append(rs, route{"GET /healthz", http.HandlerFunc(s.handleHealth)})
}

// Handler returns the collector's routes. Every answer,
// the mux's own 404 and 405 included, carries the security headers of
// [httpsec.Handler]; every state-changing request (POST) from a browser
// must come from an allowed origin or the collector's own pages (see
// origin.go).
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	for _, r := range s.routes() {
		mux.Handle(r.pattern, r.h)
	}
	public := httpsec.Handler(s.cop.Handler(mux))
	if len(s.mounts) == 0 {
		return public
	}
	// The console under its prefix gets the same headers and cross-origin
	// check but may set its session cookie (Path=/owner/ only): the
	// data subjects' routes above never set one.
	top := http.NewServeMux()
	top.Handle("/", public)
	for _, m := range s.mounts {
		top.Handle(m.pattern, httpsec.WithCookies(s.cop.Handler(m.h)))
	}
	return top
}

// handleHealth answers "ok" while the log takes records, else 503 with the
// reason (an errno text such as "no space left on device", never a path):
// a load balancer or monitor then sees what every decision would get.
func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	err := s.log.Health()
	if err == nil {
		s.proc.mu.Lock()
		ierr := s.proc.book.Err()
		s.proc.mu.Unlock()
		if ierr != nil {
			// The index's spill file (DATA/private) failed: decisions
			// would not be found. A restart builds it again.
			s.o.Logger.Error("health check: index not readable", "err", ierr)
			w.WriteHeader(http.StatusServiceUnavailable)
			w.Write([]byte("index not readable: restart the collector\n"))
			return
		}
		w.Write([]byte("ok\n"))
		return
	}
	s.o.Logger.Error("health check: log not writable", "err", err)
	reason := "write failed"
	var errno syscall.Errno
	if errors.As(err, &errno) {
		reason = errno.Error()
	}
	w.WriteHeader(http.StatusServiceUnavailable)
	fmt.Fprintf(w, "log not writable: %s\n", reason)
}

// refuseBody answers a body that could not be decoded (err, a
// *RequestError or any other error, then 400): JSON for enc JSON, else an
// error page in the client's language with the theme's text introKey and
// the technical detail. what is the log message; the log gets the reason
// only, never the body.
func (s *Server) refuseBody(w http.ResponseWriter, r *http.Request, enc int, err error, what, introKey string) {
	var re *RequestError
	if !errors.As(err, &re) {
		re = &RequestError{Status: http.StatusBadRequest, Msg: err.Error()}
	}
	s.o.Logger.Info(what, "status", re.Status, "reason", re.Msg)
	if enc == encJSON {
		writeJSON(w, re.Status, map[string]any{"error": re.Error()})
		return
	}
	lang := s.clientLang(r, nil)
	t := s.o.Theme.Strings(lang)
	s.render(w, re.Status, themes.LayoutError, &themes.Page{
		Lang: lang, Title: t["error_title"],
		Content: themes.Message{Paragraphs: []string{t[introKey]}, Hint: t["technical_detail"] + ": " + re.Error()}.HTML(),
	})
}

func (s *Server) handleConsent(w http.ResponseWriter, r *http.Request) {
	// A slow body must not count as a decision in flight: receipts wait
	// for none to be in flight, and a client trickling bytes would stop
	// them (the read timeout cuts it after ReadTimeout).
	req, enc, err := decodeRequest(w, r)
	s.inflight.Add(1)
	defer s.inflight.Add(-1)
	// Every post counts against the client's rate, good or bad.
	addr := clientAddr(r, s.o.Config.Collector.TrustedProxies)
	if ok, wait := s.limiter.allow(addr, s.o.Now()); !ok {
		s.tooMany(w, r, enc, req, wait)
		return
	}
	if err != nil {
		// Not what a browser's form sends (too large, tampered): a page
		// that leads back to a fresh form.
		s.refuseBody(w, r, enc, err, "request refused", "err_request")
		return
	}
	// A bot that filled the hidden field is answered like a person: the
	// same errors for bad fields, a success that writes nothing otherwise.
	bot := req.Honeypot != ""
	if bot {
		req.Honeypot = ""
		req.Invite = ""
	}
	inv, ok := s.checkInvite(w, r, enc, req)
	if !ok {
		return
	}
	rec, ferrs := s.validate(req)
	ferrs = s.bindInvite(rec, inv, req, ferrs)
	// Without mail an e-mail address could never be used: it is not
	// kept (GDPR Art. 5(1)(c), data minimisation), and the thank-you page
	// says so. The form asks to leave it empty then, and checks it as
	// ever (the field is there); a person who typed a good one all the
	// same gets their decision recorded and learns that no mail comes.
	emailDropped := s.o.Deliver == nil && strings.TrimSpace(req.Email) != ""
	if emailDropped && rec != nil {
		rec.Subject.Email = ""
	}
	if len(ferrs) > 0 {
		s.o.Logger.Info("invalid request", "fields", fieldNames(ferrs))
		if enc == encJSON {
			writeJSON(w, http.StatusBadRequest, map[string]any{"error": "invalid fields", "fields": ferrs})
			return
		}
		s.renderFormErrors(w, http.StatusBadRequest, s.clientLang(r, req), req, ferrs)
		return
	}
	if bot {
		s.honeypot(w, r, enc, req, emailDropped)
		return
	}
	lim := s.o.Config.Collector.Limits
	rec.ClientIP = storedIP(addr, lim.StoreIP)
	if lim.StoreUserAgent {
		rec.UserAgent = cleanUserAgent(r.UserAgent())
	}
	if err := s.keepText(rec.TextVersion); err != nil {
		s.o.Logger.Error("copy archived text", "version", rec.TextVersion, "err", err)
		s.unavailable(w, enc, rec.Lang)
		return
	}
	entries, err := s.appendRecord(r.Context(), *rec, openingRecord(inv, s.o.Now()))
	if errors.Is(err, errInviteUsed) {
		s.inviteUsed(w, enc, s.pageLang(req.Lang, inv.Lang), req.Invite)
		return
	}
	if err != nil {
		s.o.Logger.Error("append to log", "err", err)
		s.unavailable(w, enc, rec.Lang)
		return
	}
	e := entries[0]
	attrs := []any{"id", e.Record.ID, "seq", e.Record.Seq, "decision", e.Record.Decision}
	if emailDropped { // only then: scripts match the line's usual end
		attrs = append(attrs, "email_dropped", true)
	}
	s.o.Logger.Info("decision recorded", attrs...)
	s.queueReceipt(e)
	url := s.ReceiptURL(e.Record.ID)
	if enc == encJSON {
		writeJSON(w, http.StatusCreated, createdJSON(e.Record.ID, url, emailDropped))
		return
	}
	s.render(w, http.StatusOK, themes.LayoutThanks, &themes.Page{
		Lang: rec.Lang, Title: s.o.Theme.Strings(rec.Lang)["thanks_title"],
		Result: &themes.Result{Decision: rec.Decision, RecordID: rec.ID, ReceiptURL: url, WithdrawalURL: s.personalWithdrawalURL(rec), EmailDropped: emailDropped},
	})
}

// createdJSON is the 201 answer to a JSON decision: id and receipt_url,
// and "email_dropped": true when the e-mail address sent was not stored
// (no mail is configured). A struct, not a map, marshals faster; its
// fields are in the order a map's keys were written (sorted), so the bytes
// are the same.
func createdJSON(id, url string, emailDropped bool) created {
	return created{EmailDropped: emailDropped, ID: id, ReceiptURL: url}
}

type created struct {
	EmailDropped bool   `json:"email_dropped,omitempty"`
	ID           string `json:"id"`
	ReceiptURL   string `json:"receipt_url"`
}

func fieldNames(fe []FieldError) []string {
	var names []string
	for _, f := range fe {
		names = append(names, f.Field+":"+f.Code)
	}
	return names
}

// validate checks every field and builds the record. Messages are in the
// request's language (English for JSON clients that sent none).
func (s *Server) validate(req *Request) (*ledger.Record, []FieldError) {
	cfg := s.o.Config
	lang := req.Lang
	var errs []FieldError
	if lang == "" {
		lang = cfg.Site.DefaultLanguage
	}
	if !slices.Contains(cfg.Site.Languages, lang) {
		errs = append(errs, FieldError{Field: FieldLang, Code: "lang"})
		lang = cfg.Site.DefaultLanguage
	}
	add := func(field, code string) { errs = append(errs, FieldError{Field: field, Code: code}) }
	if req.Decision != ledger.Granted && req.Decision != ledger.Refused {
		add(FieldDecision, "decision")
	}
	// One rule for names, the same as invite --name's.
	name, nameErr := proof.CheckName(req.Name)
	if nameErr != nil {
		// The code stays the API's "name_invalid"; the message names the
		// character the receipt cannot print.
		fe := FieldError{Field: FieldName, Code: nameErr.Code, char: nameErr.Rune}
		if fe.Code == "name_char" {
			fe.Code, fe.text = "name_invalid", "name_char"
		}
		errs = append(errs, fe)
	}
	phoneNumber := ""
	switch {
	case strings.TrimSpace(req.Phone) == "":
		add(FieldPhone, "phone")
	case checkText(req.Phone, maxPhone) != "":
		add(FieldPhone, "phone_invalid")
	default:
		var err error
		if phoneNumber, err = phone.Parse(req.Phone, s.o.DefaultRegion); err != nil {
			errs = append(errs, phoneError(FieldPhone, err))
		}
	}
	email := strings.TrimSpace(req.Email)
	if email != "" && (checkText(email, maxEmail) != "" || !validEmail(email)) {
		add(FieldEmail, "email")
	}
	errs = append(errs, checkOther(fields.All, req)...)
	var purposes []string
	known := cfg.PurposeIDs()
	for _, p := range req.Purposes {
		if !slices.Contains(known, p) {
			add(FieldPurpose, "purpose")
			break
		}
		if !slices.Contains(purposes, p) {
			purposes = append(purposes, p)
		}
	}
	if req.Decision == ledger.Granted && len(purposes) == 0 && !hasField(errs, FieldPurpose) {
		add(FieldPurpose, "purpose_none")
	}
	if req.Decision == ledger.Refused {
		purposes = known // a refusal covers every purpose
	}
	// Keep the order of the configuration, not of the request.
	slices.SortFunc(purposes, func(a, b string) int { return slices.Index(known, a) - slices.Index(known, b) })
	if v, ok := s.version(req.TextVersion); !ok || v.Lang != lang {
		add(FieldTextVersion, "version")
	}
	// Refuse now, not after the record is stored, what the receipt cannot
	// print: every recorded decision must get its receipt.
	if email != "" && !hasField(errs, FieldEmail) && receipt.Printable("email", email) != nil {
		add(FieldEmail, "email")
	}
	t := s.o.Theme.Strings(lang)
	for i := range errs {
		errs[i].Message = errs[i].message(t)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return &ledger.Record{
		Type:        ledger.TypeDecision,
		ID:          newID(),
		Time:        s.o.Now().UTC(),
		Decision:    req.Decision,
		Purposes:    purposes,
		Subject:     &ledger.Subject{Name: name, Phone: phoneNumber, Email: email},
		Lang:        lang,
		TextVersion: req.TextVersion,
	}, nil
}

func hasField(errs []FieldError, f string) bool {
	return slices.ContainsFunc(errs, func(e FieldError) bool { return e.Field == f })
}

// newID returns 128 random bits as 32 lower-case hex digits.
func newID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// keepText copies an accepted text version into DATA/texts once, so the
// proof of what was shown does not depend on the website.
func (s *Server) keepText(version string) error {
	if _, ok := s.texts.Load(version); ok {
		return nil
	}
	dst := filepath.Join(s.o.Paths.Texts, version+".html")
	if _, err := os.Stat(dst); err != nil {
		b, err := textarchive.Text(s.o.Paths.Archive, version)
		if err != nil {
			return err
		}
		if err := durable.WriteFile(dst, b, 0o600); err != nil {
			return err
		}
	}
	s.texts.Store(version, struct{}{})
	return nil
}

// ReceiptData turns a log entry into what its receipt shows.
func (s *Server) ReceiptData(e ledger.Entry) receipt.Data {
	if e.Record.Type == ledger.TypeWithdrawal {
		return s.withdrawalReceiptData(e)
	}
	return proof.ReceiptData(s.o.Config, e, s.withdrawalURLFor(&e.Record))
}

// ProofWait bounds how long a receipt waits for a transparency log
// checkpoint covering its record (at 50 decisions/s one comes within about
// half a second); without one in time the receipt is made without the
// inclusion proof, and the log says so.
const ProofWait = 5 * time.Second

// withProof attaches the inclusion proof of e's line (a version-2 line fed
// to the transparency log) to d, as translog.ProofAttachment.
func (s *Server) withProof(d *receipt.Data, e ledger.Entry) {
	if s.o.Feed == nil || !logfeed.IsV2(e.Line) {
		return
	}
	idx, err := s.o.Feed.Index(e.Record.Seq)
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), ProofWait)
		defer cancel()
		var p *translog.Proof
		if p, err = s.o.Feed.Log().Prove(ctx, idx); err == nil {
			d.Extra = append(d.Extra, proof.ProofFile(p.Marshal()))
			s.withTimestamp(ctx, d, e, p.Checkpoint)
			return
		}
	}
	s.o.Logger.Warn("receipt without inclusion proof", "id", e.Record.ID, "err", err)
}

// withTimestamp attaches the RFC 3161 token over checkpoint (that of the
// receipt's inclusion proof) to d, as translog.TimestampAttachment, if
// log.timestamp_url is set and the authority answers within ctx.
func (s *Server) withTimestamp(ctx context.Context, d *receipt.Data, e ledger.Entry, checkpoint []byte) {
	if s.o.Config == nil || s.o.Config.Log.TimestampURL == "" {
		return
	}
	tsr, err := s.o.Feed.Log().Timestamp(ctx, checkpoint)
	if err != nil {
		s.o.Logger.Warn("receipt without time-stamp token", "id", e.Record.ID, "err", err)
		return
	}
	d.Extra = append(d.Extra, proof.TimestampFile(tsr))
}

func (s *Server) writeReceipt(e ledger.Entry) error {
	// An erasure deletes receipts and mails under the write lock; one
	// queued before it must not be written after it.
	s.eraseMu.RLock()
	defer s.eraseMu.RUnlock()
	if e.Disclosures != nil && s.o.Private != nil && !s.o.Private.Has(e.Record.ID) {
		return nil // erased meanwhile
	}
	d := s.ReceiptData(e)
	s.withProof(&d, e)
	pdf, err := s.o.Stamper.Stamp(d)
	if err != nil {
		return err
	}
	// Mail first: a stored receipt means its mail is queued, so a crash in
	// between makes both again at the next start (the outbox stores a
	// mail once).
	if err := s.deliver(d, pdf); err != nil {
		return err
	}
	return durable.WriteFile(s.receiptPath(e.Record.ID), pdf, 0o600)
}

// deliver hands a stored receipt to the mailer, if mail is configured.
func (s *Server) deliver(d receipt.Data, pdf []byte) error {
	if s.o.Deliver == nil {
		return nil
	}
	return s.o.Deliver.Deliver(d, pdf)
}

// ReceiptURL returns the receipt's link, valid for ReceiptTTL: the expiry
// (Unix seconds) and an HMAC-SHA256 over id and expiry (RFC 2104), so it
// cannot be guessed from the record id.
func (s *Server) ReceiptURL(id string) string { return s.receiptLink(id).URL }

// receiptLink is [Server.ReceiptURL] with its times.
func (s *Server) receiptLink(id string) ReceiptLink {
	now := s.o.Now()
	exp := now.Add(s.o.ReceiptTTL).Unix()
	return ReceiptLink{
		URL:     fmt.Sprintf("%sv1/receipts/%s.pdf?e=%d&k=%s", s.o.PublicURL, id, exp, s.linkMAC(id, exp)),
		Expires: time.Unix(exp, 0).UTC(), Made: now.UTC(),
	}
}

func (s *Server) linkMAC(id string, exp int64) string {
	m := hmac.New(sha256.New, s.linkKey)
	fmt.Fprintf(m, "%s\x00%d", id, exp)
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func (s *Server) handleReceipt(w http.ResponseWriter, r *http.Request) {
	id, ok := strings.CutSuffix(r.PathValue("file"), ".pdf")
	exp, err := strconv.ParseInt(r.URL.Query().Get("e"), 10, 64)
	k := r.URL.Query().Get("k")
	if !ok || len(id) != 32 || err != nil || !hmac.Equal([]byte(k), []byte(s.linkMAC(id, exp))) {
		s.receiptLinkRefused(w, r, http.StatusNotFound, "receipt_invalid", "")
		return
	}
	if s.o.Private != nil {
		if _, erased := s.o.Private.Erased(id); erased {
			// Nothing to send again either: say what happened.
			s.receiptLinkRefused(w, r, http.StatusGone, "receipt_erased", "")
			return
		}
	}
	if s.o.Now().Unix() > exp {
		// The link was ours: its id is the person's to quote when they
		// ask for the receipt again (chatconsent receipt resend ID).
		s.receiptLinkRefused(w, r, http.StatusGone, "receipt_expired", id)
		return
	}
	s.serveReceipt(w, r, id)
}

// receiptLinkRefused answers a wrong or expired receipt link with a page in
// the browser's language that says what to do instead: whom to ask
// ({controller_email}) and, for a link that was genuine, with which
// record id ({record_id}, from id).
func (s *Server) receiptLinkRefused(w http.ResponseWriter, r *http.Request, status int, code, id string) {
	lang := s.clientLang(r, nil)
	t := s.o.Theme.Strings(lang)
	msg := strings.NewReplacer("{controller_email}", s.o.Config.Controller.Email, "{record_id}", id).Replace(t[code])
	s.render(w, status, themes.LayoutError, &themes.Page{
		Lang: lang, Title: t["receipt_link_title"],
		Content: themes.Text(msg).HTML(),
	})
}

func (s *Server) unavailable(w http.ResponseWriter, enc int, lang string) {
	w.Header().Set("Retry-After", "60")
	if enc == encJSON {
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"error": "the decision could not be stored; nothing was recorded, try again later"})
		return
	}
	t := s.o.Theme.Strings(lang)
	s.render(w, http.StatusServiceUnavailable, themes.LayoutError, &themes.Page{
		Lang: lang, Title: t["server_error_title"],
		Content: themes.Text(t["server_error"]).HTML(),
	})
}

// renderFormErrors answers a form post with the form again: values kept,
// each error next to its field.
func (s *Server) renderFormErrors(w http.ResponseWriter, status int, lang string, req *Request, ferrs []FieldError) {
	t := s.o.Theme.Strings(lang)
	form := &themes.Form{
		Action:      s.o.PublicURL + "v1/consent",
		TextVersion: req.TextVersion,
		Values:      themes.FormValues{Name: req.Name, Phone: req.Phone, Email: req.Email, Other: otherValues(req)},
		Invite:      req.Invite,
		NoMail:      s.o.Config.SMTP == nil,
	}
	for _, p := range s.o.Config.Purposes {
		title, desc := p.Localized(lang)
		form.Purposes = append(form.Purposes, themes.FormPurpose{ID: p.ID, Title: title, Description: desc, Checked: slices.Contains(req.Purposes, p.ID)})
	}
	for _, e := range ferrs {
		msg := e.Message
		if msg == "" {
			msg = t["err_field"] + " (" + e.Field + ")"
		}
		field := e.Field
		if !onPage(field) {
			// A hidden field (text version, language, honeypot): the
			// error links to the buttons.
			field = FieldDecision
		}
		form.Errors = append(form.Errors, themes.FieldError{Field: field, Message: msg})
	}
	s.render(w, status, themes.LayoutConsent, &themes.Page{
		Lang: lang, Title: t["error_title"], Form: form,
	})
}

func (s *Server) render(w http.ResponseWriter, status int, layout string, p *themes.Page) {
	p.SiteTitle = s.o.Config.Site.TitleIn(p.Lang)
	// Every page the collector makes links the privacy notice, the form
	// and the withdrawal page in its language, as the site's pages do
	// (GDPR Art. 13: the information stays one click away).
	if p.PolicyURL == "" {
		p.PolicyURL = s.o.PolicyURLs[p.Lang]
	}
	if p.ConsentURL == "" {
		p.ConsentURL = s.o.ConsentURLs[p.Lang]
	}
	if p.WithdrawalURL == "" {
		p.WithdrawalURL = s.o.WithdrawalURLs[p.Lang]
	}
	var b strings.Builder
	if err := s.o.Theme.Render(&b, layout, p); err != nil {
		s.o.Logger.Error("render page", "layout", layout, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write([]byte(b.String()))
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// StaticHandler serves a built site with the collector's security headers
// ([httpsec.Handler]).
func StaticHandler(root http.FileSystem) http.Handler {
	return httpsec.Handler(http.FileServer(root))
}
