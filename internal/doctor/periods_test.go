package doctor

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestCheckProofPeriods: a period for the proof stated in words or digits
// that differs from retention.proof_years warns, naming file:line, the
// text and the config value; the configured period, the placeholder and
// other data's periods do not.
func TestCheckProofPeriods(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name  string
		years int
		line  string
		warn  string // "" for no warning
	}{
		{"german words", 3, "Den Nachweis bewahren wir zwei Jahre auf.", `"zwei Jahre"`},
		{"english digits", 3, "- **Record of your consent:** kept for 2 years after your withdrawal.", `"2 years"`},
		{"months near Aufbewahrung", 3, "Aufbewahrung: 24 Monate nach dem letzten Kontakt.", `"24 Monate"`},
		{"table row", 3, "| Name | Nachweis der Einwilligung | Art. 7 | 4 Jahre ab Ende des Jahres |", `"4 Jahre"`},
		{"dative, config 2", 2, "für die Dauer der gesetzlichen Verjährungsfrist von drei Jahren", `"drei Jahren"`},
		{"english words, config 1", 1, "Record of your consent: for the statutory limitation period of three years.", `"three years"`},
		{"deletion, german digits", 3, "Wir löschen Ihre Daten nach 5 Jahren.", `"5 Jahren"`},
		{"one of two", 3, "Nachweis: 3 Jahre, bei Streit 10 Jahre.", `"10 Jahre"`},
		{"the configured period", 3, "Nachweis Ihrer Einwilligung: drei Jahre ab Ende des Jahres.", ""},
		{"the configured period in months", 3, "Den Nachweis speichern wir 36 Monate.", ""},
		{"the placeholder", 1, "Nachweis: {{ .Retention.ProofPeriod }} ab dem Ende des Jahres (Verjährung, §§ 195, 199 BGB).", ""},
		{"chats have their own period", 3, "- **Chats und Dateien:** Wir löschen sie spätestens 12 Monate nach unserem letzten Kontakt.", ""},
		{"english chats", 3, "- **Chats and files:** we delete them at the latest 12 months after our last contact.", ""},
		{"not about keeping", 3, "**Unter 16 Jahren?** Dann müssen Ihre Eltern zustimmen (Art. 8 DSGVO).", ""},
		{"a date is no period", 3, "Widerrufen Sie am 5. März 2025, löschen wir den Nachweis nach dem 31. Dezember 2028.", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			file := filepath.Join(dir, "de", "policy.md")
			os.MkdirAll(filepath.Dir(file), 0o755)
			os.WriteFile(file, []byte("+++\ntitle = \"x\"\n+++\n\n## Speicherdauer\n\n"+tt.line+"\n"), 0o644)
			r := CheckProofPeriods(dir, tt.years)
			if tt.warn == "" {
				if r.Status != OK {
					t.Errorf("%q: %v %s", tt.line, r.Status, r.Detail)
				}
				return
			}
			if r.Status != Warn || !strings.Contains(r.Detail, file+":7: "+tt.warn) ||
				!strings.Contains(r.Detail, "retention.proof_years = "+strconv.Itoa(tt.years)) || !strings.Contains(r.Fix, "{{ .Retention.ProofPeriod }}") {
				t.Errorf("%q: %v %s (fix %s), want a warning naming %s:7: %s", tt.line, r.Status, r.Detail, r.Fix, file, tt.warn)
			}
		})
	}
}

// TestShippedContentPeriods: the repository's own content states the
// proof's period only through the placeholder, whatever the config says.
func TestShippedContentPeriods(t *testing.T) {
	t.Parallel()
	for _, years := range []int{1, 3, 10} {
		if r := CheckProofPeriods(filepath.Join("..", "..", "content"), years); r.Status != OK {
			t.Errorf("proof_years = %d: %s", years, r.Detail)
		}
	}
	if r := CheckProofPeriods(filepath.Join(t.TempDir(), "nowhere"), 3); r.Status != OK || !strings.Contains(r.Detail, "no ") {
		t.Errorf("no content folder: %v %s", r.Status, r.Detail)
	}
}

// FuzzProofPeriods: any content line is read without a panic, and every
// period found is a number and a unit from the line.
func FuzzProofPeriods(f *testing.F) {
	for _, s := range []string{"Den Nachweis bewahren wir zwei Jahre auf.", "Nachweis: 24 Monate, 3 years", "{{ .Retention.ProofPeriod }} Nachweis", "proof 99999999999999999999 years", "Nachweis\x00drei\u00a0Jahre"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		for _, p := range periodsIn(line) {
			w := strings.Fields(p.Text)
			if len(w) != 2 || !strings.Contains(strings.ToLower(line), strings.ToLower(w[0])) || !strings.Contains(strings.ToLower(line), strings.ToLower(w[1])) {
				t.Fatalf("%q: %+v", line, p)
			}
		}
	})
}
