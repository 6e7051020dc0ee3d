package records

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/chatconsent/chatconsent/collector/ledger"
	"github.com/chatconsent/chatconsent/internal/config"
	"github.com/chatconsent/chatconsent/internal/fields"
	"github.com/chatconsent/chatconsent/internal/textarchive"
)

var update = flag.Bool("update", false, "rewrite golden files")

const (
	v1 = "1111111111111111111111111111111111111111111111111111111111111111"
	v2 = "2222222222222222222222222222222222222222222222222222222222222222"
	v3 = "3333333333333333333333333333333333333333333333333333333333333333"
)

var (
	t0       = time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC)
	purposes = []string{"orders", "documents"}
	jurgen   = &ledger.Subject{Name: "Jürgen Weiß", Phone: "+491701234567", Email: "j@example.org"}
	lukasz   = &ledger.Subject{Name: "=cmd|' /C calc'!A0", Phone: "+48512345678"}
)

func id(n int) string { return strings.Repeat(string(rune('a'+n)), 32) }

// history is a log: invite, grant through it, a refusal by someone else,
// a partial withdrawal, a second grant.
func history() []ledger.Record {
	exp := t0.Add(14 * 24 * time.Hour)
	return []ledger.Record{
		{Type: ledger.TypeInvite, ID: id(0), Time: t0, Subject: &ledger.Subject{Phone: jurgen.Phone}, Lang: "de", Token: "TOKEN", Expires: &exp},
		{Type: ledger.TypeDecision, ID: id(1), Time: t0.Add(time.Minute), Decision: ledger.Granted, Purposes: []string{"orders", "documents"}, Subject: jurgen, Lang: "de", TextVersion: v1, Invite: id(0)},
		{Type: ledger.TypeDecision, ID: id(2), Time: t0.Add(time.Hour), Decision: ledger.Refused, Purposes: purposes, Subject: lukasz, Lang: "en", TextVersion: v2},
		{Type: ledger.TypeWithdrawal, ID: id(3), Time: t0.Add(48 * time.Hour), Decision: ledger.Withdrawn, Purposes: []string{"documents"}, Subject: jurgen, Lang: "de", TextVersion: v1, Ref: id(1), Via: "link"},
	}
}

func book(t *testing.T, recs []ledger.Record) *Book {
	t.Helper()
	b := New(purposes, true)
	for i := range recs {
		if err := b.Add(&recs[i], []byte(`{"line":`+string(rune('0'+i))+`}`)); err != nil {
			t.Fatal(err)
		}
	}
	return b
}

func states(b *Book, phone string, m *textarchive.Manifest) string {
	var parts []string
	for _, s := range b.Status(b.Person(phone), m) {
		parts = append(parts, s.ID+"="+s.Shown)
	}
	return strings.Join(parts, " ")
}

func TestFold(t *testing.T) {
	t.Parallel()
	b := book(t, history())
	if got, want := states(b, jurgen.Phone, nil), "orders=granted documents=withdrawn"; got != want {
		t.Errorf("Jürgen: %s, want %s", got, want)
	}
	if got, want := states(b, lukasz.Phone, nil), "orders=refused documents=refused"; got != want {
		t.Errorf("Łukasz: %s, want %s", got, want)
	}
	if d, ok := b.InviteUsed(id(0)); !ok || d != id(1) {
		t.Errorf("InviteUsed = %q %v", d, ok)
	}
	if !b.InviteOpened(id(0)) || b.InviteOpened(id(9)) {
		t.Error("InviteOpened wrong")
	}
	if got := b.Withdrawable(id(1)); !slices.Equal(got, []string{"orders"}) {
		t.Errorf("Withdrawable = %v, want [orders]", got)
	}
	if got := b.Withdrawable(id(2)); got != nil {
		t.Errorf("Withdrawable(refusal, nothing granted for Łukasz) = %v, want nothing", got)
	}
	p := b.Person(jurgen.Phone)
	if len(p.Events) != 3 || p.Name != "Jürgen Weiß" {
		t.Errorf("person = %+v", p)
	}
	st := p.Purposes["documents"]
	if st.Event != id(3) || st.Decision != id(1) || !st.Since.Equal(t0.Add(48*time.Hour)) || st.TextVersion != v1 {
		t.Errorf("documents = %+v", st)
	}

	// A later decision states the whole choice: documents only now.
	later := append(history(), ledger.Record{Type: ledger.TypeDecision, ID: id(4), Time: t0.Add(72 * time.Hour), Decision: ledger.Granted, Purposes: []string{"documents"}, Subject: jurgen, Lang: "de", TextVersion: v1})
	b = book(t, later)
	if got, want := states(b, jurgen.Phone, nil), "orders=refused documents=granted"; got != want {
		t.Errorf("after second grant: %s, want %s", got, want)
	}
	// Any decision of the number withdraws what is in force now, also a
	// later grant (someone else may have posted it on the public form).
	if got := b.Withdrawable(id(1)); !slices.Equal(got, []string{"documents"}) {
		t.Errorf("Withdrawable(earlier decision) = %v, want [documents]", got)
	}

	bad := New(purposes, false)
	if err := bad.Add(&ledger.Record{Type: ledger.TypeWithdrawal, ID: id(5), Ref: id(7)}, nil); err == nil {
		t.Error("withdrawal of an unknown decision accepted")
	}
}

func TestRenewal(t *testing.T) {
	t.Parallel()
	m := &textarchive.Manifest{Versions: map[string]textarchive.Version{
		v1: {Lang: "de", FirstPublished: t0.Add(-time.Hour)},
		v2: {Lang: "en", FirstPublished: t0.Add(-time.Hour)},
	}}
	b := book(t, history())
	if got := states(b, jurgen.Phone, m); got != "orders=granted documents=withdrawn" {
		t.Errorf("without material change: %s", got)
	}
	// A typo fix (no material change) needs nothing.
	m.Versions[v3] = textarchive.Version{Lang: "de", FirstPublished: t0.Add(24 * time.Hour)}
	if got := states(b, jurgen.Phone, m); got != "orders=granted documents=withdrawn" {
		t.Errorf("after a minor change: %s", got)
	}
	if len(b.NeedsRenewal(m)) != 0 {
		t.Error("NeedsRenewal after a minor change")
	}
	// A material change in English does not touch German consents.
	m.Versions[v3] = textarchive.Version{Lang: "en", FirstPublished: t0.Add(24 * time.Hour), MaterialChange: true}
	if got := states(b, jurgen.Phone, m); got != "orders=granted documents=withdrawn" {
		t.Errorf("after an English material change: %s", got)
	}
	m.Versions[v3] = textarchive.Version{Lang: "de", FirstPublished: t0.Add(24 * time.Hour), MaterialChange: true}
	if got, want := states(b, jurgen.Phone, m), "orders=renewal needed documents=withdrawn"; got != want {
		t.Errorf("after a German material change: %s, want %s", got, want)
	}
	if ps := b.NeedsRenewal(m); len(ps) != 1 || ps[0].Phone != jurgen.Phone {
		t.Errorf("NeedsRenewal = %v", ps)
	}
	// Consent given on the new version needs no renewal.
	if Renewal(m, v3, "de", t0.Add(25*time.Hour)) {
		t.Error("the material version itself needs renewal")
	}
}

func TestCSVGolden(t *testing.T) {
	t.Parallel()
	b := book(t, history())
	var buf bytes.Buffer
	if err := WriteCSV(&buf, b.Rows(time.Time{})); err != nil {
		t.Fatal(err)
	}
	golden(t, "list.csv", buf.Bytes())
	// --since drops the earlier decisions.
	if rows := b.Rows(t0.Add(30 * time.Minute)); len(rows) != 2 || rows[0].ID != id(2) {
		t.Errorf("Rows(since) = %+v", rows)
	}
}

// TestCSVExcel (issue 11 item 14): what a German spreadsheet opens
// without garbling: BOM, ';', CRLF; a ';' or quote in a name stays in its
// cell; the plain CSV is unchanged.
func TestCSVExcel(t *testing.T) {
	t.Parallel()
	b := book(t, history())
	var buf bytes.Buffer
	if err := WriteCSVExcel(&buf, b.Rows(time.Time{})); err != nil {
		t.Fatal(err)
	}
	golden(t, "list-excel.csv", buf.Bytes())
	got := buf.String()
	if !strings.HasPrefix(got, "\ufefftime_utc;time_berlin;type;") || !strings.Contains(got, "\r\n") {
		t.Errorf("csv-excel starts %q", got[:min(len(got), 40)])
	}
	r := csv.NewReader(strings.NewReader(strings.TrimPrefix(got, "\ufeff")))
	r.Comma = ';'
	recs, err := r.ReadAll()
	if err != nil || len(recs) != 4 || len(recs[0]) != len(CSVHeader) {
		t.Fatalf("read back: %d records, %v", len(recs), err)
	}
	var plain bytes.Buffer
	WriteCSV(&plain, b.Rows(time.Time{}))
	pr, _ := csv.NewReader(&plain).ReadAll()
	if fmt.Sprint(pr) != fmt.Sprint(recs) {
		t.Errorf("cells differ:\n%q\n%q", pr, recs)
	}
	// Own inputs: a name with ';', quotes and umlauts, a formula.
	rows := []Row{{Time: t0, Type: "decision", ID: "x", Phone: "+491701234567", Name: `Müller; "Max"`, Email: "=HYPERLINK(1)", Decision: "granted"}}
	buf.Reset()
	WriteCSVExcel(&buf, rows)
	r = csv.NewReader(strings.NewReader(strings.TrimPrefix(buf.String(), "\ufeff")))
	r.Comma = ';'
	recs, err = r.ReadAll()
	if err != nil || recs[1][5] != `Müller; "Max"` || recs[1][6] != "'=HYPERLINK(1)" || recs[1][4] != "+491701234567" {
		t.Errorf("own row: %q, %v", recs, err)
	}
}

func TestTableAndJSON(t *testing.T) {
	t.Parallel()
	b := book(t, history())
	var buf bytes.Buffer
	if err := WriteTable(&buf, b.Rows(time.Time{})); err != nil {
		t.Fatal(err)
	}
	golden(t, "list.txt", buf.Bytes())
	buf.Reset()
	if err := WriteJSON(&buf, b.Rows(time.Time{})); err != nil {
		t.Fatal(err)
	}
	var rows []Row
	if err := json.Unmarshal(buf.Bytes(), &rows); err != nil || len(rows) != 3 || rows[2].Ref != id(1) {
		t.Errorf("JSON rows = %+v, %v", rows, err)
	}
	buf.Reset()
	WriteJSON(&buf, nil)
	if strings.TrimSpace(buf.String()) != "[]" {
		t.Errorf("empty JSON = %q, want []", buf.String())
	}
}

func TestParseSince(t *testing.T) {
	t.Parallel()
	got, err := ParseSince("2026-03-01")
	if err != nil || !got.Equal(time.Date(2026, 2, 28, 23, 0, 0, 0, time.UTC)) {
		t.Errorf("ParseSince(date) = %v, %v", got, err)
	}
	if _, err := ParseSince("01.03.2026"); err == nil {
		t.Error("ParseSince accepted 01.03.2026")
	}
}

func TestExport(t *testing.T) {
	t.Parallel()
	cfg := &config.Config{
		Controller: config.Controller{Name: "Laden GmbH", Address: "Musterstraße 1, Berlin", Email: "dsb@laden.example"},
		Purposes: []config.Purpose{
			{ID: "orders", Title: map[string]string{"de": "Bestellungen"}},
			{ID: "documents", Title: map[string]string{"de": "Dokumente"}},
		},
	}
	pub := ed25519.NewKeyFromSeed(make([]byte, 32)).Public().(ed25519.PublicKey)
	b := book(t, history())
	x, err := b.Export(b.Person(jurgen.Phone), ExportOptions{
		Config: cfg, PolicyURLs: map[string]string{"de": "https://laden.example/de/datenschutz/"}, PublicKey: pub,
		Text: func(v string) ([]byte, error) { return []byte("<p>text " + v[:4] + "</p>"), nil },
		Now:  t0,
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(x.Events) != 3 || x.Events[1].Line == "" || x.Texts[v1] != "<p>text 1111</p>" || len(x.Texts) != 1 {
		t.Errorf("export events/texts = %+v %v", x.Events, x.Texts)
	}
	if len(x.Receipts) != 1 {
		t.Fatalf("receipts = %d, want 1", len(x.Receipts))
	}
	cr := x.Receipts[0]
	if cr.Version != "KI-CR-v1.1.0" || cr.ConsentReceiptID != id(1) || cr.PIIPrincipalID != jurgen.Phone ||
		cr.ConsentTimestamp != t0.Add(time.Minute).Unix() || cr.PolicyURL != "https://laden.example/de/datenschutz/" ||
		!strings.Contains(cr.CollectionMethod, id(0)) || cr.PublicKey == "" || cr.Language != "de" {
		t.Errorf("receipt = %+v", cr)
	}
	if got := cr.Services[0].Purposes; len(got) != 2 || got[0].Purpose != "Bestellungen" || got[1].ConsentType != "EXPLICIT" || !slices.Contains(got[0].PIICategory, "e-mail address") {
		t.Errorf("receipt purposes = %+v", got)
	}
	// Every field the specification requires is present in the JSON.
	raw, _ := json.Marshal(cr)
	var m map[string]any
	json.Unmarshal(raw, &m)
	for _, k := range []string{"version", "jurisdiction", "consentTimestamp", "collectionMethod", "consentReceiptID", "publicKey", "language", "piiPrincipalId", "piiControllers", "policyUrl", "services", "sensitive", "spiCat"} {
		if _, ok := m[k]; !ok {
			t.Errorf("receipt JSON lacks %s", k)
		}
	}
	_, err = b.Export(b.Person(jurgen.Phone), ExportOptions{Config: cfg, Text: func(string) ([]byte, error) { return nil, os.ErrNotExist }})
	if err == nil {
		t.Error("export without the texts succeeded")
	}
}

// TestRead folds a real signed log.
func TestRead(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, 32))
	path := filepath.Join(dir, "decisions.jsonl")
	l, _, err := ledger.Open(path, priv, ledger.Options{Version: ledger.FormatV1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Append(context.Background(), history()...); err != nil {
		t.Fatal(err)
	}
	l.Close()
	b, err := Read(ledger.FileSource(path), path, priv.Public().(ed25519.PublicKey), nil, purposes, true)
	if err != nil {
		t.Fatal(err)
	}
	if got := states(b, jurgen.Phone, nil); got != "orders=granted documents=withdrawn" {
		t.Errorf("read: %s", got)
	}
	if e := b.Person(jurgen.Phone).Events[1]; !bytes.HasPrefix(e.Line, []byte(`{"rec":{"v":1,"seq":2,`)) {
		t.Errorf("line = %.40s", e.Line)
	}
	other := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{8}, 32)).Public().(ed25519.PublicKey)
	if _, err := Read(ledger.FileSource(path), path, other, nil, purposes, false); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("Read with another key: %v, want a line 1 error", err)
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	p := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(p, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from golden file:\n got:\n%s\nwant:\n%s", name, got, want)
	}
}

func TestWriteStatus(t *testing.T) {
	t.Parallel()
	b := book(t, history())
	var buf bytes.Buffer
	if err := b.WriteStatus(&buf, b.Person(jurgen.Phone), nil); err != nil {
		t.Fatal(err)
	}
	golden(t, "status.txt", buf.Bytes())
	// A decision on the public form says that the number is not confirmed.
	buf.Reset()
	if err := b.WriteStatus(&buf, b.Person(lukasz.Phone), nil); err != nil {
		t.Fatal(err)
	}
	golden(t, "status-public-form.txt", buf.Bytes())
	if !strings.Contains(buf.String(), "on the public form (number not confirmed)") {
		t.Errorf("public-form decision not marked:\n%s", buf.String())
	}
	// A grant says which purposes it refused.
	partial := book(t, []ledger.Record{{Type: ledger.TypeDecision, ID: id(1), Time: t0, Decision: ledger.Granted,
		Purposes: []string{"orders"}, Subject: jurgen, Lang: "de", TextVersion: v1}})
	buf.Reset()
	if err := partial.WriteStatus(&buf, partial.Person(jurgen.Phone), nil); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "granted orders (every other purpose refused: documents) on text 111111111111") ||
		!strings.Contains(buf.String(), "documents  refused") {
		t.Errorf("partial grant:\n%s", buf.String())
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// The collector's index answers the same questions as a full book while
// keeping no event lists.
func TestIndex(t *testing.T) {
	t.Parallel()
	full, idx := book(t, history()), NewIndex(purposes)
	for _, r := range history() {
		if err := idx.Add(&r, []byte("line")); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range []string{id(1), id(2), id(9)} {
		if got, want := idx.Withdrawable(d), full.Withdrawable(d); !slices.Equal(got, want) {
			t.Errorf("Withdrawable(%s) = %v, want %v", d[:1], got, want)
		}
	}
	// Every decision comes back as recorded, whether kept compact (a
	// canonical id) or whole (any other id), with the time to the
	// nanosecond, and the purposes of different decisions kept apart.
	odd := ledger.Record{Type: ledger.TypeDecision, ID: "Not-Hex", Time: t0.Add(time.Nanosecond), Decision: ledger.Granted,
		Purposes: []string{"orders"}, Subject: lukasz, Lang: "en", TextVersion: v2}
	late := ledger.Record{Type: ledger.TypeDecision, ID: "0123456789abcdef0123456789abcdef", Time: t0.Add(3*time.Hour + 7), Decision: ledger.Granted,
		Purposes: []string{"documents", "removed-purpose"}, Subject: jurgen, Lang: "de", TextVersion: v3}
	for _, r := range []ledger.Record{odd, late} {
		full.Add(&r, nil)
		idx.Add(&r, nil)
	}
	for _, d := range []string{id(1), id(2), odd.ID, late.ID} {
		want, got := *full.Decision(d), idx.Decision(d)
		want.Prev, want.Key, want.Invite = "", "", "" // not needed for a withdrawal
		if got == nil || !got.Time.Equal(want.Time) || got.Time.Location() != time.UTC {
			t.Fatalf("Decision(%s) = %+v, want %+v", d, got, want)
		}
		got.Time = want.Time
		if g, w := mustJSON(t, got), mustJSON(t, &want); g != w {
			t.Errorf("Decision(%s):\n got %s\nwant %s", d, g, w)
		}
	}
	if idx.Decision("0123456789ABCDEF0123456789ABCDEF") != nil || idx.Decision("") != nil {
		t.Error("a non-canonical spelling of an id finds its decision")
	}
	// The late grant states the whole choice: "orders" is refused.
	if got := idx.Withdrawable(late.ID); !slices.Equal(got, []string{"documents", "removed-purpose"}) {
		t.Errorf("Withdrawable(late) = %v", got)
	}
	if u, ok := idx.InviteUsed(id(0)); !ok || u != id(1) || !idx.InviteOpened(id(0)) || idx.InviteOpened(id(5)) {
		t.Error("invite answers differ")
	}
	// That the index keeps no event lists or people is now its type's
	// (Index has no Events or Person); its size per decision is checked
	// by TestCompactDecisionSize.
}

// TestIndexRandom folds random histories into a full book and an index
// and compares every decision's withdrawable purposes after each event:
// a few numbers, configured purposes, purposes since removed from the
// config, and more than 64 purpose ids (beyond the index's bit set).
func TestIndexRandom(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	phones := []string{"+491701234567", "+48512345678", "+4915112345678", "+4917012345670", "0170 1234567"}
	var ids []string
	ids = append(ids, purposes...)
	for i := range 70 {
		ids = append(ids, fmt.Sprintf("old-%02d", i))
	}
	pick := func() []string {
		var out []string
		for _, id := range ids[:2+rng.IntN(len(ids)-2)] {
			if rng.IntN(3) == 0 {
				out = append(out, id)
			}
		}
		return out
	}
	for round := range 10 {
		full, idx := New(purposes, false), NewIndex(purposes)
		if round%3 == 0 { // spilled: every decision read back from the file
			if err := idx.spillTo(t.TempDir(), 1); err != nil {
				t.Fatal(err)
			}
		}
		// Odd rounds: version-2 records, whose names the index reads from
		// the private store.
		sealed := round%2 == 1
		store := testOpener{}
		if sealed {
			idx.UseOpener(store)
		}
		subjects := map[string]*ledger.Subject{}
		var decisions []string
		for n := range 200 {
			rec := ledger.Record{ID: fmt.Sprintf("%032x", round*1000+n), Time: t0.Add(time.Duration(n) * time.Second), Lang: "de", TextVersion: v1}
			if len(decisions) > 0 && rng.IntN(3) == 0 {
				rec.Type, rec.Decision, rec.Ref = ledger.TypeWithdrawal, ledger.Withdrawn, decisions[rng.IntN(len(decisions))]
				rec.Purposes = pick()
			} else {
				rec.Type, rec.Decision = ledger.TypeDecision, ledger.Granted
				if rng.IntN(4) == 0 {
					rec.Decision = ledger.Refused
				}
				rec.Purposes = pick()
				rec.Subject = &ledger.Subject{Name: fmt.Sprintf("N%d", n), Phone: phones[rng.IntN(len(phones))]}
				if rng.IntN(2) == 0 {
					rec.Subject.Email = fmt.Sprintf("n%d@example.org", n)
				}
				if sealed {
					store.seal(t, &rec)
				}
				subjects[rec.ID] = rec.Subject
				decisions = append(decisions, rec.ID)
			}
			if err := full.Add(&rec, nil); err != nil {
				t.Fatal(err)
			}
			if err := idx.Add(&rec, nil); err != nil {
				t.Fatal(err)
			}
			// The decisions this event touched after each event, every
			// decision every 20 events and at the end (all of them after
			// every event was quadratic: 44 s of the package's time).
			check := []string{rec.ID, rec.Ref}
			if n%20 == 19 || n == 199 {
				check = decisions
			}
			for _, d := range check {
				if d == "" {
					continue
				}
				if got, want := idx.Withdrawable(d), full.Withdrawable(d); !slices.Equal(got, want) {
					t.Fatalf("round %d, event %d: Withdrawable(%s) = %v, want %v", round, n, d, got, want)
				}
				if want := subjects[d]; want != nil {
					if got := idx.Decision(d).Subject; *got != *want {
						t.Fatalf("round %d, event %d: Decision(%s).Subject = %+v, want %+v", round, n, d, got, want)
					}
				}
			}
		}
	}
}

// testOpener is a private store in memory: record id → disclosures.
type testOpener map[string][]string

func (o testOpener) Disclosures(id string) ([]string, error) {
	if ds, ok := o[id]; ok {
		return ds, nil
	}
	return nil, errors.New("no openings")
}

func (o testOpener) Erased(string) (string, bool) { return "", false }

// seal makes rec a version-2 record as the log hands it to the index
// (opened, with its commitments) and keeps its disclosures.
func (o testOpener) seal(t testing.TB, rec *ledger.Record) {
	sealed, ds, err := ledger.Seal(*rec)
	if err != nil {
		t.Fatal(err)
	}
	rec.SD, o[rec.ID] = sealed.SD, ds
}

// The collector holds one compactDecision per decision for its whole life
// (bench/README.md: memory under load): it must not grow unnoticed.
func TestCompactDecisionSize(t *testing.T) {
	if unsafe.Sizeof(uintptr(0)) != 8 {
		return // the 24 bytes are for 64-bit platforms
	}
	if n := unsafe.Sizeof(compactDecision{}); n != 24 {
		t.Errorf("compactDecision is %d bytes, want 24", n)
	}
}

// TestCSVSubjectFromTable: the CSV's subject columns are internal/fields'
// export columns, and a row has a value for each.
func TestCSVSubjectFromTable(t *testing.T) {
	t.Parallel()
	cols := fields.ExportColumns(fields.All)
	if got := CSVHeader[4 : 4+len(cols)]; !slices.Equal(got, cols) {
		t.Errorf("CSV subject columns %q, the table's %q", got, cols)
	}
	r := Row{Phone: "+491701234567", Name: "=Ada", Email: "a@example.org"}
	for _, c := range cols {
		if r.Subject(c) == "" {
			t.Errorf("Row has no value for the table's column %q", c)
		}
	}
	if got := subjectCells(r); !slices.Equal(got, []string{"+491701234567", "'=Ada", "a@example.org"}) {
		t.Errorf("subject cells %q", got)
	}
}
