package receipt

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"

	"github.com/chatconsent/chatconsent/internal/fields"
)

// Names of the values a form or positioned template shows: the AcroForm
// field names of a form template and the Field of a [Placement]. They are
// internal/fields' receipt column, which the site configuration
// (internal/config: ReceiptFieldNames) reads too.
const (
	FieldController        = fields.Controller        // controller's name
	FieldControllerAddress = fields.ControllerAddress // one line
	FieldControllerEmail   = fields.ControllerEmail
	FieldControllerPhone   = fields.ControllerPhone
	FieldName              = fields.Name     // data subject
	FieldPhone             = fields.Phone    // E.164
	FieldEmail             = fields.Email    // may be empty
	FieldDecision          = fields.Decision // "Einwilligung erteilt" / "Consent granted" …
	FieldTime              = fields.Time     // Europe/Berlin with UTC offset
	FieldPurposes          = fields.Purposes // one line per purpose: "■ granted: Title"
	FieldRecordID          = fields.RecordID
	FieldTextVersion       = fields.TextVersion // SHA-256 of the texts shown
	FieldTextURL           = fields.TextURL
	FieldKey               = fields.SigningKey // signing key fingerprint
	FieldWithdrawalURL     = fields.WithdrawalURL
	FieldRef               = fields.Ref // on a withdrawal receipt: the decision withdrawn from
)

// FieldNames lists every value name, in the order of the full receipt
// (internal/fields.ReceiptNames of its table).
var FieldNames = fields.ReceiptNames(fields.All)

// RequiredFields must each appear on a form or positioned template:
// without them a receipt does not say who decided what, when, or which
// record proves it (internal/fields.ReceiptRequired of its table).
var RequiredFields = fields.ReceiptRequired(fields.All)

// Placement prints one value at a fixed position of the owner's template
// ("stamping at configured positions"). Coordinates are PDF points from
// the lower-left corner of the page's visible area (its CropBox, or
// MediaBox); (X, Y) is the start of the first line's baseline. A value
// wider than the space to the right edge of the page (less 10 pt) wraps
// onto further lines, Size × 1.3 apart; the purposes value prints one line
// per purpose.
type Placement struct {
	// Field is one of [FieldNames].
	Field string
	// Page is 1-based.
	Page int
	X, Y float64
	// Size is the font size in points (Go Regular).
	Size float64
}

// PlacementError reports a [Placement] that does not fit the template.
// Index is the placement's position in the list given to [New].
type PlacementError struct {
	Index int
	Field string
	Err   error
}

func (e *PlacementError) Error() string {
	return fmt.Sprintf("placement %d (field %q): %v", e.Index, e.Field, e.Err)
}
func (e *PlacementError) Unwrap() error { return e.Err }

// ErrTemplate is wrapped by [New]'s errors about a template that does not
// fit: a form without a required field, a form field that is no receipt
// value, a placement outside its page.
var ErrTemplate = errors.New("template does not fit")

// slot is where one value goes on a form or positioned template, in points
// relative to the lower-left corner of the page's visible area.
type slot struct {
	field string
	page  int
	// Positioned: baseline start, font size, width to the right edge.
	x, y, size, width float64
	// Form: the widget's rectangle; size 0 means automatic.
	form      bool
	rect      types.Rectangle
	multiline bool
}

const (
	rightGap      = 10  // points kept free at the right edge for placements
	placedLeading = 1.3 // line distance of placed values, times the size
	formPad       = 2   // inner padding of a form field, points
	formLeading   = 1.15
	minFormSize   = 4
)

// fieldValues returns the printed lines of each value name for v ("" is
// left out). Purposes give one line per purpose.
func fieldValues(v *values) map[string][]string {
	m := map[string][]string{}
	add := func(name, s string) {
		if s != "" {
			m[name] = append(m[name], s)
		}
	}
	add(FieldController, v.ctrlName)
	add(FieldControllerAddress, v.ctrlAddr)
	add(FieldControllerEmail, v.ctrlMail)
	add(FieldControllerPhone, v.ctrlPhone)
	add(FieldName, v.name)
	add(FieldPhone, v.phone)
	add(FieldEmail, v.email)
	add(FieldDecision, v.decision)
	add(FieldTime, v.when)
	for i, t := range v.purposes {
		add(FieldPurposes, v.purposeLabels[i]+": "+t)
	}
	if len(v.purposes) == 0 {
		add(FieldPurposes, v.lb.noPurposes)
	}
	add(FieldRecordID, v.recordID)
	add(FieldTextVersion, v.textVersion)
	add(FieldTextURL, v.textURL)
	add(FieldKey, v.key)
	add(FieldWithdrawalURL, v.withdrawalURL)
	add(FieldRef, v.ref)
	return m
}

// placeSlots lays out v's values into slots, page by page.
func placeSlots(l *layoutDef, v *values, slots []slot) (map[int][]line, error) {
	vals := fieldValues(v)
	if l.fields != nil {
		vals = l.fields(v)
	}
	pages := map[int][]line{}
	for _, sl := range slots {
		var ll []line
		var err error
		if sl.form {
			ll = formLines(sl, vals[sl.field])
		} else {
			ll, err = placedLines(sl, vals[sl.field])
		}
		if err != nil {
			return nil, err
		}
		if l.links {
			uri := map[string]string{FieldTextURL: v.textURL, FieldWithdrawalURL: v.withdrawalURL}[sl.field]
			for i := range ll {
				ll[i].uri = uri
			}
		}
		if l.plain {
			// Layout 3's fonts: the same glyphs but "-" (narrower).
			for i := range ll {
				ll[i].font = map[*metrics]*metrics{regular: regular3, bold: bold3}[ll[i].font]
			}
		}
		pages[sl.page] = append(pages[sl.page], ll...)
	}
	return pages, nil
}

// placedLines sets the value's lines from the slot's baseline downwards.
func placedLines(sl slot, texts []string) ([]line, error) {
	var out []line
	y := sl.y
	for _, t := range texts {
		for _, w := range wrap(regular, sl.size, t, sl.width, sl.width) {
			if y < 0 {
				return nil, fmt.Errorf("%w: value %q at page %d runs below the bottom of the page", ErrInvalid, sl.field, sl.page)
			}
			out = append(out, line{font: regular, size: sl.size, x: sl.x, y: y, text: w})
			y -= sl.size * placedLeading
		}
	}
	return out, nil
}

// formLines fits the value into a form field's rectangle: a single-line
// field gets the value on one line (purposes joined by "; "), shrunk down
// to 4 pt if it is too wide; a multi-line field wraps, shrinking until the
// lines fit the height. Text that still does not fit runs on below the
// rectangle rather than being cut: a receipt never hides part of a value.
func formLines(sl slot, texts []string) []line {
	if len(texts) == 0 {
		return nil
	}
	r := sl.rect
	w, h := r.Width()-2*formPad, r.Height()
	if !sl.multiline {
		s := strings.Join(texts, "; ")
		size := sl.size
		if size == 0 {
			size = min(12, h*0.7)
		}
		for size > minFormSize && regular.width(s, size) > w {
			size = max(minFormSize, size-0.5)
		}
		if regular.width(s, size) <= w {
			y := r.LL.Y + (h-size*0.7)/2 // Go fonts: cap height ≈ 0.7 em
			return []line{{font: regular, size: size, x: r.LL.X + formPad, y: y, text: s}}
		}
	}
	size := sl.size
	if size == 0 {
		size = min(10, h*0.7)
	}
	var wrapped []string
	for {
		wrapped = wrapped[:0]
		for _, t := range texts {
			wrapped = append(wrapped, wrap(regular, size, t, w, w)...)
		}
		if float64(len(wrapped))*size*formLeading <= h-formPad || size <= minFormSize {
			break
		}
		size = max(minFormSize, size-0.5)
	}
	var out []line
	y := r.UR.Y - formPad - size*0.9 // first baseline below the ascent
	for _, t := range wrapped {
		out = append(out, line{font: regular, size: size, x: r.LL.X + formPad, y: y, text: t})
		y -= size * formLeading
	}
	return out
}

// positionedSlots checks placements against the template's pages.
func positionedSlots(ctx *model.Context, pp []Placement) ([]slot, error) {
	var out []slot
	for i, p := range pp {
		perr := func(format string, args ...any) error {
			return &PlacementError{Index: i, Field: p.Field, Err: fmt.Errorf("%w: "+format, append([]any{ErrTemplate}, args...)...)}
		}
		if !slices.Contains(FieldNames, p.Field) {
			return nil, perr("not a receipt value; want one of %s", strings.Join(FieldNames, ", "))
		}
		if p.Page < 1 || p.Page > ctx.PageCount {
			return nil, perr("page %d, but the template has %d page(s)", p.Page, ctx.PageCount)
		}
		_, _, attrs, err := ctx.PageDict(p.Page, false)
		if err != nil {
			return nil, fmt.Errorf("template page %d: %w", p.Page, err)
		}
		box, err := visibleBox(attrs, p.Page)
		if err != nil {
			return nil, err
		}
		if p.Size < minFormSize || p.Size > 72 {
			return nil, perr("size %g: want 4 to 72 points", p.Size)
		}
		if p.X < 0 || p.Y < 0 || p.X >= box.Width() || p.Y >= box.Height() {
			return nil, perr("x = %g, y = %g is outside page %d (%.2f × %.2f pt)", p.X, p.Y, p.Page, box.Width(), box.Height())
		}
		if p.Y < p.Size*0.3 {
			return nil, perr("y = %g: the text's descenders would be cut at the bottom of page %d", p.Y, p.Page)
		}
		width := box.Width() - p.X - rightGap
		if width < 4*p.Size {
			return nil, perr("x = %g leaves %.0f pt to the right edge of page %d; too little for text of size %g", p.X, box.Width()-p.X, p.Page, p.Size)
		}
		out = append(out, slot{field: p.Field, page: p.Page, x: p.X, y: p.Y, size: p.Size, width: width})
	}
	if err := checkRequired(out, "no placement for %q"); err != nil {
		return nil, err
	}
	return out, nil
}

func checkRequired(slots []slot, format string) error {
	for _, r := range RequiredFields {
		if !slices.ContainsFunc(slots, func(s slot) bool { return s.field == r }) {
			return fmt.Errorf("%w: "+format+" (a receipt must show %s)", ErrTemplate, r, strings.Join(RequiredFields, ", "))
		}
	}
	return nil
}

// visibleBox returns the page's CropBox (or MediaBox), refusing rotated
// pages.
func visibleBox(attrs *model.InheritedPageAttrs, page int) (*types.Rectangle, error) {
	box := attrs.MediaBox
	if attrs.CropBox != nil {
		box = attrs.CropBox
	}
	if box == nil {
		return nil, fmt.Errorf("%w: page %d has no MediaBox", ErrTemplate, page)
	}
	if attrs.Rotate%360 != 0 {
		return nil, fmt.Errorf("%w: page %d is rotated by %d°, want 0", ErrTemplate, page, attrs.Rotate)
	}
	return box, nil
}

// formField is one terminal field of an AcroForm.
type formField struct {
	name    string
	ft      string // field type: Tx, Btn, Ch, Sig
	ff      int    // field flags
	da      string // default appearance
	widgets []types.IndirectRef
}

// readForm returns the terminal fields of the document's AcroForm, or nil
// if it has none.
func readForm(ctx *model.Context) ([]formField, error) {
	root, err := ctx.Catalog()
	if err != nil {
		return nil, fmt.Errorf("catalog: %w", err)
	}
	o, ok := root.Find("AcroForm")
	if !ok {
		return nil, nil
	}
	af, err := ctx.DereferenceDict(o)
	if err != nil || af == nil {
		return nil, fmt.Errorf("%w: AcroForm: %v", ErrTemplate, err)
	}
	kids, err := ctx.DereferenceArray(af["Fields"])
	if err != nil {
		return nil, fmt.Errorf("%w: AcroForm Fields: %v", ErrTemplate, err)
	}
	da := ""
	if s, err := ctx.DereferenceStringOrHexLiteral(af["DA"], model.V10, nil); err == nil {
		da = s
	}
	var out []formField
	parent := formField{da: da}
	seen := map[int]bool{}
	if err := walkFields(ctx, kids, parent, "", seen, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// walkFields collects terminal fields below kids (PDF 32000 12.7.3: names
// join partial names with "."; FT, Ff and DA are inherited).
func walkFields(ctx *model.Context, kids types.Array, parent formField, prefix string, seen map[int]bool, out *[]formField) error {
	for _, k := range kids {
		ref, ok := k.(types.IndirectRef)
		if !ok {
			return fmt.Errorf("%w: AcroForm field is %T, want an indirect reference", ErrTemplate, k)
		}
		if seen[ref.ObjectNumber.Value()] {
			return fmt.Errorf("%w: AcroForm field tree has a cycle at object %d", ErrTemplate, ref.ObjectNumber.Value())
		}
		seen[ref.ObjectNumber.Value()] = true
		d, err := ctx.DereferenceDict(ref)
		if err != nil || d == nil {
			return fmt.Errorf("%w: AcroForm field object %d: %v", ErrTemplate, ref.ObjectNumber.Value(), err)
		}
		f := parent
		f.widgets = nil
		if o, ok := d.Find("T"); ok {
			t, err := ctx.DereferenceStringOrHexLiteral(o, model.V10, nil)
			if err != nil {
				return fmt.Errorf("%w: AcroForm field object %d: name: %v", ErrTemplate, ref.ObjectNumber.Value(), err)
			}
			f.name = t
			if prefix != "" {
				f.name = prefix + "." + t
			}
		}
		if n := d.NameEntry("FT"); n != nil {
			f.ft = *n
		}
		if o, ok := d.Find("Ff"); ok {
			if i, err := ctx.DereferenceInteger(o); err == nil && i != nil {
				f.ff = i.Value()
			}
		}
		if o, ok := d.Find("DA"); ok {
			if s, err := ctx.DereferenceStringOrHexLiteral(o, model.V10, nil); err == nil {
				f.da = s
			}
		}
		sub, _ := ctx.DereferenceArray(d["Kids"])
		var fieldKids types.Array
		for _, c := range sub {
			cd, err := ctx.DereferenceDict(c)
			if err != nil || cd == nil {
				return fmt.Errorf("%w: AcroForm field %q: kid: %v", ErrTemplate, f.name, err)
			}
			if _, hasT := cd.Find("T"); hasT {
				fieldKids = append(fieldKids, c)
			} else if cr, ok := c.(types.IndirectRef); ok { // a widget of this field
				f.widgets = append(f.widgets, cr)
			}
		}
		if len(fieldKids) > 0 {
			if err := walkFields(ctx, fieldKids, f, f.name, seen, out); err != nil {
				return err
			}
			continue
		}
		if st := d.Subtype(); st != nil && *st == "Widget" {
			f.widgets = append(f.widgets, ref)
		}
		*out = append(*out, f)
	}
	return nil
}

// formSlots maps the template's AcroForm onto slots and flattens the form:
// every field must be a text field named after a receipt value, every
// required value must have a field; the widgets are removed from their
// pages and the AcroForm from the catalog, because the values are printed
// into the pages themselves (the form is flattened: nothing left to edit).
// It returns nil slots if the template has no form fields.
func formSlots(ctx *model.Context) ([]slot, error) {
	fields, err := readForm(ctx)
	if err != nil || len(fields) == 0 {
		return nil, err
	}
	// Which page holds which annotation.
	onPage := map[int]int{}
	for p := 1; p <= ctx.PageCount; p++ {
		pd, _, _, err := ctx.PageDict(p, false)
		if err != nil {
			return nil, fmt.Errorf("template page %d: %w", p, err)
		}
		annots, _ := ctx.DereferenceArray(pd["Annots"])
		for _, a := range annots {
			if r, ok := a.(types.IndirectRef); ok {
				onPage[r.ObjectNumber.Value()] = p
			}
		}
	}
	var slots []slot
	remove := map[int]bool{}
	for _, f := range fields {
		if !slices.Contains(FieldNames, f.name) {
			return nil, fmt.Errorf("%w: form field %q is not a receipt value; name the fields %s", ErrTemplate, f.name, strings.Join(FieldNames, ", "))
		}
		if f.ft != "Tx" {
			return nil, fmt.Errorf("%w: form field %q is a /%s field; receipt values need text fields (/Tx)", ErrTemplate, f.name, f.ft)
		}
		if len(f.widgets) == 0 {
			return nil, fmt.Errorf("%w: form field %q has no widget on any page", ErrTemplate, f.name)
		}
		for _, wr := range f.widgets {
			nr := wr.ObjectNumber.Value()
			page, ok := onPage[nr]
			if !ok {
				return nil, fmt.Errorf("%w: form field %q: widget object %d is on no page", ErrTemplate, f.name, nr)
			}
			wd, err := ctx.DereferenceDict(wr)
			if err != nil || wd == nil {
				return nil, fmt.Errorf("%w: form field %q: widget: %v", ErrTemplate, f.name, err)
			}
			ra, err := ctx.DereferenceArray(wd["Rect"])
			if err != nil || len(ra) != 4 {
				return nil, fmt.Errorf("%w: form field %q: widget has no Rect", ErrTemplate, f.name)
			}
			rect, err := ctx.RectForArray(ra)
			if err != nil {
				return nil, fmt.Errorf("%w: form field %q: Rect: %v", ErrTemplate, f.name, err)
			}
			_, _, attrs, err := ctx.PageDict(page, false)
			if err != nil {
				return nil, fmt.Errorf("template page %d: %w", page, err)
			}
			box, err := visibleBox(attrs, page)
			if err != nil {
				return nil, err
			}
			// Normalise corners and make them relative to the visible box.
			r := types.Rectangle{
				LL: types.Point{X: min(rect.LL.X, rect.UR.X) - box.LL.X, Y: min(rect.LL.Y, rect.UR.Y) - box.LL.Y},
				UR: types.Point{X: max(rect.LL.X, rect.UR.X) - box.LL.X, Y: max(rect.LL.Y, rect.UR.Y) - box.LL.Y},
			}
			if r.Width() < 8 || r.Height() < 4 {
				return nil, fmt.Errorf("%w: form field %q on page %d is %.1f × %.1f pt, too small for text", ErrTemplate, f.name, page, r.Width(), r.Height())
			}
			slots = append(slots, slot{
				field: f.name, page: page, form: true, rect: r, size: daSize(f.da),
				multiline: f.ff&(1<<12) != 0, // Ff bit 13: Multiline
			})
			remove[nr] = true
		}
	}
	if err := checkRequired(slots, "the form has no field %q"); err != nil {
		return nil, err
	}
	// Flatten: drop the widgets from the pages and the form from the catalog.
	for p := 1; p <= ctx.PageCount; p++ {
		pd, _, _, err := ctx.PageDict(p, false)
		if err != nil {
			return nil, fmt.Errorf("template page %d: %w", p, err)
		}
		annots, _ := ctx.DereferenceArray(pd["Annots"])
		var keep types.Array
		for _, a := range annots {
			if r, ok := a.(types.IndirectRef); ok && remove[r.ObjectNumber.Value()] {
				continue
			}
			keep = append(keep, a)
		}
		if len(keep) == 0 {
			pd.Delete("Annots")
		} else if len(keep) != len(annots) {
			pd.Update("Annots", keep)
		}
	}
	root, err := ctx.Catalog()
	if err != nil {
		return nil, fmt.Errorf("catalog: %w", err)
	}
	root.Delete("AcroForm")
	return slots, nil
}

// daSize returns the font size of a default appearance string such as
// "/Helv 10 Tf 0 g" (the operand before Tf); 0 means automatic.
func daSize(da string) float64 {
	f := strings.Fields(da)
	for i := 1; i < len(f); i++ {
		if f[i] == "Tf" {
			if v, err := strconv.ParseFloat(f[i-1], 64); err == nil && v > 0 && v <= 72 {
				return v
			}
			return 0
		}
	}
	return 0
}
