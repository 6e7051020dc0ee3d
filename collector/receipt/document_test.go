package receipt

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func sampleDocument(paragraphs int) Document {
	d := Document{
		Lang: "de", Title: "Auskunft nach Art. 15 DSGVO", Author: "Fahrradladen Beispiel GmbH",
		Time:   time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC),
		Footer: "Fahrradladen Beispiel GmbH", PageLabel: "Seite {page} von {pages}",
		Blocks: []Block{
			{Kind: Heading, Text: "Was wir über Sie speichern"},
			{Kind: Field, Label: "Name", Text: "Jürgen Weiß"},
			{Kind: Field, Label: "Name (Hebräisch)", Text: "שלום"},
			{Kind: Field, Label: "WhatsApp-Nummer", Text: "+491701234567"},
			{Kind: Field, Label: "leer", Text: ""},
			{Kind: Item, Text: "Fragen zu Aufträgen: eingewilligt seit 2026-03-01 11:00"},
			{Kind: Note, Text: "Steuerzeichen\tund\u200bUnsichtbares; Emoji 😀 fehlt der Schrift."},
		},
	}
	for i := range paragraphs {
		d.Blocks = append(d.Blocks, Block{Kind: Subheading, Text: fmt.Sprintf("Abschnitt %d", i+1)},
			Block{Kind: Paragraph, Text: strings.Repeat(fmt.Sprintf("Absatz %d mit Umlauten äöü und ß. ", i+1), 12)})
	}
	return d
}

// pdfText extracts the text of pdf, pages separated by form feeds.
func pdfToText(t *testing.T, pdf []byte) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "d.pdf")
	if err := os.WriteFile(f, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("pdftotext", "-enc", "UTF-8", f, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext (apt-get install poppler-utils): %v\n%s", err, out)
	}
	return string(out)
}

// TestPrintDocument: a document of several pages prints every block,
// readable by pdftotext (umlauts, Hebrew through the fallback font),
// breaks pages with "Seite N von M" at the foot of each, drops control
// and invisible characters, marks what no font has with "?", and is the
// same bytes twice.
func TestPrintDocument(t *testing.T) {
	t.Parallel()
	d := sampleDocument(40)
	pdf, err := PrintDocument(d)
	if err != nil {
		t.Fatal(err)
	}
	again, err := PrintDocument(d)
	if err != nil || !bytes.Equal(pdf, again) {
		t.Errorf("a second print differs (%v)", err)
	}
	text := pdfToText(t, pdf)
	pages := strings.Split(strings.TrimRight(text, "\f"), "\f")
	if len(pages) < 3 {
		t.Fatalf("%d pages, want at least 3:\n%s", len(pages), text)
	}
	for i, p := range pages {
		if want := fmt.Sprintf("Seite %d von %d", i+1, len(pages)); !strings.Contains(p, want) {
			t.Errorf("page %d lacks %q", i+1, want)
		}
	}
	flat := strings.Join(strings.Fields(text), " ")
	for _, want := range []string{"Auskunft nach Art. 15 DSGVO", "Name: Jürgen Weiß", "WhatsApp-Nummer: +491701234567",
		"• Fragen zu Aufträgen: eingewilligt", "Steuerzeichen undUnsichtbares; Emoji ? fehlt", "Abschnitt 40", "Absatz 40 mit Umlauten äöü und ß."} {
		if !strings.Contains(flat, want) {
			t.Errorf("the text lacks %q", want)
		}
	}
	if !strings.Contains(text, "שלום") && !strings.Contains(text, "םולש") {
		t.Errorf("the Hebrew name is missing:\n%.400s", text)
	}
	if strings.Contains(flat, "leer:") {
		t.Error("an empty field was printed")
	}
	lines, err := DocumentLines(d)
	if err != nil || len(lines) != len(pages) {
		t.Errorf("DocumentLines: %d pages, %v; want %d", len(lines), err, len(pages))
	}
}

func TestPrintDocumentTooLong(t *testing.T) {
	t.Parallel()
	d := sampleDocument(0)
	for range 12000 {
		d.Blocks = append(d.Blocks, Block{Kind: Paragraph, Text: "Zeile"})
	}
	if _, err := PrintDocument(d); !errors.Is(err, ErrInvalid) {
		t.Errorf("a document of over %d pages: %v, want ErrInvalid", MaxDocumentPages, err)
	}
}

// BenchmarkPrintDocument prints a document of about five pages (an access
// report of a person with a few events and one archived text is of this
// size).
func BenchmarkPrintDocument(b *testing.B) {
	d := sampleDocument(40)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := PrintDocument(d); err != nil {
			b.Fatal(err)
		}
	}
}
