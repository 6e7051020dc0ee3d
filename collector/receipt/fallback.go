package receipt

import (
	_ "embed"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/image/font/sfnt"
	"golang.org/x/image/math/fixed"
	"golang.org/x/text/unicode/bidi"

	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"
)

// The fallback font of layout 3: Noto Sans Regular (SIL Open Font
// License, fonts/LICENSE-OFL.txt), embedded in the binary so that a
// receipt made with it verifies on any machine, whatever fonts it has and
// whatever a system upgrade changes. Characters the Go fonts lack (the
// Vietnamese letters, Latin Extended Additional, …) print in it; each
// receipt that needs it embeds a subset of exactly the glyphs it shows
// (subsetTTF: the glyf and loca tables cut, the rest copied), which takes
// a fraction of a millisecond, where pdfcpu's own subsetting measured
// 160 ms a receipt.
//
//go:embed fonts/NotoSans-Regular.ttf
var notoTTF []byte

// notoHebrewTTF is Noto Sans Hebrew Regular (OFL, the same source), the
// fallback of the fallback: Hebrew names, right to left (see visual).
//
//go:embed fonts/NotoSansHebrew-Regular.ttf
var notoHebrewTTF []byte

// fontFallback and fontHebrew are their PostScript names.
const (
	fontFallback = "NotoSans-Regular"
	fontHebrew   = "NotoSansHebrew-Regular"
)

// fallback and hebrew are the metrics of notoTTF and notoHebrewTTF
// (fallback.fallback is hebrew); read-only after setup.
var fallback, hebrew *metrics

// loadFallback reads the character map and advance widths of the TrueType
// font ttf called name.
func loadFallback(ttf []byte, name string) (*metrics, error) {
	f, err := sfnt.Parse(ttf)
	if err != nil {
		return nil, fmt.Errorf("receipt: fallback font: %w", err)
	}
	var buf sfnt.Buffer
	upem := float64(f.UnitsPerEm())
	m := &metrics{name: name, ttf: name, chars: map[uint32]uint16{}, uni: map[uint16]rune{}, program: ttf}
	m.widths = make([]int, f.NumGlyphs())
	var b sfnt.Buffer
	bounds, err := f.Bounds(&b, fixed.Int26_6(f.UnitsPerEm())<<6, 0)
	if err != nil {
		return nil, fmt.Errorf("receipt: fallback font: %w", err)
	}
	fm, err := f.Metrics(&b, fixed.Int26_6(f.UnitsPerEm())<<6, 0)
	if err != nil {
		return nil, fmt.Errorf("receipt: fallback font: %w", err)
	}
	// In glyph space (1000 units per em); sfnt's y axis points down.
	unit := func(v fixed.Int26_6) int { return int(float64(v)/64*1000/upem + 0.5*sign(v)) }
	m.bbox = [4]int{unit(bounds.Min.X), -unit(bounds.Max.Y), unit(bounds.Max.X), -unit(bounds.Min.Y)}
	m.ascent, m.descent, m.capHeight = unit(fm.Ascent), -unit(fm.Descent), unit(fm.CapHeight)
	for g := range m.widths {
		adv, err := f.GlyphAdvance(&buf, sfnt.GlyphIndex(g), fixed.Int26_6(f.UnitsPerEm())<<6, 0)
		if err != nil {
			return nil, fmt.Errorf("receipt: fallback font: glyph %d: %w", g, err)
		}
		m.widths[g] = int(float64(adv)/64*1000/upem + 0.5)
	}
	for r := rune(0x20); r <= 0xFFFF; r++ {
		g, err := f.GlyphIndex(&buf, r)
		if err != nil || g == 0 {
			continue
		}
		m.chars[uint32(r)] = uint16(g)
		if _, ok := m.uni[uint16(g)]; !ok {
			m.uni[uint16(g)] = r
		}
	}
	return m, nil
}

func sign(v fixed.Int26_6) float64 {
	if v < 0 {
		return -1
	}
	return 1
}

// run is a piece of a line in one font.
type run struct {
	font *metrics
	text string
}

// runs splits s into runs of f and of its fallback font (for the
// characters f lacks).
func runs(f *metrics, s string) []run {
	var out []run
	start := 0
	var cur *metrics
	for i, r := range s {
		rf := f.fontFor(r)
		if i == 0 {
			cur = rf
			continue
		}
		if rf != cur {
			out = append(out, run{cur, s[start:i]})
			start, cur = i, rf
		}
	}
	if len(s) > 0 {
		out = append(out, run{cur, s[start:]})
	}
	return out
}

// embedFallback adds the subsets of the fallback fonts that doc uses to
// ctx and to the font resources of page (under new keys), and returns the
// keys by font name; nil if doc uses none.
func embedFallback(ctx *model.Context, page types.Dict, attrs *model.InheritedPageAttrs, doc []line) (map[string]string, error) {
	used := map[*metrics]map[uint16]bool{}
	chars := map[*metrics]map[uint32]uint16{} // the ToUnicode map of a font not shaped
	texts := map[*metrics]map[uint16]string{} // of a shaped font: each glyph's letters
	for _, l := range doc {
		if l.qr != nil || l.font.fallback == nil {
			continue
		}
		for _, rn := range runs(l.font, visual(l.text)) {
			if rn.font == l.font || rn.font == nil {
				continue
			}
			if used[rn.font] == nil {
				used[rn.font], chars[rn.font], texts[rn.font] = map[uint16]bool{}, map[uint32]uint16{}, map[uint16]string{}
			}
			if rn.font.shaper != nil {
				for _, g := range shapedRun(rn.font, rn.text) {
					used[rn.font][g.id] = true
					if t, ok := texts[rn.font][g.id]; !ok || t == "" {
						texts[rn.font][g.id] = g.text
					}
				}
				continue
			}
			for _, r := range rn.text {
				g := rn.font.chars[uint32(r)]
				used[rn.font][g], chars[rn.font][uint32(r)] = true, g
			}
		}
	}
	if len(used) == 0 {
		return nil, nil
	}
	_, have, err := pageFonts(ctx, attrs)
	if err != nil {
		return nil, err
	}
	keys, refs := map[string]string{}, map[string]types.IndirectRef{}
	for i, f := range []*metrics{fallback, hebrew, arabic, cjk, korean} {
		if used[f] == nil {
			continue
		}
		tu := toUnicodeCMap(chars[f])
		if f.shaper != nil {
			tu = toUnicodeTexts(texts[f])
		}
		ref, err := fallbackFont(ctx, f, used[f], tu)
		if err != nil {
			return nil, fmt.Errorf("fallback font %s: %w", f.name, err)
		}
		key := have.NewIDForPrefix("CF", i)
		have[key] = nil // reserve the name
		keys[f.name], refs[f.name] = key, *ref
	}
	if err := addFontResources(ctx, page, attrs, keys, refs); err != nil {
		return nil, err
	}
	return keys, nil
}

// fallbackFont writes the Type0 font (PDF 32000 9.7: Identity-H, a
// CIDFontType2 whose CIDs are the font's glyph ids) of the glyphs used,
// with their widths and the ToUnicode map tu, and returns its reference.
// A compact font's subset renumbers its glyphs, and a CIDToGIDMap stream
// maps the CIDs to them; the others keep their glyph ids (the identity
// map).
func fallbackFont(ctx *model.Context, f *metrics, used map[uint16]bool, tu []byte) (*types.IndirectRef, error) {
	var prog []byte
	var cidToGID types.Object = types.Name("Identity")
	if f.compact {
		p, newID, err := subsetCompact(f.program, used)
		if err != nil {
			return nil, err
		}
		maxCID := 0
		for g := range newID {
			maxCID = max(maxCID, int(g))
		}
		m := make([]byte, 2*(maxCID+1))
		for g, n := range newID {
			binary.BigEndian.PutUint16(m[2*int(g):], n)
		}
		raw, err := deflateWith(&fastDeflaters, m)
		if err != nil {
			return nil, err
		}
		n := int64(len(raw))
		sd := types.StreamDict{Dict: types.Dict{"Filter": types.Name("FlateDecode"), "Length": types.Integer(n)},
			FilterPipeline: []types.PDFFilter{{Name: "FlateDecode"}}, Content: m, Raw: raw, StreamLength: &n}
		ref, err := ctx.IndRefForNewObject(sd)
		if err != nil {
			return nil, err
		}
		prog, cidToGID = p, *ref
	} else {
		p, err := subsetTTF(f.program, used)
		if err != nil {
			return nil, err
		}
		prog = p
	}
	base := types.Name(subsetTag(f.name, used) + "+" + f.name)
	file := types.StreamDict{Dict: types.Dict{"Length1": types.Integer(len(prog))}, Content: prog}
	if err := file.Encode(); err != nil {
		return nil, err
	}
	fileRef, err := ctx.IndRefForNewObject(file)
	if err != nil {
		return nil, err
	}
	desc := types.Dict{
		"Type": types.Name("FontDescriptor"), "FontName": base, "Flags": types.Integer(32),
		"FontBBox":    types.Array{types.Integer(f.bbox[0]), types.Integer(f.bbox[1]), types.Integer(f.bbox[2]), types.Integer(f.bbox[3])},
		"ItalicAngle": types.Integer(0), "Ascent": types.Integer(f.ascent), "Descent": types.Integer(f.descent),
		"CapHeight": types.Integer(f.capHeight), "StemV": types.Integer(80), "FontFile2": *fileRef,
	}
	descRef, err := ctx.IndRefForNewObject(desc)
	if err != nil {
		return nil, err
	}
	gids := make([]int, 0, len(used))
	for g := range used {
		gids = append(gids, int(g))
	}
	slices.Sort(gids)
	var w types.Array
	for _, g := range gids {
		width := 0
		if g < len(f.widths) {
			width = f.widths[g]
		}
		w = append(w, types.Integer(g), types.Array{types.Integer(width)})
	}
	cid := types.Dict{
		"Type": types.Name("Font"), "Subtype": types.Name("CIDFontType2"), "BaseFont": base,
		"CIDSystemInfo":  types.Dict{"Registry": types.StringLiteral("Adobe"), "Ordering": types.StringLiteral("Identity"), "Supplement": types.Integer(0)},
		"FontDescriptor": *descRef, "W": w, "CIDToGIDMap": cidToGID,
	}
	cidRef, err := ctx.IndRefForNewObject(cid)
	if err != nil {
		return nil, err
	}
	tuStream := types.StreamDict{Dict: types.NewDict(), Content: tu}
	if err := tuStream.Encode(); err != nil {
		return nil, err
	}
	tuRef, err := ctx.IndRefForNewObject(tuStream)
	if err != nil {
		return nil, err
	}
	return ctx.IndRefForNewObject(types.Dict{
		"Type": types.Name("Font"), "Subtype": types.Name("Type0"), "BaseFont": base,
		"Encoding": types.Name("Identity-H"), "DescendantFonts": types.Array{*cidRef}, "ToUnicode": *tuRef,
	})
}

// subsetTTF returns the TrueType font ttf with only the outlines of the
// glyphs used (and of glyph 0 and the components of composite glyphs):
// the glyph ids stay as they are, the other glyphs are empty. Tables a
// PDF viewer needs for a CIDFontType2 are kept (head, hhea, maxp, hmtx,
// cvt, fpgm, prep, OS/2, name), with loca in the long format.
func subsetTTF(ttf []byte, used map[uint16]bool) ([]byte, error) {
	be := binary.BigEndian
	tables, err := ttfTables(ttf)
	if err != nil {
		return nil, err
	}
	head, maxp, loca, glyf := tables["head"], tables["maxp"], tables["loca"], tables["glyf"]
	if len(head) < 54 || len(maxp) < 6 || loca == nil || glyf == nil {
		return nil, errors.New("not a TrueType font with glyf outlines")
	}
	numGlyphs := int(be.Uint16(maxp[4:]))
	long := be.Uint16(head[50:]) == 1
	if long && len(loca) < 4*(numGlyphs+1) || !long && len(loca) < 2*(numGlyphs+1) {
		return nil, errors.New("loca table too short")
	}
	offset := func(g int) (int, int) {
		if long {
			return int(be.Uint32(loca[4*g:])), int(be.Uint32(loca[4*g+4:]))
		}
		return 2 * int(be.Uint16(loca[2*g:])), 2 * int(be.Uint16(loca[2*g+2:]))
	}
	keep := map[int]bool{}
	var add func(g int)
	add = func(g int) {
		if g >= numGlyphs || keep[g] {
			return
		}
		keep[g] = true
		a, b := offset(g)
		if b-a < 10 || a < 0 || b > len(glyf) {
			return
		}
		// A composite glyph: keep its components.
		d := glyf[a:b]
		compositeComponents(d, func(at int) { add(int(be.Uint16(d[at:]))) })
	}
	add(0)
	for g := range used {
		add(int(g))
	}
	newLoca := make([]byte, 4*(numGlyphs+1))
	var newGlyf []byte
	for g := 0; g < numGlyphs; g++ {
		be.PutUint32(newLoca[4*g:], uint32(len(newGlyf)))
		if keep[g] {
			a, b := offset(g)
			if a > b || b > len(glyf) {
				return nil, fmt.Errorf("glyph %d out of range", g)
			}
			newGlyf = append(newGlyf, glyf[a:b]...)
			for len(newGlyf)%4 != 0 {
				newGlyf = append(newGlyf, 0)
			}
		}
	}
	be.PutUint32(newLoca[4*numGlyphs:], uint32(len(newGlyf)))
	newHead := slices.Clone(head)
	be.PutUint32(newHead[8:], 0) // checkSumAdjustment
	be.PutUint16(newHead[50:], 1)
	out := map[string][]byte{"head": newHead, "loca": newLoca, "glyf": newGlyf}
	for _, t := range []string{"hhea", "maxp", "hmtx", "cvt ", "fpgm", "prep", "OS/2", "name"} {
		if b, ok := tables[t]; ok {
			out[t] = b
		}
	}
	return writeTTF(out), nil
}

// writeTTF returns a TrueType font of the tables out (by tag), in the
// order of their tags, each padded to four bytes.
func writeTTF(out map[string][]byte) []byte {
	be := binary.BigEndian
	tags := make([]string, 0, len(out))
	for t := range out {
		tags = append(tags, t)
	}
	slices.Sort(tags)
	nt := len(tags)
	sr, es := 1, 0
	for sr*2 <= nt {
		sr, es = sr*2, es+1
	}
	hdr := make([]byte, 12+16*nt)
	be.PutUint32(hdr, 0x00010000)
	be.PutUint16(hdr[4:], uint16(nt))
	be.PutUint16(hdr[6:], uint16(sr*16))
	be.PutUint16(hdr[8:], uint16(es))
	be.PutUint16(hdr[10:], uint16(nt*16-sr*16))
	body := []byte{}
	for i, t := range tags {
		b := out[t]
		rec := hdr[12+16*i:]
		copy(rec, t)
		be.PutUint32(rec[4:], checksum(b))
		be.PutUint32(rec[8:], uint32(len(hdr)+len(body)))
		be.PutUint32(rec[12:], uint32(len(b)))
		body = append(body, b...)
		for len(body)%4 != 0 {
			body = append(body, 0)
		}
	}
	return append(hdr, body...)
}

// ttfTables returns the tables of the TrueType font ttf by tag.
func ttfTables(ttf []byte) (map[string][]byte, error) {
	be := binary.BigEndian
	if len(ttf) < 12 {
		return nil, errors.New("font too short")
	}
	tables := map[string][]byte{}
	n := int(be.Uint16(ttf[4:]))
	if 12+16*n > len(ttf) {
		return nil, errors.New("table directory out of range")
	}
	for i := 0; i < n; i++ {
		rec := ttf[12+16*i:]
		off, ln := be.Uint32(rec[8:]), be.Uint32(rec[12:])
		if uint64(off)+uint64(ln) > uint64(len(ttf)) {
			return nil, fmt.Errorf("table %q out of range", rec[:4])
		}
		tables[string(rec[:4])] = ttf[off : off+ln]
	}
	return tables, nil
}

// subsetCompact returns the TrueType font ttf with only glyph 0, the
// glyphs used and the components of composite ones, renumbered in the
// order of their old ids (the components' references rewritten), and
// newID, each kept glyph's new id by its old one. hmtx, hhea and maxp
// are cut to the glyphs kept; the other tables a PDF viewer needs are
// copied (as by subsetTTF).
func subsetCompact(ttf []byte, used map[uint16]bool) (prog []byte, newID map[uint16]uint16, err error) {
	be := binary.BigEndian
	tables, err := ttfTables(ttf)
	if err != nil {
		return nil, nil, err
	}
	head, maxp, hhea, hmtx, loca, glyf := tables["head"], tables["maxp"], tables["hhea"], tables["hmtx"], tables["loca"], tables["glyf"]
	if len(head) < 54 || len(maxp) < 6 || len(hhea) < 36 || loca == nil || glyf == nil {
		return nil, nil, errors.New("not a TrueType font with glyf outlines")
	}
	numGlyphs := int(be.Uint16(maxp[4:]))
	nhm := int(be.Uint16(hhea[34:]))
	long := be.Uint16(head[50:]) == 1
	if long && len(loca) < 4*(numGlyphs+1) || !long && len(loca) < 2*(numGlyphs+1) {
		return nil, nil, errors.New("loca table too short")
	}
	if nhm < 1 || nhm > numGlyphs || len(hmtx) < 4*nhm+2*(numGlyphs-nhm) {
		return nil, nil, errors.New("hmtx table too short")
	}
	offset := func(g int) (int, int, error) {
		var a, b int
		if long {
			a, b = int(be.Uint32(loca[4*g:])), int(be.Uint32(loca[4*g+4:]))
		} else {
			a, b = 2*int(be.Uint16(loca[2*g:])), 2*int(be.Uint16(loca[2*g+2:]))
		}
		if a > b || b > len(glyf) {
			return 0, 0, fmt.Errorf("glyph %d out of range", g)
		}
		return a, b, nil
	}
	keep := map[int]bool{}
	var add func(g int) error
	add = func(g int) error {
		if g >= numGlyphs || keep[g] {
			return nil
		}
		keep[g] = true
		a, b, err := offset(g)
		if err != nil {
			return err
		}
		var cerr error
		compositeComponents(glyf[a:b], func(at int) {
			if err := add(int(be.Uint16(glyf[a+at:]))); err != nil && cerr == nil {
				cerr = err
			}
		})
		return cerr
	}
	if err := add(0); err != nil {
		return nil, nil, err
	}
	for g := range used {
		if err := add(int(g)); err != nil {
			return nil, nil, err
		}
	}
	old := make([]int, 0, len(keep))
	for g := range keep {
		old = append(old, g)
	}
	slices.Sort(old)
	newID = make(map[uint16]uint16, len(old))
	for i, g := range old {
		newID[uint16(g)] = uint16(i)
	}
	n := len(old)
	newLoca := make([]byte, 4*(n+1))
	newHmtx := make([]byte, 4*n)
	var newGlyf []byte
	for i, g := range old {
		be.PutUint32(newLoca[4*i:], uint32(len(newGlyf)))
		a, b, _ := offset(g)
		start := len(newGlyf)
		newGlyf = append(newGlyf, glyf[a:b]...)
		d := newGlyf[start:]
		compositeComponents(d, func(at int) { be.PutUint16(d[at:], newID[be.Uint16(d[at:])]) })
		for len(newGlyf)%4 != 0 {
			newGlyf = append(newGlyf, 0)
		}
		if g < nhm {
			copy(newHmtx[4*i:], hmtx[4*g:4*g+4])
		} else {
			copy(newHmtx[4*i:], hmtx[4*(nhm-1):4*(nhm-1)+2])
			copy(newHmtx[4*i+2:], hmtx[4*nhm+2*(g-nhm):4*nhm+2*(g-nhm)+2])
		}
	}
	be.PutUint32(newLoca[4*n:], uint32(len(newGlyf)))
	newHead := slices.Clone(head)
	be.PutUint32(newHead[8:], 0) // checkSumAdjustment
	be.PutUint16(newHead[50:], 1)
	newMaxp, newHhea := slices.Clone(maxp), slices.Clone(hhea)
	be.PutUint16(newMaxp[4:], uint16(n))
	be.PutUint16(newHhea[34:], uint16(n))
	out := map[string][]byte{"head": newHead, "loca": newLoca, "glyf": newGlyf, "maxp": newMaxp, "hhea": newHhea, "hmtx": newHmtx}
	for _, t := range []string{"cvt ", "fpgm", "prep", "OS/2", "name"} {
		if b, ok := tables[t]; ok {
			out[t] = b
		}
	}
	return writeTTF(out), newID, nil
}

// checksum is a TrueType table checksum (the sum of its uint32 words).
func checksum(b []byte) uint32 {
	var s uint32
	for i := 0; i < len(b); i += 4 {
		var w [4]byte
		copy(w[:], b[i:])
		s += binary.BigEndian.Uint32(w[:])
	}
	return s
}

// visual returns the line s (logical order, as typed) in the order its
// characters are drawn from left to right: the runs of right-to-left text
// (Hebrew) reversed, by the Unicode bidirectional algorithm (UAX #9,
// golang.org/x/text/unicode/bidi) with a left-to-right paragraph, so
// "Name: דוד כהן" draws the name from right to left after its label. A
// stretch of right-to-left runs with numbers between them (embedded
// levels) is reversed as a whole. Brackets are not mirrored.
func visual(s string) string {
	if !strings.ContainsFunc(s, isRTL) {
		return s
	}
	var p bidi.Paragraph
	if _, err := p.SetString(s, bidi.DefaultDirection(bidi.LeftToRight)); err != nil {
		return s
	}
	o, err := p.Order()
	if err != nil {
		return s
	}
	type part struct {
		text string
		rtl  bool
	}
	var parts []part
	for i := 0; i < o.NumRuns(); i++ {
		r := o.Run(i)
		parts = append(parts, part{r.String(), r.Direction() == bidi.RightToLeft})
	}
	strongL := func(t string) bool {
		return strings.ContainsFunc(t, func(r rune) bool { return unicode.IsLetter(r) && !isRTL(r) })
	}
	// x/text (v0.43) leaves the neutrals after a right-to-left run in it
	// where left-to-right letters or the end follow; by rule N1 of UAX #9
	// they take the paragraph's direction there.
	for i := range parts {
		if !parts[i].rtl || i+1 < len(parts) && !strongL(parts[i+1].text) {
			continue
		}
		t := parts[i].text
		last := strings.LastIndexFunc(t, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) })
		if last < 0 {
			continue
		}
		_, n := utf8.DecodeRuneInString(t[last:])
		if cut := last + n; cut < len(t) {
			parts[i].text = t[:cut]
			if i+1 < len(parts) {
				parts[i+1].text = t[cut:] + parts[i+1].text
			} else {
				parts = append(parts, part{t[cut:], false})
			}
		}
	}
	var b strings.Builder
	for i := 0; i < len(parts); {
		if !parts[i].rtl {
			b.WriteString(parts[i].text)
			i++
			continue
		}
		// The right-to-left stretch: up to the last RTL run reached
		// through runs without left-to-right letters.
		end := i + 1
		for j := i + 1; j < len(parts) && (parts[j].rtl || !strongL(parts[j].text)); j++ {
			if parts[j].rtl {
				end = j + 1
			}
		}
		for j := end - 1; j >= i; j-- {
			if parts[j].rtl {
				b.WriteString(reverseRunes(parts[j].text))
			} else {
				b.WriteString(parts[j].text)
			}
		}
		i = end
	}
	return b.String()
}

// isRTL reports whether r is a letter of a right-to-left script that the
// receipt prints (Hebrew, Arabic).
func isRTL(r rune) bool { return unicode.In(r, unicode.Hebrew, unicode.Arabic) }

func reverseRunes(s string) string {
	rs := []rune(s)
	slices.Reverse(rs)
	return string(rs)
}

// compositeComponents calls f with the offset in d of each component's
// glyph id, where d is one glyph's data in a TrueType glyf table and
// describes a composite glyph (OpenType glyf table: a negative
// numberOfContours, then component records whose size the flags give);
// for a simple glyph it does nothing.
func compositeComponents(d []byte, f func(at int)) {
	be := binary.BigEndian
	if len(d) < 10 || int16(be.Uint16(d)) >= 0 {
		return
	}
	for p := 10; p+4 <= len(d); {
		flags := be.Uint16(d[p:])
		f(p + 2)
		p += 4
		if flags&0x0001 != 0 {
			p += 4
		} else {
			p += 2
		}
		switch {
		case flags&0x0008 != 0:
			p += 2
		case flags&0x0040 != 0:
			p += 4
		case flags&0x0080 != 0:
			p += 8
		}
		if flags&0x0020 == 0 {
			break
		}
	}
}
