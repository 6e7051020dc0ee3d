package generator

import (
	"bytes"
	"fmt"
	"strings"
	"unicode"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/renderer/html"
)

// germanQuotes are the typographic quotes of German text („…“ and ‚…‘).
var germanQuotes = extension.TypographicSubstitutions{
	extension.LeftDoubleQuote:  []byte("&bdquo;"),
	extension.RightDoubleQuote: []byte("&ldquo;"),
	extension.LeftSingleQuote:  []byte("&sbquo;"),
	extension.RightSingleQuote: []byte("&lsquo;"),
}

// converters holds one goldmark converter per language (German gets
// German quotes); goldmark converters are safe for concurrent use.
type converters struct {
	unsafe    bool
	de, other goldmark.Markdown
}

func newConverters(unsafe bool) *converters {
	return &converters{unsafe: unsafe, de: markdown("de", unsafe), other: markdown("", unsafe)}
}

// markdown returns a goldmark converter for lang. Raw HTML stays off
// (goldmark's default) unless unsafe: then the owner's Markdown may
// contain any HTML, scripts included (config site.unsafe_html).
func markdown(lang string, unsafe bool) goldmark.Markdown {
	typo := extension.NewTypographer()
	if lang == "de" {
		typo = extension.NewTypographer(extension.WithTypographicSubstitutions(germanQuotes))
	}
	var ropts []goldmark.Option
	if unsafe {
		ropts = append(ropts, goldmark.WithRendererOptions(html.WithUnsafe()))
	}
	return goldmark.New(append(ropts,
		goldmark.WithExtensions(extension.GFM, extension.Footnote, typo),
		goldmark.WithParserOptions(parser.WithAutoHeadingID(), parser.WithAttribute()),
	)...)
}

// convert renders Markdown src to HTML with stable, readable heading ids
// ("Ihre Rechte gegenüber uns" → "ihre-rechte-gegenueber-uns").
func (c *converters) convert(lang string, src []byte) ([]byte, error) {
	md := c.other
	if lang == "de" {
		md = c.de
	}
	var out bytes.Buffer
	ctx := parser.NewContext(parser.WithIDs(newHeadingIDs()))
	if err := md.Convert(src, &out, parser.WithContext(ctx)); err != nil {
		return nil, err
	}
	return scrollableTables(out.Bytes()), nil
}

// scrollableTables wraps every table in a region that scrolls sideways on
// a narrow screen and can take the keyboard focus, so that a keyboard user
// can scroll it too (WCAG 2.1.1; axe rule scrollable-region-focusable). The
// region is named by the heading above the table. Raw HTML is off, so every
// <table> comes from a Markdown table.
func scrollableTables(html []byte) []byte {
	open, end := []byte("<table>"), []byte("</table>")
	n := bytes.Count(html, open)
	if n == 0 && !bytes.Contains(html, end) {
		return html // most pages: no copy
	}
	out := make([]byte, 0, len(html)+n*96)
	last := 0
	for {
		i := bytes.Index(html[last:], open)
		if i < 0 {
			break
		}
		i += last
		out = append(out, html[last:i]...)
		out = append(out, `<div class="table" role="region" tabindex="0"`...)
		if id := headingIDBefore(html, i); id != nil {
			out = append(out, ` aria-labelledby="`...)
			out = append(out, id...)
			out = append(out, '"')
		}
		out = append(out, '>')
		out = append(out, open...)
		last = i + len(open)
	}
	out = append(out, html[last:]...)
	return bytes.ReplaceAll(out, end, []byte("</table></div>"))
}

// headingIDBefore returns the id of the last heading (<hN id="…">, as
// goldmark renders it) that starts before html[end], or nil.
func headingIDBefore(html []byte, end int) []byte {
	marker := []byte(` id="`)
	for pos := end; ; {
		k := bytes.LastIndex(html[:pos], marker)
		if k < 0 {
			return nil
		}
		if k >= 3 && html[k-3] == '<' && html[k-2] == 'h' && html[k-1] >= '1' && html[k-1] <= '6' {
			v := html[k+len(marker):]
			if q := bytes.IndexByte(v, '"'); q > 0 && k+len(marker)+q < end {
				return v[:q]
			}
		}
		pos = k
	}
}

// convert renders with raw HTML off; for tests.
func convert(lang string, src []byte) ([]byte, error) {
	return newConverters(false).convert(lang, src)
}

// headingIDs implements parser.IDs with German transliteration, because
// goldmark's default drops every non-ASCII letter.
type headingIDs struct{ seen map[string]bool }

func newHeadingIDs() *headingIDs { return &headingIDs{seen: map[string]bool{}} }

var translit = strings.NewReplacer("ä", "ae", "ö", "oe", "ü", "ue", "ß", "ss", "Ä", "ae", "Ö", "oe", "Ü", "ue", "ẞ", "ss")

func (h *headingIDs) Generate(value []byte, kind ast.NodeKind) []byte {
	s := translit.Replace(strings.TrimSpace(string(value)))
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		switch {
		case r < 128 && (unicode.IsLetter(r) || unicode.IsDigit(r)):
			b.WriteRune(r)
			dash = false
		case r == ' ' || r == '-' || r == '_' || r == '.' || r == '/':
			if !dash && b.Len() > 0 {
				b.WriteByte('-')
				dash = true
			}
		}
	}
	id := strings.TrimSuffix(b.String(), "-")
	if id == "" {
		id = "section"
	}
	base := id
	for i := 1; h.seen[id]; i++ {
		id = fmt.Sprintf("%s-%d", base, i)
	}
	h.seen[id] = true
	return []byte(id)
}

func (h *headingIDs) Put(value []byte) { h.seen[string(value)] = true }

var _ parser.IDs = (*headingIDs)(nil)
