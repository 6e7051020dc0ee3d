package collector

import (
	"context"
	"fmt"
	"log/slog"
	"net/mail"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/chatconsent/chatconsent/collector/outbox"
	"github.com/chatconsent/chatconsent/collector/receipt"
	"github.com/chatconsent/chatconsent/internal/config"
	"github.com/chatconsent/chatconsent/themes"
)

// Mailer delivers every receipt by e-mail through a persistent outbox
// (package outbox, in DATA/outbox): to the owner (smtp.owner_to) always,
// and to the data subject when they gave an e-mail address, each mail in
// its reader's language (the subject's language; the site's default
// language for the owner) with the receipt attached. Texts come from the
// theme's i18n strings mail_*.
type Mailer struct {
	cfg    *config.Config
	theme  *themes.Theme
	box    *outbox.Outbox
	rmu    sync.Mutex // one resend at a time: it counts the resends in the outbox
	ctx    context.Context
	cancel context.CancelFunc
	start  sync.Once
	done   chan struct{} // closed when delivery stopped (or never started)
}

// MailerOptions tune [OpenMailer]; zero values take defaults.
type MailerOptions struct {
	Outbox outbox.Options
	// Getenv reads smtp.password_env; default os.Getenv.
	Getenv func(string) string
	// Sender replaces SMTP (tests).
	Sender outbox.Sender
}

// OpenMailer opens DATA/outbox; [Mailer.Start] starts delivering in the
// background (until [Mailer.Close]), mails a previous run left waiting
// first. [Open] starts it only after the log's erasures are carried out,
// so that a mail of an erased person that a restored backup brought back
// is deleted, never sent. It returns nil and no error if cfg has no [smtp] table: mail is off and
// nothing is queued. A password that cannot be read is an error now.
func OpenMailer(cfg *config.Config, outboxDir string, theme *themes.Theme, logger *slog.Logger, o MailerOptions) (*Mailer, error) {
	if cfg.SMTP == nil {
		return nil, nil
	}
	send := o.Sender
	if send == nil {
		getenv := o.Getenv
		if getenv == nil {
			getenv = os.Getenv
		}
		pw, err := cfg.SMTP.Password(getenv)
		if err != nil {
			return nil, err
		}
		s, err := outbox.NewSMTP(outbox.SMTPConfig{
			Host: cfg.SMTP.Host, Port: cfg.SMTP.Port, Security: cfg.SMTP.Security,
			User: cfg.SMTP.User, Password: pw,
		})
		if err != nil {
			return nil, err
		}
		send = s
	}
	if o.Outbox.Logger == nil {
		o.Outbox.Logger = logger
	}
	box, err := outbox.Open(outboxDir, send, o.Outbox)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Mailer{cfg: cfg, theme: theme, box: box, ctx: ctx, cancel: cancel, done: make(chan struct{})}, nil
}

// Start starts delivering the outbox in the background; a second call
// does nothing, and so does one after [Mailer.Close].
func (m *Mailer) Start() {
	m.start.Do(func() {
		go func() {
			defer close(m.done)
			m.box.Run(m.ctx)
		}()
	})
}

// Close stops delivering; waiting mails stay in the outbox for the next
// start.
func (m *Mailer) Close() error {
	m.cancel()
	m.start.Do(func() { close(m.done) }) // never started: nothing to wait for
	<-m.done
	return nil
}

// Outbox returns the mailer's outbox.
func (m *Mailer) Outbox() *outbox.Outbox { return m.box }

// Deliver queues the receipt pdf for d: the owner's copy, and the data
// subject's mail if d.Email is set. It returns once both are on disk;
// sending happens in the background. Each mail's outbox id and
// Message-ID derive from the record id, so delivering the same receipt
// twice queues nothing new.
func (m *Mailer) Deliver(d receipt.Data, pdf []byte) error {
	return m.queue(d, pdf, mailSet{date: d.Time, subject: "mail_subject", body: "mail_body", ownerSubject: "mail_owner_subject", ownerBody: "mail_owner_body"})
}

// Resend queues the receipt pdf for d again, with the fresh link, as
// [Mailer.Deliver] does but under new outbox ids and Message-IDs
// (RECORDID-resendN-owner, RECORDID-resendN-subject: N counts the
// resends of the record, from 1), so the outbox sends it although the
// first mails are in sent/. Texts are the theme's mail_resend_* and
// mail_owner_resend_* strings.
func (m *Mailer) Resend(d receipt.Data, pdf []byte, link ReceiptLink) (Resent, error) {
	m.rmu.Lock()
	defer m.rmu.Unlock()
	n := 1
	for m.box.Known(fmt.Sprintf("%s-resend%d-owner", d.RecordID, n)) {
		n++
	}
	set := mailSet{
		tag: fmt.Sprintf("resend%d", n), date: link.Made, link: &link,
		subject: "mail_resend_subject", body: "mail_resend_body", ownerSubject: "mail_owner_resend_subject", ownerBody: "mail_owner_resend_body",
	}
	if err := m.queue(d, pdf, set); err != nil {
		return Resent{}, err
	}
	return Resent{N: n, Subject: d.Email, Owner: m.cfg.SMTP.OwnerTo}, nil
}

// mailSet is one sending of a receipt: the outbox id's tag ("" for the
// first sending), the mails' date, their texts' i18n keys, and the fresh
// receipt link of a resend.
type mailSet struct {
	tag, subject, body, ownerSubject, ownerBody string
	date                                        time.Time
	link                                        *ReceiptLink
}

// queue stores the mails of set for d in the outbox: the owner's, and the
// data subject's if d.Email is set.
func (m *Mailer) queue(d receipt.Data, pdf []byte, set mailSet) error {
	from, err := mail.ParseAddress(m.cfg.SMTP.From)
	if err != nil {
		return fmt.Errorf("smtp.from: %w", err)
	}
	_, domain, _ := strings.Cut(from.Address, "@")
	type copyFor struct {
		role, lang, to, subjectKey, bodyKey string
	}
	var copies []copyFor
	// With smtp.owner_mail = "daily" the owner gets the day's digest
	// instead of the first sending of every receipt; a resend, which the
	// owner asked for, still comes to them.
	if m.cfg.SMTP.OwnerMail != config.OwnerMailDaily || set.tag != "" {
		copies = append(copies, copyFor{"owner", m.ownerLang(), m.cfg.SMTP.OwnerTo, set.ownerSubject, set.ownerBody})
	}
	if d.Email != "" {
		copies = append(copies, copyFor{"subject", d.Lang, d.Email, set.subject, set.body})
	}
	for _, c := range copies {
		t := m.theme.Strings(c.lang)
		if t == nil {
			return fmt.Errorf("mail: the theme has no strings for language %q", c.lang)
		}
		r := m.replacer(d, t, set.link)
		id := d.RecordID + "-" + c.role
		if set.tag != "" {
			id = d.RecordID + "-" + set.tag + "-" + c.role
		}
		err := m.box.Enqueue(&outbox.Mail{
			ID:             id,
			MessageID:      "consent-" + id + "@" + domain,
			Date:           set.date,
			From:           m.cfg.SMTP.From,
			To:             []string{c.to},
			Subject:        oneLine(r.Replace(t[c.subjectKey])),
			Text:           strings.TrimLeft(r.Replace(t[c.bodyKey]), "\n"),
			AttachmentName: "consent-" + d.RecordID + ".pdf",
			Attachment:     pdf,
		})
		if err != nil {
			return fmt.Errorf("mail %s: %w", c.role, err)
		}
	}
	return nil
}

// ownerLang is the site's default language if the theme has strings for
// it, else English.
func (m *Mailer) ownerLang() string {
	if l := m.cfg.Site.DefaultLanguage; m.theme.Strings(l)["mail_owner_body"] != "" {
		return l
	}
	return "en"
}

// replacer fills the placeholders of the mail texts for d in the
// language of t; link, if not nil, fills {receipt_url},
// {receipt_expires} and {sent_to} (the person's address, or
// mail_resend_no_email).
func (m *Mailer) replacer(d receipt.Data, t map[string]string, link *ReceiptLink) *strings.Replacer {
	decision := t["mail_"+d.Decision] // mail_granted, mail_refused, mail_withdrawn
	if decision == "" {
		decision = d.Decision
	}
	var purposes []string
	for _, p := range d.Purposes {
		state := t["mail_purpose_refused"]
		switch {
		case p.Withdrawn:
			state = t["mail_purpose_withdrawn"]
		case p.Granted:
			state = t["mail_purpose_granted"]
		}
		purposes = append(purposes, "- "+p.Title+": "+state)
	}
	var withdrawal []string
	if d.WithdrawalURL != "" {
		withdrawal = append(withdrawal, d.WithdrawalURL)
	}
	if d.Controller.Email != "" {
		withdrawal = append(withdrawal, t["mail_email"]+": "+d.Controller.Email)
	}
	email := d.Email
	if email == "" {
		email = "–"
	}
	var url, expires, sentTo string
	if link != nil {
		url, expires, sentTo = link.URL, mailTime(link.Expires, t), d.Email
		if sentTo == "" {
			sentTo = t["mail_resend_no_email"]
		}
	}
	return strings.NewReplacer(
		"{receipt_url}", url, "{receipt_expires}", expires, "{sent_to}", sentTo,
		"{name}", d.Name, "{phone}", d.Phone, "{email}", email,
		"{controller}", d.Controller.Name, "{controller_address}", d.Controller.Address,
		"{controller_email}", d.Controller.Email,
		"{decision}", decision, "{purposes}", strings.Join(purposes, "\n"),
		"{time}", mailTime(d.Time, t), "{record_id}", d.RecordID,
		"{withdrawal}", strings.Join(withdrawal, "\n"), "{withdrawal_url}", d.WithdrawalURL,
	)
}

// mailTime formats at in Berlin time with the language's
// mail_time_layout (RFC 3339 in UTC without one).
func mailTime(at time.Time, t map[string]string) string {
	if loc, err := time.LoadLocation("Europe/Berlin"); err == nil && t["mail_time_layout"] != "" {
		return at.In(loc).Format(t["mail_time_layout"])
	}
	return at.UTC().Format(time.RFC3339)
}

// oneLine keeps a header on one line whatever the data holds.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
