package receipt

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"
)

// What a receipt shows, independent of how the file is written: the
// verification of a receipt compares this between the receipt and the one
// made again from its record, so that a receipt re-saved by a PDF tool
// (qpdf --linearize, object streams on or off, pdfcpu optimize, mutool
// clean) still verifies, while anything a reader could see differently
// does not.
//
// A page's view is the sequence of its content's operators (all content
// streams joined, decoded), where
//   - text shown in the receipt's fonts is decoded from its glyph ids and
//     kept with its position (the text origin after Td, TD, T*, Tm), so a
//     difference names the line;
//   - numbers compare with a tolerance: half a point for positions and
//     sizes, 1/1000 for everything else (colours, line widths);
//   - a resource name (a font, image, graphics state, colour space,
//     pattern, shading, marked-content property) stands for the resource
//     itself: a hash of its objects as they decode (stream data decoded,
//     dictionary keys sorted, object numbers, compression and lengths left
//     out), so a renamed or renumbered font is the same font and another
//     font program under the same name is not;
//   - the page's boxes and rotation, and its annotations (as they decode)
//     belong to it.
//
// Why our own reading of content streams (tokens in compare.go, fuzzed by
// FuzzContentText and FuzzView): pdfcpu, which reads the objects, decodes
// the streams and resolves inherited resources here, exports no content
// parser (its content-stream parsing serves validation and is not API),
// and the Go PDF text extractors (ledongthuc/pdf, a fork of rsc.io/pdf)
// are unmaintained and map glyphs through the file's ToUnicode map, which
// a forger controls. Decoding the receipt's own fonts' glyph ids with the
// font's character map, and requiring the font program to be the same, is
// what proves which letters a reader sees.
//
// The attachments are compared apart (see [Compare]). Not compared: the
// document information (title, dates, producer), XMP metadata, the
// catalog's other entries and the file's structure.

// Tolerances of [Compare], in PDF units.
const (
	posTolerance   = 0.5   // points: positions, sizes, rectangles
	valueTolerance = 0.001 // colours, widths, other values
)

// positioning lists the operators whose numeric operands are positions or
// sizes (PDF 32000 8.4.4, 8.5.2, 9.3, 9.4.2).
var positioning = map[string]bool{
	"cm": true, "m": true, "l": true, "c": true, "v": true, "y": true, "re": true,
	"Td": true, "TD": true, "Tm": true, "Tf": true, "TL": true, "Tc": true, "Tw": true, "Ts": true, "Tz": true,
	"d0": true, "d1": true, `"`: true, "TJ": true, "visible area": true,
}

// resourceOf maps an operator to the resource category its name operand
// names.
var resourceOf = map[string]string{
	"Tf": "Font", "Do": "XObject", "gs": "ExtGState", "cs": "ColorSpace", "CS": "ColorSpace",
	"sh": "Shading", "scn": "Pattern", "SCN": "Pattern", "BDC": "Properties", "DP": "Properties",
}

// shown is one piece of text drawn by a text-showing operator.
type shown struct {
	page int
	text string
	x, y float64 // text origin in the page's text space
}

// drawOp is one content operator with its operands made comparable.
type drawOp struct {
	op   string
	args []string  // non-numeric operands, canonical
	nums []float64 // numeric operands, in order
	text int       // index into view.texts for text-showing operators, else -1
}

func (o drawOp) String() string {
	var parts []string
	for _, n := range o.nums {
		parts = append(parts, num(n))
	}
	for _, a := range o.args {
		if len(a) > 24 {
			a = a[:21] + "..."
		}
		parts = append(parts, a)
	}
	return strings.TrimSpace(strings.Join(parts, " ") + " " + o.op)
}

// view is what a receipt shows.
type view struct {
	texts []shown
	pages [][]drawOp
	// extras per page: boxes, rotation, annotations (canonical).
	extras [][]drawOp
}

// viewOf reads what ctx shows.
func viewOf(ctx *model.Context) (*view, error) {
	v := &view{}
	for p := 1; p <= ctx.PageCount; p++ {
		pd, _, attrs, err := ctx.PageDict(p, false)
		if err != nil {
			return nil, fmt.Errorf("page %d: %w", p, err)
		}
		content, err := ctx.PageContent(pd, p)
		if err != nil && !errors.Is(err, model.ErrNoContent) {
			return nil, fmt.Errorf("page %d: %w", p, err)
		}
		h := &hasher{ctx: ctx}
		box := attrs.MediaBox
		if attrs.CropBox != nil {
			box = attrs.CropBox // the visible area
		}
		extras := []drawOp{rect("visible area", box), {op: "Rotate", nums: []float64{float64((attrs.Rotate%360 + 360) % 360)}}}
		if a, ok := pd.Find("Annots"); ok {
			arr, err := ctx.DereferenceArray(a)
			if err != nil {
				return nil, fmt.Errorf("page %d: annotations: %w", p, err)
			}
			for _, an := range arr {
				extras = append(extras, drawOp{op: "annotation", args: []string{h.sum(an)}})
			}
		}
		v.extras = append(v.extras, extras)
		ops, err := v.pageOps(ctx, p, content, attrs.Resources, h)
		if err != nil {
			return nil, fmt.Errorf("page %d: %w", p, err)
		}
		v.pages = append(v.pages, ops)
	}
	return v, nil
}

func rect(name string, r *types.Rectangle) drawOp {
	if r == nil {
		return drawOp{op: name}
	}
	return drawOp{op: name, nums: []float64{r.LL.X, r.LL.Y, r.UR.X, r.UR.Y}}
}

// pageOps turns a page's content into comparable operators, decoding the
// text of the receipt's fonts.
func (v *view) pageOps(ctx *model.Context, page int, content []byte, res types.Dict, h *hasher) ([]drawOp, error) {
	category := func(cat string) types.Dict {
		if res == nil {
			return nil
		}
		d, err := ctx.DereferenceDict(res[cat])
		if err != nil {
			return nil
		}
		return d
	}
	fonts := fontsOf(ctx, category("Font"))
	var out []drawOp
	var operands [][]byte
	font := ""
	// The text origin in page space: the text matrix (Tm, moved by Td,
	// TD, T*), the line matrix it starts from, and the current
	// transformation matrix (cm, saved by q and restored by Q), so a tool
	// that writes positions another way (relative moves, a scaled cm)
	// still puts each line where it was.
	ctm := identity
	var stack []matrix
	tm, tlm := identity, identity
	leading := 0.0
	for tok := range tokens(content) {
		if tok.op == "" {
			operands = append(operands, tok.raw)
			continue
		}
		o := drawOp{op: tok.op, text: -1}
		cat := resourceOf[tok.op]
		for i, raw := range operands {
			if f, err := strconv.ParseFloat(string(raw), 64); err == nil {
				o.nums = append(o.nums, f)
				continue
			}
			if cat != "" && raw[0] == '/' && (tok.op != "BDC" && tok.op != "DP" || i == 1) {
				name := string(raw[1:])
				if r, ok := category(cat)[name]; ok {
					o.args = append(o.args, cat+":"+h.sum(r))
					continue
				}
			}
			if tok.op == "TJ" || tok.op == "Tj" || tok.op == "'" || tok.op == `"` {
				if raw[0] == '[' { // the text is decoded below; keep the kerning
					for t := range tokens(raw[1 : len(raw)-1]) {
						if f, err := strconv.ParseFloat(string(t.raw), 64); err == nil && t.op == "" {
							o.nums = append(o.nums, f)
						}
					}
				}
				continue
			}
			o.args = append(o.args, canonToken(raw))
		}
		switch tok.op {
		case "q":
			stack = append(stack, ctm)
		case "Q":
			if n := len(stack); n > 0 {
				ctm, stack = stack[n-1], stack[:n-1]
			}
		case "cm":
			if len(o.nums) == 6 {
				ctm = matrix(o.nums).mul(ctm)
			}
		case "BT":
			tm, tlm = identity, identity
		case "Tf":
			if len(operands) >= 2 && bytes.HasPrefix(operands[len(operands)-2], []byte("/")) {
				font = string(operands[len(operands)-2][1:])
			}
		case "TL":
			if len(o.nums) == 1 {
				leading = o.nums[0]
			}
		case "Td", "TD":
			if len(o.nums) == 2 {
				tlm = matrix{1, 0, 0, 1, o.nums[0], o.nums[1]}.mul(tlm)
				tm = tlm
				if tok.op == "TD" {
					leading = -o.nums[1]
				}
			}
		case "Tm":
			if len(o.nums) == 6 {
				tlm = matrix(o.nums)
				tm = tlm
			}
		case "T*":
			tlm = matrix{1, 0, 0, 1, 0, -leading}.mul(tlm)
			tm = tlm
		case "Tj", "TJ", "'", `"`:
			var sb strings.Builder
			for _, raw := range operands {
				if s, ok := pdfString(raw); ok {
					sb.WriteString(decodeShown(s, fonts[font]))
				}
			}
			if tok.op != "Tj" && tok.op != "TJ" { // ' and " move to the next line first
				tlm = matrix{1, 0, 0, 1, 0, -leading}.mul(tlm)
				tm = tlm
			}
			x, y := tm.mul(ctm).origin()
			o.text = len(v.texts)
			v.texts = append(v.texts, shown{page: page, text: sb.String(), x: x, y: y})
		}
		out = append(out, o)
		operands = operands[:0]
	}
	return out, nil
}

// decodeShown decodes a shown string: glyph ids of a receipt font, else
// bytes as Latin-1 (a template's own labels).
func decodeShown(s []byte, m *metrics) string {
	var b strings.Builder
	if m == nil {
		for _, c := range s {
			b.WriteRune(rune(c))
		}
		return b.String()
	}
	for i := 0; i+1 < len(s); i += 2 {
		g := uint16(s[i])<<8 | uint16(s[i+1])
		if t, ok := m.glyphText(g); ok {
			b.WriteString(t)
		} else {
			fmt.Fprintf(&b, "<glyph %d>", g)
		}
	}
	return b.String()
}

// canonToken writes a non-numeric operand without its spacing.
func canonToken(raw []byte) string {
	if s, ok := pdfString(raw); ok && (raw[0] == '(' || raw[0] == '<' && (len(raw) < 2 || raw[1] != '<')) {
		return "<" + hex.EncodeToString(s) + ">"
	}
	return string(bytes.Join(bytes.Fields(raw), []byte(" ")))
}

// hasher hashes objects as they decode.
type hasher struct {
	ctx  *model.Context
	memo map[int]string
}

// skipKeys are entries that say how an object is written, or point back
// up the tree, not what it shows.
var skipKeys = map[string]bool{"Length": true, "Filter": true, "DecodeParms": true, "Parent": true, "P": true, "Length1": true, "Length2": true, "Length3": true}

// sum returns a short hash of o's decoded value.
func (h *hasher) sum(o types.Object) string {
	s := sha256.New()
	h.write(s, o, map[int]bool{})
	return hex.EncodeToString(s.Sum(nil)[:12])
}

func (h *hasher) write(w io.Writer, o types.Object, path map[int]bool) {
	switch v := o.(type) {
	case nil:
		io.WriteString(w, "null")
	case types.IndirectRef:
		nr := v.ObjectNumber.Value()
		if path[nr] {
			io.WriteString(w, "cycle")
			return
		}
		if s, ok := h.memo[nr]; ok {
			io.WriteString(w, s)
			return
		}
		d, err := h.ctx.Dereference(v)
		if err != nil {
			io.WriteString(w, "broken")
			return
		}
		path[nr] = true
		sub := sha256.New()
		h.write(sub, d, path)
		delete(path, nr)
		s := hex.EncodeToString(sub.Sum(nil))
		if h.memo == nil {
			h.memo = map[int]string{}
		}
		h.memo[nr] = s
		io.WriteString(w, s)
	case types.Dict:
		h.dict(w, v, path)
	case types.StreamDict:
		h.dict(w, v.Dict, path)
		c := v.Content
		if c == nil {
			if err := v.Decode(); err == nil {
				c = v.Content
			} else {
				c = v.Raw
			}
		}
		sum := sha256.Sum256(c)
		fmt.Fprintf(w, "stream %x", sum)
	case types.Array:
		io.WriteString(w, "[")
		for _, e := range v {
			h.write(w, e, path)
			io.WriteString(w, " ")
		}
		io.WriteString(w, "]")
	case types.Integer:
		io.WriteString(w, num(float64(v.Value())))
	case types.Float:
		io.WriteString(w, num(v.Value()))
	case types.StringLiteral, types.HexLiteral:
		b, _ := stringBytes(v)
		fmt.Fprintf(w, "<%x>", b)
	default:
		io.WriteString(w, o.PDFString())
	}
}

func (h *hasher) dict(w io.Writer, d types.Dict, path map[int]bool) {
	keys := make([]string, 0, len(d))
	for k := range d {
		if !skipKeys[k] {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	io.WriteString(w, "<<")
	for _, k := range keys {
		fmt.Fprintf(w, "/%s ", k)
		h.write(w, d[k], path)
		io.WriteString(w, " ")
	}
	io.WriteString(w, ">>")
}

// compareViews returns the first difference between what got and want
// show: a *TextDiff for printed text, else an error wrapping ErrDiffers.
func compareViews(got, want *view) error {
	for i := 0; i < max(len(got.texts), len(want.texts)); i++ {
		var g, w shown
		if i < len(got.texts) {
			g = got.texts[i]
		}
		if i < len(want.texts) {
			w = want.texts[i]
		}
		if g.text != w.text {
			return &TextDiff{Line: i + 1, Got: g.text, Want: w.text}
		}
		if g.page != w.page || math.Abs(g.x-w.x) > posTolerance || math.Abs(g.y-w.y) > posTolerance {
			return fmt.Errorf("%w: line %d %q is on page %d at %s, %s; the receipt made from the record has it on page %d at %s, %s",
				ErrDiffers, i+1, g.text, g.page, num(g.x), num(g.y), w.page, num(w.x), num(w.y))
		}
	}
	if len(got.pages) != len(want.pages) {
		return fmt.Errorf("%w: %d pages, want %d", ErrDiffers, len(got.pages), len(want.pages))
	}
	for p := range want.pages {
		ge, we := got.extras[p], want.extras[p]
		for i := 0; i < max(len(ge), len(we)); i++ {
			var g, w drawOp
			if i < len(ge) {
				g = ge[i]
			}
			if i < len(we) {
				w = we[i]
			}
			if !sameOp(g, w) {
				return fmt.Errorf("%w: page %d: %q, want %q", ErrDiffers, p+1, g, w)
			}
		}
		gp, wp := got.pages[p], want.pages[p]
		for i := 0; i < max(len(gp), len(wp)); i++ {
			if i >= len(gp) {
				return fmt.Errorf("%w: page %d: drawing ends before operation %d (%s)", ErrDiffers, p+1, i+1, wp[i])
			}
			if i >= len(wp) {
				return fmt.Errorf("%w: page %d: extra drawing operation %d (%s)", ErrDiffers, p+1, i+1, gp[i])
			}
			if !sameOp(gp[i], wp[i]) {
				return fmt.Errorf("%w: page %d: drawing operation %d is %q, want %q", ErrDiffers, p+1, i+1, gp[i], wp[i])
			}
		}
	}
	return nil
}

func sameOp(g, w drawOp) bool {
	if g.op != w.op || !slices.Equal(g.args, w.args) || len(g.nums) != len(w.nums) {
		return false
	}
	tol := valueTolerance
	if positioning[w.op] {
		tol = posTolerance
	}
	for i := range w.nums {
		if math.Abs(g.nums[i]-w.nums[i]) > tol {
			return false
		}
	}
	return true
}

// matrix is a PDF transformation matrix [a b c d e f] (PDF 32000 8.3.3).
type matrix []float64

var identity = matrix{1, 0, 0, 1, 0, 0}

// mul returns m × n: m applied first, then n.
func (m matrix) mul(n matrix) matrix {
	return matrix{
		m[0]*n[0] + m[1]*n[2], m[0]*n[1] + m[1]*n[3],
		m[2]*n[0] + m[3]*n[2], m[2]*n[1] + m[3]*n[3],
		m[4]*n[0] + m[5]*n[2] + n[4], m[4]*n[1] + m[5]*n[3] + n[5],
	}
}

// origin is where m puts the point (0, 0).
func (m matrix) origin() (x, y float64) { return m[4], m[5] }
