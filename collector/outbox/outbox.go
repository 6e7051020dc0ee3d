// Package outbox delivers e-mails through a persistent queue on disk, so
// that a restart or an outage of the mail server delays a mail but never
// loses it. chatconsent uses it to send each receipt to the data subject
// and a copy to the owner.
//
// # On disk
//
// An outbox is a folder:
//
//	DIR/ITEM.json         a mail waiting to be sent (one file per mail)
//	DIR/sent/ITEM.json    delivered: the server accepted it
//	DIR/failed/ITEM.json  refused for good (an SMTP 5xx reply); ITEM.err says why
//
// ITEM is the mail's [Mail.ID] (letters, digits, '-', '_', '.'), and a file
// holds the [Mail] as JSON, with the attachment in base64. Files are
// written durably (temporary file, fsync, rename, fsync of the folder) and
// moved, never rewritten. [Outbox.Enqueue] ignores an ID that is already
// waiting, sent or failed, so enqueueing the same mail twice sends it once.
//
// # Delivery guarantee
//
// Delivery is at least once, not exactly once. A mail moves to sent/ only
// after the server has accepted it (its reply to the end of DATA, RFC 5321
// 4.1.1.4). If the process dies or the connection breaks between the
// server's acceptance and that move (a window of one reply and one rename),
// the mail is sent again after the restart. Every attempt of one mail
// carries the same Message-ID (RFC 5322 3.6.4) and Date, so a duplicate is
// recognisable as such, and many receiving systems drop it. Exactly once
// would need the server to take part (it cannot tell a resend from a new
// mail), so the window is kept small and duplicates recognisable instead.
//
// # Retries
//
// A temporary failure (no connection, a timeout, an SMTP 4xx reply) is
// retried with exponential backoff: [Options.MinBackoff] doubling up to
// [Options.MaxBackoff], without a limit on attempts. A permanent refusal
// (5xx, e.g. an unknown recipient) moves the mail to failed/ and is
// logged; it is not retried. The backoff state lives in memory: after a
// restart every waiting mail is tried at once.
package outbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/chatconsent/chatconsent/internal/durable"
)

// Mail is one message to deliver. All fields except Attachment and
// AttachmentName are required.
type Mail struct {
	// ID names the outbox file; unique per mail, e.g. "RECORDID-owner".
	ID string `json:"id"`
	// MessageID is the Message-ID header without angle brackets, the
	// same on every attempt (see the package documentation).
	MessageID string    `json:"message_id"`
	Date      time.Time `json:"date"`
	From      string    `json:"from"`
	To        []string  `json:"to"`
	Subject   string    `json:"subject"`
	// Text is the plain-text body (UTF-8).
	Text string `json:"text"`
	// AttachmentName and Attachment are an optional file, e.g. the PDF
	// receipt.
	AttachmentName string `json:"attachment_name,omitempty"`
	Attachment     []byte `json:"attachment,omitempty"`
}

// Sender delivers one mail. An error wrapping [ErrPermanent] means the
// mail will never be accepted; any other error is retried.
type Sender interface {
	Send(ctx context.Context, m *Mail) error
}

// ErrPermanent marks a refusal that retrying cannot fix (SMTP 5xx).
var ErrPermanent = errors.New("permanent delivery failure")

// Options tune an [Outbox]. Zero values take the defaults.
type Options struct {
	// MinBackoff is the wait after the first failed attempt; default 30 s.
	MinBackoff time.Duration
	// MaxBackoff caps the wait between attempts; default 1 h.
	MaxBackoff time.Duration
	Logger     *slog.Logger
	Now        func() time.Time
}

// Outbox is a persistent mail queue in a folder. Its methods are safe for
// concurrent use; one process at a time may use a folder.
type Outbox struct {
	dir  string
	send Sender
	o    Options
	wake chan struct{}

	mu    sync.Mutex
	retry map[string]retryState // by ID
}

type retryState struct {
	attempts int
	next     time.Time
	lastErr  string
}

var idRe = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,200}$`)

// Open returns the outbox in dir, creating dir, dir/sent and dir/failed,
// and removes temporary files a crash left behind. Call [Outbox.Run] to
// deliver.
func Open(dir string, send Sender, o Options) (*Outbox, error) {
	if o.MinBackoff <= 0 {
		o.MinBackoff = 30 * time.Second
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = time.Hour
	}
	if o.MaxBackoff < o.MinBackoff {
		o.MaxBackoff = o.MinBackoff
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	for _, d := range []string{dir, filepath.Join(dir, "sent"), filepath.Join(dir, "failed")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("outbox: %w", err)
		}
	}
	// Temporary files of writes a crash interrupted: durable's, and the
	// ".tmp-*" names older versions used.
	durable.RemoveTemps(dir)
	old, _ := filepath.Glob(filepath.Join(dir, ".tmp-*"))
	for _, t := range old {
		os.Remove(t)
	}
	return &Outbox{dir: dir, send: send, o: o, wake: make(chan struct{}, 1), retry: map[string]retryState{}}, nil
}

// Enqueue stores m durably in the outbox and wakes the delivery loop. It
// returns after the file is on disk; a mail whose ID is already waiting,
// sent or failed is not stored again (nil error).
func (b *Outbox) Enqueue(m *Mail) error {
	if !idRe.MatchString(m.ID) {
		return fmt.Errorf("outbox: bad mail id %q", m.ID)
	}
	if m.MessageID == "" || m.From == "" || len(m.To) == 0 || m.Date.IsZero() {
		return fmt.Errorf("outbox: mail %s: message id, from, to and date are required", m.ID)
	}
	name := m.ID + ".json"
	if b.Known(m.ID) {
		return nil
	}
	j, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("outbox: encode mail %s: %w", m.ID, err)
	}
	if err := durable.WriteFile(filepath.Join(b.dir, name), j, 0o600); err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	b.Wake()
	return nil
}

// Known reports whether a mail with id is waiting, sent or failed: one
// that [Outbox.Enqueue] would not store again.
func (b *Outbox) Known(id string) bool {
	for _, d := range []string{"", "sent", "failed"} {
		if _, err := os.Stat(filepath.Join(b.dir, d, id+".json")); err == nil {
			return true
		}
	}
	return false
}

// Wake makes the delivery loop look at the outbox now; mails waiting for
// their backoff still wait.
func (b *Outbox) Wake() {
	select {
	case b.wake <- struct{}{}:
	default:
	}
}

// Pending returns the IDs of the mails waiting, in delivery order.
func (b *Outbox) Pending() ([]string, error) {
	ents, err := os.ReadDir(b.dir)
	if err != nil {
		return nil, fmt.Errorf("outbox: %w", err)
	}
	var ids []string
	for _, e := range ents {
		if n, ok := strings.CutSuffix(e.Name(), ".json"); ok && e.Type().IsRegular() && !strings.HasPrefix(n, ".") {
			ids = append(ids, n)
		}
	}
	slices.Sort(ids)
	return ids, nil
}

// Run delivers waiting mails until ctx ends: each due mail in ID order,
// then it sleeps until the next retry or [Outbox.Wake]. It returns
// ctx.Err().
func (b *Outbox) Run(ctx context.Context) error {
	for {
		next, err := b.deliverDue(ctx)
		if err != nil {
			b.o.Logger.Error("outbox", "err", err)
			next = b.o.Now().Add(b.o.MinBackoff)
		}
		var timer <-chan time.Time
		var t *time.Timer
		if !next.IsZero() {
			t = time.NewTimer(max(0, next.Sub(b.o.Now())))
			timer = t.C
		}
		select {
		case <-ctx.Done():
		case <-b.wake:
		case <-timer:
		}
		if t != nil {
			t.Stop()
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
}

// deliverDue tries every mail that is due and returns when the earliest
// waiting one is due next (zero if none waits).
func (b *Outbox) deliverDue(ctx context.Context) (time.Time, error) {
	ids, err := b.Pending()
	if err != nil {
		return time.Time{}, err
	}
	var next time.Time
	for _, id := range ids {
		if ctx.Err() != nil {
			return time.Time{}, nil
		}
		b.mu.Lock()
		st := b.retry[id]
		b.mu.Unlock()
		if now := b.o.Now(); st.next.After(now) {
			if next.IsZero() || st.next.Before(next) {
				next = st.next
			}
			continue
		}
		if err := b.deliver(ctx, id); err != nil {
			if ctx.Err() != nil {
				return time.Time{}, nil
			}
			st.attempts++
			st.lastErr = err.Error()
			st.next = b.o.Now().Add(b.backoff(st.attempts))
			b.mu.Lock()
			b.retry[id] = st
			b.mu.Unlock()
			b.o.Logger.Warn("mail not delivered, will retry", "mail", id, "attempt", st.attempts, "retry_in", b.backoff(st.attempts).String(), "err", err)
			if next.IsZero() || st.next.Before(next) {
				next = st.next
			}
			continue
		}
		b.mu.Lock()
		delete(b.retry, id)
		b.mu.Unlock()
	}
	return next, nil
}

// backoff returns the wait after the n-th failed attempt.
func (b *Outbox) backoff(n int) time.Duration {
	d := b.o.MinBackoff
	for i := 1; i < n && d < b.o.MaxBackoff; i++ {
		d *= 2
	}
	return min(d, b.o.MaxBackoff)
}

// deliver sends one waiting mail and moves it to sent/ or failed/. It
// returns an error only for a failure to retry.
func (b *Outbox) deliver(ctx context.Context, id string) error {
	path := filepath.Join(b.dir, id+".json")
	j, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil // delivered meanwhile
	}
	if err != nil {
		return err
	}
	var m Mail
	if err := json.Unmarshal(j, &m); err != nil {
		// A file that is not a mail can never be sent: set it aside.
		b.o.Logger.Error("outbox: unreadable mail set aside", "mail", id, "err", err)
		return b.fail(id, fmt.Errorf("unreadable: %w", err))
	}
	err = b.send.Send(ctx, &m)
	if err != nil {
		err = &redactedError{err, m.To}
	}
	switch {
	case err == nil:
		if err := durable.Move(b.dir, id+".json", filepath.Join(b.dir, "sent")); err != nil {
			// Sent, but still waiting on disk: it will be sent again
			// (the at-least-once window).
			return fmt.Errorf("sent, but could not move to sent/: %w", err)
		}
		// Ids only: the collector's own log holds no personal data.
		b.o.Logger.Info("mail delivered", "mail", id, "recipients", len(m.To), "message_id", m.MessageID)
		return nil
	case errors.Is(err, ErrPermanent):
		b.o.Logger.Error("mail refused for good, moved to failed/", "mail", id, "err", err)
		return b.fail(id, err)
	}
	return err
}

// fail moves a mail to failed/ beside a note of why.
func (b *Outbox) fail(id string, reason error) error {
	if err := durable.WriteFile(filepath.Join(b.dir, "failed", id+".err"), []byte(reason.Error()+"\n"), 0o600); err != nil {
		return err
	}
	return durable.Move(b.dir, id+".json", filepath.Join(b.dir, "failed"))
}

// redactedError is a sending error whose text has the recipients'
// addresses replaced, for the collector's own log and failed/ files: SMTP
// servers quote the recipient in their replies. Unwrap keeps
// errors.Is(err, ErrPermanent) working.
type redactedError struct {
	err   error
	addrs []string
}

func (e *redactedError) Error() string {
	msg := e.err.Error()
	for _, a := range e.addrs {
		if a != "" {
			msg = strings.ReplaceAll(msg, a, "<recipient>")
		}
	}
	return msg
}

func (e *redactedError) Unwrap() error { return e.err }
