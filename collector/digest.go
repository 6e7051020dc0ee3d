package collector

import (
	"fmt"
	"net/mail"
	"strconv"
	"strings"
	"time"

	"github.com/chatconsent/chatconsent/collector/ledger"
	"github.com/chatconsent/chatconsent/collector/outbox"
	"github.com/chatconsent/chatconsent/internal/config"
	"github.com/chatconsent/chatconsent/internal/records"
)

// The owner's daily digest (smtp.owner_mail = "daily").
//
// Instead of a copy of every receipt, the owner gets one mail a day that
// lists the decisions and withdrawals of the day before (Europe/Berlin):
// time, what, purposes and the reference number, and the console's
// address, where each receipt is. It names nobody: no name, number or
// e-mail address, so an erasure has nothing to take from it. Its outbox id
// and Message-ID are "digest-YYYY-MM-DD": a day's digest is queued once,
// however often the collector restarts. A day without any decision or
// withdrawal gets no mail. The collector looks once an hour whether
// yesterday's digest is due; a day the collector was not running at all
// until the end of the next gets none (the console's "new since your
// last visit" shows it all the same).

// digestEvery is how often the collector looks whether a digest is due.
const digestEvery = time.Hour

// DigestItem is one line of a digest.
type DigestItem struct {
	Time     time.Time
	Type     string // ledger.TypeDecision or ledger.TypeWithdrawal
	Decision string // ledger.Granted or ledger.Refused, for a decision
	Purposes []string
	ID       string
}

// DigestID is the outbox id of the digest of day (its Berlin date).
func DigestID(day time.Time) string { return "digest-" + day.In(records.Berlin()).Format("2006-01-02") }

// Digest queues the owner's digest of day (any time within its Berlin
// date) listing items, with consoleURL (the owner console's address).
// It reports false and queues nothing if there are no items or the
// digest of that day is known to the outbox already.
func (m *Mailer) Digest(day time.Time, items []DigestItem, consoleURL string) (bool, error) {
	id := DigestID(day)
	if len(items) == 0 || m.box.Known(id) {
		return false, nil
	}
	from, err := mail.ParseAddress(m.cfg.SMTP.From)
	if err != nil {
		return false, fmt.Errorf("smtp.from: %w", err)
	}
	_, domain, _ := strings.Cut(from.Address, "@")
	lang := m.ownerLang()
	t := m.theme.Strings(lang)
	var lines []string
	for _, it := range items {
		what := t["mail_"+it.Decision]
		if it.Type == ledger.TypeWithdrawal {
			what = t["mail_withdrawn"]
		}
		var titles []string
		for _, p := range it.Purposes {
			titles = append(titles, m.cfg.PurposeTitle(p, lang))
		}
		lines = append(lines, fmt.Sprintf("- %s %s: %s (%s %s)", it.Time.In(records.Berlin()).Format("15:04"), what, strings.Join(titles, ", "), t["receipt_reference"], groupRecordID(it.ID)))
	}
	date := day.In(records.Berlin()).Format("2006-01-02")
	r := strings.NewReplacer("{controller}", m.cfg.Controller.Name, "{date}", date, "{count}", strconv.Itoa(len(items)),
		"{items}", strings.Join(lines, "\n"), "{console}", consoleURL)
	err = m.box.Enqueue(&outbox.Mail{
		ID: id, MessageID: "consent-" + id + "@" + domain, Date: day,
		From: m.cfg.SMTP.From, To: []string{m.cfg.SMTP.OwnerTo},
		Subject: oneLine(r.Replace(t["mail_digest_subject"])),
		Text:    strings.TrimLeft(r.Replace(t["mail_digest_body"]), "\n"),
	})
	if err != nil {
		return false, fmt.Errorf("mail digest %s: %w", date, err)
	}
	return true, nil
}

// groupRecordID prints a record id in groups of four, as receipts of
// layout 3 do.
func groupRecordID(id string) string {
	var b strings.Builder
	for i, r := range id {
		if i > 0 && i%4 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// digestMailer returns the mailer if the owner wants a daily digest.
func (s *Server) digestMailer() *Mailer {
	m, ok := s.o.Deliver.(*Mailer)
	if !ok || m == nil || s.o.Config.SMTP == nil || s.o.Config.SMTP.OwnerMail != config.OwnerMailDaily {
		return nil
	}
	return m
}

// SendDigest queues the digest of the Berlin day before now, if it is
// due (see [Mailer.Digest]); it reports whether it queued one.
func (s *Server) SendDigest(now time.Time) (bool, error) {
	m := s.digestMailer()
	if m == nil {
		return false, nil
	}
	loc := records.Berlin()
	n := now.In(loc)
	end := time.Date(n.Year(), n.Month(), n.Day(), 0, 0, 0, 0, loc)
	start := end.AddDate(0, 0, -1)
	if m.box.Known(DigestID(start)) {
		return false, nil
	}
	var items []DigestItem
	err := s.log.ScanFrom(ledger.Head{}, func(e ledger.Entry) error {
		r := &e.Record
		if (r.Type != ledger.TypeDecision && r.Type != ledger.TypeWithdrawal) || r.Time.Before(start) || !r.Time.Before(end) {
			return nil
		}
		items = append(items, DigestItem{Time: r.Time, Type: r.Type, Decision: r.Decision, Purposes: r.Purposes, ID: r.ID})
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("digest: %w", err)
	}
	return m.Digest(start, items, s.o.PublicURL+"owner/")
}

// startDigest looks now and every [digestEvery] whether a digest is due,
// until stop is closed; a no-op without smtp.owner_mail = "daily".
func (s *Server) startDigest(stop <-chan struct{}) {
	if s.digestMailer() == nil {
		return
	}
	go func() {
		t := time.NewTicker(digestEvery)
		defer t.Stop()
		last := ""
		for {
			now := s.o.Now()
			if day := now.In(records.Berlin()).Format("2006-01-02"); day != last {
				sent, err := s.SendDigest(now)
				if err != nil {
					s.o.Logger.Error("owner digest", "err", err)
				} else {
					last = day
					if sent {
						s.o.Logger.Info("owner digest queued", "day", DigestID(now.AddDate(0, 0, -1)))
					}
				}
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
}
