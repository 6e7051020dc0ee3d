package receipt

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu"
	pdffont "github.com/pdfcpu/pdfcpu/pkg/pdfcpu/font"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"
)

// templateOpts describes a one-page template built by buildTemplate.
type templateOpts struct {
	width, height    float64
	inheritResources bool   // resources on the Pages node, not the page
	indirectFonts    bool   // the Font resource dictionary as its own object
	contentsArray    bool   // Contents as an array of two streams
	prefix           string // content before the template's text
}

// buildTemplate returns a template whose page prints "TEMPLATE MARK" in
// Helvetica under the resource name CC0, the first name the package would
// choose for its own fonts.
func buildTemplate(t *testing.T, o templateOpts) []byte {
	t.Helper()
	if err := setup(); err != nil { // newConf needs it
		t.Fatal(err)
	}
	if o.width == 0 {
		o.width, o.height = pageWidth, pageHeight
	}
	xt, err := pdfcpu.CreateXRefTableWithRootDict()
	if err != nil {
		t.Fatal(err)
	}
	root, err := xt.Catalog()
	if err != nil {
		t.Fatal(err)
	}
	helv, err := pdffont.CoreFontDict(xt, "Helvetica")
	if err != nil {
		t.Fatal(err)
	}
	stream := func(s string) types.IndirectRef {
		sd, err := xt.NewStreamDictForBuf([]byte(s))
		if err != nil {
			t.Fatal(err)
		}
		if err := sd.Encode(); err != nil {
			t.Fatal(err)
		}
		ref, err := xt.IndRefForNewObject(*sd)
		if err != nil {
			t.Fatal(err)
		}
		return *ref
	}
	var fonts types.Object = types.Dict{"CC0": *helv}
	if o.indirectFonts {
		ref, err := xt.IndRefForNewObject(fonts)
		if err != nil {
			t.Fatal(err)
		}
		fonts = *ref
	}
	res := types.Dict{"Font": fonts}
	text := "BT /CC0 9 Tf 60 20 Td (TEMPLATE MARK) Tj ET\n"
	var contents types.Object = stream(o.prefix + text)
	if o.contentsArray {
		contents = types.Array{stream(o.prefix), stream(text)}
	}
	pages := types.Dict{
		"Type":     types.Name("Pages"),
		"Count":    types.Integer(1),
		"MediaBox": types.NewRectangle(0, 0, o.width, o.height).Array(),
	}
	page := types.Dict{"Type": types.Name("Page"), "Contents": contents}
	if o.inheritResources {
		pages["Resources"] = res
	} else {
		page["Resources"] = res
	}
	pagesRef, err := xt.IndRefForNewObject(pages)
	if err != nil {
		t.Fatal(err)
	}
	page["Parent"] = *pagesRef
	pageRef, err := xt.IndRefForNewObject(page)
	if err != nil {
		t.Fatal(err)
	}
	pages["Kids"] = types.Array{*pageRef}
	root.Insert("Pages", *pagesRef)
	xt.PageCount = 1
	var buf bytes.Buffer
	if err := api.WriteContext(pdfcpu.CreateContext(xt, newConf()), &buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestCustomTemplates(t *testing.T) {
	tests := []templateOpts{
		{},
		{inheritResources: true},
		{indirectFonts: true},
		{inheritResources: true, indirectFonts: true, contentsArray: true},
		// A template that leaves its graphics state changed: white fill
		// and a transformation, no q/Q. The receipt must not inherit it.
		{prefix: "1 g 2 0 0 2 0 0 cm\n"},
		{contentsArray: true, prefix: "q q 1 g\n"},
	}
	for _, o := range tests {
		t.Run(fmt.Sprintf("%+v", o), func(t *testing.T) {
			tpl := buildTemplate(t, o)
			s, err := New(tpl)
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			d := sample("en")
			pdf, err := s.Stamp(d)
			if err != nil {
				t.Fatalf("Stamp: %v", err)
			}
			got := extract(t, pdf)
			sl, err := s.Lines(d)
			if err != nil {
				t.Fatal(err)
			}
			want := append(normalize(sl), "TEMPLATE MARK")
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("extracted:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}

			// The page content is: q, the template's content, Q, ours.
			ctx, err := api.ReadContext(bytes.NewReader(pdf), newConf())
			if err != nil {
				t.Fatal(err)
			}
			if err := api.ValidateContext(ctx); err != nil {
				t.Fatalf("validate: %v", err)
			}
			pd, _, _, err := ctx.PageDict(1, false)
			if err != nil {
				t.Fatal(err)
			}
			c, err := ctx.PageContent(pd, 1)
			if err != nil {
				t.Fatal(err)
			}
			content := string(c)
			tplText := o.prefix + "BT /CC0 9 Tf"
			if !strings.HasPrefix(content, "q\n") || !strings.Contains(content, tplText) {
				t.Errorf("content does not start with q and the template's content:\n%.200s", content)
			}
			if i := strings.Index(content, "Q\nBT /CC"); i < strings.Index(content, "TEMPLATE MARK") {
				t.Errorf("receipt text not after the template's content and Q:\n%.400s", content)
			}
			if strings.Contains(content, "/CC0 10 Tf") {
				t.Error("receipt text uses the template's font name CC0")
			}
		})
	}
}

func TestNewRejectsTemplates(t *testing.T) {
	if err := setup(); err != nil {
		t.Fatal(err)
	}
	var rotated, twoPages bytes.Buffer
	if err := api.Rotate(bytes.NewReader(defaultTemplate), &rotated, 90, nil, newConf()); err != nil {
		t.Fatal(err)
	}
	if err := api.InsertPages(bytes.NewReader(defaultTemplate), &twoPages, nil, false, nil, newConf()); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		pdf  []byte
		want string
	}{
		{"empty", []byte{}, ""},
		{"not a PDF", []byte("hello, world"), ""},
		{"truncated", defaultTemplate[:len(defaultTemplate)/2], ""},
		{"letter size", buildTemplate(t, templateOpts{width: 612, height: 792}), "A4"},
		{"rotated", rotated.Bytes(), "rotated"},
		{"two pages", twoPages.Bytes(), "2 pages"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := New(tc.pdf)
			if err == nil {
				t.Fatalf("New succeeded (%v)", s)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("New: %v, want an error mentioning %q", err, tc.want)
			}
		})
	}
}
