package receipt

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"
)

// Errors of [Compare].
var (
	// ErrTextDiffers: the text printed on the receipt is not the text the
	// record gives; a *TextDiff says where.
	ErrTextDiffers = errors.New("printed text differs from the receipt made from the record")
	// ErrDiffers: the printed text is the same, but something else that a
	// reader may see is not (a font, the template, an annotation, an
	// attachment); the error names the place in the PDF's object tree.
	ErrDiffers = errors.New("PDF differs from the receipt made from the record")
)

// TextDiff describes the first difference between two receipts' printed
// text. Line is 1-based; Got or Want is "" where one text has fewer lines.
type TextDiff struct {
	Line      int
	Got, Want string
}

func (d *TextDiff) Error() string {
	switch {
	case d.Got == "":
		return fmt.Sprintf("%v: line %d %q is missing", ErrTextDiffers, d.Line, d.Want)
	case d.Want == "":
		return fmt.Sprintf("%v: line %d %q is extra", ErrTextDiffers, d.Line, d.Got)
	}
	return fmt.Sprintf("%v: line %d shows %q, the record gives %q", ErrTextDiffers, d.Line, d.Got, d.Want)
}
func (d *TextDiff) Unwrap() error { return ErrTextDiffers }

// Compare checks that the receipt got shows exactly what want, the
// receipt stamped again from the same record, shows. It returns nil if
// the files are equal byte for byte, or if their document structures are:
// the same pages, content (decoded), fonts, annotations, attachments and
// catalog, whatever the object numbers, object order, compression or
// cross-reference format (so a receipt re-saved by a PDF tool that keeps
// the content still verifies). The document information dictionary
// (title, producer, dates) is metadata and not compared.
//
// A difference in the printed text is a [*TextDiff] (wrapping
// [ErrTextDiffers]) naming the first differing line; any other difference
// wraps [ErrDiffers] and names its place ("Root/Pages/Kids[0]/…"). A PDF
// that cannot be read is another error.
//
// Why structure and not only text: the same glyph ids print other letters
// with a changed font program, a white box or an annotation can cover a
// line, and another attached file can be shown instead of record.json;
// comparing the whole document catches all of these.
func Compare(got, want []byte) error {
	if bytes.Equal(got, want) {
		return nil
	}
	if err := setup(); err != nil {
		return err
	}
	gctx, err := readForCompare(got)
	if err != nil {
		return fmt.Errorf("read receipt: %w", err)
	}
	wctx, err := readForCompare(want)
	if err != nil {
		return fmt.Errorf("read re-stamped receipt: %w", err)
	}
	gt, err := pageTexts(gctx)
	if err != nil {
		return fmt.Errorf("read receipt text: %w", err)
	}
	wt, err := pageTexts(wctx)
	if err != nil {
		return fmt.Errorf("read re-stamped receipt text: %w", err)
	}
	for i := 0; i < max(len(gt), len(wt)); i++ {
		var g, w string
		if i < len(gt) {
			g = gt[i]
		}
		if i < len(wt) {
			w = wt[i]
		}
		if g != w {
			return &TextDiff{Line: i + 1, Got: g, Want: w}
		}
	}
	groot, err := gctx.Catalog()
	if err != nil {
		return fmt.Errorf("read receipt: %w", err)
	}
	wroot, err := wctx.Catalog()
	if err != nil {
		return fmt.Errorf("read re-stamped receipt: %w", err)
	}
	c := &comparer{g: gctx, w: wctx, seen: map[[2]int]bool{}}
	if err := c.obj("Root", groot, wroot); err != nil {
		return fmt.Errorf("%w: %v", ErrDiffers, err)
	}
	return nil
}

func readForCompare(pdf []byte) (*model.Context, error) {
	conf := newConf()
	conf.Cmd = model.VALIDATE
	return api.ReadAndValidate(bytes.NewReader(pdf), conf)
}

// Text returns the lines of text a receipt shows, page by page, in the
// order they are drawn: each string shown by a text operator (Tj, TJ, ' or
// ") is one line. Text in the embedded Go fonts is decoded from its glyph
// ids; text in other fonts (a template's own labels) is read as
// Latin-1. It is meant for reports and tests, not as a general PDF text
// extractor: [Compare] uses it to name the first differing line.
func Text(pdf []byte) ([]string, error) {
	if err := setup(); err != nil {
		return nil, err
	}
	ctx, err := readForCompare(pdf)
	if err != nil {
		return nil, fmt.Errorf("receipt: read PDF: %w", err)
	}
	return pageTexts(ctx)
}

func pageTexts(ctx *model.Context) ([]string, error) {
	var out []string
	for p := 1; p <= ctx.PageCount; p++ {
		pd, _, attrs, err := ctx.PageDict(p, false)
		if err != nil {
			return nil, fmt.Errorf("page %d: %w", p, err)
		}
		content, err := ctx.PageContent(pd, p)
		if err != nil && !errors.Is(err, model.ErrNoContent) {
			return nil, fmt.Errorf("page %d: %w", p, err)
		}
		fonts := map[string]*metrics{}
		if attrs.Resources != nil {
			if fd, err := ctx.DereferenceDict(attrs.Resources["Font"]); err == nil {
				for key, o := range fd {
					d, err := ctx.DereferenceDict(o)
					if err != nil || d == nil {
						continue
					}
					if bf := d.NameEntry("BaseFont"); bf != nil {
						_, name, _ := strings.Cut(*bf, "+")
						switch name {
						case fontRegular:
							fonts[key] = regular
						case fontBold:
							fonts[key] = bold
						}
					}
				}
			}
		}
		out = append(out, contentText(content, fonts)...)
	}
	return out, nil
}

// contentText returns the strings shown in a content stream. fonts maps
// resource names of Go fonts to their metrics; other fonts are Latin-1.
func contentText(c []byte, fonts map[string]*metrics) []string {
	var out []string
	var operands [][]byte
	font := ""
	decode := func(s []byte) string {
		m := fonts[font]
		if m == nil {
			var b strings.Builder
			for _, c := range s {
				b.WriteRune(rune(c))
			}
			return b.String()
		}
		uni := glyphRunes(m)
		var b strings.Builder
		for i := 0; i+1 < len(s); i += 2 {
			g := uint16(s[i])<<8 | uint16(s[i+1])
			if r, ok := uni[g]; ok {
				b.WriteRune(r)
			} else {
				b.WriteRune(utf8.RuneError)
			}
		}
		return b.String()
	}
	for tok := range tokens(c) {
		switch {
		case tok.op == "":
			operands = append(operands, tok.raw)
			continue
		case tok.op == "Tf" && len(operands) >= 2 && bytes.HasPrefix(operands[len(operands)-2], []byte("/")):
			font = string(operands[len(operands)-2][1:])
		case tok.op == "Tj" || tok.op == "'" || tok.op == `"` || tok.op == "TJ":
			var sb strings.Builder
			for _, o := range operands {
				if s, ok := pdfString(o); ok {
					sb.WriteString(decode(s))
				}
			}
			out = append(out, sb.String())
		}
		operands = operands[:0]
	}
	return out
}

// glyphRunes returns the reverse of m's character map: each glyph id to
// the smallest code point mapped to it (as the ToUnicode map does).
func glyphRunes(m *metrics) map[uint16]rune {
	uni := map[uint16]rune{}
	for r, g := range m.chars {
		if old, ok := uni[g]; !ok || rune(r) < old {
			uni[g] = rune(r)
		}
	}
	return uni
}

// token is an operand (op == "", raw holds it; arrays are one operand) or
// an operator.
type token struct {
	op  string
	raw []byte
}

// tokens splits a content stream into operands and operators (PDF 32000
// 7.2, 7.8.2); comments are skipped, inline image data is not expected.
func tokens(c []byte) func(yield func(token) bool) {
	return func(yield func(token) bool) {
		i := 0
		for i < len(c) {
			ch := c[i]
			switch {
			case ch == ' ' || ch == '\n' || ch == '\r' || ch == '\t' || ch == '\f' || ch == 0:
				i++
			case ch == '%':
				for i < len(c) && c[i] != '\n' && c[i] != '\r' {
					i++
				}
			case ch == '(':
				j, depth := i+1, 1
				for j < len(c) && depth > 0 {
					switch c[j] {
					case '\\':
						j++
					case '(':
						depth++
					case ')':
						depth--
					}
					j++
				}
				if !yield(token{raw: c[i:min(j, len(c))]}) {
					return
				}
				i = j
			case ch == '<' && i+1 < len(c) && c[i+1] == '<':
				j, depth := i, 0
				for j+1 < len(c) {
					if c[j] == '<' && c[j+1] == '<' {
						depth++
						j += 2
						continue
					}
					if c[j] == '>' && c[j+1] == '>' {
						depth--
						j += 2
						if depth == 0 {
							break
						}
						continue
					}
					j++
				}
				if !yield(token{raw: c[i:j]}) {
					return
				}
				i = j
			case ch == '<':
				j := bytes.IndexByte(c[i:], '>')
				if j < 0 {
					j = len(c) - i - 1
				}
				if !yield(token{raw: c[i : i+j+1]}) {
					return
				}
				i += j + 1
			case ch == '[':
				j, depth := i, 0
				for j < len(c) {
					if c[j] == '(' { // skip strings, which may hold brackets
						k, d := j+1, 1
						for k < len(c) && d > 0 {
							switch c[k] {
							case '\\':
								k++
							case '(':
								d++
							case ')':
								d--
							}
							k++
						}
						j = k
						continue
					}
					if c[j] == '[' {
						depth++
					} else if c[j] == ']' {
						depth--
						if depth == 0 {
							j++
							break
						}
					}
					j++
				}
				if !yield(token{raw: c[i:min(j, len(c))]}) {
					return
				}
				i = j
			default:
				j := i + 1
				if ch != '/' && strings.IndexByte("()<>[]{}/%", ch) >= 0 {
					i++ // stray delimiter
					continue
				}
				for j < len(c) && !bytes.ContainsRune([]byte(" \n\r\t\f\x00()<>[]{}/%"), rune(c[j])) {
					j++
				}
				w := c[i:j]
				i = j
				if ch == '/' || ch == '-' || ch == '+' || ch == '.' || (ch >= '0' && ch <= '9') {
					if !yield(token{raw: w}) {
						return
					}
					continue
				}
				if !yield(token{op: string(w)}) {
					return
				}
			}
		}
	}
}

// pdfString returns the bytes of a string operand, or of all strings in
// an array operand (TJ).
func pdfString(o []byte) ([]byte, bool) {
	switch {
	case len(o) >= 2 && o[0] == '(':
		b, err := types.Unescape(string(o[1 : len(o)-1]))
		return b, err == nil
	case len(o) >= 2 && o[0] == '<':
		h := bytes.Map(func(r rune) rune {
			if strings.ContainsRune("0123456789abcdefABCDEF", r) {
				return r
			}
			return -1
		}, o[1:len(o)-1])
		if len(h)%2 == 1 {
			h = append(h, '0') // PDF 32000 7.3.4.3: a missing last digit is 0
		}
		out := make([]byte, len(h)/2)
		_, err := hex.Decode(out, h)
		return out, err == nil
	case len(o) >= 2 && o[0] == '[':
		var out []byte
		found := false
		for t := range tokens(o[1 : len(o)-1]) {
			if s, ok := pdfString(t.raw); ok && t.op == "" {
				out = append(out, s...)
				found = true
			}
		}
		return out, found
	}
	return nil, false
}

// comparer compares two documents' object graphs.
type comparer struct {
	g, w *model.Context
	seen map[[2]int]bool // pairs of indirect objects already compared
}

// ignoredKeys are entries that depend on how a file is written, not on
// what it shows.
var ignoredKeys = map[string]bool{"Length": true, "Filter": true, "DecodeParms": true}

func (c *comparer) obj(path string, g, w types.Object) error {
	gr, gIsRef := g.(types.IndirectRef)
	wr, wIsRef := w.(types.IndirectRef)
	if gIsRef && wIsRef {
		key := [2]int{gr.ObjectNumber.Value(), wr.ObjectNumber.Value()}
		if c.seen[key] {
			return nil
		}
		c.seen[key] = true
	}
	var err error
	if gIsRef {
		if g, err = c.g.Dereference(gr); err != nil {
			return fmt.Errorf("%s: %v", path, err)
		}
	}
	if wIsRef {
		if w, err = c.w.Dereference(wr); err != nil {
			return fmt.Errorf("%s: %v", path, err)
		}
	}
	switch wv := w.(type) {
	case nil:
		if g != nil {
			return fmt.Errorf("%s: unexpected %s", path, short(g))
		}
	case types.Dict:
		gv, ok := g.(types.Dict)
		if !ok {
			return fmt.Errorf("%s: %s, want a dictionary", path, short(g))
		}
		return c.dict(path, gv, wv)
	case types.StreamDict:
		gv, ok := g.(types.StreamDict)
		if !ok {
			return fmt.Errorf("%s: %s, want a stream", path, short(g))
		}
		if err := c.dict(path, gv.Dict, wv.Dict); err != nil {
			return err
		}
		if err := gv.Decode(); err != nil {
			return fmt.Errorf("%s: decode stream: %v", path, err)
		}
		if err := wv.Decode(); err != nil {
			return fmt.Errorf("%s: decode stream: %v", path, err)
		}
		if !bytes.Equal(gv.Content, wv.Content) {
			return fmt.Errorf("%s: stream content differs", path)
		}
	case types.Array:
		gv, ok := g.(types.Array)
		if !ok {
			return fmt.Errorf("%s: %s, want an array", path, short(g))
		}
		if len(gv) != len(wv) {
			return fmt.Errorf("%s: %d elements, want %d", path, len(gv), len(wv))
		}
		for i := range wv {
			if err := c.obj(fmt.Sprintf("%s[%d]", path, i), gv[i], wv[i]); err != nil {
				return err
			}
		}
	case types.Integer, types.Float:
		gn, ok1 := number(g)
		wn, _ := number(w)
		if !ok1 || math.Abs(gn-wn) > 1e-6 {
			return fmt.Errorf("%s: %s, want %s", path, short(g), short(w))
		}
	case types.StringLiteral, types.HexLiteral:
		gs, ok1 := stringBytes(g)
		ws, ok2 := stringBytes(w)
		if !ok1 || !ok2 || !bytes.Equal(gs, ws) {
			return fmt.Errorf("%s: %s, want %s", path, short(g), short(w))
		}
	default:
		if g == nil || g.PDFString() != w.PDFString() {
			return fmt.Errorf("%s: %s, want %s", path, short(g), short(w))
		}
	}
	return nil
}

func (c *comparer) dict(path string, g, w types.Dict) error {
	keys := func(d types.Dict) []string {
		var kk []string
		for k := range d {
			if !ignoredKeys[k] {
				kk = append(kk, k)
			}
		}
		slices.Sort(kk)
		return kk
	}
	gk, wk := keys(g), keys(w)
	for _, k := range wk {
		if _, ok := g[k]; !ok {
			return fmt.Errorf("%s: no /%s", path, k)
		}
	}
	for _, k := range gk {
		if _, ok := w[k]; !ok {
			return fmt.Errorf("%s: unexpected /%s", path, k)
		}
	}
	for _, k := range wk {
		if k == "Parent" { // a back reference, compared from above
			continue
		}
		if err := c.obj(path+"/"+k, g[k], w[k]); err != nil {
			return err
		}
	}
	return nil
}

func number(o types.Object) (float64, bool) {
	switch v := o.(type) {
	case types.Integer:
		return float64(v.Value()), true
	case types.Float:
		return v.Value(), true
	}
	return 0, false
}

func stringBytes(o types.Object) ([]byte, bool) {
	switch v := o.(type) {
	case types.StringLiteral:
		b, err := types.Unescape(v.Value())
		return b, err == nil
	case types.HexLiteral:
		b, err := v.Bytes()
		return b, err == nil
	}
	return nil, false
}

// short describes an object for an error message, at most 60 bytes.
func short(o types.Object) string {
	if o == nil {
		return "nothing"
	}
	s := o.PDFString()
	if len(s) > 60 {
		s = s[:57] + "..."
	}
	return s
}
