package collector

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/chatconsent/chatconsent/collector/receipt"
)

// deliveries records what the collector hands to the mailer.
type deliveries struct {
	mu  sync.Mutex
	got []receipt.Data
}

func (d *deliveries) Deliver(rd receipt.Data, pdf []byte) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.got = append(d.got, rd)
	return nil
}

func TestRecordWithdrawal(t *testing.T) {
	t.Parallel()
	mail := &deliveries{}
	h := newHarnessOpts(t, nil, func(o *Options) { o.Deliver = mail })
	if w := h.do("POST", "/v1/consent", ctJSON, h.jsonBody("de", "email", "j@example.org", "purpose", []string{"orders", "documents"})); w.Code != 201 {
		t.Fatalf("grant: %d %s", w.Code, w.Body)
	}
	logBefore, _ := os.ReadFile(h.logPath)
	ok := OwnerWithdrawal{Phone: "+49 170 1234567", Purposes: []string{"documents"}, Via: "phone", By: "anna", Note: " rief an "}
	for _, tt := range []struct {
		name string
		mod  func(*OwnerWithdrawal)
		want error
	}{
		{"bad channel", func(w *OwnerWithdrawal) { w.Via = "link" }, ErrBadChannel},
		{"no owner", func(w *OwnerWithdrawal) { w.By = "" }, ErrBadOwner},
		{"owner with a space", func(w *OwnerWithdrawal) { w.By = "anna b" }, ErrBadOwner},
		{"note too long", func(w *OwnerWithdrawal) { w.Note = string(bytes.Repeat([]byte("x"), MaxOwnerNote+1)) }, ErrBadNote},
		{"bad number", func(w *OwnerWithdrawal) { w.Phone = "12" }, ErrBadNumber},
		{"unknown number", func(w *OwnerWithdrawal) { w.Phone = "0171 7654321" }, ErrNoSuchNumber},
		{"nothing asked", func(w *OwnerWithdrawal) { w.Purposes = nil }, ErrPurposeMissing},
		{"all and purposes", func(w *OwnerWithdrawal) { w.All = true }, ErrPurposeMissing},
		{"unknown purpose", func(w *OwnerWithdrawal) { w.Purposes = []string{"marketing"} }, ErrUnknownPurpose},
	} {
		w := ok
		tt.mod(&w)
		_, err := h.srv.RecordWithdrawal(context.Background(), w)
		var we *WithdrawalError
		if !errors.Is(err, tt.want) || !errors.As(err, &we) {
			t.Errorf("%s: err = %v, want %v", tt.name, err, tt.want)
		}
		if tt.want == ErrPurposeMissing && w.Purposes == nil && !slices.Equal(we.InForce, []string{"orders", "documents"}) {
			t.Errorf("%s: in force %v", tt.name, we.InForce)
		}
	}
	if b, _ := os.ReadFile(h.logPath); !bytes.Equal(b, logBefore) {
		t.Fatal("a refused owner withdrawal wrote to the log")
	}

	res, err := h.srv.RecordWithdrawal(context.Background(), ok)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.Withdrawn, []string{"documents"}) || !slices.Equal(res.StillGranted, []string{"orders"}) || !res.Mailed || res.MailOff || res.Phone != "+491701234567" {
		t.Errorf("result %+v", res)
	}
	recs := h.records(t)
	last := recs[len(recs)-1]
	if last.Type != "withdrawal" || last.Via != "phone" || last.By != "anna" || last.Note != "rief an" || last.Ref != recs[0].ID || last.ID != res.ID || last.Lang != "de" || last.Subject.Email != "j@example.org" {
		t.Errorf("record %+v", last)
	}
	if _, err := os.Stat(res.Receipt); err != nil {
		t.Errorf("receipt: %v", err)
	}
	// The grant's own receipt is mailed by the receipt workers, possibly
	// after the withdrawal's: look the withdrawal's mail up by its id.
	mail.mu.Lock()
	var d receipt.Data
	for _, m := range mail.got {
		if m.RecordID == res.ID {
			d = m
		}
	}
	mail.mu.Unlock()
	if d.RecordID != res.ID || d.Email != "j@example.org" || d.Decision != "withdrawn" {
		t.Errorf("mailed %+v", d)
	}
	if _, err := h.srv.RecordWithdrawal(context.Background(), ok); !errors.Is(err, ErrNotInForce) {
		t.Errorf("withdraw documents again: %v", err)
	}
	all := ok
	all.Purposes, all.All, all.Via = nil, true, "in-person"
	if res, err := h.srv.RecordWithdrawal(context.Background(), all); err != nil || !slices.Equal(res.Withdrawn, []string{"orders"}) || len(res.StillGranted) != 0 {
		t.Errorf("withdraw all: %+v, %v", res, err)
	}
	if _, err := h.srv.RecordWithdrawal(context.Background(), all); !errors.Is(err, ErrNothingInForce) {
		t.Errorf("withdraw all again: %v", err)
	}
	// The public withdrawal page now finds nothing left either.
	if w := h.do("POST", "/v1/withdraw", ctJSON, `{"phone":"0170 1234567","id":"`+recs[0].ID+`","purpose":["all"]}`); w.Code != 409 {
		t.Errorf("web withdrawal after the owner's: %d", w.Code)
	}
}

// TestOwnerSocket: the CLI's client and the socket handler agree on
// results and errors; a dead socket file is ErrNoCollector.
func TestOwnerSocket(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	if _, err := DialOwner(h.data); !errors.Is(err, ErrNoCollector) {
		t.Fatalf("dial without socket: %v", err)
	}
	ln, err := ListenOwner(h.data)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(filepath.Join(h.data, OwnerSocket))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("socket mode: %v %v", st.Mode(), err)
	}
	srv := &http.Server{Handler: h.srv.OwnerHandler()}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	c, err := DialOwner(h.data)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	w := OwnerWithdrawal{Phone: "0170 1234567", All: true, Via: "letter", By: "anna"}
	_, err = c.Withdraw(context.Background(), w)
	var we *WithdrawalError
	if !errors.Is(err, ErrNoSuchNumber) || !errors.As(err, &we) || we.Detail != "+491701234567" {
		t.Errorf("unknown number over the socket: %v", err)
	}
	if r := h.do("POST", "/v1/consent", ctJSON, h.jsonBody("en")); r.Code != 201 {
		t.Fatalf("grant: %d", r.Code)
	}
	w.All, w.Purposes = false, nil
	if _, err := c.Withdraw(context.Background(), w); !errors.As(err, &we) || !errors.Is(err, ErrPurposeMissing) || !slices.Equal(we.InForce, []string{"orders"}) {
		t.Errorf("no purpose over the socket: %v", err)
	}
	w.All = true
	res, err := c.Withdraw(context.Background(), w)
	if err != nil || !slices.Equal(res.Withdrawn, []string{"orders"}) || !res.MailOff {
		t.Errorf("withdraw over the socket: %+v, %v", res, err)
	}
	// The public handler knows nothing of the owner's route.
	if r := h.do("POST", "/owner/v1/withdraw", ctJSON, `{}`); r.Code != 404 && r.Code != 403 {
		t.Errorf("owner route on the public handler: %d", r.Code)
	}
	// A socket file nobody listens on (a killed collector) is replaced.
	srv.Close()
	os.WriteFile(filepath.Join(h.data, OwnerSocket), nil, 0o600)
	if _, err := DialOwner(h.data); !errors.Is(err, ErrNoCollector) {
		t.Errorf("dial a dead socket: %v", err)
	}
	ln2, err := ListenOwner(h.data)
	if err != nil {
		t.Fatalf("listen over a dead socket file: %v", err)
	}
	ln2.Close()
}

// TestRecordWithdrawalByRecordID: the owner can name the decision by its
// record id (or a withdrawal's) instead of the number; an id the log does
// not hold is read as a number, and refused as one.
func TestRecordWithdrawalByRecordID(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	w := h.do("POST", "/v1/consent", ctJSON, h.jsonBody("de", "purpose", []string{"orders", "documents"}))
	if w.Code != 201 {
		t.Fatalf("grant: %d %s", w.Code, w.Body)
	}
	id := h.records(t)[0].ID
	res, err := h.srv.RecordWithdrawal(context.Background(), OwnerWithdrawal{Phone: strings.ToUpper(id[:8]) + "-" + id[8:], Purposes: []string{"documents"}, Via: "letter", By: "anna"})
	if err != nil || res.Ref != id || res.Phone != "+491701234567" || !slices.Equal(res.Withdrawn, []string{"documents"}) {
		t.Fatalf("by decision id: %+v, %v", res, err)
	}
	// The withdrawal's own id leads to the same decision.
	res, err = h.srv.RecordWithdrawal(context.Background(), OwnerWithdrawal{Phone: res.ID, All: true, Via: "letter", By: "anna"})
	if err != nil || res.Ref != id || !slices.Equal(res.Withdrawn, []string{"orders"}) {
		t.Fatalf("by withdrawal id: %+v, %v", res, err)
	}
	if _, err := h.srv.RecordWithdrawal(context.Background(), OwnerWithdrawal{Phone: strings.Repeat("ab", 16), All: true, Via: "letter", By: "anna"}); !errors.Is(err, ErrBadNumber) {
		t.Errorf("an unknown record id: %v, want ErrBadNumber", err)
	}
}
