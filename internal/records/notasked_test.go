package records

import (
	"bytes"
	"strings"
	"testing"

	"github.com/chatconsent/chatconsent/collector/ledger"
	"github.com/chatconsent/chatconsent/internal/config"
	"github.com/chatconsent/chatconsent/internal/textarchive"
)

// TestNotAsked: a purpose configured after a person decided was not on
// their form: status and the Art. 15 export say "not asked", not
// "refused", and the grant's event line does not name it.
func TestNotAsked(t *testing.T) {
	t.Parallel()
	m := &textarchive.Manifest{Versions: map[string]textarchive.Version{
		v1: {Lang: "de", Purposes: []string{"orders"}},              // before "documents" existed
		v2: {Lang: "en", Purposes: []string{"orders", "documents"}}, // both on the form
		v3: {Lang: "de"},                                            // an old manifest entry without its list
	}}
	tests := []struct {
		name string
		rec  ledger.Record
		want string
	}{
		{"grant before the purpose existed", ledger.Record{Decision: ledger.Granted, Purposes: []string{"orders"}, TextVersion: v1}, "orders=granted documents=not asked"},
		{"refusal before the purpose existed", ledger.Record{Decision: ledger.Refused, Purposes: []string{"orders"}, TextVersion: v1}, "orders=refused documents=not asked"},
		{"grant with both on the form", ledger.Record{Decision: ledger.Granted, Purposes: []string{"orders"}, TextVersion: v2}, "orders=granted documents=refused"},
		{"version without a purpose list", ledger.Record{Decision: ledger.Granted, Purposes: []string{"orders"}, TextVersion: v3}, "orders=granted documents=refused"},
		{"version missing from the manifest", ledger.Record{Decision: ledger.Refused, Purposes: purposes, TextVersion: "4444444444444444444444444444444444444444444444444444444444444444"}, "orders=refused documents=refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := tt.rec
			r.Type, r.ID, r.Time, r.Subject, r.Lang = ledger.TypeDecision, id(1), t0, jurgen, "de"
			b := book(t, []ledger.Record{r})
			if got := states(b, jurgen.Phone, m); got != tt.want {
				t.Errorf("states %q, want %q", got, tt.want)
			}
			x, err := b.Export(b.Person(jurgen.Phone), ExportOptions{
				Config: &config.Config{Purposes: []config.Purpose{{ID: "orders"}, {ID: "documents"}}}, Manifest: m,
				Text: func(string) ([]byte, error) { return []byte("<p>text</p>"), nil },
			})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, s := range x.Status {
				got = append(got, s.Purpose+"="+s.State)
			}
			if strings.Join(got, " ") != tt.want {
				t.Errorf("export states %q, want %q", got, tt.want)
			}
		})
	}
	b := book(t, []ledger.Record{{Type: ledger.TypeDecision, ID: id(1), Time: t0, Decision: ledger.Granted,
		Purposes: []string{"orders"}, Subject: jurgen, Lang: "de", TextVersion: v1}})
	var buf bytes.Buffer
	if err := b.WriteStatus(&buf, b.Person(jurgen.Phone), m); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "documents  not asked") || strings.Contains(buf.String(), "every other purpose refused") {
		t.Errorf("status of a grant before documents existed:\n%s", buf.String())
	}
}

func TestPurposesIn(t *testing.T) {
	t.Parallel()
	doc := []byte(`<h3>Zwecke</h3>
<ul><li><strong>Bestellungen</strong> (orders): Rückfragen</li><li><strong>Dokumente (PDF)</strong> (documents): Belege</li></ul>`)
	if got := strings.Join(textarchive.PurposesIn(doc), ","); got != "orders,documents" {
		t.Errorf("PurposesIn = %q", got)
	}
	if got := textarchive.PurposesIn([]byte("<p>no form</p>")); got != nil {
		t.Errorf("PurposesIn of a page without form = %q", got)
	}
}
