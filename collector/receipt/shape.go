package receipt

import (
	"bytes"
	_ "embed"
	"fmt"
	"slices"
	"sync"
	"unicode"

	"github.com/go-text/typesetting/di"
	"github.com/go-text/typesetting/font"
	"github.com/go-text/typesetting/language"
	"github.com/go-text/typesetting/shaping"
	"golang.org/x/image/math/fixed"
)

// Arabic and Chinese/Japanese (issue 14, step 3), in layout 3's chain of
// fallback fonts after Noto Sans and Noto Sans Hebrew, so that every
// character an earlier font prints stays in it and receipts made before
// print as they did:
//
//   - Noto Sans Arabic Regular (OFL, fonts/LICENSE-OFL.txt; Debian's
//     fonts-noto-core). Arabic letters join: each run of the font is
//     shaped by HarfBuzz's rules (github.com/go-text/typesetting/shaping,
//     a Go port of HarfBuzz) into the glyphs of the letters' initial,
//     medial, final and isolated forms and their ligatures (lam-alef),
//     with the font's kerning as TJ adjustments. The ToUnicode map gives
//     each glyph the letters it was shaped from, so copying or pdftotext
//     yields the letters typed, not presentation forms.
//   - Droid Sans Fallback Full (Apache 2.0, fonts/LICENSE-Apache-2.0.txt;
//     Debian's fonts-droid-fallback): CJK ideographs, kana, CJK
//     punctuation and full-width forms. It has TrueType (glyf) outlines,
//     which the package's subsetter cuts; Debian's Noto Sans CJK is
//     CFF-only. Its 49,000 glyphs would make the hmtx and loca tables of
//     a subset that keeps glyph ids 400 KB, so its subsets are compact
//     (subsetCompact): the glyphs used renumbered, and a CIDToGIDMap
//     stream maps the ids the page shows (the font's own) to them.
//   - NanumGothic Regular (OFL, fonts/LICENSE-OFL-Nanum.txt; Debian's
//     fonts-nanum): Korean, all 11,172 Hangul syllables (Droid has 3,
//     가 힢 힣, which stay in Droid) and conjoining jamo. Last in the chain, so
//     its Latin letters, punctuation and Hanja never take the place of
//     an earlier font's, and only its Hangul is used (hangulOnly).
//     TrueType outlines, compact subsets like Droid's.
//
// Noto Sans Arabic's subsets are compact too (a receipt 20 KB smaller).
// Both are embedded, as the other fonts are, so a receipt verifies on any
// machine with the binary that made it, whatever fonts the system has.

//go:embed fonts/NotoSansArabic-Regular.ttf
var notoArabicTTF []byte

//go:embed fonts/DroidSansFallbackFull.ttf
var droidTTF []byte

//go:embed fonts/NanumGothic.ttf
var nanumTTF []byte

// fontArabic, fontCJK and fontKorean are the BaseFont names of their
// subsets.
const (
	fontArabic = "NotoSansArabic-Regular"
	fontCJK    = "DroidSansFallbackFull"
	fontKorean = "NanumGothic"
)

// arabic, cjk and korean are the metrics of notoArabicTTF, droidTTF and
// nanumTTF; read-only after setup (arabic's shaper has its own lock).
var arabic, cjk, korean *metrics

// shaper shapes text in one font; safe for concurrent use.
type shaper struct {
	mu    sync.Mutex
	face  *font.Face
	hb    shaping.HarfbuzzShaper
	cache map[string][]glyph // by logical text; cleared when full

	decodeOnce sync.Once
	decode     map[uint16]string // see texts
	base       *metrics
}

// glyph is one shaped glyph: its id, its advance in glyph space (1000
// units per em) and the text it stands for, in drawing order ("" for a
// second glyph of a cluster).
type glyph struct {
	id   uint16
	adv  int
	text string
}

// maxShapeCache bounds the shaping cache (a receipt shapes a name a few
// times while laying it out and once to print it).
const maxShapeCache = 4096

func newShaper(ttf []byte, m *metrics) (*shaper, error) {
	face, err := font.ParseTTF(bytes.NewReader(ttf))
	if err != nil {
		return nil, fmt.Errorf("receipt: font %s: %w", m.name, err)
	}
	return &shaper{face: face, cache: map[string][]glyph{}, base: m}, nil
}

// shape returns the glyphs of s (logical order, as typed; one script,
// right to left) in the order they are drawn from left to right.
func (s *shaper) shape(text string) []glyph {
	s.mu.Lock()
	defer s.mu.Unlock()
	if gs, ok := s.cache[text]; ok {
		return gs
	}
	rs := []rune(text)
	out := s.hb.Shape(shaping.Input{
		Text: rs, RunEnd: len(rs), Direction: di.DirectionRTL, Face: s.face,
		Size: fixed.I(1000), Script: language.Arabic, Language: language.NewLanguage("ar"),
	})
	gs := make([]glyph, 0, len(out.Glyphs))
	seen := map[int]bool{}
	for _, g := range out.Glyphs {
		t := ""
		if !seen[g.ClusterIndex] {
			seen[g.ClusterIndex] = true
			end := min(g.ClusterIndex+g.RuneCount, len(rs))
			t = string(rs[g.ClusterIndex:end])
		}
		if n := []rune(t); len(n) > 1 {
			// A ligature's letters in the order they are drawn, as the
			// run's glyphs are: readers (pdftotext) turn the run around
			// as a whole to get the letters typed.
			t = reverseRunes(t)
		}
		gs = append(gs, glyph{id: uint16(g.GlyphID), adv: g.Advance.Round(), text: t})
	}
	if len(s.cache) >= maxShapeCache {
		clear(s.cache)
	}
	s.cache[text] = gs
	return gs
}

// texts returns, for reading receipts back (Text, Compare), the text of
// every glyph the shaper can produce for a single letter: each Arabic
// letter's contextual forms (shaped between tatweels), the lam-alef
// ligatures, and the font's character map for the other glyphs. It is
// computed once, on first use.
func (s *shaper) texts() map[uint16]string {
	s.decodeOnce.Do(func() {
		m := map[uint16]string{}
		add := func(text, want string, n int) {
			for _, g := range s.shape(text) {
				if _, ok := m[g.id]; !ok && g.text == want && len([]rune(g.text)) == n {
					m[g.id] = g.text
				}
			}
		}
		const tatweel = "\u0640"
		var letters []rune
		for r := range s.base.chars {
			if unicode.Is(unicode.Arabic, rune(r)) && unicode.IsLetter(rune(r)) && !presentationForm(rune(r)) {
				letters = append(letters, rune(r))
			}
		}
		slices.Sort(letters)
		for _, r := range letters {
			l := string(r)
			for _, t := range []string{l, tatweel + l, l + tatweel, tatweel + l + tatweel} {
				add(t, l, 1)
			}
		}
		for _, alef := range []string{"\u0622", "\u0623", "\u0625", "\u0627", "\u0671"} {
			la := "\u0644" + alef // drawn alef first, see shape
			add(la, reverseRunes(la), 2)
			add(tatweel+la, reverseRunes(la), 2)
		}
		// Then the rest of the character map; a glyph of a contextual
		// form is also mapped from its presentation form (U+FE8E …),
		// which the letter took the place of above.
		for g, r := range s.base.uni {
			if _, ok := m[g]; !ok {
				m[g] = string(r)
			}
		}
		s.decode = m
	})
	return s.decode
}

// presentationForm reports whether r is one of Unicode's Arabic
// presentation forms (compatibility characters for joined forms and
// ligatures).
func presentationForm(r rune) bool {
	return 0xFB50 <= r && r <= 0xFDFF || 0xFE70 <= r && r <= 0xFEFF
}

// glyphText returns the text glyph g of m stands for.
func (m *metrics) glyphText(g uint16) (string, bool) {
	if m.shaper != nil {
		t, ok := m.shaper.texts()[g]
		return t, ok
	}
	r, ok := m.uni[g]
	if !ok {
		return "", false
	}
	return string(r), true
}

// loadShaped is loadFallback for a font whose runs are shaped.
func loadShaped(ttf []byte, name string) (*metrics, error) {
	m, err := loadFallback(ttf, name)
	if err != nil {
		return nil, err
	}
	if m.shaper, err = newShaper(ttf, m); err != nil {
		return nil, err
	}
	return m, nil
}

// shapedRun returns the glyphs of a run of a shaped font, given in visual
// order (as runs of visual(line) are).
func shapedRun(f *metrics, visualText string) []glyph {
	return f.shaper.shape(reverseRunes(visualText))
}
