package receipt

import (
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
// was made with in the description (/Desc) of its "record.json"
// attachment: "signed consent record (receipt layout NAME)"; a receipt
// whose description is the first release's "signed consent record" is
// layout "1". (A separate attachment would do as well, but pdfcpu deflates
// every embedded file: 0.8 MB of allocations and a third more time per
// receipt, measured.) A released layout is frozen:
// it stays in the binary unchanged, and verification reproduces a
// receipt's text with the layout the receipt names ([Stamper.StampLayout]),
// so a later label fix does not make older receipts fail. A change to what
// a receipt prints is a new layout, and [CurrentLayout] names the one new
// receipts get. Receipts of each release are kept in
// testdata/released and verified by the tests.

// CurrentLayout is the layout [Stamper.Stamp] prints new receipts with.
//
// Layout 1 (the first release) has German and English labels written in
// Go. Layout 2 prints the same lines with the labels of the theme's i18n
// files (the receipt_* keys, see [Stamper.WithStrings]), so a site adds a
// language with a file.
//
// Layout 3 (issue 14) adds what makes a receipt usable by a person: the
// record number as "Vorgangsnummer" in groups of four, links as link
// annotations in a short form and a QR code of the withdrawal link, the
// controller in the footer of the built-in template, a grant's invite
// link and a withdrawal's remaining consent (see compose3).
const CurrentLayout = "3"

// Descriptions of the record attachment: the first release's, and the
// start of one naming a layout.
const (
	firstDesc   = "signed consent record"
	layoutDesc0 = "signed consent record (receipt layout "
)

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
	// fields are the values of a form or positioned template; nil for
	// fieldValues.
	fields func(v *values) map[string][]string
	// links: the lines of the link fields get link annotations. plain:
	// on the built-in template, the template without the program's name
	// and the controller in the footer.
	links, plain bool
}

// layouts holds every released layout. Never change one: add another.
var layouts = map[string]*layoutDef{
	"1": {labels: labelsByLang, withdrawal: withdrawalLabels, compose: compose},
	"2": {compose: compose, fromStrings: true},
	"3": {compose: compose3, fromStrings: true, fields: fieldValues3, links: true, plain: true},
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

// layoutDesc is the record attachment's description for layout name.
func layoutDesc(name string) string { return layoutDesc0 + name + ")" }

// LayoutOf returns the name of the layout pdf was made with, from the
// description of its record attachment ("1" for the first release's). A
// description that names no layout is an error wrapping
// [ErrUnknownLayout]; a PDF without a record attachment one wrapping
// [ErrNoRecord].
func LayoutOf(pdf []byte) (string, error) {
	ctx, err := openPDF(pdf)
	if err != nil {
		return "", err
	}
	_, descs, err := attachments(ctx)
	if err != nil {
		return "", err
	}
	desc, ok := descs[AttachmentName]
	if !ok {
		return "", fmt.Errorf("%w %q", ErrNoRecord, AttachmentName)
	}
	return layoutIn(desc)
}

func layoutIn(desc string) (string, error) {
	if desc == firstDesc {
		return "1", nil
	}
	name, ok := strings.CutPrefix(desc, layoutDesc0)
	name, end := strings.CutSuffix(name, ")")
	if !ok || !end || name == "" || strings.ContainsAny(name, " ()") {
		return "", fmt.Errorf("%w: attachment %s is described as %q", ErrUnknownLayout, AttachmentName, desc)
	}
	return name, nil
}

// Attachments returns every file attached to pdf (its EmbeddedFiles name
// tree, PDF 32000 7.11.4), by name: "record.json", the layout, and what
// other rooms add (the data subject's openings, an inclusion proof). A
// PDF without attachments gives an empty map; one that cannot be read is
// an error ([ErrNotPDF] if it is not a PDF at all).
func Attachments(pdf []byte) (map[string][]byte, error) {
	ctx, err := openPDF(pdf)
	if err != nil {
		return nil, err
	}
	aa, _, err := attachments(ctx)
	return aa, err
}

// attachments returns the attached files and their descriptions, by name.
func attachments(ctx *model.Context) (map[string][]byte, map[string]string, error) {
	out, descs := map[string][]byte{}, map[string]string{}
	if err := ctx.LocateNameTree("EmbeddedFiles", false); err != nil {
		return nil, nil, fmt.Errorf("receipt: attachments: %w", err)
	}
	if ctx.Names["EmbeddedFiles"] == nil {
		return out, descs, nil
	}
	aa, err := ctx.ExtractAttachments(nil)
	if err != nil {
		return nil, nil, fmt.Errorf("receipt: attachments: %w", err)
	}
	for _, a := range aa {
		b, err := io.ReadAll(a)
		if err != nil {
			return nil, nil, fmt.Errorf("receipt: read attachment %s: %w", a.FileName, err)
		}
		name := a.FileName
		if name == "" {
			name = a.ID
		}
		if _, dup := out[name]; dup {
			return nil, nil, fmt.Errorf("receipt: two attachments named %q", name)
		}
		out[name], descs[name] = b, a.Desc
	}
	return out, descs, nil
}
