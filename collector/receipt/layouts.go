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
const CurrentLayout = "1"

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
}

// layouts holds every released layout. Never change one: add another.
var layouts = map[string]*layoutDef{
	"1": {labels: labelsByLang, withdrawal: withdrawalLabels, compose: compose},
}

// Layouts returns the names of the layouts this version can print and
// verify, in order.
func Layouts() []string { return slices.Sorted(maps.Keys(layouts)) }

func layoutNamed(name string) (*layoutDef, error) {
	l, ok := layouts[name]
	if !ok {
		return nil, fmt.Errorf("%w %q (this version knows %s): verify it with a newer chatconsent", ErrUnknownLayout, name, strings.Join(Layouts(), ", "))
	}
	return l, nil
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
