package receipt

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
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
// receipt stamped again from the same record, shows, and carries the same
// attachments. It is [CompareWith] without extra attachments.
func Compare(got, want []byte) error { return CompareWith(got, want, nil) }

// CompareWith checks that the receipt got shows what want shows and
// carries want's attachments, whatever the object numbers, object order,
// compression, cross-reference format or linearisation: so a receipt
// re-saved by a PDF tool still verifies. What a reader sees is compared
// (see visible.go): each page's drawing operators in order, with the text
// decoded and positions within half a point, the resources they use by
// content, the page boxes and annotations. The document information
// (title, producer, dates) and the attachments' descriptions (the record's
// names the layout, read by [LayoutOf]) are not compared.
//
// Each attachment of want must be in got with the same bytes. An
// attachment only got has (an erasure opening, an inclusion proof) is
// accepted only if extra(name) is true: the caller checks its content.
//
// A difference in the printed text is a [*TextDiff] (wrapping
// [ErrTextDiffers]) naming the first differing line; any other difference
// wraps [ErrDiffers] and says where. A PDF that cannot be read is another
// error.
func CompareWith(got, want []byte, extra func(name string) bool) error {
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
	gv, err := viewOf(gctx)
	if err != nil {
		return fmt.Errorf("read receipt: %w", err)
	}
	wv, err := viewOf(wctx)
	if err != nil {
		return fmt.Errorf("read re-stamped receipt: %w", err)
	}
	if err := compareViews(gv, wv); err != nil {
		return err
	}
	ga, _, err := attachments(gctx)
	if err != nil {
		return fmt.Errorf("read receipt: %w", err)
	}
	wa, _, err := attachments(wctx)
	if err != nil {
		return fmt.Errorf("read re-stamped receipt: %w", err)
	}
	for _, name := range slices.Sorted(maps.Keys(wa)) {
		b, ok := ga[name]
		switch {
		case !ok:
			return fmt.Errorf("%w: attachment %q is missing", ErrDiffers, name)
		case !bytes.Equal(b, wa[name]):
			return fmt.Errorf("%w: attachment %q is another file than the record's", ErrDiffers, name)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(ga)) {
		if _, ok := wa[name]; !ok && (extra == nil || !extra(name)) {
			return fmt.Errorf("%w: unexpected attachment %q", ErrDiffers, name)
		}
	}
	return nil
}

// openPDF reads a receipt for its attachments, links or layout: an error
// wrapping [ErrNotPDF] if pdf is not a PDF at all, else one saying it is
// damaged.
func openPDF(pdf []byte) (*model.Context, error) {
	if !bytes.HasPrefix(pdf, []byte("%PDF-")) {
		return nil, fmt.Errorf("%w: it does not start with %%PDF-", ErrNotPDF)
	}
	if err := setup(); err != nil {
		return nil, err
	}
	ctx, err := readForCompare(pdf)
	if err != nil {
		return nil, fmt.Errorf("receipt: damaged or cut-off PDF: %w", err)
	}
	return ctx, nil
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
		var fd types.Dict
		if attrs.Resources != nil {
			fd, _ = ctx.DereferenceDict(attrs.Resources["Font"])
		}
		out = append(out, contentText(content, fontsOf(ctx, fd))...)
	}
	return out, nil
}

// contentText returns the text of a content stream, one string per text
// object (BT … ET; a receipt line). fonts maps
// resource names of the receipt fonts to their metrics; other fonts are
// Latin-1.
func contentText(c []byte, fonts map[string]*metrics) []string {
	var out []string
	var operands [][]byte
	font := ""
	// The strings shown between BT and ET are one line: a line of layout
	// 3 switches to the fallback font and back within it.
	inText := false
	var cur *strings.Builder
	decode := func(s []byte) string {
		m := fonts[font]
		if m == nil {
			var b strings.Builder
			for _, c := range s {
				b.WriteRune(rune(c))
			}
			return b.String()
		}
		var b strings.Builder
		for i := 0; i+1 < len(s); i += 2 {
			g := uint16(s[i])<<8 | uint16(s[i+1])
			if t, ok := m.glyphText(g); ok {
				b.WriteString(t)
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
		case tok.op == "BT":
			inText, cur = true, nil
		case tok.op == "ET":
			if cur != nil {
				out = append(out, cur.String())
			}
			inText, cur = false, nil
		case tok.op == "Tj" || tok.op == "'" || tok.op == `"` || tok.op == "TJ":
			if cur != nil && (tok.op == "'" || tok.op == `"`) { // a new line
				out = append(out, cur.String())
				cur = nil
			}
			if cur == nil {
				cur = &strings.Builder{}
			}
			for _, o := range operands {
				if s, ok := pdfString(o); ok {
					cur.WriteString(decode(s))
				}
			}
			if !inText {
				out = append(out, cur.String())
				cur = nil
			}
		}
		operands = operands[:0]
	}
	return out
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

// fontsOf maps the resource names of a page's font dictionary fd (nil:
// none) to the metrics of the fonts this package embeds, by BaseFont
// (without a subset tag "ABCDEF+"); other fonts are left out.
func fontsOf(ctx *model.Context, fd types.Dict) map[string]*metrics {
	fonts := map[string]*metrics{}
	for key, o := range fd {
		d, err := ctx.DereferenceDict(o)
		if err != nil || d == nil {
			continue
		}
		if bf := d.NameEntry("BaseFont"); bf != nil {
			_, name, _ := strings.Cut(*bf, "+")
			if f := fontNamed(name); f != nil {
				fonts[key] = f
			}
		}
	}
	return fonts
}
