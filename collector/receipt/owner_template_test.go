package receipt

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pdfcpu/pdfcpu/pkg/api"
)

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// placements for testdata/letterhead.pdf: values beside its labels on
// page 1, the key on page 2 (US Letter).
var letterheadPlacements = []Placement{
	{Field: FieldName, Page: 1, X: 170, Y: 700, Size: 10},
	{Field: FieldPhone, Page: 1, X: 170, Y: 676, Size: 10},
	{Field: FieldDecision, Page: 1, X: 170, Y: 652, Size: 10},
	{Field: FieldTime, Page: 1, X: 170, Y: 628, Size: 10},
	{Field: FieldPurposes, Page: 1, X: 170, Y: 604, Size: 10},
	{Field: FieldRecordID, Page: 1, X: 170, Y: 460, Size: 9},
	{Field: FieldKey, Page: 2, X: 72, Y: 100, Size: 8},
}

// extractPages returns the normalised text of each page.
func extractPages(t *testing.T, pdf []byte) [][]string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "r.pdf")
	if err := os.WriteFile(f, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("pdftotext", "-layout", "-enc", "UTF-8", f, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext (apt-get install poppler-utils): %v", err)
	}
	var pages [][]string
	for _, p := range strings.Split(string(out), "\f") {
		pages = append(pages, normalize(strings.Split(p, "\n")))
	}
	return pages
}

func TestFormTemplate(t *testing.T) {
	s, err := New(readTestdata(t, "form.pdf"))
	if err != nil {
		t.Fatalf("New(form.pdf): %v", err)
	}
	d := sample("de")
	d.Name = "Αλέξανδρος Παπαδόπουλος"
	pdf, err := s.Stamp(d)
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(extract(t, pdf), "\n")
	for _, want := range []string{
		"Fahrradladen Beispiel GmbH", // the letterhead's own text stays
		"Verantwortlicher: Zahnarztpraxis Dr. Müller & Partner",
		"Name: Αλέξανδρος Παπαδόπουλος", // beside its label: printed in the field's box
		"Telefon: +491701234567",
		"E-Mail: juergen.weiss@example.org",
		"Entscheidung: Einwilligung erteilt",
		"Zeitpunkt: 29.11.2026, 23:15:04 (UTC+01:00)",
		"Zwecke: ■ erteilt: Terminerinnerungen per WhatsApp",
		"□ nicht erteilt: Newsletter mit Praxisneuigkeiten",
		"Datensatz: 01JDQ8ZK3T6V9X2B4N7M5C8R0W",
		"Textversion: " + testTextVersion,
		"Schlüssel: SHA256:x7Qk2c1mZ5pYVb0Rj8sWnE4uT6aL9dF3gH1iK2oP0qM",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("extracted text lacks %q:\n%s", want, got)
		}
	}
	// Flattened: no form left to edit.
	if fields, err := api.FormFields(bytes.NewReader(pdf), newConf()); err == nil && len(fields) > 0 {
		t.Errorf("receipt still has %d form fields", len(fields))
	}
	if bytes.Contains(pdf, []byte("/AcroForm")) || bytes.Contains(pdf, []byte("/Widget")) {
		t.Error("receipt still holds an AcroForm or widgets")
	}
	// The record is attached, output is reproducible, Lines is what prints.
	if rec, err := Attachment(pdf); err != nil || !bytes.Equal(rec, d.Record) {
		t.Errorf("Attachment = %q, %v", rec, err)
	}
	again, _ := s.Stamp(d)
	if !bytes.Equal(pdf, again) {
		t.Error("two stamps of the same data differ")
	}
	ll, err := s.Lines(d)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range ll {
		if !strings.Contains(got, l) {
			t.Errorf("Lines has %q, not in the PDF", l)
		}
	}
	if len(ll) != 11 {
		t.Errorf("Lines = %d lines, want 11:\n%s", len(ll), strings.Join(ll, "\n"))
	}
}

func TestFormTemplateLongValues(t *testing.T) {
	s, err := New(readTestdata(t, "form.pdf"))
	if err != nil {
		t.Fatal(err)
	}
	d := sample("en")
	d.Name = strings.Repeat("Łukasz Wróbel-Kowalski ", 8) // wider than the box at 11 pt
	for i := range 5 {
		d.Purposes = append(d.Purposes, Purpose{ID: "p", Title: "An additional purpose with a long title number " + string(rune('A'+i)), Granted: i%2 == 0})
	}
	pdf, err := s.Stamp(d)
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(extract(t, pdf), " ")
	// Nothing is cut: every word of every value is on the page.
	for _, w := range append(strings.Fields(d.Name), "number", "E", "Newsletter") {
		if !strings.Contains(got, w) {
			t.Errorf("extracted text lacks %q", w)
		}
	}
	if n := strings.Count(got, "Łukasz"); n != 8 {
		t.Errorf("name printed %d times in part, want 8:\n%s", n, got)
	}
}

func TestPositionedTemplate(t *testing.T) {
	s, err := New(readTestdata(t, "letterhead.pdf"), letterheadPlacements...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	d := sample("en")
	d.Name = "Юлия Соколова"
	pdf, err := s.Stamp(d)
	if err != nil {
		t.Fatal(err)
	}
	pages := extractPages(t, pdf)
	if len(pages) < 2 {
		t.Fatalf("want 2 pages, got %d", len(pages))
	}
	p1 := strings.Join(pages[0], "\n")
	for _, want := range []string{
		"Name: Юлия Соколова", "Telefon: +491701234567", "Entscheidung: Consent granted",
		"Zeitpunkt: 29 Nov 2026, 23:15:04 (UTC+01:00)", "Zwecke: ■ granted: Terminerinnerungen per WhatsApp",
		"□ not granted: Newsletter mit Praxisneuigkeiten", "Datensatz: 01JDQ8ZK3T6V9X2B4N7M5C8R0W",
	} {
		if !strings.Contains(p1, want) {
			t.Errorf("page 1 lacks %q:\n%s", want, p1)
		}
	}
	if p2 := strings.Join(pages[1], "\n"); !strings.Contains(p2, "SHA256:x7Qk2c1mZ5pYVb0Rj8sWnE4uT6aL9dF3gH1iK2oP0qM") || !strings.Contains(p2, "Seite 2") {
		t.Errorf("page 2:\n%s", p2)
	}
	if strings.Contains(p1, "juergen.weiss") {
		t.Error("email printed though not placed")
	}
	again, _ := s.Stamp(d)
	if !bytes.Equal(pdf, again) {
		t.Error("two stamps of the same data differ")
	}
}

func TestTemplateErrors(t *testing.T) {
	letterhead := readTestdata(t, "letterhead.pdf")
	with := func(i int, f func(*Placement)) []Placement {
		pp := append([]Placement(nil), letterheadPlacements...)
		f(&pp[i])
		return pp
	}
	tests := []struct {
		name       string
		template   []byte
		placements []Placement
		want       string
		placement  int // index of the *PlacementError, -1 for none
	}{
		{"unreadable", readTestdata(t, "broken.pdf"), nil, "read template", -1},
		{"not a PDF", []byte("hello"), nil, "read template", -1},
		{"form without decision", readTestdata(t, "form_missing.pdf"), nil, `the form has no field "decision"`, -1},
		{"form with unknown field", readTestdata(t, "form_unknown.pdf"), nil, `form field "signature" is not a receipt value`, -1},
		{"form with check box", readTestdata(t, "form_checkbox.pdf"), nil, `form field "decision" is a /Btn field`, -1},
		{"two pages, no fields", letterhead, nil, "template has 2 pages", -1},
		{"placement outside page", letterhead, with(0, func(p *Placement) { p.X = 600 }), "x = 600, y = 700 is outside page 1 (595.28 × 841.89 pt)", 0},
		{"placement above letter page", letterhead, with(6, func(p *Placement) { p.Y = 800 }), "outside page 2 (612.00 × 792.00 pt)", 6},
		{"placement on missing page", letterhead, with(6, func(p *Placement) { p.Page = 3 }), "page 3, but the template has 2 page(s)", 6},
		{"placement at right edge", letterhead, with(1, func(p *Placement) { p.X = 560 }), "leaves 35 pt to the right edge", 1},
		{"placement at bottom edge", letterhead, with(1, func(p *Placement) { p.Y = 1 }), "descenders would be cut", 1},
		{"unknown placement field", letterhead, with(1, func(p *Placement) { p.Field = "nmae" }), "not a receipt value", 1},
		{"placements without record_id", letterhead, letterheadPlacements[:5], `no placement for "record_id"`, -1},
		{"placements without template", nil, letterheadPlacements, "placements need your own template", -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.template, tt.placements...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("New: %v, want an error containing %q", err, tt.want)
			}
			if !errors.Is(err, ErrTemplate) {
				t.Errorf("error does not wrap ErrTemplate: %v", err)
			}
			var pe *PlacementError
			if errors.As(err, &pe) != (tt.placement >= 0) || (pe != nil && pe.Index != tt.placement) {
				t.Errorf("placement error %+v, want index %d", pe, tt.placement)
			}
		})
	}
}

// BenchmarkStampForm: a receipt on the owner's AcroForm letterhead.
func BenchmarkStampForm(b *testing.B) {
	s, err := New(readTestdata(b, "form.pdf"))
	if err != nil {
		b.Fatal(err)
	}
	d := sample("de")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Stamp(d); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStampPlaced: a receipt stamped at configured positions on a
// two-page letterhead.
func BenchmarkStampPlaced(b *testing.B) {
	s, err := New(readTestdata(b, "letterhead.pdf"), letterheadPlacements...)
	if err != nil {
		b.Fatal(err)
	}
	d := sample("de")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Stamp(d); err != nil {
			b.Fatal(err)
		}
	}
}
