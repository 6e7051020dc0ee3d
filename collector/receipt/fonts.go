package receipt

import (
	"crypto/sha256"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"sync"
	"unicode"

	"github.com/pdfcpu/pdfcpu/pkg/api"
	pfont "github.com/pdfcpu/pdfcpu/pkg/font"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goregular"
)

// PostScript names of the embedded Go fonts: pdfcpu names an installed
// font after the PostScript name in its "name" table.
const (
	fontRegular = "GoRegular"
	fontBold    = "Go-Bold"
)

// Names of the fonts of layout 3 and later: the Go fonts with "-" set as
// the hyphen glyph (the soft hyphen's, 333 units wide) instead of Go's
// minus-wide hyphen-minus glyph, and their ToUnicode maps saying so. A
// font of its own, because the fonts of layouts 1 and 2 are frozen with
// their receipts.
const (
	fontRegular3 = "GoRegular-Hyphen"
	fontBold3    = "Go-Bold-Hyphen"
)

// metrics is the part of a font that layout and encoding need: the
// character-to-glyph map and the advance widths in PDF glyph space
// (1000 units per em). It is filled once and only read afterwards.
type metrics struct {
	name   string // the BaseFont after the subset tag
	ttf    string // the font installed in pdfcpu it is embedded from
	chars  map[uint32]uint16
	widths []int
	uni    map[uint16]rune // the reverse of chars (smallest code point), see glyphText
	// fallback prints the characters the font lacks (layout 3's regular
	// font: Noto Sans); nil for none.
	fallback *metrics
	// The font descriptor's values, glyph space: set for the fallback
	// font, which the package embeds itself.
	bbox                       [4]int
	ascent, descent, capHeight int
	program                    []byte // the TrueType font
	// shaper shapes the runs of this font (Arabic); nil: one glyph per
	// character from the character map.
	shaper *shaper
	// compact: subsets are renumbered (subsetCompact), for a font with
	// too many glyphs to keep their ids (CJK).
	compact bool
}

// covers reports whether the font or a fallback has a glyph for r.
func (m *metrics) covers(r rune) bool { return m.fontFor(r) != nil }

// fontFor returns the font r prints in: m, else the first of its chain of
// fallbacks that has it, else nil. A combining mark left after NFC
// (U+0301 after "q") never prints in a fallback: without shaping (GPOS
// mark positioning) it would not sit on its letter, so it stays refused.
func (m *metrics) fontFor(r rune) *metrics {
	if m.coversOwn(r) {
		return m
	}
	if unicode.Is(unicode.Mn, r) {
		return nil
	}
	for f := m.fallback; f != nil; f = f.fallback {
		if f.coversOwn(r) {
			return f
		}
	}
	return nil
}

// coversOwn reports whether the font itself has a glyph for r.
func (m *metrics) coversOwn(r rune) bool {
	_, ok := m.chars[uint32(r)]
	return ok
}

// width returns the advance width of s in points at size pt.
// Callers check coverage first; a missing rune counts as glyph 0.
func (m *metrics) width(s string, size float64) float64 {
	w := 0
	// A run of a shaped font is measured as shaped (joined letters,
	// ligatures, kerning).
	var pend []rune
	var pf *metrics
	flush := func() {
		if pf != nil {
			for _, g := range pf.shaper.shape(string(pend)) {
				w += g.adv
			}
		}
		pend, pf = pend[:0], nil
	}
	for _, r := range s {
		f := m.fontFor(r)
		if f == nil {
			f = m
		}
		if f.shaper != nil {
			if pf != f {
				flush()
				pf = f
			}
			pend = append(pend, r)
			continue
		}
		flush()
		g := f.chars[uint32(r)]
		if int(g) < len(f.widths) {
			w += f.widths[g]
		}
	}
	flush()
	return float64(w) * size / 1000
}

// The one-time pdfcpu setup. This is the package's only global state, and
// pdfcpu leaves no way around it: user fonts can only be embedded from
// pdfcpu's font directory (a package variable, font.UserFontDir, set by
// api.EnsureDefaultConfigAt), and model.NewDefaultConfiguration creates a
// configuration directory under the user's home on first use and writes
// package variables without a lock. So the directory is chosen once per
// process, before any configuration is taken, and it is a temporary
// directory so the user's home is never touched: one per user and pdfcpu
// version, shared by every process (see fontDir). pdfcpu reads the fonts
// from it for each receipt.
var (
	setupOnce sync.Once
	setupErr  error
	fontsAt   string   // pdfcpu's configuration directory, read-only after setupOnce
	regular   *metrics // read-only after setupOnce
	bold      *metrics // read-only after setupOnce
	regular3  *metrics // layout 3's, read-only after setupOnce
	bold3     *metrics // layout 3's, read-only after setupOnce
)

// setup installs the Go fonts into a private pdfcpu configuration directory,
// once per process, and loads their metrics.
func setup() error {
	setupOnce.Do(func() {
		setupErr = doSetup()
	})
	return setupErr
}

func doSetup() error {
	dir, err := fontDir(os.TempDir())
	if err != nil {
		return fmt.Errorf("receipt: set up pdfcpu: %w", err)
	}
	// Points pdfcpu's package variables at dir (it writes nothing there
	// once dir is complete).
	if err := api.EnsureDefaultConfigAt(dir); err != nil {
		return fmt.Errorf("receipt: set up pdfcpu: config directory %s: %w", dir, err)
	}
	fontsAt = dir
	if regular, err = loadMetrics(fontRegular); err != nil {
		return err
	}
	if bold, err = loadMetrics(fontBold); err != nil {
		return err
	}
	regular3, bold3 = withHyphen(regular, fontRegular3), withHyphen(bold, fontBold3)
	if fallback, err = loadFallback(notoTTF, fontFallback); err != nil {
		return err
	}
	if hebrew, err = loadFallback(notoHebrewTTF, fontHebrew); err != nil {
		return err
	}
	if arabic, err = loadShaped(notoArabicTTF, fontArabic); err != nil {
		return err
	}
	if cjk, err = loadFallback(droidTTF, fontCJK); err != nil {
		return err
	}
	if korean, err = loadFallback(nanumTTF, fontKorean); err != nil {
		return err
	}
	// Only its Hangul: its other symbols (☝, enclosed numbers, Kangxi
	// radicals) would newly pass the name rule.
	hangulOnly(korean)
	// New in layout 3 with shaping: their subsets are compact (no
	// released receipt has them), those of Noto Sans and Noto Sans Hebrew
	// stay as released receipts have them.
	arabic.compact, cjk.compact, korean.compact = true, true, true
	regular3.fallback, fallback.fallback, hebrew.fallback, arabic.fallback, cjk.fallback = fallback, hebrew, arabic, cjk, korean
	return nil
}

// hangulOnly removes from m's character map what is not Hangul
// (syllables, jamo, compatibility jamo).
func hangulOnly(m *metrics) {
	maps.DeleteFunc(m.chars, func(r uint32, _ uint16) bool { return !unicode.Is(unicode.Hangul, rune(r)) })
	clear(m.uni)
	for r, g := range m.chars {
		if old, ok := m.uni[g]; !ok || rune(r) < old {
			m.uni[g] = rune(r)
		}
	}
}

// withHyphen returns m, named name, with "-" printed in the glyph of the
// soft hyphen (U+00AD), which is the typographic hyphen of the Go fonts.
func withHyphen(m *metrics, name string) *metrics {
	c := &metrics{name: name, ttf: m.ttf, chars: maps.Clone(m.chars), widths: m.widths, uni: map[uint16]rune{}}
	if g, ok := m.chars[0xAD]; ok {
		c.chars['-'] = g
	}
	for r, g := range c.chars {
		if old, ok := c.uni[g]; !ok || rune(r) < old {
			c.uni[g] = rune(r)
		}
	}
	return c
}

// fontNamed returns the receipt font whose BaseFont (after the subset
// tag) is name, or nil.
func fontNamed(name string) *metrics {
	for _, m := range []*metrics{regular, bold, regular3, bold3, fallback, hebrew, arabic, cjk, korean} {
		if m != nil && m.name == name {
			return m
		}
	}
	return nil
}

func loadMetrics(name string) (*metrics, error) {
	ttf, ok, err := pfont.UserFont(name)
	if err != nil {
		return nil, fmt.Errorf("receipt: set up pdfcpu: load font %s: %w", name, err)
	}
	if !ok {
		return nil, fmt.Errorf("receipt: set up pdfcpu: font %s not installed", name)
	}
	m := &metrics{name: name, ttf: name, chars: ttf.Chars, widths: ttf.GlyphWidths, uni: map[uint16]rune{}}
	for r, g := range m.chars {
		if old, ok := m.uni[g]; !ok || rune(r) < old {
			m.uni[g] = rune(r)
		}
	}
	return m, nil
}

// fontDir returns pdfcpu's configuration directory with the Go fonts
// installed, in base: TMPDIR/chatconsent-pdfcpu-UID-HASH, HASH of pdfcpu's
// version and the fonts, shared by every process of the user (the test
// suite starts hundreds; a directory per process, 0.5 MB, was never
// removed). It is built under another name and renamed into place, so it
// is whole or absent; one that is not the user's own (its owner, mode
// 0700, its marker file) is not used, and this process builds its own
// (left behind, as before).
func fontDir(base string) (string, error) {
	h := sha256.New()
	h.Write([]byte(model.VersionStr + "\x00"))
	h.Write(goregular.TTF)
	h.Write(gobold.TTF)
	dir := filepath.Join(base, fmt.Sprintf("chatconsent-pdfcpu-%d-%x", os.Getuid(), h.Sum(nil)[:6]))
	if usableFontDir(dir) {
		return dir, nil
	}
	tmp, err := os.MkdirTemp(base, "chatconsent-pdfcpu-build-")
	if err != nil {
		return "", fmt.Errorf("create config directory: %w", err)
	}
	if err := buildFontDir(tmp); err != nil {
		os.RemoveAll(tmp)
		return "", err
	}
	if err := os.Rename(tmp, dir); err == nil {
		return dir, nil
	}
	if usableFontDir(dir) { // another process was first
		os.RemoveAll(tmp)
		return dir, nil
	}
	return tmp, nil
}

// fontDirMarker is the last file written into a font directory.
const fontDirMarker = "complete"

// buildFontDir installs pdfcpu's configuration and the Go fonts in dir.
func buildFontDir(dir string) error {
	if err := api.EnsureDefaultConfigAt(dir); err != nil {
		return fmt.Errorf("config directory %s: %w", dir, err)
	}
	src := filepath.Join(dir, "ttf")
	if err := os.Mkdir(src, 0o700); err != nil {
		return err
	}
	var paths []string
	for _, f := range []struct {
		name string
		ttf  []byte
	}{{"goregular.ttf", goregular.TTF}, {"gobold.ttf", gobold.TTF}} {
		p := filepath.Join(src, f.name)
		if err := os.WriteFile(p, f.ttf, 0o600); err != nil {
			return fmt.Errorf("write %s: %w", f.name, err)
		}
		paths = append(paths, p)
	}
	if err := api.InstallFonts(paths); err != nil {
		return fmt.Errorf("install Go fonts: %w", err)
	}
	// pdfcpu keeps its own copy (a .gob file in its font directory).
	if err := os.RemoveAll(src); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, fontDirMarker), nil, 0o600)
}

// usableFontDir reports whether dir is a whole font directory of this
// user's: a directory (not a link) of mode 0700 owned by the user, with
// its marker file.
func usableFontDir(dir string) bool {
	fi, err := os.Lstat(dir)
	if err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o700 || !ownedByMe(fi) {
		return false
	}
	m, err := os.Lstat(filepath.Join(dir, fontDirMarker))
	return err == nil && m.Mode().IsRegular()
}
