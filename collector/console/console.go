package console

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
	"golang.org/x/time/rate"

	"github.com/chatconsent/chatconsent/collector"
	"github.com/chatconsent/chatconsent/collector/owners"
	"github.com/chatconsent/chatconsent/internal/httpsec"
)

// Prefix is the console's URL path under the collector's public URL.
const Prefix = "/owner/"

// SessionTTL is how long a sign-in lasts: the session cookie's Max-Age
// and the server's own limit.
const SessionTTL = 30 * time.Minute

// ceremonyTTL is how long a started sign-in or enrolment may take.
const ceremonyTTL = 5 * time.Minute

// CookieName is the session cookie's name; it is set only with
// Path=/owner/.
const CookieName = "chatconsent_owner"

// Sign-in attempts (begin and finish of a passkey ceremony, enrolment
// included) one client address may make: a burst, then one per interval.
const (
	signInBurst    = 10
	signInInterval = 6 * time.Second
)

// Console is the owner console's HTTP handler, mounted at [Prefix].
type Console struct {
	srv    *collector.Server
	store  *owners.Store
	wa     *webauthn.WebAuthn
	origin string // scheme://host[:port] the console is used at
	now    func() time.Time
	log    *slog.Logger
	cop    *http.CrossOriginProtection
	mux    *http.ServeMux

	mu         sync.Mutex
	sessions   map[string]*session   // session id → session
	ceremonies map[string]*ceremony  // challenge → ceremony
	limiters   map[string]*rateEntry // client address → sign-in limiter
}

// session is one signed-in owner.
type session struct {
	ownerID, owner string
	csrf           string // the token every console form posts back
	expires        time.Time
	// since is the owner's last visit before this session (zero for
	// their first): decisions and withdrawals after it are new.
	since time.Time
	// visited is when this session last stored the owner's last visit.
	visited time.Time
}

// visitEvery is how often a session stores the owner's last visit while
// they look at the list.
const visitEvery = time.Minute

// ceremony is a passkey ceremony begun and not finished.
type ceremony struct {
	data    webauthn.SessionData
	enrol   string // the enrolment secret, for an enrolment
	expires time.Time
}

type rateEntry struct {
	lim  *rate.Limiter
	seen time.Time
}

// RelyingParty returns the WebAuthn relying party id and origin for a
// collector reached at publicURL. A loopback address (a local trial,
// chatconsent serve) is used as http://localhost:PORT, since WebAuthn
// takes no IP address as relying party id.
func RelyingParty(publicURL string) (id, origin string, err error) {
	u, err := url.Parse(publicURL)
	if err != nil || u.Host == "" {
		return "", "", fmt.Errorf("console: collector.public_url %q is not an absolute URL", publicURL)
	}
	host := u.Hostname()
	if ip := net.ParseIP(host); ip != nil {
		if !ip.IsLoopback() && !ip.IsUnspecified() {
			return "", "", fmt.Errorf("console: collector.public_url %q is an IP address; passkeys need a domain name (e.g. https://consent.example.org/)", publicURL)
		}
		host = "localhost"
	}
	hostport := host
	if p := u.Port(); p != "" {
		hostport = net.JoinHostPort(host, p)
	}
	return host, u.Scheme + "://" + hostport, nil
}

// New returns the console of srv. Its owners are in
// srv.Paths().Owners.
func New(srv *collector.Server) (*Console, error) {
	rpID, origin, err := RelyingParty(srv.PublicURL())
	if err != nil {
		return nil, err
	}
	wa, err := webauthn.New(&webauthn.Config{
		RPID:          rpID,
		RPDisplayName: srv.Config().Site.TitleIn(srv.Config().Site.DefaultLanguage),
		RPOrigins:     []string{origin},
		AuthenticatorSelection: protocol.AuthenticatorSelection{
			ResidentKey:      protocol.ResidentKeyRequirementRequired,
			UserVerification: protocol.VerificationRequired,
		},
	})
	if err != nil {
		return nil, fmt.Errorf("console: %w", err)
	}
	c := &Console{
		srv: srv, store: owners.OpenStore(srv.Paths().Owners), wa: wa, origin: origin,
		now: srv.Now, log: srv.Logger(),
		sessions: map[string]*session{}, ceremonies: map[string]*ceremony{}, limiters: map[string]*rateEntry{},
	}
	// Every console POST must come from the console's own pages: the
	// collector's allowed origins (the static site, which posts the
	// consent form) are not trusted here.
	c.cop = http.NewCrossOriginProtection()
	c.cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "cross-origin request refused", http.StatusForbidden)
	}))
	c.routes()
	return c, nil
}

// Attach mounts the console of srv at [Prefix] of srv's routes.
func Attach(srv *collector.Server) error {
	c, err := New(srv)
	if err != nil {
		return err
	}
	srv.Mount(Prefix, c)
	return nil
}

func (c *Console) routes() {
	m := http.NewServeMux()
	m.HandleFunc("GET /owner/signin", c.signInPage)
	m.HandleFunc("POST /owner/signin/begin", c.signInBegin)
	m.HandleFunc("POST /owner/signin/finish", c.signInFinish)
	m.HandleFunc("GET /owner/enrol", c.enrolPage)
	m.HandleFunc("POST /owner/enrol/begin", c.enrolBegin)
	m.HandleFunc("POST /owner/enrol/finish", c.enrolFinish)
	m.HandleFunc("GET /owner/passkey.js", serveScript)
	m.HandleFunc("GET /owner/copy.js", serveScript)
	m.Handle("GET /owner/{$}", c.auth(c.peoplePage))
	m.Handle("GET /owner/person", c.auth(c.personPage))
	m.Handle("GET /owner/invite", c.auth(c.invitePage))
	m.Handle("POST /owner/invite", c.auth(c.inviteMake))
	m.Handle("POST /owner/withdraw", c.auth(c.withdraw))
	m.Handle("POST /owner/resend", c.auth(c.resend))
	m.Handle("GET /owner/receipt", c.auth(c.receipt))
	m.Handle("GET /owner/access", c.auth(c.accessReport))
	m.Handle("GET /owner/export", c.auth(c.accessReport))
	m.Handle("GET /owner/erase", c.auth(c.erasePage))
	m.Handle("POST /owner/erase", c.auth(c.erase))
	m.Handle("POST /owner/signout", c.auth(c.signOut))
	// Anything else: the sign-in page without a session, 404 with one.
	m.Handle("/owner/", c.auth(func(w http.ResponseWriter, r *http.Request, _ *session) {
		c.renderError(w, r, http.StatusNotFound, "console_not_found")
	}))
	c.mux = m
}

// ServeHTTP serves the console: its own headers (a CSP that allows its
// one script), the cross-origin check on every POST, then the routes.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", httpsec.CSPSelfScript)
	h.Set("Cache-Control", "no-store")
	h.Set("X-Robots-Tag", "noindex")
	c.cop.Handler(c.mux).ServeHTTP(w, r)
}

// authed is a handler that needs a signed-in owner.
type authed func(w http.ResponseWriter, r *http.Request, s *session)

// auth runs h with the request's session, or sends the browser to the
// sign-in page: without a cookie, with an unknown or expired session, or
// when the session's owner was removed (the session ends). A POST must
// also carry the session's CSRF token in the field "csrf".
func (c *Console) auth(h authed) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := c.session(r)
		if s == nil {
			clearCookie(w)
			http.Redirect(w, r, Prefix+"signin", http.StatusSeeOther)
			return
		}
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
			if subtle.ConstantTimeCompare([]byte(r.PostFormValue("csrf")), []byte(s.csrf)) != 1 {
				c.renderError(w, r, http.StatusForbidden, "console_csrf")
				return
			}
		}
		h(w, r, s)
	})
}

// session returns the live session of r's cookie, or nil. A session whose
// owner is gone (owner remove) is ended here.
func (c *Console) session(r *http.Request) *session {
	ck, err := r.Cookie(CookieName)
	if err != nil || ck.Value == "" {
		return nil
	}
	now := c.now()
	c.mu.Lock()
	s := c.sessions[ck.Value]
	if s != nil && !now.Before(s.expires) {
		delete(c.sessions, ck.Value)
		s = nil
	}
	c.mu.Unlock()
	if s == nil {
		return nil
	}
	o, err := c.store.ByID(s.ownerID)
	if err != nil || o == nil || len(o.Credentials) == 0 {
		if err != nil {
			c.log.Error("console: read owners", "err", err)
		}
		c.mu.Lock()
		delete(c.sessions, ck.Value)
		c.mu.Unlock()
		return nil
	}
	return s
}

// startSession ends the request's old session, if any, and starts a new
// one with a new random id for o: an id set before sign-in (session
// fixation) never becomes a signed-in session.
func (c *Console) startSession(w http.ResponseWriter, r *http.Request, o *owners.Owner) {
	id := newSecret(32)
	c.mu.Lock()
	if ck, err := r.Cookie(CookieName); err == nil {
		delete(c.sessions, ck.Value)
	}
	now := c.now()
	for k, s := range c.sessions { // drop expired ones
		if !now.Before(s.expires) {
			delete(c.sessions, k)
		}
	}
	c.sessions[id] = &session{ownerID: o.ID, owner: o.Name, csrf: newSecret(24), expires: now.Add(SessionTTL), since: o.LastVisit}
	c.mu.Unlock()
	http.SetCookie(w, &http.Cookie{
		Name: CookieName, Value: id, Path: Prefix, MaxAge: int(SessionTTL / time.Second),
		HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode,
	})
	c.log.Info("console: owner signed in", "owner", o.ID[:8])
}

// visit stores now as the owner's last visit, at most every
// [visitEvery] per session; the session keeps the visit before it.
func (c *Console) visit(s *session) {
	now := c.now()
	c.mu.Lock()
	due := now.Sub(s.visited) >= visitEvery
	if due {
		s.visited = now
	}
	c.mu.Unlock()
	if due {
		if err := c.store.Visited(s.ownerID, now); err != nil {
			c.log.Error("console: store last visit", "err", err)
		}
	}
}

func clearCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: "", Path: Prefix, MaxAge: -1, HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode})
}

func (c *Console) signOut(w http.ResponseWriter, r *http.Request, s *session) {
	if ck, err := r.Cookie(CookieName); err == nil {
		c.mu.Lock()
		delete(c.sessions, ck.Value)
		c.mu.Unlock()
	}
	clearCookie(w)
	http.Redirect(w, r, Prefix+"signin", http.StatusSeeOther)
}

// allowSignIn reports whether r's client may make another sign-in
// attempt; else it answers 429.
func (c *Console) allowSignIn(w http.ResponseWriter, r *http.Request) bool {
	addr := c.srv.ClientAddr(r)
	now := c.now()
	c.mu.Lock()
	e := c.limiters[addr]
	if e == nil {
		if len(c.limiters) > 10000 {
			for k, v := range c.limiters {
				if now.Sub(v.seen) > time.Hour {
					delete(c.limiters, k)
				}
			}
		}
		e = &rateEntry{lim: rate.NewLimiter(rate.Every(signInInterval), signInBurst)}
		c.limiters[addr] = e
	}
	e.seen = now
	ok := e.lim.AllowN(now, 1)
	c.mu.Unlock()
	if !ok {
		w.Header().Set("Retry-After", fmt.Sprint(int(signInInterval/time.Second)))
		writeJSON(w, http.StatusTooManyRequests, map[string]string{"error": "too many sign-in attempts; wait a minute"})
	}
	return ok
}

// jsonPost reports whether r is a JSON post (a cross-site form cannot send
// one without a CORS preflight, which the collector does not answer for
// /owner/); else it answers 415.
func jsonPost(w http.ResponseWriter, r *http.Request) bool {
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		writeJSON(w, http.StatusUnsupportedMediaType, map[string]string{"error": "want application/json"})
		return false
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	return true
}

func (c *Console) keep(data *webauthn.SessionData, enrol string) {
	now := c.now()
	c.mu.Lock()
	for k, v := range c.ceremonies {
		if !now.Before(v.expires) {
			delete(c.ceremonies, k)
		}
	}
	c.ceremonies[data.Challenge] = &ceremony{data: *data, enrol: enrol, expires: now.Add(ceremonyTTL)}
	c.mu.Unlock()
}

// take returns and forgets the ceremony of challenge: each works once.
func (c *Console) take(challenge string) *ceremony {
	c.mu.Lock()
	defer c.mu.Unlock()
	cer := c.ceremonies[challenge]
	delete(c.ceremonies, challenge)
	if cer == nil || !c.now().Before(cer.expires) {
		return nil
	}
	return cer
}

func (c *Console) signInBegin(w http.ResponseWriter, r *http.Request) {
	if !jsonPost(w, r) || !c.allowSignIn(w, r) {
		return
	}
	opts, data, err := c.wa.BeginDiscoverableLogin(webauthn.WithUserVerification(protocol.VerificationRequired))
	if err != nil {
		c.log.Error("console: begin sign-in", "err", err)
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "could not start the sign-in"})
		return
	}
	c.keep(data, "")
	writeJSON(w, http.StatusOK, opts)
}

func (c *Console) signInFinish(w http.ResponseWriter, r *http.Request) {
	if !jsonPost(w, r) || !c.allowSignIn(w, r) {
		return
	}
	refuse := func(why string, err error) {
		c.log.Info("console: sign-in refused", "why", why, "err", err)
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "sign-in failed: " + why})
	}
	parsed, err := protocol.ParseCredentialRequestResponseBody(r.Body)
	if err != nil {
		refuse("malformed answer", err)
		return
	}
	cer := c.take(parsed.Response.CollectedClientData.Challenge)
	if cer == nil || cer.enrol != "" {
		refuse("unknown or expired challenge", nil)
		return
	}
	var owner *owners.Owner
	user, cred, err := c.wa.ValidatePasskeyLogin(func(_, handle []byte) (webauthn.User, error) {
		o, err := c.store.ByID(hex.EncodeToString(handle))
		if err != nil {
			return nil, err
		}
		if o == nil {
			return nil, errors.New("no such owner")
		}
		owner = o
		return webauthnUser{o}, nil
	}, cer.data, parsed)
	if err != nil || user == nil || owner == nil {
		refuse("passkey not accepted", err)
		return
	}
	if err := c.store.UpdateCredential(owner.ID, *cred); err != nil {
		c.log.Error("console: store sign count", "err", err)
	}
	c.startSession(w, r, owner)
	writeJSON(w, http.StatusOK, map[string]string{"next": Prefix})
}

// enrolSecret is the ?t= of an enrolment request.
func enrolSecret(r *http.Request) string { return r.URL.Query().Get("t") }

func (c *Console) enrolBegin(w http.ResponseWriter, r *http.Request) {
	if !jsonPost(w, r) || !c.allowSignIn(w, r) {
		return
	}
	secret := enrolSecret(r)
	o, err := c.store.Enrolling(secret, c.now())
	if err != nil {
		writeJSON(w, http.StatusGone, map[string]string{"error": err.Error()})
		return
	}
	opts, data, err := c.wa.BeginRegistration(webauthnUser{o},
		webauthn.WithResidentKeyRequirement(protocol.ResidentKeyRequirementRequired),
		webauthn.WithExclusions(webauthn.Credentials(o.Credentials).CredentialDescriptors()))
	if err != nil {
		c.log.Error("console: begin enrolment", "err", err)
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "could not start the enrolment"})
		return
	}
	c.keep(data, secret)
	writeJSON(w, http.StatusOK, opts)
}

func (c *Console) enrolFinish(w http.ResponseWriter, r *http.Request) {
	if !jsonPost(w, r) || !c.allowSignIn(w, r) {
		return
	}
	secret := enrolSecret(r)
	parsed, err := protocol.ParseCredentialCreationResponseBody(r.Body)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "malformed answer"})
		return
	}
	cer := c.take(parsed.Response.CollectedClientData.Challenge)
	if cer == nil || cer.enrol == "" || subtle.ConstantTimeCompare([]byte(cer.enrol), []byte(secret)) != 1 {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "unknown or expired challenge: open the link again"})
		return
	}
	o, err := c.store.Enrolling(secret, c.now())
	if err != nil {
		writeJSON(w, http.StatusGone, map[string]string{"error": err.Error()})
		return
	}
	cred, err := c.wa.CreateCredential(webauthnUser{o}, cer.data, parsed)
	if err != nil {
		c.log.Info("console: enrolment refused", "err", err)
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "passkey not accepted"})
		return
	}
	// The signed record first: the log may say too much, never too little.
	if err := c.srv.OwnerEnrolled(r.Context(), o.Name); err != nil {
		c.log.Error("console: owner record", "err", err)
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "the enrolment could not be recorded; try again"})
		return
	}
	o, err = c.store.Enrol(secret, c.now(), *cred)
	if err != nil {
		writeJSON(w, http.StatusGone, map[string]string{"error": err.Error()})
		return
	}
	c.log.Info("console: passkey enrolled", "owner", o.ID[:8])
	c.startSession(w, r, o)
	writeJSON(w, http.StatusOK, map[string]string{"next": Prefix})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// newSecret returns n random bytes, base64url.
func newSecret(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
