package receipt

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
)

// Layouts
//
// A layout is the code that turns [Data] into the printed lines: the
// labels, their order, the wrapping. Every receipt names the layout it
// was made with in a small attachment, [LayoutAttachment], holding
// "chatconsent receipt layout NAME\n"; a receipt without it was made
// before layouts had names and is layout "1". A released layout is frozen:
// it stays in the binary unchanged, and verification reproduces a
// receipt's text with the layout the receipt names ([Stamper.StampLayout]),
// so a later label fix does not make older receipts fail. A change to what
// a receipt prints is a new layout, and [CurrentLayout] names the one new
// receipts get. Receipts of each release are kept in
// testdata/released and verified by the tests.

// LayoutAttachment is the name of the attachment that names a receipt's
// layout.
const LayoutAttachment = "layout.txt"

// CurrentLayout is the layout [Stamper.Stamp] prints new receipts with.
//
// Layout 1 (the first release) has German and English labels written in
// Go. Layout 2 prints the same lines with the labels of the theme's i18n
// files (the receipt_* keys, see [Stamper.WithStrings]), so a site adds a
// language with a file.
const CurrentLayout = "2"

// layoutPrefix starts the content of [LayoutAttachment].
const layoutPrefix = "chatconsent receipt layout "

// ErrUnknownLayout: a receipt names a layout this version does not have
// (made by a newer chatconsent).
var ErrUnknownLayout = errors.New("receipt: unknown layout")

// layoutDef is one frozen layout: its labels by language and how lines
// are composed.
type layoutDef struct {
	labels     map[string]*labels
	withdrawal map[string]labels
	compose    func(v *values, scale float64) ([]line, bool)
	// fromStrings: the labels are the Stamper's (the theme's strings),
	// not labels and withdrawal.
	fromStrings bool
}

// layouts holds every released layout. Never change one: add another.
var layouts = map[string]*layoutDef{
	"1": {labels: labelsByLang, withdrawal: withdrawalLabels, compose: compose},
	"2": {compose: compose, fromStrings: true},
}

// Layouts returns the names of the layouts this version can print and
// verify, in order.
func Layouts() []string { return slices.Sorted(maps.Keys(layouts)) }

// layoutNamed returns the layout called name, with s's labels where the
// layout takes them from the theme.
func (s *Stamper) layoutNamed(name string) (*layoutDef, error) {
	l, ok := layouts[name]
	if !ok {
		return nil, fmt.Errorf("%w %q (this version knows %s): verify it with a newer chatconsent", ErrUnknownLayout, name, strings.Join(Layouts(), ", "))
	}
	if l.fromStrings {
		c := *l
		c.labels, c.withdrawal = s.labels, s.withdrawal
		return &c, nil
	}
	return l, nil
}

// LabelKeys returns the keys of the theme's i18n files that receipts of
// [CurrentLayout] print (receipt_*, and withdrawal_receipt_* for the
// labels that differ on a withdrawal receipt), sorted.
func LabelKeys() []string {
	var out []string
	for _, k := range labelKeys {
		out = append(out, k.key)
		if withdrawalKeys[k.key] && !withdrawalOnly[k.key] {
			out = append(out, "withdrawal_"+k.key)
		}
	}
	slices.Sort(out)
	return out
}

// WithStrings returns a copy of s that prints receipts of layout 2 and
// later with the labels in strings, by language (the theme's strings,
// themes.Theme.Strings; other keys are ignored). Every language must have
// every key of [LabelKeys], and the labels must print in the receipt
// fonts: an error wrapping [ErrInvalid] or [ErrUncovered] names the
// language, the key and the character, so that a collector refuses to
// start rather than record a decision it cannot give a receipt for.
func (s *Stamper) WithStrings(strings map[string]map[string]string) (*Stamper, error) {
	c := *s
	c.labels, c.withdrawal = map[string]*labels{}, map[string]labels{}
	for _, lang := range slices.Sorted(maps.Keys(strings)) {
		m := strings[lang]
		var lb, w labels
		for _, k := range labelKeys {
			key := k.key
			if withdrawalKeys[key] && !withdrawalOnly[key] {
				v, ok := m["withdrawal_"+key]
				if !ok {
					return nil, fmt.Errorf("%w: language %q: the theme has no key withdrawal_%s", ErrInvalid, lang, key)
				}
				if err := checkLabel(lang, "withdrawal_"+key, v); err != nil {
					return nil, err
				}
				*k.get(&w) = v
			}
			v, ok := m[key]
			if !ok {
				return nil, fmt.Errorf("%w: language %q: the theme has no key %s", ErrInvalid, lang, key)
			}
			if err := checkLabel(lang, key, v); err != nil {
				return nil, err
			}
			*k.get(&lb) = v
			if withdrawalOnly[key] {
				*k.get(&w) = v
			}
		}
		c.labels[lang], c.withdrawal[lang] = &lb, w
	}
	return &c, nil
}

// checkLabel checks that a label prints in the receipt fonts (the bold
// font covers what the regular one does).
func checkLabel(lang, key, v string) error {
	if err := setup(); err != nil {
		return err
	}
	if _, err := printable(fmt.Sprintf("label %s of language %q (i18n/%s.toml)", key, lang, lang), v, true); err != nil {
		return err
	}
	return nil
}

// layoutFile is the content of [LayoutAttachment] for layout name.
func layoutFile(name string) []byte { return []byte(layoutPrefix + name + "\n") }

// LayoutOf returns the name of the layout pdf was made with: from its
// [LayoutAttachment], or "1" for a receipt without one. A layout
// attachment that is not in the format is an error wrapping
// [ErrUnknownLayout].
func LayoutOf(pdf []byte) (string, error) {
	aa, err := Attachments(pdf)
	if err != nil {
		return "", err
	}
	return layoutIn(aa)
}

func layoutIn(aa map[string][]byte) (string, error) {
	b, ok := aa[LayoutAttachment]
	if !ok {
		return "1", nil
	}
	name, ok := strings.CutPrefix(string(b), layoutPrefix)
	name, nl := strings.CutSuffix(name, "\n")
	if !ok || !nl || name == "" || strings.ContainsAny(name, " \n") {
		return "", fmt.Errorf("%w: attachment %s holds %q", ErrUnknownLayout, LayoutAttachment, b)
	}
	return name, nil
}

// Attachments returns every file attached to pdf (its EmbeddedFiles name
// tree, PDF 32000 7.11.4), by name: "record.json", the layout, and what
// other rooms add (the data subject's openings, an inclusion proof). A
// PDF without attachments gives an empty map; one that cannot be read is
// an error ([ErrNotPDF] if it is not a PDF at all).
func Attachments(pdf []byte) (map[string][]byte, error) {
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
	return attachments(ctx)
}

func attachments(ctx *model.Context) (map[string][]byte, error) {
	out := map[string][]byte{}
	if err := ctx.LocateNameTree("EmbeddedFiles", false); err != nil {
		return nil, fmt.Errorf("receipt: attachments: %w", err)
	}
	if ctx.Names["EmbeddedFiles"] == nil {
		return out, nil
	}
	aa, err := ctx.ExtractAttachments(nil)
	if err != nil {
		return nil, fmt.Errorf("receipt: attachments: %w", err)
	}
	for _, a := range aa {
		b, err := io.ReadAll(a)
		if err != nil {
			return nil, fmt.Errorf("receipt: read attachment %s: %w", a.FileName, err)
		}
		name := a.FileName
		if name == "" {
			name = a.ID
		}
		if _, dup := out[name]; dup {
			return nil, fmt.Errorf("receipt: two attachments named %q", name)
		}
		out[name] = b
	}
	return out, nil
}
