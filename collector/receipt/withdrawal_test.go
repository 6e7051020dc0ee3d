package receipt

import (
	"strings"
	"testing"
)

// TestWithdrawal: a withdrawal receipt (GDPR Art. 7(3)) has its own title,
// names the decision withdrawn and marks the withdrawn purposes; the PDF
// prints exactly its lines.
func TestWithdrawal(t *testing.T) {
	for _, tt := range []struct{ lang, title, decision, purpose, ref string }{
		{"de", "Widerrufsbestätigung", "Einwilligung widerrufen", "□ widerrufen: Terminerinnerungen per WhatsApp", "Widerrufene Entscheidung: 0123 4567 89ab cdef 0123 4567 89ab cdef"},
		{"en", "Withdrawal receipt", "Consent withdrawn", "□ withdrawn: Terminerinnerungen per WhatsApp", "Decision withdrawn: 0123 4567 89ab cdef 0123 4567 89ab cdef"},
	} {
		d := sample(tt.lang)
		d.Decision = "withdrawn"
		d.Ref = "0123456789abcdef0123456789abcdef"
		d.Purposes = []Purpose{{ID: "reminders", Title: "Terminerinnerungen per WhatsApp", Withdrawn: true}}
		got := extract(t, stamp(t, d))
		want := normalize(lines(t, d))
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("%s: extracted:\n%s\nwant:\n%s", tt.lang, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		for _, l := range []string{tt.title, tt.decision, tt.purpose, tt.ref} {
			if !contains(got, l) {
				t.Errorf("%s: no line %q in\n%s", tt.lang, l, strings.Join(got, "\n"))
			}
		}
	}
	// A consent receipt is unchanged by the new fields.
	d := sample("de")
	if l := lines(t, d); !contains(l, "Einwilligungsbestätigung") || contains(l, "Widerrufsbestätigung") {
		t.Errorf("consent receipt lines: %q", l)
	}
	d.Decision = "revoked"
	if _, err := Lines(d); err == nil || !strings.Contains(err.Error(), `"withdrawn"`) {
		t.Errorf("unknown decision: %v", err)
	}
}
