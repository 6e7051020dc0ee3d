package receipt

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/pdfcpu/pdfcpu/pkg/api"
	pdffont "github.com/pdfcpu/pdfcpu/pkg/pdfcpu/font"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"
)

// pageGeometry checks that the page is A4 portrait without rotation and
// returns the lower-left corner of its visible area, the origin of the
// layout.
func pageGeometry(attrs *model.InheritedPageAttrs) (types.Point, error) {
	box := attrs.MediaBox
	if attrs.CropBox != nil {
		box = attrs.CropBox
	}
	if box == nil {
		return types.Point{}, errors.New("page 1 has no MediaBox")
	}
	if attrs.Rotate%360 != 0 {
		return types.Point{}, fmt.Errorf("page 1 is rotated by %d°, want 0", attrs.Rotate)
	}
	if math.Abs(box.Width()-pageWidth) > 1 || math.Abs(box.Height()-pageHeight) > 1 {
		return types.Point{}, fmt.Errorf("page 1 is %.2f × %.2f pt, want A4 portrait (%.2f × %.2f pt)",
			box.Width(), box.Height(), pageWidth, pageHeight)
	}
	return box.LL, nil
}

// prepared is a template made ready for stamping.
type prepared struct {
	pdf []byte
	// keys are the resource names of the fonts, by page and font name.
	keys map[int]map[string]string
	// slots are the places of single values (form and positioned
	// templates); nil for the full receipt on one page.
	slots []slot
}

// prepareTemplate reads, validates and optimises template, checks its
// pages, decides how values are placed (the full receipt on an A4 page,
// an AcroForm's fields, which it flattens, or placements), embeds the
// fonts into it and returns it as pdfcpu writes it.
//
// The fonts are embedded here, once per Stamper, with every glyph that has
// a Unicode mapping (the whole WGL4 set), not as a subset per receipt.
// Subsetting took about 5 of 7 ms per receipt (for each font pdfcpu decodes
// its stored copy of the font from disk, rebuilds and deflates the subset,
// its widths, its ToUnicode map and its CIDSet); the whole fonts add about
// 135 KB to each receipt (170 KB instead of 37 KB). Each Stamp copies the
// font streams as they are.
//
// fonts are the fonts to embed: regular and bold, or layout 3's.
func prepareTemplate(template []byte, placements []Placement, fonts []*metrics) (*prepared, error) {
	conf := newConf()
	conf.Cmd = model.VALIDATE
	ctx, err := api.ReadValidateAndOptimize(bytes.NewReader(template), conf)
	if err != nil {
		return nil, fmt.Errorf("%w: read template: %v", ErrTemplate, err)
	}
	xt := ctx.XRefTable
	p := &prepared{keys: map[int]map[string]string{}}
	switch {
	case len(placements) > 0:
		if p.slots, err = positionedSlots(ctx, placements); err != nil {
			return nil, err
		}
	default:
		if p.slots, err = formSlots(ctx); err != nil {
			return nil, err
		}
	}
	pages := []int{1}
	if p.slots != nil {
		pages = nil
		for _, sl := range p.slots {
			if !slices.Contains(pages, sl.page) {
				pages = append(pages, sl.page)
			}
		}
		slices.Sort(pages)
	} else {
		if ctx.PageCount != 1 {
			return nil, fmt.Errorf("%w: template has %d pages, want 1 (or form fields, or placements)", ErrTemplate, ctx.PageCount)
		}
		_, _, attrs, err := ctx.PageDict(1, false)
		if err != nil {
			return nil, fmt.Errorf("template page: %w", err)
		}
		if _, err := pageGeometry(attrs); err != nil {
			return nil, fmt.Errorf("%w: template: %v", ErrTemplate, err)
		}
	}
	for _, pg := range pages {
		_, _, attrs, err := ctx.PageDict(pg, false)
		if err != nil {
			return nil, fmt.Errorf("template page %d: %w", pg, err)
		}
		if p.keys[pg], err = fontKeys(ctx, attrs, fonts); err != nil {
			return nil, err
		}
	}
	refs, byTTF := map[string]types.IndirectRef{}, map[string]types.IndirectRef{}
	for _, f := range fonts {
		used := map[uint16]bool{}
		for _, g := range f.chars {
			used[g] = true
		}
		tag := subsetTag(f.name, used)
		// EnsureFontDict builds the font program, widths, ToUnicode map
		// and CIDSet from the glyphs recorded as used, then forgets them.
		xt.UsedGIDs[f.ttf] = used
		ref, err := pdffont.EnsureFontDict(xt, f.ttf, "", "", false, nil)
		if err != nil {
			return nil, fmt.Errorf("embed font %s: %w", f.name, err)
		}
		// pdfcpu names a subset with a random six-letter tag; a fixed
		// one keeps the output reproducible.
		if err := setSubsetTag(xt, *ref, f.name, tag); err != nil {
			return nil, err
		}
		if err := setToUnicode(xt, *ref, f); err != nil {
			return nil, err
		}
		refs[f.name], byTTF[f.ttf] = *ref, *ref
	}
	// A no-op while EnsureFontDict has consumed the glyph record, as in
	// pdfcpu v0.15.0; it completes the fonts should a later version not.
	if err := pdffont.UpdateUserfonts(xt, byTTF); err != nil {
		return nil, fmt.Errorf("embed fonts: %w", err)
	}
	for _, pg := range pages {
		page, _, attrs, err := ctx.PageDict(pg, false)
		if err != nil {
			return nil, fmt.Errorf("template page %d: %w", pg, err)
		}
		if err := addFontResources(ctx, page, attrs, p.keys[pg], refs); err != nil {
			return nil, err
		}
	}
	var buf bytes.Buffer
	if err := api.WriteContext(ctx, &buf); err != nil {
		return nil, fmt.Errorf("write template: %w", err)
	}
	p.pdf = buf.Bytes()
	return p, nil
}

// layout returns the lines to print on each page for d.
func (s *Stamper) layout(l *layoutDef, d Data) (map[int][]line, error) {
	if s.slots == nil {
		doc, err := layoutData(l, d, l.plain && s.builtin)
		if err != nil {
			return nil, err
		}
		return map[int][]line{1: doc}, nil
	}
	if err := setup(); err != nil {
		return nil, err
	}
	v, err := prepare(l, d)
	if err != nil {
		return nil, err
	}
	return placeSlots(l, v, s.slots)
}

// render prints the lines of each page onto a fresh copy of the prepared
// template, attaches the record and writes the PDF in canonical form.
func (s *Stamper) render(layout string, l *layoutDef, d Data, doc map[int][]line) ([]byte, error) {
	conf := newConf()
	// No optimisation: it would drop the fonts from the page's resources,
	// as the template's own content does not use them.
	conf.Optimize = false
	tpl, keys := s.template, s.keys
	if l.plain && s.plain != nil {
		tpl, keys = s.plain.pdf, s.plain.keys
	}
	ctx, err := api.ReadValidateAndOptimize(bytes.NewReader(tpl), conf)
	if err != nil {
		return nil, fmt.Errorf("read template: %w", err)
	}
	xt := ctx.XRefTable
	pages := make([]int, 0, len(doc))
	for pg := range doc {
		pages = append(pages, pg)
	}
	slices.Sort(pages)
	for _, pg := range pages {
		page, _, attrs, err := ctx.PageDict(pg, false)
		if err != nil {
			return nil, fmt.Errorf("template page %d: %w", pg, err)
		}
		box, err := visibleBox(attrs, pg)
		if err != nil {
			return nil, fmt.Errorf("template: %w", err)
		}
		pageKeys := keys[pg]
		if l.plain {
			fk, err := embedFallback(ctx, page, attrs, doc[pg])
			if err != nil {
				return nil, err
			}
			if fk != nil {
				pageKeys = maps.Clone(pageKeys)
				maps.Copy(pageKeys, fk)
			}
		}
		content, err := contentStream(doc[pg], pageKeys, box.LL)
		if err != nil {
			return nil, err
		}
		if err := wrapContents(ctx, page, content); err != nil {
			return nil, err
		}
		if err := addLinks(ctx, page, doc[pg], box.LL); err != nil {
			return nil, err
		}
	}

	if err := attach(ctx, AttachmentName, layoutDesc(layout), d.Record, d.Time); err != nil {
		return nil, fmt.Errorf("attach %s: %w", AttachmentName, err)
	}
	if len(d.Openings) > 0 {
		ob, err := json.Marshal(d.Openings)
		if err != nil {
			return nil, fmt.Errorf("attach %s: %w", OpeningsName, err)
		}
		if err := attach(ctx, OpeningsName, "openings of the record's personal fields", ob, d.Time); err != nil {
			return nil, fmt.Errorf("attach %s: %w", OpeningsName, err)
		}
	}
	for _, f := range d.Extra {
		if err := attach(ctx, f.Name, f.Desc, f.Data, d.Time); err != nil {
			return nil, fmt.Errorf("attach %s: %w", f.Name, err)
		}
	}

	root, err := xt.Catalog()
	if err != nil {
		return nil, fmt.Errorf("catalog: %w", err)
	}
	root.Update("Lang", types.StringLiteral(d.Lang))

	info, err := infoDict(l, d)
	if err != nil {
		return nil, err
	}
	// pdfcpu overwrites Producer, CreationDate and ModDate of the Info
	// dictionary with its own name and the current time when it writes;
	// canonical() puts this dictionary back in its place afterwards.
	if ctx.Info == nil {
		if ctx.Info, err = ctx.IndRefForNewObject(info.Clone()); err != nil {
			return nil, fmt.Errorf("info dictionary: %w", err)
		}
	}
	infoNr := ctx.Info.ObjectNumber.Value()
	ctx.EnsureVersionForWriting()

	var buf bytes.Buffer
	buf.Grow(len(tpl) + 128<<10) // the template, the text's fonts, the attachments
	if err := api.WriteContext(ctx, &buf); err != nil {
		return nil, fmt.Errorf("write PDF: %w", err)
	}
	out, err := canonical(buf.Bytes(), ctx.Write.Table, infoNr, info)
	if err != nil {
		return nil, fmt.Errorf("canonicalise PDF: %w", err)
	}
	return out, nil
}

// pageFonts returns the page's font resources as a dictionary of its own
// (inherited or indirect ones are copied, so nothing shared is changed).
func pageFonts(ctx *model.Context, attrs *model.InheritedPageAttrs) (res, fonts types.Dict, err error) {
	res = types.NewDict()
	if attrs.Resources != nil {
		res = attrs.Resources.Clone().(types.Dict)
	}
	fonts = types.NewDict()
	if o, found := res.Find("Font"); found {
		fd, err := ctx.DereferenceDict(o)
		if err != nil {
			return nil, nil, fmt.Errorf("template page font resources: %w", err)
		}
		if fd != nil {
			fonts = fd.Clone().(types.Dict)
		}
	}
	return res, fonts, nil
}

// fontKeys returns a resource name for each font that the template's page
// does not use yet.
func fontKeys(ctx *model.Context, attrs *model.InheritedPageAttrs, fonts []*metrics) (map[string]string, error) {
	_, have, err := pageFonts(ctx, attrs)
	if err != nil {
		return nil, err
	}
	keys := map[string]string{}
	for i, f := range fonts {
		key := have.NewIDForPrefix("CC", i)
		have[key] = nil // reserve the name
		keys[f.name] = key
	}
	return keys, nil
}

// addFontResources adds the fonts under their keys to the page's font
// resources.
func addFontResources(ctx *model.Context, page types.Dict, attrs *model.InheritedPageAttrs, keys map[string]string, refs map[string]types.IndirectRef) error {
	res, fonts, err := pageFonts(ctx, attrs)
	if err != nil {
		return err
	}
	for name, key := range keys {
		fonts.Insert(key, refs[name])
	}
	res.Update("Font", fonts)
	page.Update("Resources", res)
	return nil
}

// contentStream returns the page content that prints doc: one BT … ET per
// line, the text as a hex string of glyph ids (Identity-H encoding of the
// embedded fonts). Nothing in the text is interpreted: it is not a format
// string and has no escapes.
func contentStream(doc []line, keys map[string]string, origin types.Point) ([]byte, error) {
	var b bytes.Buffer
	b.Grow(8 << 10)
	b.WriteString("Q\n") // ends the template's graphics state, see wrapContents
	for _, l := range doc {
		if l.qr != nil {
			q, err := qrContent(l, [2]float64{origin.X, origin.Y})
			if err != nil {
				return nil, err
			}
			b.WriteString(q)
			continue
		}
		fmt.Fprintf(&b, "BT /%s %s Tf %s g %s %s Td ", keys[l.font.name], num(l.size), num(l.gray), num(origin.X+l.x), num(origin.Y+l.y))
		rr := []run{{l.font, l.text}}
		if l.font.fallback != nil {
			rr = runs(l.font, visual(l.text))
		}
		if len(rr) == 0 {
			rr = []run{{l.font, ""}}
		}
		for i, rn := range rr {
			if rn.font == nil { // labels included; data was checked already
				r, _ := utf8.DecodeRuneInString(rn.text)
				return nil, fmt.Errorf("%w: %U %q in %q", ErrUncovered, r, r, l.text)
			}
			if i > 0 || rn.font != l.font { // the fallback font and back, within the line
				fmt.Fprintf(&b, "/%s %s Tf ", keys[rn.font.name], num(l.size))
			}
			if rn.font.shaper != nil {
				shownShaped(&b, rn.font, shapedRun(rn.font, rn.text))
				continue
			}
			b.WriteByte('<')
			for _, r := range rn.text {
				g, ok := rn.font.chars[uint32(r)]
				if !ok {
					return nil, fmt.Errorf("%w: %U %q in %q", ErrUncovered, r, r, l.text)
				}
				writeGlyph(&b, g)
			}
			b.WriteString("> Tj ")
		}
		b.WriteString("ET\n")
	}
	return b.Bytes(), nil
}

// writeGlyph writes glyph id g as four hex digits ("%04X").
func writeGlyph(b *bytes.Buffer, g uint16) {
	const hex = "0123456789ABCDEF"
	b.Write([]byte{hex[g>>12], hex[g>>8&15], hex[g>>4&15], hex[g&15]})
}

// shownShaped writes shaped glyphs as a TJ array: their ids, and where
// the shaped advance differs from the glyph's width (kerning) the
// difference in thousandths of an em (PDF 32000 9.4.3).
func shownShaped(b *bytes.Buffer, f *metrics, gs []glyph) {
	b.WriteString("[<")
	for _, g := range gs {
		writeGlyph(b, g.id)
		w := 0
		if int(g.id) < len(f.widths) {
			w = f.widths[g.id]
		}
		if d := w - g.adv; d != 0 {
			fmt.Fprintf(b, "> %d <", d)
		}
	}
	b.WriteString(">] TJ ")
}

// addLinks adds a link annotation (PDF 32000 12.5.6.5) over each line of
// doc that has a uri: the rectangle from linkFrom to the end of the text,
// from 0.25 em below the baseline to 0.95 em above it, without a border.
func addLinks(ctx *model.Context, page types.Dict, doc []line, origin types.Point) error {
	var annots types.Array
	for _, l := range doc {
		if l.uri == "" || l.qr != nil {
			continue
		}
		uri, err := types.Escape(l.uri)
		if err != nil {
			return fmt.Errorf("link %q: %w", l.uri, err)
		}
		x0 := origin.X + l.x + l.linkFrom
		x1 := origin.X + l.x + l.font.width(l.text, l.size)
		y := origin.Y + l.y
		annot := types.Dict{
			"Type":    types.Name("Annot"),
			"Subtype": types.Name("Link"),
			"Rect":    types.Array{types.Float(round3(x0)), types.Float(round3(y - 0.25*l.size)), types.Float(round3(x1)), types.Float(round3(y + 0.95*l.size))},
			"Border":  types.Array{types.Integer(0), types.Integer(0), types.Integer(0)},
			"A":       types.Dict{"S": types.Name("URI"), "URI": types.StringLiteral(*uri)},
		}
		ref, err := ctx.IndRefForNewObject(annot)
		if err != nil {
			return fmt.Errorf("link annotation: %w", err)
		}
		annots = append(annots, *ref)
	}
	if len(annots) == 0 {
		return nil
	}
	if old, ok := page.Find("Annots"); ok {
		arr, err := ctx.DereferenceArray(old)
		if err != nil {
			return fmt.Errorf("template page annotations: %w", err)
		}
		annots = append(slices.Clone(arr), annots...)
	}
	page.Update("Annots", annots)
	return nil
}

func round3(f float64) float64 { return math.Round(f*1000) / 1000 }

// num formats a number for a content stream: at most 3 decimals, no
// trailing zeros.
func num(f float64) string {
	return strconv.FormatFloat(math.Round(f*1000)/1000, 'f', -1, 64)
}

// appendNum appends num(f) to b.
func appendNum(b []byte, f float64) []byte {
	return strconv.AppendFloat(b, math.Round(f*1000)/1000, 'f', -1, 64)
}

// wrapContents makes the page's content "q", the template's content, then
// content (which starts with "Q"), so a graphics state the template leaves
// behind (colour, transformation, clipping) cannot reach the receipt text.
func wrapContents(ctx *model.Context, page types.Dict, content []byte) error {
	var old types.Array
	switch o := page["Contents"].(type) {
	case nil:
	case types.IndirectRef:
		obj, err := ctx.Dereference(o)
		if err != nil {
			return fmt.Errorf("template page contents: %w", err)
		}
		switch obj := obj.(type) {
		case types.StreamDict:
			old = types.Array{o}
		case types.Array:
			old = slices.Clone(obj)
		case nil:
		default:
			return fmt.Errorf("template page contents: unexpected %T", obj)
		}
	case types.Array:
		old = slices.Clone(o)
	case types.StreamDict:
		ref, err := ctx.IndRefForNewObject(o)
		if err != nil {
			return fmt.Errorf("template page contents: %w", err)
		}
		old = types.Array{*ref}
	default:
		return fmt.Errorf("template page contents: unexpected %T", o)
	}
	begin, err := newStream(ctx, []byte("q\n"))
	if err != nil {
		return err
	}
	end, err := newStream(ctx, content)
	if err != nil {
		return err
	}
	a := append(types.Array{*begin}, old...)
	page.Update("Contents", append(a, *end))
	return nil
}

// newStream adds b as an uncompressed stream. The content streams are a
// few kilobytes; deflating them would cost a compressor (about 1 MB of
// allocations and a third of the time of a receipt) for 2 KB of file size.
func newStream(ctx *model.Context, b []byte) (*types.IndirectRef, error) {
	sd := types.StreamDict{Dict: types.NewDict(), Content: b}
	if err := sd.Encode(); err != nil { // no filter: sets Raw and Length
		return nil, fmt.Errorf("content stream: %w", err)
	}
	ref, err := ctx.IndRefForNewObject(sd)
	if err != nil {
		return nil, fmt.Errorf("content stream: %w", err)
	}
	return ref, nil
}

// subsetTag returns the six capital letters that name a font subset,
// derived from the font name and the glyphs used (PDF 32000 9.6.4 asks only
// that different subsets get different tags).
func subsetTag(name string, used map[uint16]bool) string {
	gids := make([]int, 0, len(used))
	for g := range used {
		gids = append(gids, int(g))
	}
	slices.Sort(gids)
	h := sha256.New()
	h.Write([]byte(name))
	for _, g := range gids {
		h.Write([]byte{byte(g >> 8), byte(g)})
	}
	sum := h.Sum(nil)
	tag := make([]byte, 6)
	for i := range tag {
		tag[i] = 'A' + sum[i]%26
	}
	return string(tag)
}

// setSubsetTag renames the font subset behind ref to tag+name.
func setSubsetTag(xt *model.XRefTable, ref types.IndirectRef, name, tag string) error {
	base := types.Name(tag + "+" + name)
	fd, err := xt.DereferenceDict(ref)
	if err != nil || fd == nil {
		return fmt.Errorf("font %s: dictionary: %v", name, err)
	}
	fd.Update("BaseFont", base)
	desc := fd.ArrayEntry("DescendantFonts")
	if len(desc) != 1 {
		return fmt.Errorf("font %s: want one descendant font, have %d", name, len(desc))
	}
	cid, err := xt.DereferenceDict(desc[0])
	if err != nil || cid == nil {
		return fmt.Errorf("font %s: descendant font: %v", name, err)
	}
	cid.Update("BaseFont", base)
	des, err := xt.DereferenceDict(cid["FontDescriptor"])
	if err != nil || des == nil {
		return fmt.Errorf("font %s: font descriptor: %v", name, err)
	}
	des.Update("FontName", base)
	return nil
}

// infoDict returns the document information dictionary for d (PDF 32000
// 14.3.3). Dates are d.Time, never the time of stamping.
func infoDict(l *layoutDef, d Data) (types.Dict, error) {
	lb := labelsFor(l, d)
	loc, err := berlin()
	if err != nil {
		return nil, err
	}
	return newInfo(map[string]string{
		"Title":   lb.title + " " + d.RecordID,
		"Subject": lb.subjectLine,
		"Author":  d.Controller.Name,
		"Creator": "chatconsent",
	}, d.Time.In(loc))
}

// newInfo returns a document information dictionary (PDF 32000 14.3.3)
// with the text entries fields (each as a PDF text string), Producer
// "chatconsent", and at as CreationDate and ModDate.
func newInfo(fields map[string]string, at time.Time) (types.Dict, error) {
	date := types.DateString(at)
	info := types.NewDict()
	for k, v := range fields {
		s, err := pdfText(v)
		if err != nil {
			return nil, fmt.Errorf("info %s: %w", k, err)
		}
		info.Insert(k, types.StringLiteral(s))
	}
	info.Insert("Producer", types.StringLiteral("chatconsent"))
	info.Insert("CreationDate", types.StringLiteral(date))
	info.Insert("ModDate", types.StringLiteral(date))
	return info, nil
}

// pdfText encodes s as the escaped content of a PDF text string: ASCII as
// is, anything else as UTF-16BE with byte order mark.
func pdfText(s string) (string, error) {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			ascii = false
			break
		}
	}
	var (
		e   *string
		err error
	)
	if ascii {
		e, err = types.Escape(s)
	} else {
		e, err = types.EscapedUTF16String(s)
	}
	if err != nil {
		return "", err
	}
	return *e, nil
}

// setToUnicode replaces the ToUnicode CMap of the Type0 font behind ref by
// one that maps every glyph of f. pdfcpu v0.15.0 writes only the first 100
// glyphs of a subset into it (font.bf stops after one bfchar block), so
// text extraction and copy-and-paste would lose every later glyph: "ä",
// "ß", all Greek and Cyrillic letters.
func setToUnicode(xt *model.XRefTable, ref types.IndirectRef, f *metrics) error {
	fd, err := xt.DereferenceDict(ref)
	if err != nil || fd == nil {
		return fmt.Errorf("font %s: dictionary: %v", f.name, err)
	}
	tu := fd.IndirectRefEntry("ToUnicode")
	if tu == nil {
		return fmt.Errorf("font %s: no ToUnicode stream", f.name)
	}
	entry, ok := xt.FindTableEntryForIndRef(tu)
	if !ok || entry == nil {
		return fmt.Errorf("font %s: ToUnicode stream %v missing", f.name, *tu)
	}
	sd, ok := entry.Object.(types.StreamDict)
	if !ok {
		return fmt.Errorf("font %s: ToUnicode is %T, want a stream", f.name, entry.Object)
	}
	sd.Content = toUnicodeCMap(f.chars)
	sd.Delete("Length1") // pdfcpu sets it; it belongs to font programs only
	if err := sd.Encode(); err != nil {
		return fmt.Errorf("font %s: ToUnicode: %w", f.name, err)
	}
	entry.Object = sd
	return nil
}

// toUnicodeTexts is toUnicodeCMap for a shaped font: each glyph to the
// text it was shaped from (two letters for a lam-alef ligature); glyphs
// with no text of their own are left out.
func toUnicodeTexts(texts map[uint16]string) []byte {
	gids := make([]int, 0, len(texts))
	for g, t := range texts {
		if t != "" {
			gids = append(gids, int(g))
		}
	}
	slices.Sort(gids)
	var b bytes.Buffer
	b.WriteString(cmapHead)
	for len(gids) > 0 {
		n := min(len(gids), 100) // at most 100 entries per block
		fmt.Fprintf(&b, "%d beginbfchar\n", n)
		for _, g := range gids[:n] {
			fmt.Fprintf(&b, "<%04X> <", g)
			for _, u := range utf16.Encode([]rune(texts[uint16(g)])) {
				fmt.Fprintf(&b, "%04X", u)
			}
			b.WriteString(">\n")
		}
		b.WriteString("endbfchar\n")
		gids = gids[n:]
	}
	b.WriteString(cmapTail)
	return b.Bytes()
}

// The start and the end of a ToUnicode CMap.
const (
	cmapHead = "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n" +
		"/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n" +
		"/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n" +
		"1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n"
	cmapTail = "endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n"
)

// toUnicodeCMap returns a ToUnicode CMap (PDF 32000 9.10.3) for 2-byte
// glyph ids, mapping each glyph to the smallest code point that chars maps
// to it.
func toUnicodeCMap(chars map[uint32]uint16) []byte {
	uni := map[uint16]rune{}
	for r, g := range chars {
		if old, ok := uni[g]; !ok || rune(r) < old {
			uni[g] = rune(r)
		}
	}
	gids := make([]int, 0, len(uni))
	for g := range uni {
		gids = append(gids, int(g))
	}
	slices.Sort(gids)

	var b bytes.Buffer
	b.WriteString("/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n" +
		"/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n" +
		"/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n" +
		"1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n")
	for len(gids) > 0 {
		n := min(len(gids), 100) // at most 100 entries per block
		fmt.Fprintf(&b, "%d beginbfchar\n", n)
		for _, g := range gids[:n] {
			fmt.Fprintf(&b, "<%04X> <", g)
			for _, u := range utf16.Encode([]rune{uni[uint16(g)]}) {
				fmt.Fprintf(&b, "%04X", u)
			}
			b.WriteString(">\n")
		}
		b.WriteString("endbfchar\n")
		gids = gids[n:]
	}
	b.WriteString("endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n")
	return b.Bytes()
}
