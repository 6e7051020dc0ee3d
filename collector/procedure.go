package collector

import (
	"context"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/url"
	"strings"
	"sync"

	"github.com/chatconsent/chatconsent/collector/ledger"
	"github.com/chatconsent/chatconsent/internal/records"
)

// procedure is the collector's part of the WhatsApp procedure (invites and
// withdrawal): the folded log and what is in flight. The book is rebuilt
// from the log on every start (ledger.Options.Replay), so there is no
// second store to keep in step with the log.
type procedure struct {
	inviteKey ed25519.PublicKey // nil: invites are off

	mu      sync.Mutex
	book    *records.Index
	pending map[string]bool // invite ids with a decision being appended
	opening map[string]bool // invite ids whose opening is being appended
	// wmu serialises withdrawals (check, then append) so that two clicks
	// cannot withdraw the same purpose twice. Decisions are not held by it.
	wmu sync.Mutex
}

// errInviteUsed: the invite was used for a decision (or one is being
// recorded right now).
var errInviteUsed = errors.New("invite already used")

func (s *Server) initProcedure() error {
	p := &s.proc
	p.book = s.o.Book
	if p.book == nil {
		p.book = records.NewIndex(s.o.Config.PurposeIDs())
	}
	if s.o.Private != nil {
		p.book.UseOpener(indexOpener{s.o.Private, s.o.Logger})
	}
	p.pending, p.opening = map[string]bool{}, map[string]bool{}
	p.inviteKey = s.o.InviteKey
	if p.inviteKey == nil {
		return nil
	}
	// Every language's latest consent page must be there now, not at the
	// first invite; later versions are picked up by consentPage.
	for _, lang := range s.o.Config.Site.Languages {
		if _, err := s.consentPage(lang); err != nil {
			return err
		}
	}
	return nil
}

// appendRecord appends rec and folds it into the book. A decision through
// an invite is refused with errInviteUsed if the invite was used; if its
// opening was not logged yet (a client that posted without opening the
// page), the invite event is appended with it, in the same batch.
func (s *Server) appendRecord(ctx context.Context, rec ledger.Record, opening *ledger.Record) ([]ledger.Entry, error) {
	p := &s.proc
	inv := rec.Invite
	if rec.Type == ledger.TypeDecision && inv != "" {
		p.mu.Lock()
		if _, used := p.book.InviteUsed(inv); used || p.pending[inv] {
			p.mu.Unlock()
			return nil, errInviteUsed
		}
		p.pending[inv] = true
		if opening != nil && (p.book.InviteOpened(inv) || p.opening[inv]) {
			opening = nil
		}
		p.mu.Unlock()
		defer func() {
			p.mu.Lock()
			delete(p.pending, inv)
			p.mu.Unlock()
		}()
	} else {
		opening = nil
	}
	recs := []ledger.Record{rec}
	if opening != nil {
		recs = []ledger.Record{*opening, rec}
	}
	entries, err := s.log.Append(ctx, recs...)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, e := range entries {
		if err := p.book.Add(&e.Record, nil); err != nil {
			// The record is durable; the book disagrees, which a restart
			// settles. Never lose the acknowledgement over it.
			s.o.Logger.Error("fold record", "id", e.Record.ID, "err", err)
		}
	}
	s.markFolded(entries...)
	return entries[len(entries)-1:], nil
}

// logOpening appends an invite's first opening, once per invite.
func (s *Server) logOpening(ctx context.Context, rec ledger.Record) error {
	p := &s.proc
	p.mu.Lock()
	if p.book.InviteOpened(rec.ID) || p.opening[rec.ID] {
		p.mu.Unlock()
		return nil
	}
	p.opening[rec.ID] = true
	p.mu.Unlock()
	entries, err := s.log.Append(ctx, rec)
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.opening, rec.ID)
	if err != nil {
		return err
	}
	s.markFolded(entries...)
	return p.book.Add(&entries[0].Record, nil)
}

// decision returns a copy of the decision with id and the purposes that can
// still be withdrawn from it.
func (s *Server) decision(id string) (*ledger.Record, []string) {
	s.proc.mu.Lock()
	defer s.proc.mu.Unlock()
	d := s.proc.book.Decision(id)
	if d == nil {
		return nil, nil
	}
	c := *d
	return &c, s.proc.book.Withdrawable(id)
}

// hasDecision reports whether the index holds the decision with id.
func (s *Server) hasDecision(id string) bool {
	s.proc.mu.Lock()
	defer s.proc.mu.Unlock()
	return s.proc.book.HasDecision(id)
}

// decisionOf returns the decision a withdrawal id refers to, or id itself.
func (s *Server) decisionOf(id string) string {
	s.proc.mu.Lock()
	defer s.proc.mu.Unlock()
	if d, ok := s.proc.book.WithdrawalRef(id); ok {
		return d
	}
	return id
}

// inviteDecision returns the id of the decision made through invite id.
func (s *Server) inviteDecision(id string) (string, bool) {
	s.proc.mu.Lock()
	defer s.proc.mu.Unlock()
	return s.proc.book.InviteUsed(id)
}

// withdrawMAC is the secret of a personal withdrawal link: HMAC-SHA256
// (RFC 2104) over "withdraw", 0, id with the link key. It does not expire:
// withdrawal must stay possible as long as the consent lasts.
func (s *Server) withdrawMAC(id string) string {
	m := hmac.New(sha256.New, s.linkKey)
	m.Write([]byte("withdraw\x00"))
	m.Write([]byte(id))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// WithdrawalURL returns the personal withdrawal link of decision id: the
// collector's withdrawal page for that decision, with a MAC so the person
// types nothing.
func (s *Server) WithdrawalURL(id string) string {
	return s.o.PublicURL + "v1/withdraw?id=" + id + "&k=" + s.withdrawMAC(id)
}

// personalWithdrawalURL returns the personal withdrawal link of a grant,
// for its thank-you page; "" for anything else.
func (s *Server) personalWithdrawalURL(rec *ledger.Record) string {
	if rec.Type == ledger.TypeDecision && rec.Decision == ledger.Granted {
		return s.WithdrawalURL(rec.ID)
	}
	return ""
}

// withdrawalURLFor returns the withdrawal link a decision's thank-you page
// and receipt carry: personal for a grant, the public consent page
// otherwise (a refusal has nothing to withdraw).
func (s *Server) withdrawalURLFor(rec *ledger.Record) string {
	if u := s.personalWithdrawalURL(rec); u != "" {
		return u
	}
	// A receipt is kept outside the browser: its links must be absolute,
	// also when "chatconsent serve" links pages root-relative.
	return s.o.Config.SiteURL(s.o.ConsentURLs[rec.Lang])
}

// siteLinks makes the root-relative links of archived content ("/de/…")
// absolute when the collector is not served from the site's origin, so the
// personal page links the site's pages, not the collector's.
func (s *Server) siteLinks(html, lang string) string {
	if strings.HasPrefix(s.o.ConsentURLs[lang], "/") || s.o.ConsentURLs[lang] == "" {
		return html // same origin ("chatconsent serve")
	}
	u, err := url.Parse(s.o.Config.Site.BaseURL)
	if err != nil || u.Host == "" {
		return html
	}
	return strings.ReplaceAll(html, `href="/`, `href="`+u.Scheme+"://"+u.Host+"/")
}

func subtleEq(a, b []byte) bool { return subtle.ConstantTimeCompare(a, b) == 1 }
