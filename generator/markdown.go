package generator

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/renderer/html"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
)

// germanQuotes are the typographic quotes of German text („…“ and ‚…‘).
// An apostrophe stays ’ (see [germanApostrophes]).
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

// metaFootnotePrefix is the document meta key of the page's footnote id
// prefix (see [mdInput.footnotePrefix]).
const metaFootnotePrefix = "chatconsent-footnote-prefix"

// markdown returns a goldmark converter for lang. Raw HTML stays off
// (goldmark's default) unless unsafe: then the owner's Markdown may
// contain any HTML, scripts included (config site.unsafe_html). Without
// unsafe, convert lets harmless inline markup through a sanitizer and
// refuses the rest (see [rawHTMLPolicy]). Heading ids are made by convert,
// not by goldmark (see [headingIDs]).
func markdown(lang string, unsafe bool) goldmark.Markdown {
	exts := []goldmark.Extender{
		extension.GFM,
		extension.NewFootnote(extension.WithFootnoteIDPrefixFunction(func(n ast.Node) []byte {
			if d := n.OwnerDocument(); d != nil {
				if p, ok := d.Meta()[metaFootnotePrefix].(string); ok {
					return []byte(p)
				}
			}
			return nil
		})),
		cjkEmphasis{},
	}
	if lang == "de" {
		exts = append(exts, germanTypographer{})
	} else {
		exts = append(exts, extension.NewTypographer())
	}
	var ropts []goldmark.Option
	if unsafe {
		ropts = append(ropts, goldmark.WithRendererOptions(html.WithUnsafe()))
	}
	return goldmark.New(append(ropts,
		goldmark.WithExtensions(exts...),
		goldmark.WithParserOptions(parser.WithAttribute()),
	)...)
}

// mdInput is what convert needs to know of the page besides its Markdown.
type mdInput struct {
	// file names the content file in errors.
	file string
	// line is the file's line number of the source's first line.
	line int
	// body and bodyLine are the page's Markdown before its placeholders
	// were filled in and the file's line number of its first line (body is
	// nil without placeholders): a placeholder may add lines, so errors
	// find their line in body.
	body     []byte
	bodyLine int
	// reserved are element ids the theme's layouts use (the form's
	// fields): headings never get them.
	reserved []string
	// footnotePrefix starts every footnote id of the page ("datenschutz-"
	// gives datenschutz-fn:1), so that footnotes of several pages joined in
	// one archived document keep apart.
	footnotePrefix string
}

// ErrMarkdown is matched (errors.Is) by the errors of a page's Markdown:
// raw HTML that would be dropped, a heading id given twice or taken by
// the theme. Their text starts with file:line:column.
var ErrMarkdown = errors.New("refused Markdown")

type markdownError struct{ msg string }

func (e *markdownError) Error() string        { return e.msg }
func (e *markdownError) Is(target error) bool { return target == ErrMarkdown }

func mdErrorf(format string, args ...any) error {
	return &markdownError{fmt.Sprintf(format, args...)}
}

// convert renders Markdown src to HTML with stable, readable heading ids
// ("Ihre Rechte gegenüber uns" → "ihre-rechte-gegenueber-uns"), unique in
// the page and apart from the ids in.reserved. Errors name
// in.file:line:column.
func (c *converters) convert(lang string, src []byte, in mdInput) ([]byte, error) {
	md := c.other
	if lang == "de" {
		md = c.de
	}
	if in.line < 1 {
		in.line = 1
	}
	doc := md.Parser().Parse(text.NewReader(src))
	doc.OwnerDocument().AddMeta(metaFootnotePrefix, in.footnotePrefix)
	pos := positions{src: src, in: in}
	if err := setHeadingIDs(doc, src, in.reserved, pos); err != nil {
		return nil, err
	}
	if !c.unsafe {
		if err := sanitizeRawHTML(doc, src, pos); err != nil {
			return nil, err
		}
	}
	var out bytes.Buffer
	if err := md.Renderer().Render(&out, src, doc); err != nil {
		return nil, err
	}
	return scrollableTables(out.Bytes()), nil
}

// positions turns byte offsets of a page's source into file:line:column.
type positions struct {
	src []byte
	in  mdInput
}

func (p positions) at(off int) string {
	off = min(max(off, 0), len(p.src))
	before := p.src[:off]
	col := utf8.RuneCount(before[bytes.LastIndexByte(before, '\n')+1:]) + 1
	return fmt.Sprintf("%s:%d:%d", p.in.file, p.line(off), col)
}

// line is the file's line of src[off]: with placeholders, the line of
// the body with the same text nearest to where it is after filling them
// in.
func (p positions) line(off int) int {
	off = min(max(off, 0), len(p.src))
	line := p.in.line + bytes.Count(p.src[:off], []byte("\n"))
	if p.in.body == nil {
		return line
	}
	start := bytes.LastIndexByte(p.src[:off], '\n') + 1
	end := bytes.IndexByte(p.src[off:], '\n')
	if end < 0 {
		end = len(p.src)
	} else {
		end += off
	}
	text := p.src[start:end]
	best, dist := 0, -1
	for i, l := range bytes.Split(p.in.body, []byte("\n")) {
		if bytes.Equal(l, text) {
			n := p.in.bodyLine + i
			if d := max(n-line, line-n); dist < 0 || d < dist {
				best, dist = n, d
			}
		}
	}
	if dist < 0 {
		return line
	}
	return best
}

// setHeadingIDs gives every heading an id: explicit ones ({#id}) first,
// each at most once and none of the reserved ones, then generated ones
// that avoid all of them.
func setHeadingIDs(doc ast.Node, src []byte, reserved []string, pos positions) error {
	var headings []*ast.Heading
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if h, ok := n.(*ast.Heading); ok && entering {
			headings = append(headings, h)
		}
		return ast.WalkContinue, nil
	})
	ids := newHeadingIDs(reserved)
	explicit := map[string]int{} // id → offset of its heading
	for _, h := range headings {
		v, ok := h.AttributeString("id")
		if !ok {
			continue
		}
		id := fmt.Sprint(v)
		if b, ok := v.([]byte); ok {
			id = string(b)
		}
		off := headingOffset(h)
		if prev, dup := explicit[id]; dup {
			return mdErrorf("%s: heading id {#%s} is also given at line %d: ids must be unique in a page, choose another", pos.at(off), id, pos.line(prev))
		}
		if slices.Contains(reserved, id) {
			return mdErrorf("%s: heading id {#%s} is the id of an element of the page's layout (a field of the form): choose another", pos.at(off), id)
		}
		explicit[id] = off
		ids.Put([]byte(id))
	}
	for _, h := range headings {
		if _, ok := h.AttributeString("id"); ok {
			continue
		}
		var line []byte
		if n := h.Lines().Len(); n > 0 {
			seg := h.Lines().At(n - 1)
			line = seg.Value(src)
		}
		h.SetAttributeString("id", ids.Generate(line, ast.KindHeading))
	}
	return nil
}

func headingOffset(h *ast.Heading) int {
	if h.Lines().Len() > 0 {
		return h.Lines().At(0).Start
	}
	return 0
}

// scrollableTables wraps every table in a region that scrolls sideways on
// a narrow screen and can take the keyboard focus, so that a keyboard user
// can scroll it too (WCAG 2.1.1; axe rule scrollable-region-focusable). The
// region is named by the heading above the table. The sanitizer lets no
// <table> through, so every <table> comes from a Markdown table (or from
// raw HTML under site.unsafe_html, which gets the same).
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

// convert renders with raw HTML off and nothing reserved; for tests.
func convert(lang string, src []byte) ([]byte, error) {
	return newConverters(false).convert(lang, src, mdInput{file: "test.md", line: 1})
}

// headingIDs makes heading ids from heading text: letters and digits of
// any script are kept (lower-cased), German umlauts and ß transliterated
// (ä → ae), spaces and - _ . / become one '-', everything else goes. An id
// already taken (reserved, explicit or made before) gets -1, -2, ….
type headingIDs struct{ seen map[string]bool }

func newHeadingIDs(reserved []string) *headingIDs {
	h := &headingIDs{seen: map[string]bool{}}
	for _, id := range reserved {
		h.seen[id] = true
	}
	return h
}

var translit = strings.NewReplacer("ä", "ae", "ö", "oe", "ü", "ue", "ß", "ss", "Ä", "ae", "Ö", "oe", "Ü", "ue", "ẞ", "ss")

// Generate implements parser.IDs.
func (h *headingIDs) Generate(value []byte, kind ast.NodeKind) []byte {
	s := translit.Replace(strings.TrimSpace(string(value)))
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.In(r, unicode.Mn, unicode.Mc):
			// Marks belong to their letter (Devanagari, Thai vowel signs).
			if b.Len() == 0 && !unicode.IsLetter(r) && !unicode.IsDigit(r) {
				continue
			}
			b.WriteRune(r)
			dash = false
		case r == ' ' || r == '-' || r == '_' || r == '.' || r == '/' || r == '\u3000':
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

// Put implements parser.IDs.
func (h *headingIDs) Put(value []byte) { h.seen[string(value)] = true }

var _ parser.IDs = (*headingIDs)(nil)

// cjkEmphasis replaces goldmark's emphasis parser with one that also
// opens and closes emphasis next to CJK punctuation, as in
// "**「重要」**です" or "**注意。**次", where CommonMark's flanking rules
// leave the asterisks literal (CJK text has no spaces around them). The
// rule is that of the markdown-cjk-friendly proposal: a CJK character on
// the other side of the run counts like whitespace or punctuation.
type cjkEmphasis struct{}

func (cjkEmphasis) Extend(m goldmark.Markdown) {
	m.Parser().AddOptions(parser.WithInlineParsers(util.Prioritized(cjkEmphasisParser{}, 499)))
}

type cjkEmphasisParser struct{}

func (cjkEmphasisParser) Trigger() []byte { return []byte{'*', '_'} }

func (cjkEmphasisParser) Parse(parent ast.Node, block text.Reader, pc parser.Context) ast.Node {
	before := block.PrecendingCharacter()
	line, segment := block.PeekLine()
	c := line[0]
	j := 0
	for j < len(line) && line[j] == c {
		j++
	}
	after := ' '
	if j < len(line) {
		after = util.ToRune(line, j)
	}
	bp, bs, bc := util.IsPunctRune(before), util.IsSpaceRune(before), isCJK(before)
	ap, as, ac := util.IsPunctRune(after), util.IsSpaceRune(after), isCJK(after)
	isLeft := !as && (!ap || bs || bp || bc)
	isRight := !bs && (!bp || as || ap || ac)
	var canOpen, canClose bool
	if c == '_' {
		canOpen = isLeft && (!isRight || bp)
		canClose = isRight && (!isLeft || ap)
	} else {
		canOpen, canClose = isLeft, isRight
	}
	d := parser.NewDelimiter(canOpen, canClose, j, c, emphasisDelimiters{})
	d.Segment = segment.WithStop(segment.Start + j)
	block.Advance(j)
	pc.PushDelimiter(d)
	return d
}

// emphasisDelimiters is goldmark's emphasis delimiter processor (not
// exported there).
type emphasisDelimiters struct{}

func (emphasisDelimiters) IsDelimiter(b byte) bool { return b == '*' || b == '_' }
func (emphasisDelimiters) CanOpenCloser(opener, closer *parser.Delimiter) bool {
	return opener.Char == closer.Char
}
func (emphasisDelimiters) OnMatch(consumes int) ast.Node { return ast.NewEmphasis(consumes) }

// isCJK reports whether r is a Chinese, Japanese or Korean character or
// CJK punctuation (including full-width forms).
func isCJK(r rune) bool {
	return unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul, unicode.Bopomofo) ||
		(r >= 0x3000 && r <= 0x303F) || // CJK symbols and punctuation
		(r >= 0xFF00 && r <= 0xFFEF) || // half- and full-width forms
		(r >= 0x30A0 && r <= 0x30FF) || (r >= 0x31F0 && r <= 0x31FF) ||
		(r >= 0xFE30 && r <= 0xFE4F) // CJK compatibility forms
}

// germanTypographer is goldmark's typographer with German quotes, except
// that ‘ (the German closing single quote) is printed only where it closes
// an open ‚. Everywhere else goldmark's right single quote is an
// apostrophe and printed ’: "Max' Laden", "'s Wirtshaus", "die 90'er".
type germanTypographer struct{}

func (germanTypographer) Extend(m goldmark.Markdown) {
	m.Parser().AddOptions(parser.WithInlineParsers(util.Prioritized(&germanApostrophes{
		inner: extension.NewTypographerParser(extension.WithTypographicSubstitutions(germanQuotes)),
	}, 9999)))
}

type germanApostrophes struct{ inner parser.InlineParser }

var openSingleQuotes = parser.NewContextKey()

func (g *germanApostrophes) Trigger() []byte { return g.inner.Trigger() }

func (g *germanApostrophes) Parse(parent ast.Node, block text.Reader, pc parser.Context) ast.Node {
	n := g.inner.Parse(parent, block, pc)
	s, ok := n.(*ast.String)
	if !ok {
		return n
	}
	open, _ := pc.Get(openSingleQuotes).(int)
	switch string(s.Value) {
	case "&sbquo;":
		pc.Set(openSingleQuotes, open+1)
	case "&lsquo;":
		if open > 0 {
			pc.Set(openSingleQuotes, open-1)
		} else {
			s.Value = []byte("&rsquo;")
		}
	}
	return n
}

func (g *germanApostrophes) CloseBlock(parent ast.Node, pc parser.Context) {
	pc.Set(openSingleQuotes, 0)
	if c, ok := g.inner.(interface {
		CloseBlock(ast.Node, parser.Context)
	}); ok {
		c.CloseBlock(parent, pc)
	}
}

// idAttrRe finds id attributes and same-page references in rendered
// Markdown: goldmark escapes '"' in text, so ` id="` only starts an
// attribute.
var (
	idAttrRe  = regexp.MustCompile(` id="([^"]+)"`)
	idRefRe   = regexp.MustCompile(` (href="#|aria-labelledby=")([^"]+)"`)
	anyIDAttr = regexp.MustCompile(`\sid="([^"]*)"`)
)

// uniqueIDs renames the ids in content that used already has (to
// prefix+id, then prefix+id-2, …), together with the links and labels in
// content that point at them, and adds content's ids to used. It makes one
// document of several pages without two equal ids.
func uniqueIDs(content, prefix string, used map[string]bool) string {
	rename := map[string]string{}
	for _, m := range idAttrRe.FindAllStringSubmatch(content, -1) {
		id := m[1]
		if _, done := rename[id]; done {
			continue
		}
		if !used[id] {
			used[id] = true
			rename[id] = id
			continue
		}
		n := prefix + id
		for i := 2; used[n]; i++ {
			n = fmt.Sprintf("%s%s-%d", prefix, id, i)
		}
		used[n] = true
		rename[id] = n
	}
	changed := false
	for k, v := range rename {
		if k != v {
			changed = true
		}
	}
	if !changed {
		return content
	}
	content = idAttrRe.ReplaceAllStringFunc(content, func(s string) string {
		id := s[len(` id="`) : len(s)-1]
		return ` id="` + rename[id] + `"`
	})
	return idRefRe.ReplaceAllStringFunc(content, func(s string) string {
		m := idRefRe.FindStringSubmatch(s)
		if n, ok := rename[m[2]]; ok {
			return " " + m[1] + n + `"`
		}
		return s
	})
}

// checkUniqueIDs fails when a rendered page has an element id twice (a
// layout override that writes an id the content also has).
func checkUniqueIDs(page []byte) error {
	seen := map[string]bool{}
	for _, m := range anyIDAttr.FindAllSubmatch(page, -1) {
		id := string(m[1])
		if seen[id] {
			return mdErrorf("the page has two elements with id %q: give the heading another id with {#…}", id)
		}
		seen[id] = true
	}
	return nil
}
