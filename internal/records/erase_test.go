package records

import (
	"encoding/json"
	"errors"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chatconsent/chatconsent/collector/ledger"
	"github.com/chatconsent/chatconsent/internal/config"
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

func TestErasedRows(t *testing.T) {
	t.Parallel()
	b := book(t, append(history(), erasure()))
	var jurgenRows, others int
	for _, r := range b.Rows(time.Time{}) {
		switch r.ID {
		case id(1), id(3):
			jurgenRows++
			if r.Phone != "erased on 2026-03-03" || r.Name != "" || r.Email != "" || r.Erased == nil {
				t.Errorf("erased row %s: %+v", r.ID, r)
			}
			if len(r.Purposes) == 0 || r.TextVersion != v1 {
				t.Errorf("erased row %s lost its facts: %+v", r.ID, r)
			}
		default:
			others++
			if r.Phone != lukasz.Phone {
				t.Errorf("row %s: %+v", r.ID, r)
			}
		}
	}
	if jurgenRows != 2 || others != 1 {
		t.Errorf("%d erased rows, %d others", jurgenRows, others)
	}
	var sb strings.Builder
	if err := b.WriteStatus(&sb, b.Person(ErasedPrefix+id(9)), nil); err != nil {
		t.Fatal(err)
	}
	if out := sb.String(); !strings.HasPrefix(out, "erased on 2026-03-03") || strings.Contains(out, "Jürgen") || strings.Contains(out, jurgen.Phone) {
		t.Errorf("status of the erased person:\n%s", out)
	}
}

func TestRetention(t *testing.T) {
	t.Parallel()
	b := book(t, history())
	// Jürgen has orders in force: never due. Łukasz refused on 1 March
	// 2026: due on 1 January 2030 (three years after the end of 2026).
	all := b.Retention(3, time.Time{})
	if len(all) != 1 || all[0].Person.Phone != lukasz.Phone {
		t.Fatalf("due = %+v", all)
	}
	if got, want := all[0].At, time.Date(2030, 1, 1, 0, 0, 0, 0, Berlin()); !got.Equal(want) {
		t.Errorf("due at %v, want %v", got, want)
	}
	for _, tt := range []struct {
		now  time.Time
		want int
	}{
		{time.Date(2029, 12, 31, 22, 59, 0, 0, time.UTC), 0}, // 23:59 in Berlin
		{time.Date(2029, 12, 31, 23, 0, 0, 0, time.UTC), 1},  // midnight in Berlin
	} {
		if got := len(b.Retention(3, tt.now)); got != tt.want {
			t.Errorf("at %v: %d due, want %d", tt.now, got, tt.want)
		}
	}
	// Withdrawing Jürgen's last grant makes him due from his withdrawal.
	w := ledger.Record{Type: ledger.TypeWithdrawal, ID: id(11), Time: time.Date(2027, 6, 1, 0, 0, 0, 0, time.UTC), Decision: ledger.Withdrawn,
		Purposes: []string{"orders"}, Subject: jurgen, Ref: id(1)}
	if err := b.Add(&w, nil); err != nil {
		t.Fatal(err)
	}
	d, ok := RetentionDue(b.Person(jurgen.Phone), 3)
	if !ok || !d.At.Equal(time.Date(2031, 1, 1, 0, 0, 0, 0, Berlin())) {
		t.Errorf("Jürgen after withdrawing: %v %v", d.At, ok)
	}
	// Erased people are never due again.
	e := erasure()
	b2 := book(t, append(history(), e))
	for _, d := range b2.Retention(3, time.Time{}) {
		if IsErased(d.Person.Phone) {
			t.Errorf("an erased person is due: %+v", d)
		}
	}
}

// TestPersonByRecord: any of a person's record ids, in full or its first
// digits, leads to them; for an erased person also the erasure record's
// id, and their status then shows the erasure as the last event.
func TestPersonByRecord(t *testing.T) {
	t.Parallel()
	recs := append(history(), erasure())
	recs[2].ID = "ab" + strings.Repeat("0", 30) // Łukasz: shares "a" with id(0)
	b := book(t, recs)
	erased := ErasedPrefix + id(9)
	for _, tt := range []struct {
		prefix, phone, full string
		err                 error
	}{
		{id(1), erased, id(1), nil},
		{id(3)[:12], erased, id(3), nil},
		{id(9), erased, id(9), nil}, // the erasure record itself
		{"ab0000", lukasz.Phone, recs[2].ID, nil},
		{"aaaaaa", erased, id(0), nil},
		{"cccccc", "", "", ErrNoRecord},
	} {
		p, full, err := b.PersonByRecord(tt.prefix)
		if tt.err != nil {
			if !errors.Is(err, tt.err) {
				t.Errorf("%q: %v, want %v", tt.prefix, err, tt.err)
			}
			continue
		}
		if err != nil || p.Phone != tt.phone || full != tt.full {
			t.Errorf("%q: %v %q %v, want %s %s", tt.prefix, p, full, err, tt.phone, tt.full)
		}
	}
	if _, _, err := b.PersonByRecord("a"); !errors.Is(err, ErrAmbiguousRecord) {
		t.Errorf("a prefix of two people's ids: %v, want ErrAmbiguousRecord", err)
	}
	var sb strings.Builder
	p, _, _ := b.PersonByRecord(id(1))
	if err := b.WriteStatus(&sb, p, nil); err != nil {
		t.Fatal(err)
	}
	if out := sb.String(); !regexp.MustCompile(`erasure +` + id(9) + `  number, name and e-mail erased \(reason: request\)`).MatchString(out) {
		t.Errorf("status by record id lacks the erasure event:\n%s", out)
	}
	for _, tt := range []struct {
		in   string
		want string
		ok   bool
	}{
		{"AAAA-AAAA aaaa", "aaaaaaaaaaaa", true}, {"abc12", "abc12", false}, {"+491701234567", "+491701234567", false},
		{strings.Repeat("a", 33), strings.Repeat("a", 33), false}, {"ghijkl", "ghijkl", false},
	} {
		if got, ok := NormalizeRecordID(tt.in); got != tt.want || ok != tt.ok {
			t.Errorf("NormalizeRecordID(%q) = %q, %v, want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

// TestExportErased: an erased person's export (found by record id) holds
// their events' facts and says that no personal data are held any more,
// without a name, number or e-mail address anywhere in it.
func TestExportErased(t *testing.T) {
	t.Parallel()
	b := book(t, append(history(), erasure()))
	p, _, err := b.PersonByRecord(id(1))
	if err != nil {
		t.Fatal(err)
	}
	cfg := &config.Config{Controller: config.Controller{Name: "Laden GmbH", Email: "dsb@laden.example"}}
	x, err := b.Export(p, ExportOptions{Config: cfg, Now: t0.Add(50 * time.Hour),
		Text: func(v string) ([]byte, error) { return []byte("<p>text</p>"), nil }})
	if err != nil {
		t.Fatal(err)
	}
	if x.Erased == nil || !x.Erased.Equal(t0.Add(49*time.Hour)) || x.Erasure != id(9) || !strings.Contains(x.Note, "erased on 2026-03-03") ||
		!strings.Contains(x.Note, "No personal data of this person are held any more") {
		t.Errorf("erased export: erased %v erasure %q note %q", x.Erased, x.Erasure, x.Note)
	}
	if len(x.Events) != 4 || x.Events[3].Record.Type != ledger.TypeErasure || len(x.Status) != 2 || len(x.Receipts) != 1 || x.Receipts[0].PIIPrincipalID != "erased" {
		t.Errorf("erased export's facts: %d events, status %+v, receipts %+v", len(x.Events), x.Status, x.Receipts)
	}
	raw, _ := json.Marshal(x)
	for _, v := range []string{jurgen.Name, jurgen.Phone, jurgen.Email, "TOKEN"} {
		if strings.Contains(string(raw), v) {
			t.Errorf("erased export holds %q:\n%s", v, raw)
		}
	}
}

// FuzzNormalizeRecordID: whatever is typed, an accepted id is 6 to 32
// lower-case hex digits, and normalising is idempotent.
func FuzzNormalizeRecordID(f *testing.F) {
	for _, s := range []string{"", "AAAA-AAAA aaaa", "+491701234567", strings.Repeat("f", 32), "ä1b2c3d4", "abc\x00def"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := NormalizeRecordID(s)
		if !ok {
			return
		}
		if len(got) < MinRecordPrefix || len(got) > 32 || strings.Trim(got, "0123456789abcdef") != "" {
			t.Fatalf("NormalizeRecordID(%q) = %q, accepted", s, got)
		}
		if again, ok := NormalizeRecordID(got); !ok || again != got {
			t.Fatalf("not idempotent: %q → %q → %q", s, got, again)
		}
	})
}
