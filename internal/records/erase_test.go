package records

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chatconsent/chatconsent/collector/ledger"
)

// erasure of Jürgen's records of history(), an hour after the last.
func erasure() ledger.Record {
	return ledger.Record{Type: ledger.TypeErasure, ID: id(9), Time: t0.Add(49 * time.Hour),
		Erased: []string{id(0), id(1), id(3)}, Reason: "request"}
}

func TestEraseOwnerBook(t *testing.T) {
	t.Parallel()
	recs := append(history(), erasure())
	b := book(t, recs)
	if b.Person(jurgen.Phone) != nil {
		t.Fatal("the erased number is still in the book")
	}
	p := b.Person(ErasedPrefix + id(9))
	if p == nil || !p.Erased.Equal(t0.Add(49*time.Hour)) || p.Name != "" || p.Email != "" {
		t.Fatalf("erased person = %+v", p)
	}
	if got, want := states(b, p.Phone, nil), "orders=granted documents=withdrawn"; got != want {
		t.Errorf("erased person's purposes: %s, want %s (the facts stay)", got, want)
	}
	for _, e := range p.Events {
		if s := e.Record.Subject; s != nil && (s.Name != "" || s.Email != "" || !IsErased(s.Phone)) || e.Record.Token != "" {
			t.Errorf("event %s keeps personal data: %+v token %q", e.Record.ID, s, e.Record.Token)
		}
	}
	for _, q := range b.People() {
		if strings.Contains(q.Phone+q.Name+q.Email, "Jürgen") || q.Phone == jurgen.Phone {
			t.Errorf("People() still shows %+v", q)
		}
	}
	if got, want := states(b, lukasz.Phone, nil), "orders=refused documents=refused"; got != want {
		t.Errorf("another person changed: %s, want %s", got, want)
	}
	if got := b.Withdrawable(id(1)); !slices.Equal(got, []string{"orders"}) {
		t.Errorf("withdrawable by record id after erasure: %v, want [orders]", got)
	}
}

// The collector's index: after an erasure the number is gone but the
// decision can still be withdrawn by its id; the same when the records
// come already opened as erased (a start after the erasure).
func TestEraseIndex(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name   string
		opened bool
	}{{"live", false}, {"after a restart", true}} {
		t.Run(tt.name, func(t *testing.T) {
			b := NewIndex(purposes)
			for _, r := range append(history(), erasure()) {
				if tt.opened && slices.Contains(erasure().Erased, r.ID) && r.Subject != nil {
					r.Subject = &ledger.Subject{Phone: ErasedPrefix + id(9)}
					r.Token = ""
				}
				if err := b.Add(&r, nil); err != nil {
					t.Fatal(err)
				}
			}
			d := b.Decision(id(1))
			if d == nil || d.Subject == nil || d.Subject.Name != "" || d.Subject.Email != "" || !IsErased(d.Subject.Phone) {
				t.Fatalf("erased decision = %+v", d)
			}
			if got := b.Withdrawable(id(1)); !slices.Equal(got, []string{"orders"}) {
				t.Errorf("withdrawable = %v, want [orders]", got)
			}
			if m, ok := b.mask(jurgen.Phone); ok {
				t.Errorf("the number's purposes are still indexed: %b", m)
			}
			w := ledger.Record{Type: ledger.TypeWithdrawal, ID: id(10), Time: t0.Add(50 * time.Hour), Decision: ledger.Withdrawn,
				Purposes: []string{"orders"}, Subject: d.Subject, Ref: id(1)}
			if err := b.Add(&w, nil); err != nil {
				t.Fatal(err)
			}
			if got := b.Withdrawable(id(1)); len(got) != 0 {
				t.Errorf("withdrawable after withdrawing = %v", got)
			}
			if got := b.Withdrawable(id(2)); got != nil {
				t.Errorf("the other person's refusal: withdrawable %v", got)
			}
		})
	}
}
