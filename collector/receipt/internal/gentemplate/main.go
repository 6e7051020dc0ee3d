// Command gentemplate writes the default receipt template: one A4 portrait
// page with a thin rule at the top and a small "chatconsent" footer above a
// second rule, drawn with pdfcpu. Run it through go generate in
// collector/receipt:
//
//	go generate ./collector/receipt
//
// The result, template.pdf, is committed and embedded into the package.
// The footer is set in a subset of Go Regular, embedded, so the template
// passes pdfcpu's strict validation (its core-font dictionaries do not).
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu"
	pdffont "github.com/pdfcpu/pdfcpu/pkg/pdfcpu/font"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"
	"golang.org/x/image/font/gofont/goregular"
)

// A4 portrait in points and the margins the receipt layout uses.
const (
	width   = 595.27563
	height  = 841.8898
	marginX = 56.69 // 20 mm

	fontName = "GoRegular" // PostScript name of Go Regular
)

func main() {
	out := flag.String("o", "template.pdf", "output file")
	plain := flag.Bool("plain", false, "leave out the \"chatconsent\" footer (the template of receipt layout 3, which prints the controller there)")
	flag.Parse()
	if err := run(*out, *plain); err != nil {
		fmt.Fprintln(os.Stderr, "gentemplate: error:", err)
		os.Exit(1)
	}
}

func run(out string, plain bool) error {
	// A private pdfcpu configuration directory with Go Regular installed;
	// never the user's home.
	dir, err := os.MkdirTemp("", "gentemplate-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if err := api.EnsureDefaultConfigAt(dir); err != nil {
		return err
	}
	ttf := filepath.Join(dir, "goregular.ttf")
	if err := os.WriteFile(ttf, goregular.TTF, 0o600); err != nil {
		return err
	}
	if err := api.InstallFonts([]string{ttf}); err != nil {
		return err
	}
	conf := model.NewDefaultConfiguration()
	conf.WriteObjectStream = false
	conf.WriteXRefStream = false

	xt, err := pdfcpu.CreateXRefTableWithRootDict()
	if err != nil {
		return err
	}
	root, err := xt.Catalog()
	if err != nil {
		return err
	}
	// Record the footer's glyphs, then build the subset font from them.
	footer, err := model.PrepBytes(xt, "chatconsent", fontName, true, false, false)
	if err != nil {
		return err
	}
	goRegular, err := pdffont.EnsureFontDict(xt, fontName, "", "", false, nil)
	if err != nil {
		return err
	}

	var c bytes.Buffer
	// Top rule, 20 mm from the top edge; footer rule and text at the bottom.
	fmt.Fprintf(&c, "q 0.6 G 0.5 w %.2f %.2f m %.2f %.2f l S Q\n", marginX, height-56.69, width-marginX, height-56.69)
	fmt.Fprintf(&c, "q 0.6 G 0.5 w %.2f %.2f m %.2f %.2f l S Q\n", marginX, 48.0, width-marginX, 48.0)
	if !plain {
		fmt.Fprintf(&c, "BT /F0 8 Tf 0.45 g %.2f %.2f Td (%s) Tj ET\n", marginX, 36.0, footer)
	}

	sd, err := xt.NewStreamDictForBuf(c.Bytes())
	if err != nil {
		return err
	}
	if err := sd.Encode(); err != nil {
		return err
	}
	contents, err := xt.IndRefForNewObject(*sd)
	if err != nil {
		return err
	}

	box := types.NewRectangle(0, 0, width, height)
	pages := types.Dict{
		"Type":     types.Name("Pages"),
		"Count":    types.Integer(1),
		"MediaBox": box.Array(),
	}
	pagesRef, err := xt.IndRefForNewObject(pages)
	if err != nil {
		return err
	}
	page := types.Dict{
		"Type":     types.Name("Page"),
		"Parent":   *pagesRef,
		"Contents": *contents,
		"Resources": types.Dict{
			"Font": types.Dict{"F0": *goRegular},
		},
	}
	if plain {
		page["Resources"] = types.Dict{}
	}
	pageRef, err := xt.IndRefForNewObject(page)
	if err != nil {
		return err
	}
	pages.Insert("Kids", types.Array{*pageRef})
	root.Insert("Pages", *pagesRef)
	xt.PageCount = 1

	ctx := pdfcpu.CreateContext(xt, conf)
	var buf bytes.Buffer
	if err := api.WriteContext(ctx, &buf); err != nil {
		return err
	}
	conf.ValidationMode = model.ValidationStrict
	if err := api.Validate(bytes.NewReader(buf.Bytes()), conf); err != nil {
		return fmt.Errorf("validate: %w", err)
	}
	return os.WriteFile(out, buf.Bytes(), 0o644)
}
