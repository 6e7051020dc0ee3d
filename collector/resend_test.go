package collector

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chatconsent/chatconsent/collector/outbox"
	"github.com/chatconsent/chatconsent/internal/config"
)

// downSender refuses every mail for now: mails stay waiting in the outbox,
// where the test reads them.
type downSender struct{}

func (downSender) Send(context.Context, *outbox.Mail) error { return errors.New("mail server down") }

// newMailHarness is a harness whose collector mails through a real
// [Mailer] into DATA/outbox (nothing leaves it), answering on its owner
// socket; it returns the socket's client.
func newMailHarness(t *testing.T) (*harness, *OwnerClient) {
	t.Helper()
	h := newHarnessOpts(t, func(c *config.Config) {
		c.SMTP = &config.SMTP{Host: "127.0.0.1", Port: 25, Security: "none", From: "Fahrradladen <noreply@fahrradladen.example>", OwnerTo: "inhaber@fahrradladen.example"}
	}, func(o *Options) {
		m, err := OpenMailer(o.Config, o.Paths.Outbox, o.Theme, o.Logger, MailerOptions{Sender: downSender{}, Outbox: outbox.Options{MinBackoff: time.Hour}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { m.Close() })
		o.Deliver = m
	})
	return h, h.serveOwner(t)
}

// waitingMail reads a mail waiting in the harness's outbox.
func waitingMail(t *testing.T, h *harness, id string) *outbox.Mail {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(h.data, config.OutboxDir, id+".json"))
	if err != nil {
		t.Fatalf("mail %s: %v", id, err)
	}
	var m outbox.Mail
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return &m
}

// TestResendReceiptSocket: through the owner socket, a receipt is sent
// again under new mail ids with a fresh link that works, once more for
// each resend; refusals come back as the same sentinel errors; an erased
// person's record has nothing to send, and the erasure takes the resent
// mails with it. The collector's log names nobody.
func TestResendReceiptSocket(t *testing.T) {
	t.Parallel()
	h, c := newMailHarness(t)
	ctx := context.Background()
	if w := h.do("POST", "/v1/consent", ctJSON, h.jsonBody("de", "email", "jw@example.org")); w.Code != 201 {
		t.Fatalf("grant: %d %s", w.Code, w.Body)
	}
	if w := h.do("POST", "/v1/consent", ctJSON, h.jsonBody("en", "decision", "refused", "name", "Anna", "phone", "0171 7654321", "purpose", nil)); w.Code != 201 {
		t.Fatalf("refusal: %d %s", w.Code, w.Body)
	}
	recs := h.records(t)
	id, other := recs[0].ID, recs[1].ID

	for _, tt := range []struct {
		name, id string
		want     error
	}{
		{"empty", "", ErrBadRecordID},
		{"too short", id[:31], ErrBadRecordID},
		{"not hex", "g" + id[1:], ErrBadRecordID},
		{"a phone number", "0170 1234567", ErrBadRecordID},
		{"unknown", strings.Repeat("0", 32), ErrNoSuchRecord},
	} {
		if res, err := c.ResendReceipt(ctx, OwnerResend{ID: tt.id}); !errors.Is(err, tt.want) {
			t.Errorf("%s: %+v, %v; want %v", tt.name, res, err, tt.want)
		}
	}

	grouped := strings.ToUpper(id[:4] + " " + id[4:8] + "-" + id[8:])
	for n, spelling := range []string{id, grouped, "consent-" + id + ".pdf", h.srv.ReceiptURL(id)} {
		res, err := c.ResendReceipt(ctx, OwnerResend{ID: spelling})
		if err != nil {
			t.Fatalf("resend %q: %v", spelling, err)
		}
		if res.ID != id || res.Resend != n+1 || res.MailOff || res.SubjectTo != "jw@example.org" || res.OwnerTo != "inhaber@fahrradladen.example" || res.Type != "decision" || res.Decision != "granted" {
			t.Errorf("resend %q: %+v", spelling, res)
		}
		if !res.Expires.After(time.Now().Add(29 * 24 * time.Hour)) {
			t.Errorf("new link expires %v", res.Expires)
		}
	}
	pdf, err := os.ReadFile(h.srv.receiptPath(id))
	if err != nil {
		t.Fatal(err)
	}
	subj, owner := waitingMail(t, h, id+"-resend1-subject"), waitingMail(t, h, id+"-resend1-owner")
	link := ""
	for _, line := range strings.Split(subj.Text, "\n") {
		if strings.Contains(line, "/v1/receipts/"+id+".pdf?") {
			link = strings.TrimSpace(line)
		}
	}
	if subj.To[0] != "jw@example.org" || !strings.Contains(subj.Subject, "erneut gesendet") || subj.MessageID != "consent-"+id+"-resend1-subject@fahrradladen.example" ||
		!strings.Contains(subj.Text, "Vorgangsnummer: "+id) || link == "" || !bytes.Equal(subj.Attachment, pdf) {
		t.Errorf("person's mail: to %v, %q, %s, link %q\n%s", subj.To, subj.Subject, subj.MessageID, link, subj.Text)
	}
	if owner.To[0] != "inhaber@fahrradladen.example" || !strings.Contains(owner.Text, "An: jw@example.org") || !strings.Contains(owner.Text, link) {
		t.Errorf("owner's copy: to %v\n%s", owner.To, owner.Text)
	}
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	if w := h.do("GET", u.RequestURI(), "", ""); w.Code != 200 || w.Header().Get("Content-Type") != "application/pdf" {
		t.Errorf("the new link: %d %s", w.Code, w.Header().Get("Content-Type"))
	}

	// No address known: the owner's copy only, saying so.
	res, err := c.ResendReceipt(ctx, OwnerResend{ID: other})
	if err != nil || res.SubjectTo != "" || res.Resend != 1 {
		t.Fatalf("resend without address: %+v, %v", res, err)
	}
	if m := waitingMail(t, h, other+"-resend1-owner"); !strings.Contains(m.Text, "keine E-Mail-Adresse") {
		t.Errorf("owner's copy without address:\n%s", m.Text)
	}
	if _, err := os.Stat(filepath.Join(h.data, config.OutboxDir, other+"-resend1-subject.json")); err == nil {
		t.Error("a person's mail without an address")
	}

	// Erased: nothing to send, and no resent mail is left behind.
	er, err := c.Erase(ctx, OwnerErasure{Phone: "0170 1234567"})
	if err != nil {
		t.Fatal(err)
	}
	left, _ := filepath.Glob(filepath.Join(h.data, config.OutboxDir, id+"-*"))
	if len(left) > 0 {
		t.Errorf("mails left after the erasure: %v", left)
	}
	_, err = c.ResendReceipt(ctx, OwnerResend{ID: id})
	if !errors.Is(err, ErrErased) || !strings.Contains(err.Error(), "erased on "+time.Now().Format("2006-01")) || !strings.Contains(err.Error(), "nothing to send") {
		t.Errorf("resend for an erased person: %v", err)
	}
	// The link mailed before says what happened, in the browser's language.
	if w := h.do("GET", u.RequestURI(), "", "", "Accept-Language", "de"); w.Code != 410 || !strings.Contains(w.Body.String(), "Diese Bestätigung gibt es nicht mehr") {
		t.Errorf("the new link after the erasure: %d\n%.300s", w.Code, w.Body)
	}
	if _, err := c.ResendReceipt(ctx, OwnerResend{ID: er.ID}); !errors.Is(err, ErrNoReceipt) {
		t.Errorf("resend of the erasure record: %v", err)
	}
	for _, bad := range []string{"jw@example.org", "Jürgen", "1701234567", "Anna"} {
		if strings.Contains(h.logs.String(), bad) {
			t.Errorf("collector log contains %q", bad)
		}
	}
}

// TestResendReceiptMailOff: without mail the receipt is made available
// again all the same (its file, stamped now if it was missing, and a
// fresh link), and the result says that nothing was sent.
func TestResendReceiptMailOff(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	if w := h.do("POST", "/v1/consent", ctJSON, h.jsonBody("de")); w.Code != 201 {
		t.Fatalf("grant: %d", w.Code)
	}
	id := h.records(t)[0].ID
	// As after a crash before the receipt was made.
	h.srv.stopReceipts()
	os.Remove(h.srv.receiptPath(id))
	h.srv.startReceipts(1, 1)
	res, err := h.srv.ResendReceipt(context.Background(), OwnerResend{ID: id})
	if err != nil {
		t.Fatal(err)
	}
	if !res.MailOff || res.Resend != 0 || !res.Made || res.URL == "" {
		t.Errorf("result %+v", res)
	}
	if _, err := os.Stat(res.Receipt); err != nil {
		t.Errorf("receipt not stored: %v", err)
	}
	u, _ := url.Parse(res.URL)
	if w := h.do("GET", u.RequestURI(), "", ""); w.Code != 200 {
		t.Errorf("the new link: %d", w.Code)
	}
}
