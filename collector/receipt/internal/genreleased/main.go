// Command genreleased writes the receipts of one release into a folder
// (default ../../testdata/released/v1 from collector/receipt): grant,
// refusal and withdrawal receipts, built-in, form and placed-fields
// templates, German and English, each beside everything needed to check it
// forever: the signed log they came from (decisions.jsonl), the public key
// (signing.pub), one config.toml per template with the template files it
// names (copied, as templates are frozen with the receipts), and
// manifest.json, which lists each receipt with the receipt.Data and
// placements it was stamped from.
//
// It is run once per release, with that release's code:
//
//	go run ./collector/receipt/internal/genreleased -o collector/receipt/testdata/released/v1
//
// and the files are never regenerated: the tests of collector/receipt and
// proof verify them with today's code. The signing key is derived from a
// fixed seed (a test key), the times are fixed.
package main

import (
	"context"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/chatconsent/chatconsent/collector/ledger"
	"github.com/chatconsent/chatconsent/collector/receipt"
	"github.com/chatconsent/chatconsent/internal/config"
	"github.com/chatconsent/chatconsent/proof"
)

const siteConfig = `[site]
title = "Fahrradladen"
base_url = "https://rad.example/"
languages = ["de", "en"]

[controller]
name = "Fahrradladen Beispiel GmbH"
address = "Musterstraße 1, 10115 Berlin"
email = "datenschutz@rad.example"
phone = "+49 30 1234567"

[collector]
public_url = "https://rad.example/"

%s
[[purposes]]
id = "orders"
title = { de = "Rückfragen zu Bestellungen", en = "Questions about orders" }
description = { de = "Wir schreiben Ihnen zu Ihren Bestellungen.", en = "We write to you about your orders." }

[[purposes]]
id = "offers"
title = { de = "Angebote und Neuigkeiten", en = "Offers and news" }
description = { de = "Gelegentlich Angebote.", en = "Occasional offers." }
`

// Entry is one receipt of the manifest.
type Entry struct {
	// File is the receipt's name in the folder; Config the config.toml it
	// was stamped under (its receipt.template and receipt.fields).
	File, Config string
	// Template is the template file ("" for the built-in one) and
	// Placements its [[receipt.fields]], as receipt.New took them.
	Template   string
	Placements []receipt.Placement `json:",omitempty"`
	// Data is what was stamped.
	Data receipt.Data
}

func main() {
	out := flag.String("o", "testdata/released/v1", "output folder")
	src := flag.String("templates", "testdata", "folder with form.pdf and letterhead.pdf")
	flag.Parse()
	if err := run(*out, *src); err != nil {
		fmt.Fprintln(os.Stderr, "genreleased: error:", err)
		os.Exit(1)
	}
}

func run(out, src string) error {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	for _, f := range []string{"form.pdf", "letterhead.pdf"} {
		b, err := os.ReadFile(filepath.Join(src, f))
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(out, f), b, 0o644); err != nil {
			return err
		}
	}
	placed := "[receipt]\ntemplate = \"letterhead.pdf\"\n"
	for i, f := range []string{"name", "phone", "decision", "time", "record_id", "purposes"} {
		placed += fmt.Sprintf("[[receipt.fields]]\nfield = %q\nx = 170\ny = %d\n", f, 640-24*i)
	}
	placed += "[[receipt.fields]]\nfield = \"withdrawal_url\"\npage = 2\nx = 60\ny = 700\nsize = 8\n"
	configs := map[string]string{
		"builtin": "[receipt]\n",
		"form":    "[receipt]\ntemplate = \"form.pdf\"\n",
		"placed":  placed,
	}
	cfgs := map[string]*config.Config{}
	for name, table := range configs {
		text := fmt.Sprintf(siteConfig, table)
		file := "config-" + name + ".toml"
		if err := os.WriteFile(filepath.Join(out, file), []byte(text), 0o644); err != nil {
			return err
		}
		cfg, err := config.Parse(filepath.Join(out, file), out, []byte(text))
		if err != nil {
			return fmt.Errorf("%s: %w", file, err)
		}
		cfgs[name] = cfg
	}

	// A test key from a fixed seed: the receipts are samples, not proof.
	seed := sha256.Sum256([]byte("chatconsent released receipts"))
	priv := ed25519.NewKeyFromSeed(seed[:])
	der, err := x509.MarshalPKIXPublicKey(priv.Public())
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(out, config.SigningPublicKeyFile), pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o644); err != nil {
		return err
	}
	logPath := filepath.Join(out, config.LogFile)
	os.Remove(logPath)
	log, _, err := ledger.Open(logPath, priv, ledger.Options{})
	if err != nil {
		return err
	}
	defer log.Close()

	link := func(id string) string {
		m := hmac.New(sha256.New, seed[:])
		m.Write([]byte(id))
		return "https://rad.example/v1/withdraw?id=" + id + "&k=" + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
	}
	consent := map[string]string{"de": "https://rad.example/de/einwilligung/", "en": "https://rad.example/en/consent/"}
	names := map[string]string{"de": "Jürgen Weiß-Öztürk", "en": "Αλέξανδρος Ivanov"}
	var manifest []Entry
	n := 0
	t0 := time.Date(2026, 11, 30, 15, 4, 5, 123456789, time.UTC)
	for _, tpl := range []string{"builtin", "form", "placed"} {
		cfg := cfgs[tpl]
		st, err := proof.NewStamper(cfg)
		if err != nil {
			return err
		}
		var pp []receipt.Placement
		for _, f := range cfg.Receipt.Fields {
			pp = append(pp, receipt.Placement{Field: f.Field, Page: f.Page, X: f.X, Y: f.Y, Size: f.Size})
		}
		for _, lang := range []string{"de", "en"} {
			kinds := []string{"grant", "withdrawal"}
			if tpl == "builtin" {
				kinds = append(kinds, "refusal")
			}
			var grant ledger.Entry
			for _, kind := range kinds {
				n++
				id := fmt.Sprintf("%032x", sha256.Sum256([]byte(fmt.Sprint("record", n))))[:32]
				rec := ledger.Record{
					Type: ledger.TypeDecision, ID: id, Time: t0.Add(time.Duration(n) * time.Minute),
					Subject: &ledger.Subject{Name: names[lang], Phone: "+491701234567", Email: "kunde@example.org"},
					Lang:    lang, TextVersion: fmt.Sprintf("%x", sha256.Sum256([]byte("texts "+lang))),
				}
				var url string
				switch kind {
				case "grant":
					rec.Decision, rec.Purposes = ledger.Granted, []string{"orders", "offers"}
					url = link(id)
				case "refusal":
					rec.Decision, rec.Purposes = ledger.Refused, []string{"orders", "offers"}
					url = consent[lang]
				case "withdrawal":
					rec.Type, rec.Decision, rec.Purposes = ledger.TypeWithdrawal, ledger.Withdrawn, []string{"offers"}
					rec.Ref, rec.Via = grant.Record.ID, "link"
					url = link(grant.Record.ID)
				}
				ee, err := log.Append(context.Background(), rec)
				if err != nil {
					return err
				}
				if kind == "grant" {
					grant = ee[0]
				}
				d := proof.Data(cfg, ee[0], url)
				if kind == "withdrawal" {
					// What the collector's book says after it (layout 3
					// prints it): the grant's other purpose.
					d.StillGranted = proof.StillGranted(cfg, lang, []string{"orders"})
				}
				pdf, err := st.Stamp(d)
				if err != nil {
					return fmt.Errorf("%s %s %s: %w", tpl, lang, kind, err)
				}
				file := fmt.Sprintf("%s-%s-%s.pdf", tpl, lang, kind)
				if err := os.WriteFile(filepath.Join(out, file), pdf, 0o644); err != nil {
					return err
				}
				e := Entry{File: file, Config: "config-" + tpl + ".toml", Placements: pp, Data: d}
				if cfg.Receipt.Template != "" {
					e.Template = filepath.Base(cfg.Receipt.Template)
				}
				manifest = append(manifest, e)
			}
		}
	}
	b, err := json.MarshalIndent(manifest, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(out, "manifest.json"), append(b, '\n'), 0o644)
}
