// Command receiptoverlay writes the inputs that bench/receipts.sh gives
// qpdf, so that qpdf stamps the same text onto the same template as
// chatconsent does:
//
//	DIR/template.pdf  the built-in receipt template (collector/receipt)
//	DIR/overlay.pdf   the receipt's text alone, on a blank A4 page: the
//	                  overlay a script would prepare once
//	DIR/record.json   the signed record line to attach
//	DIR/receipt.pdf   chatconsent's own receipt for the same data
//
// Usage: go run ./bench/receiptoverlay -o DIR
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/chatconsent/chatconsent/collector/receipt"
)

func main() {
	out := flag.String("o", ".", "output folder")
	flag.Parse()
	if err := run(*out); err != nil {
		fmt.Fprintln(os.Stderr, "receiptoverlay: error:", err)
		os.Exit(1)
	}
}

// Sample is a typical decision: a Polish name, two purposes.
func sample() receipt.Data {
	rec := []byte(`{"rec":{"v":1,"seq":1,"prev":"","key":"5d1c","type":"decision","id":"8726430bc697d49272b2bf055f1619c1","time":"2026-11-29T22:15:04Z","decision":"granted","purposes":["orders"],"subject":{"name":"Łukasz Wróbel","phone":"+48512345678"},"lang":"de","text_version":"7883db9a965afdf40727f2481f979946af07e099bb6b49835821a8fddf97bd44"},"sig":"AAAA"}`)
	return receipt.Data{
		Lang: "de",
		Controller: receipt.Controller{
			Name: "Fahrradladen Beispiel GmbH", Address: "Musterstraße 12, 10115 Berlin, Deutschland",
			Email: "datenschutz@fahrradladen.example", Phone: "+49 30 1234567",
		},
		RecordID: "8726430bc697d49272b2bf055f1619c1",
		Time:     time.Date(2026, 11, 29, 22, 15, 4, 0, time.UTC),
		Decision: "granted",
		Name:     "Łukasz Wróbel", Phone: "+48512345678", Email: "lukasz@example.org",
		Purposes: []receipt.Purpose{
			{ID: "orders", Title: "Rückfragen zu Bestellungen und Reparaturen per WhatsApp", Granted: true},
			{ID: "documents", Title: "Zusendung von Dokumenten per WhatsApp", Granted: false},
		},
		TextVersion:    "7883db9a965afdf40727f2481f979946af07e099bb6b49835821a8fddf97bd44",
		TextURL:        "http://127.0.0.1:8080/archive/7883db9a965afdf40727f2481f979946af07e099bb6b49835821a8fddf97bd44.html",
		KeyFingerprint: "SHA256:5d1c0b7a3f9e8d2c4b6a1e0f9d8c7b6a5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b",
		WithdrawalURL:  "http://127.0.0.1:8080/de/einwilligung/",
		Record:         rec,
	}
}

// blankA4 returns a one-page A4 PDF with nothing on the page.
func blankA4() []byte {
	var b bytes.Buffer
	b.WriteString("%PDF-1.7\n")
	objs := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 /MediaBox [0 0 595.27563 841.8898] >>",
		"<< /Type /Page /Parent 2 0 R /Resources << >> >>",
	}
	var offs []int
	for i, o := range objs {
		offs = append(offs, b.Len())
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, o := range offs {
		fmt.Fprintf(&b, "%010d 00000 n \n", o)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, xref)
	return b.Bytes()
}

func run(dir string) error {
	d := sample()
	overlay, err := receipt.New(blankA4())
	if err != nil {
		return fmt.Errorf("blank template: %w", err)
	}
	ov, err := overlay.Stamp(d)
	if err != nil {
		return err
	}
	own, err := receipt.New(nil)
	if err != nil {
		return err
	}
	rc, err := own.Stamp(d)
	if err != nil {
		return err
	}
	tpl, err := os.ReadFile(filepath.Join("collector", "receipt", "template.pdf"))
	if err != nil {
		return fmt.Errorf("run from the repository root: %w", err)
	}
	for name, b := range map[string][]byte{"overlay.pdf": ov, "receipt.pdf": rc, "template.pdf": tpl, "record.json": d.Record} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}
