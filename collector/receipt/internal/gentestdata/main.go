// Command gentestdata writes the owner templates the receipt tests use
// into a folder (default testdata): small letterheads drawn with pdfcpu,
// labels in the core font Helvetica as a typical office letterhead has them.
// Run it through go generate in collector/receipt:
//
//	go generate ./collector/receipt
//
// Files:
//
//	form.pdf          A4, AcroForm text fields named after receipt values
//	                  (all required ones, plus email, controller, key,
//	                  text_version; "purposes" multi-line; some with an
//	                  automatic font size)
//	form_missing.pdf  the same without the "decision" field
//	form_unknown.pdf  the same plus a field "signature" (no receipt value)
//	form_checkbox.pdf the same with "decision" as a check box
//	letterhead.pdf    two pages (A4, then US Letter), no form: for
//	                  [[receipt.fields]] placements
//	broken.pdf        the first 600 bytes of form.pdf
//
// pdfcpu writes objects in map order, so the bytes differ from run to run;
// the content does not.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu"
	pdffont "github.com/pdfcpu/pdfcpu/pkg/pdfcpu/font"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"
)

const (
	a4W, a4H         = 595.27563, 841.8898
	letterW, letterH = 612.0, 792.0
)

// field is a text field of the form: label printed left of the box.
type field struct {
	name, label string
	y, h        float64 // lower edge and height of the box
	size        int     // 0: automatic
	multiline   bool
	checkbox    bool
}

var formFields = []field{
	{name: "controller", label: "Verantwortlicher", y: 700, h: 16, size: 10},
	{name: "name", label: "Name", y: 640, h: 18, size: 11},
	{name: "phone", label: "Telefon", y: 616, h: 18, size: 10},
	{name: "email", label: "E-Mail", y: 592, h: 18},
	{name: "decision", label: "Entscheidung", y: 560, h: 18, size: 11},
	{name: "time", label: "Zeitpunkt", y: 536, h: 18, size: 10},
	{name: "purposes", label: "Zwecke", y: 440, h: 86, size: 10, multiline: true},
	{name: "record_id", label: "Datensatz", y: 400, h: 16, size: 9},
	{name: "text_version", label: "Textversion", y: 376, h: 16, size: 0},
	{name: "key", label: "Schlüssel", y: 352, h: 16},
}

func main() {
	out := flag.String("o", "testdata", "output folder")
	flag.Parse()
	if err := run(*out); err != nil {
		fmt.Fprintln(os.Stderr, "gentestdata: error:", err)
		os.Exit(1)
	}
}

func run(out string) error {
	dir, err := os.MkdirTemp("", "gentestdata-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	// A private pdfcpu configuration directory; never the user's home.
	if err := api.EnsureDefaultConfigAt(dir); err != nil {
		return err
	}
	without := func(name string) []field {
		return slices.DeleteFunc(slices.Clone(formFields), func(f field) bool { return f.name == name })
	}
	checkbox := slices.Clone(formFields)
	for i := range checkbox {
		if checkbox[i].name == "decision" {
			checkbox[i].checkbox = true
		}
	}
	files := map[string][]field{
		"form.pdf":          formFields,
		"form_missing.pdf":  without("decision"),
		"form_unknown.pdf":  append(slices.Clone(formFields), field{name: "signature", label: "Unterschrift", y: 300, h: 30}),
		"form_checkbox.pdf": checkbox,
	}
	for name, ff := range files {
		b, err := build(ff, false)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if err := os.WriteFile(filepath.Join(out, name), b, 0o644); err != nil {
			return err
		}
		if name == "form.pdf" {
			if err := os.WriteFile(filepath.Join(out, "broken.pdf"), b[:600], 0o644); err != nil {
				return err
			}
		}
	}
	b, err := build(nil, true)
	if err != nil {
		return fmt.Errorf("letterhead.pdf: %w", err)
	}
	return os.WriteFile(filepath.Join(out, "letterhead.pdf"), b, 0o644)
}

// build returns a letterhead: page 1 A4 with the company line, the labels
// and (if fields) form fields; with twoPages a second, US Letter page.
func build(fields []field, twoPages bool) ([]byte, error) {
	xt, err := pdfcpu.CreateXRefTableWithRootDict()
	if err != nil {
		return nil, err
	}
	root, err := xt.Catalog()
	if err != nil {
		return nil, err
	}
	helv, err := pdffont.CoreFontDict(xt, "Helvetica")
	if err != nil {
		return nil, err
	}
	stream := func(s string) (types.IndirectRef, error) {
		sd, err := xt.NewStreamDictForBuf([]byte(s))
		if err != nil {
			return types.IndirectRef{}, err
		}
		if err := sd.Encode(); err != nil {
			return types.IndirectRef{}, err
		}
		ref, err := xt.IndRefForNewObject(*sd)
		if err != nil {
			return types.IndirectRef{}, err
		}
		return *ref, nil
	}
	pages := types.Dict{"Type": types.Name("Pages")}
	pagesRef, err := xt.IndRefForNewObject(pages)
	if err != nil {
		return nil, err
	}
	res := types.Dict{"Font": types.Dict{"Helv": *helv}}

	var c bytes.Buffer
	c.WriteString("BT /Helv 14 Tf 56.69 780 Td (Fahrradladen Beispiel GmbH) Tj ET\n")
	c.WriteString("BT /Helv 8 Tf 56.69 766 Td (Musterstrasse 12, 10115 Berlin) Tj ET\n")
	c.WriteString("q 0.6 G 0.5 w 56.69 756 m 538.58 756 l S Q\n")
	if fields == nil {
		// Labels for placements at x = 170.
		for i, l := range []string{"Name", "Telefon", "Entscheidung", "Zeitpunkt", "Zwecke"} {
			fmt.Fprintf(&c, "BT /Helv 10 Tf 56.69 %d Td (%s:) Tj ET\n", 700-24*i, l)
		}
		c.WriteString("BT /Helv 10 Tf 56.69 460 Td (Datensatz:) Tj ET\n")
	}
	for _, f := range fields {
		label := f.label
		if label == "Schlüssel" {
			label = "Schl\\374ssel" // WinAnsi ü
		}
		ly := f.y + 5
		if f.multiline {
			ly = f.y + f.h - 13 // beside the first line
		}
		fmt.Fprintf(&c, "BT /Helv 10 Tf 56.69 %.2f Td (%s:) Tj ET\n", ly, label)
		fmt.Fprintf(&c, "q 0.8 G 0.5 w 170 %.2f 360 %.2f re S Q\n", f.y, f.h)
	}
	contents, err := stream(c.String())
	if err != nil {
		return nil, err
	}
	page1 := types.Dict{
		"Type": types.Name("Page"), "Parent": *pagesRef, "Contents": contents,
		"Resources": res, "MediaBox": types.NewRectangle(0, 0, a4W, a4H).Array(),
	}
	page1Ref, err := xt.IndRefForNewObject(page1)
	if err != nil {
		return nil, err
	}
	kids := types.Array{*page1Ref}

	if len(fields) > 0 {
		var annots, fieldRefs types.Array
		for _, f := range fields {
			w := types.Dict{
				"Type": types.Name("Annot"), "Subtype": types.Name("Widget"),
				"T": types.StringLiteral(f.name), "P": *page1Ref,
				"Rect": types.NewRectangle(170, f.y, 530, f.y+f.h).Array(),
				"F":    types.Integer(4), // print
			}
			if f.checkbox {
				w["FT"] = types.Name("Btn")
			} else {
				w["FT"] = types.Name("Tx")
				w["DA"] = types.StringLiteral(fmt.Sprintf("/Helv %d Tf 0 g", f.size))
				if f.multiline {
					w["Ff"] = types.Integer(1 << 12)
				}
			}
			ref, err := xt.IndRefForNewObject(w)
			if err != nil {
				return nil, err
			}
			annots = append(annots, *ref)
			fieldRefs = append(fieldRefs, *ref)
		}
		page1["Annots"] = annots
		root["AcroForm"] = types.Dict{
			"Fields": fieldRefs,
			"DA":     types.StringLiteral("/Helv 0 Tf 0 g"),
			"DR":     types.Dict{"Font": types.Dict{"Helv": *helv}},
		}
	}
	if twoPages {
		c2, err := stream("BT /Helv 10 Tf 72 720 Td (Seite 2: Hinweise zum Datenschutz) Tj ET\n")
		if err != nil {
			return nil, err
		}
		page2 := types.Dict{
			"Type": types.Name("Page"), "Parent": *pagesRef, "Contents": c2,
			"Resources": res, "MediaBox": types.NewRectangle(0, 0, letterW, letterH).Array(),
		}
		ref, err := xt.IndRefForNewObject(page2)
		if err != nil {
			return nil, err
		}
		kids = append(kids, *ref)
	}
	pages["Kids"] = kids
	pages["Count"] = types.Integer(len(kids))
	root.Insert("Pages", *pagesRef)
	xt.PageCount = len(kids)

	conf := model.NewDefaultConfiguration()
	conf.WriteObjectStream = false
	conf.WriteXRefStream = false
	var buf bytes.Buffer
	if err := api.WriteContext(pdfcpu.CreateContext(xt, conf), &buf); err != nil {
		return nil, err
	}
	conf.ValidationMode = model.ValidationRelaxed
	if err := api.Validate(bytes.NewReader(buf.Bytes()), conf); err != nil {
		return nil, fmt.Errorf("validate: %w", err)
	}
	return buf.Bytes(), nil
}
