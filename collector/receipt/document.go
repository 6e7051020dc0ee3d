package receipt

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"
	"golang.org/x/text/unicode/norm"
)

// Documents of several pages.
//
// A receipt is one page. An answer to an access request (GDPR Art. 15:
// what is held, every event, the texts agreed to) runs to several; it is
// printed by [PrintDocument] with the same machinery: layout 3's fonts
// (the Go fonts, Noto Sans and Noto Sans Hebrew for what they lack), the
// built-in template's page (template3.pdf) on every page, lines wrapped
// by the receipt's rules, text as glyph ids that nothing interprets, and
// the same canonical, reproducible file.

// BlockKind is what a [Block] of a [Document] is.
type BlockKind int

// The kinds of block.
const (
	// Heading starts a section (bold, with space above); a heading is
	// never the last line of a page.
	Heading BlockKind = iota
	// Paragraph is body text.
	Paragraph
	// Field is "Label: Text", continuation lines indented.
	Field
	// Item is a bullet point.
	Item
	// Note is small grey text.
	Note
	// Subheading is a bold line of body size.
	Subheading
)

// Block is one piece of a [Document]'s text.
type Block struct {
	Kind        BlockKind
	Label, Text string
}

// Document is a text of one or more A4 pages.
type Document struct {
	// Lang is the document's language (the catalog's /Lang), Title its
	// first line (large) and its Info title, Author the controller.
	Lang, Title, Author string
	// Time dates the file (Info dates); the same Document and Time give
	// the same bytes.
	Time time.Time
	// Footer is printed at the foot of every page with the page number:
	// PageLabel with "{page}" and "{pages}" replaced (e.g. "Seite {page}
	// von {pages}").
	Footer, PageLabel string
	Blocks            []Block
}

// MaxDocumentPages bounds a [Document]; [PrintDocument] refuses a longer
// one with [ErrInvalid].
const MaxDocumentPages = 200

// docText returns s made printable in a document in font f: Unicode
// normal form C, control and invisible formatting characters dropped (a
// tab or line break becomes a space) and each character that no embedded
// font has replaced by "?". A document quotes texts and records as they
// are, so, unlike a receipt's fields, it never refuses one.
func docText(f *metrics, s string) string {
	s = norm.NFC.String(strings.ToValidUTF8(s, "?"))
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\t' || r == '\n' || r == '\r' || unicode.In(r, unicode.Zl, unicode.Zp):
			b.WriteRune(' ')
		case unicode.In(r, unicode.Cc, unicode.Cf, unicode.Co):
		case !f.covers(r):
			b.WriteRune('?')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// docStyle returns the style of a kind of block.
func docStyle(k BlockKind) style {
	switch k {
	case Heading:
		return style3Heading
	case Subheading:
		return style3Strong
	case Note:
		return style3Note
	}
	return style3Body
}

// paginate lays d's blocks out on pages; each page's lines are in the
// coordinates of composer (origin lower left of the visible page).
func paginate(d Document) ([][]line, error) {
	var pages [][]line
	c := &composer{scale: 1, y: topY}
	newPage := func() {
		pages = append(pages, c.lines)
		c.lines, c.y, c.full = nil, topY, false
	}
	// put sets the lines of one block, breaking the page between lines;
	// keep is how many lines must follow on the same page (a heading's).
	put := func(st style, s string, indent float64, keep int) {
		f, size := *st.font, st.size
		if f == bold3 {
			// Bold has no fallback font: a value it lacks prints regular.
			for _, r := range s {
				if !f.coversOwn(r) {
					f = regular3
					break
				}
			}
		}
		s = docText(f, s)
		parts := wrap(f, size, s, textWidth, textWidth-indent)
		if c.y-float64(len(parts)-1+keep)*size*st.leading < bottomY && len(c.lines) > 0 && len(parts)+keep <= 4 {
			newPage() // a short block and what it keeps with it: all on the next page
		}
		for i, t := range parts {
			if c.y < bottomY {
				newPage()
			}
			x := marginX
			if i > 0 {
				x += indent
			}
			c.lines = append(c.lines, line{font: f, size: size, gray: st.gray, x: x, y: c.y, text: t})
			c.y -= size * st.leading
		}
	}
	put(style3Title, d.Title, 0, 1)
	for _, b := range d.Blocks {
		if len(pages) >= MaxDocumentPages {
			return nil, fmt.Errorf("%w: document longer than %d pages", ErrInvalid, MaxDocumentPages)
		}
		st := docStyle(b.Kind)
		switch b.Kind {
		case Heading:
			c.y -= 8
			put(st, b.Text, 0, 2)
		case Subheading:
			c.y -= 4
			put(st, b.Text, 0, 1)
		case Field:
			if b.Text == "" {
				continue
			}
			prefix := docText(regular3, b.Label) + ": "
			indent := regular3.width(prefix, st.size)
			if indent > hangingMax*textWidth {
				indent = indentStep
			}
			put(st, prefix+b.Text, indent, 0)
		case Item:
			bullet := "• "
			put(st, bullet+b.Text, regular3.width(bullet, st.size), 0)
		default:
			put(st, b.Text, 0, 0)
		}
	}
	if len(c.lines) > 0 || len(pages) == 0 {
		pages = append(pages, c.lines)
	}
	if len(pages) > MaxDocumentPages {
		return nil, fmt.Errorf("%w: document longer than %d pages", ErrInvalid, MaxDocumentPages)
	}
	return pages, nil
}

// DocumentLines returns the text of every line of d as [PrintDocument]
// prints it, page by page (footers last on each page).
func DocumentLines(d Document) ([][]string, error) {
	pages, err := layoutDocument(d)
	if err != nil {
		return nil, err
	}
	out := make([][]string, len(pages))
	for i, pg := range pages {
		for _, l := range pg {
			out[i] = append(out[i], l.text)
		}
	}
	return out, nil
}

// layoutDocument is paginate with each page's footer.
func layoutDocument(d Document) ([][]line, error) {
	if err := setup(); err != nil {
		return nil, err
	}
	pages, err := paginate(d)
	if err != nil {
		return nil, err
	}
	for i := range pages {
		num := strings.NewReplacer("{page}", strconv.Itoa(i+1), "{pages}", strconv.Itoa(len(pages))).Replace(d.PageLabel)
		s := docText(regular3, d.Footer)
		if num != "" {
			if s != "" {
				s += " · "
			}
			s += docText(regular3, num)
		}
		if s == "" {
			continue
		}
		size := 8.0
		for size > 4 && regular3.width(s, size) > textWidth {
			size -= 0.5
		}
		pages[i] = append(pages[i], line{font: regular3, size: size, gray: 0.45, x: marginX, y: footerY, text: s})
	}
	return pages, nil
}

// PrintDocument prints d as a PDF of A4 pages, each on the built-in
// template's page: the same bytes for the same d. Errors wrap
// [ErrInvalid] for a document of more than [MaxDocumentPages] pages.
func PrintDocument(d Document) ([]byte, error) {
	pages, err := layoutDocument(d)
	if err != nil {
		return nil, err
	}
	tpl, err := plainTemplate()
	if err != nil {
		return nil, err
	}
	conf := newConf()
	conf.Optimize = false
	ctx, err := api.ReadValidateAndOptimize(bytes.NewReader(tpl.pdf), conf)
	if err != nil {
		return nil, fmt.Errorf("read template: %w", err)
	}
	xt := ctx.XRefTable
	first, _, _, err := ctx.PageDict(1, false)
	if err != nil {
		return nil, fmt.Errorf("template page: %w", err)
	}
	// The template page's drawing and fonts, for every page (taken before
	// page 1 gets its text).
	firstRes, hasRes := first.Find("Resources")
	firstCont, hasCont := first.Find("Contents")
	dim := &types.Dim{Width: pageWidth, Height: pageHeight}
	for range len(pages) - 1 {
		if err := xt.InsertBlankPages(types.IntSet{1: true}, dim, false); err != nil {
			return nil, fmt.Errorf("add page: %w", err)
		}
	}
	ctx.PageCount = 0 // counted again from the page tree
	if err := ctx.EnsurePageCount(); err != nil {
		return nil, fmt.Errorf("count pages: %w", err)
	}
	if ctx.PageCount != len(pages) {
		return nil, fmt.Errorf("document has %d pages, want %d", ctx.PageCount, len(pages))
	}
	for i, doc := range pages {
		pg := i + 1
		page, _, attrs, err := ctx.PageDict(pg, false)
		if err != nil {
			return nil, fmt.Errorf("page %d: %w", pg, err)
		}
		if pg > 1 { // the template's drawing and fonts, shared with page 1
			if hasRes {
				page.Update("Resources", firstRes.Clone())
			}
			if hasCont {
				page.Update("Contents", firstCont.Clone())
			}
			if page, _, attrs, err = ctx.PageDict(pg, false); err != nil {
				return nil, fmt.Errorf("page %d: %w", pg, err)
			}
		}
		box, err := visibleBox(attrs, pg)
		if err != nil {
			return nil, fmt.Errorf("template: %w", err)
		}
		keys := tpl.keys[1]
		fk, err := embedFallback(ctx, page, attrs, doc)
		if err != nil {
			return nil, err
		}
		if fk != nil {
			merged := map[string]string{}
			for k, v := range keys {
				merged[k] = v
			}
			for k, v := range fk {
				merged[k] = v
			}
			keys = merged
		}
		content, err := contentStream(doc, keys, box.LL)
		if err != nil {
			return nil, err
		}
		if err := wrapContents(ctx, page, content); err != nil {
			return nil, err
		}
	}
	root, err := xt.Catalog()
	if err != nil {
		return nil, fmt.Errorf("catalog: %w", err)
	}
	root.Update("Lang", types.StringLiteral(d.Lang))
	loc, err := berlin()
	if err != nil {
		return nil, err
	}
	info, err := newInfo(map[string]string{"Title": docText(regular3, d.Title), "Author": docText(regular3, d.Author), "Creator": "chatconsent"}, d.Time.In(loc))
	if err != nil {
		return nil, err
	}
	if ctx.Info == nil {
		if ctx.Info, err = ctx.IndRefForNewObject(info.Clone()); err != nil {
			return nil, fmt.Errorf("info dictionary: %w", err)
		}
	}
	infoNr := ctx.Info.ObjectNumber.Value()
	ctx.EnsureVersionForWriting()
	var buf bytes.Buffer
	if err := api.WriteContext(ctx, &buf); err != nil {
		return nil, fmt.Errorf("write PDF: %w", err)
	}
	out, err := canonical(buf.Bytes(), ctx.Write.Table, infoNr, info)
	if err != nil {
		return nil, fmt.Errorf("canonicalise PDF: %w", err)
	}
	return out, nil
}
