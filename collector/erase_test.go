package collector

import (
	"context"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chatconsent/chatconsent/collector/ledger"
	"github.com/chatconsent/chatconsent/internal/records"
)

// TestEraseRunningCollector: the running collector's index follows an
// erasure without a restart; the erased decision is still withdrawable by
// its personal link, and that withdrawal records no personal data.
func TestEraseRunningCollector(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	if w := h.do("POST", "/v1/consent", ctJSON, h.jsonBody("de", "purpose", []string{"orders", "documents"}, "email", "jw@example.org")); w.Code != 201 {
		t.Fatalf("post: %d %s", w.Code, w.Body)
	}
	if w := h.do("POST", "/v1/consent", ctJSON, h.jsonBody("de", "name", "Łukasz", "phone", "0171 7654321")); w.Code != 201 {
		t.Fatalf("post: %d %s", w.Code, w.Body)
	}
	recs := h.records(t)
	idA := recs[0].ID
	e, err := h.srv.EraseNumber(context.Background(), OwnerErasure{Phone: "0170 1234567"})
	if err != nil || len(e.Records) != 1 || e.Records[0] != idA {
		t.Fatalf("EraseNumber = %+v, %v", e, err)
	}
	if _, err := h.srv.EraseNumber(context.Background(), OwnerErasure{Phone: "0170 1234567"}); !errors.Is(err, ErrNothingToErase) {
		t.Errorf("erase twice: %v", err)
	}
	if _, err := h.srv.EraseNumber(context.Background(), OwnerErasure{Phone: "0170 1234567", Reason: "weil"}); !errors.Is(err, ErrBadReason) {
		t.Errorf("free-text reason: %v", err)
	}
	d, left := h.srv.decision(idA)
	if d == nil || !records.IsErased(d.Subject.GetPhone()) || d.Subject.Name != "" || len(left) != 2 {
		t.Fatalf("index after erasure: %+v, left %v", d, left)
	}
	// The personal link still withdraws.
	u, _ := url.Parse(h.srv.WithdrawalURL(idA))
	q := u.Query()
	w := h.do("POST", "/v1/withdraw", ctJSON, `{"id":"`+idA+`","k":"`+q.Get("k")+`","purpose":["orders"]}`)
	if w.Code != 201 {
		t.Fatalf("withdraw after erasure: %d %s", w.Code, w.Body)
	}
	if _, left := h.srv.decision(idA); len(left) != 1 || left[0] != "documents" {
		t.Errorf("left after withdrawing: %v", left)
	}
	recs = h.records(t)
	last := recs[len(recs)-1]
	if last.Type != ledger.TypeWithdrawal || last.Subject != nil || last.SD != nil {
		t.Errorf("withdrawal of an erased person: %+v", last)
	}
	b, _ := os.ReadFile(h.logPath)
	for _, v := range []string{"Jürgen", "1701234567", "jw@example.org"} {
		if strings.Contains(string(b), v) {
			t.Errorf("log holds %q", v)
		}
	}
	if _, err := os.Stat(filepath.Join(h.data, "receipts", idA+".pdf")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the erased person's receipt is still there: %v", err)
	}
	// The other person is untouched.
	if d, left := h.srv.decision(recs[1].ID); d == nil || d.Subject.GetPhone() != "+491717654321" || len(left) != 1 {
		t.Errorf("other person: %+v %v", d, left)
	}
}

// TestRetentionApplied: with the clock passed in, ApplyRetention erases a
// refusal once three years after the end of its year have passed, and
// never a grant in force.
func TestRetentionApplied(t *testing.T) {
	t.Parallel()
	clock := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	h := newHarnessOpts(t, nil, func(o *Options) { o.Now = func() time.Time { return clock } })
	if w := h.do("POST", "/v1/consent", ctJSON, h.jsonBody("de")); w.Code != 201 { // a grant
		t.Fatalf("post: %d %s", w.Code, w.Body)
	}
	if w := h.do("POST", "/v1/consent", ctJSON, h.jsonBody("de", "decision", "refused", "purpose", nil, "phone", "0171 7654321")); w.Code != 201 {
		t.Fatalf("post: %d %s", w.Code, w.Body)
	}
	ctx := context.Background()
	if done, err := h.srv.ApplyRetention(ctx, time.Date(2029, 12, 31, 12, 0, 0, 0, time.UTC)); err != nil || len(done) != 0 {
		t.Fatalf("before due: %v, %v", done, err)
	}
	done, err := h.srv.ApplyRetention(ctx, time.Date(2030, 1, 2, 0, 0, 0, 0, time.UTC))
	if err != nil || len(done) != 1 || done[0].Record.Reason != "retention" {
		t.Fatalf("due: %+v, %v", done, err)
	}
	if _, err := h.srv.o.Private.Disclosures(h.records(t)[1].ID); err == nil {
		t.Error("the refusal's openings survived retention")
	}
	if _, err := h.srv.o.Private.Disclosures(h.records(t)[0].ID); err != nil {
		t.Errorf("the grant in force was erased: %v", err)
	}
	if again, err := h.srv.ApplyRetention(ctx, time.Date(2040, 1, 1, 0, 0, 0, 0, time.UTC)); err != nil || len(again) != 0 {
		t.Errorf("again: %v, %v", again, err)
	}
}

// TestRetentionAppliedTogether: through the owner socket (chatconsent
// retention --apply), several people due at once are erased in one pass,
// each by an erasure record of their own that names only their records,
// and the grant in force among them is kept.
func TestRetentionAppliedTogether(t *testing.T) {
	t.Parallel()
	var clock atomic.Int64
	clock.Store(time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC).Unix())
	h := newHarnessOpts(t, nil, func(o *Options) { o.Now = func() time.Time { return time.Unix(clock.Load(), 0).UTC() } })
	c := h.serveOwner(t)
	if w := h.do("POST", "/v1/consent", ctJSON, h.jsonBody("de")); w.Code != 201 { // a grant
		t.Fatalf("post: %d %s", w.Code, w.Body)
	}
	numbers := []string{"0171 7654321", "0172 7654321", "0173 7654321"}
	for _, n := range numbers {
		if w := h.do("POST", "/v1/consent", ctJSON, h.jsonBody("de", "decision", "refused", "purpose", nil, "phone", n)); w.Code != 201 {
			t.Fatalf("post: %d %s", w.Code, w.Body)
		}
	}
	recs := h.records(t)
	for _, r := range recs {
		waitFor(t, func() bool { _, err := os.Stat(filepath.Join(h.data, "receipts", r.ID+".pdf")); return err == nil })
	}
	ctx := context.Background()
	if res, err := c.Retention(ctx, OwnerRetention{}); err != nil || len(res.Erased) != 0 {
		t.Fatalf("before due: %+v, %v", res, err)
	}
	clock.Store(time.Date(2030, 1, 2, 0, 0, 0, 0, time.UTC).Unix())
	res, err := c.Retention(ctx, OwnerRetention{})
	if err != nil || len(res.Erased) != len(numbers) {
		t.Fatalf("Retention: %+v, %v; want %d erasures", res, err, len(numbers))
	}
	logged := h.records(t)[len(recs):]
	for i, e := range res.Erased {
		want, number := recs[i+1].ID, "+49"+strings.ReplaceAll(numbers[i][1:], " ", "")
		if e.Phone != number || !slices.Equal(e.Records, []string{want}) || e.Files != 1 {
			t.Errorf("erasure %d: %s, records %v, %d files; want %s, only %s, its receipt", i, e.Phone, e.Records, e.Files, number, want)
		}
		if r := logged[i]; r.Type != ledger.TypeErasure || r.ID != e.ID || r.Reason != "retention" || !slices.Equal(r.Erased, []string{want}) {
			t.Errorf("logged erasure %d: %+v", i, r)
		}
		if by, ok := h.srv.o.Private.Erased(want); !ok || by != e.ID {
			t.Errorf("record %s erased by %q (%v), want %s", want, by, ok, e.ID)
		}
		if _, err := os.Stat(filepath.Join(h.data, "receipts", want+".pdf")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("receipt of %s survived: %v", want, err)
		}
	}
	if _, err := h.srv.o.Private.Disclosures(recs[0].ID); err != nil {
		t.Errorf("the grant in force was erased: %v", err)
	}
	if again, err := c.Retention(ctx, OwnerRetention{}); err != nil || len(again.Erased) != 0 {
		t.Errorf("again: %+v, %v", again, err)
	}
}
