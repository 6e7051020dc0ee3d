package receipt

//go:generate go run ./internal/gentemplate -o template.pdf
//go:generate go run ./internal/gentemplate -plain -o template3.pdf
//go:generate go run ./internal/gentestdata -o testdata

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
)

// Data is what a receipt shows: one consent decision of one data subject,
// as recorded in the signed log. All strings are printed as given (after
// Unicode NFC normalisation); they must be valid UTF-8 of at most
// [MaxFieldBytes], free of control and invisible formatting characters, and
// covered by the embedded Go font (see [ErrUncovered]). Times are shown in
// Europe/Berlin with their UTC offset.
type Data struct {
	// Lang is the data subject's language, "de" or "en"; every label is in it.
	Lang string
	// Controller is who processes the data (GDPR Art. 4(7)).
	Controller Controller
	// RecordID identifies the log record; required.
	RecordID string
	// Time is when the decision was recorded (UTC); required.
	Time time.Time
	// Decision is "granted", "refused" or "withdrawn"; a withdrawal
	// receipt (GDPR Art. 7(3)) has its own title and names Ref.
	Decision string
	// Ref is, on a withdrawal receipt, the record id of the decision
	// withdrawn from; may be "".
	Ref string
	// Name and Phone of the data subject are required; Phone is E.164
	// ("+" and 2 to 15 digits). Email may be "".
	Name, Phone, Email string
	// Purposes lists every configured purpose, each granted or not.
	Purposes []Purpose
	// TextVersion is the SHA-256 of the texts shown, 64 lowercase hex digits.
	TextVersion string
	// TextURL is where the archived text can be read; may be "".
	TextURL string
	// KeyFingerprint names the Ed25519 signing key, e.g. "SHA256:ab12…"; required.
	KeyFingerprint string
	// WithdrawalURL is a link for withdrawing consent; may be "".
	WithdrawalURL string
	// ViaInvite marks a decision made through a personal invite link
	// (the record's "invite"); layout 3 says that the grant came through
	// the link sent to the number.
	ViaInvite bool `json:",omitempty"`
	// StillGranted lists, on a withdrawal receipt of layout 3, the
	// purposes still granted after the withdrawal (Granted is ignored);
	// empty prints that no consent remains. Not in the signed record: the
	// collector takes it from the log's state, a verifier from the log or
	// the receipt.
	StillGranted []Purpose `json:",omitempty"`
	// Record is the exact signed log line (JSON), attached to the PDF as
	// "record.json" byte for byte; required.
	Record []byte
	// Openings are, for a record of log format version 2, the disclosures
	// of its personal fields (the data subject's own name, number, …),
	// attached as "openings.json" (a JSON array of strings): with them the
	// receipt proves who decided, with the public key alone, also after
	// the owner erased the private copy. Empty for a version-1 record.
	Openings []string
	// Extra are further files attached after the record, in this order
	// (e.g. the transparency log's inclusion proof); each name is unique
	// and not "record.json". Nothing of them is printed.
	Extra []File
}

// File is an attachment of a receipt besides the record.
type File struct {
	Name, Desc string
	Data       []byte
}

// Controller is the controller's identity and contact details as printed
// on the receipt. Name is required; the others may be "".
type Controller struct{ Name, Address, Email, Phone string }

// Purpose is one processing purpose the data subject was asked about.
// ID is the stable key used in the record; Title is the text shown.
//
// Withdrawn marks, on a withdrawal receipt, a purpose withdrawn by it.
type Purpose struct {
	ID, Title string
	Granted   bool
	Withdrawn bool
}

// Errors returned by [Lines], [Stamper.Stamp] and [Attachment]; test with
// errors.Is, the returned errors wrap them with the field and the detail.
var (
	// ErrUncovered: a field holds a character the embedded Go font has no
	// glyph for (e.g. CJK, emoji). pdfcpu would silently drop it, so the
	// receipt is refused instead; the error names the field and the
	// character as U+XXXX.
	ErrUncovered = errors.New("receipt: character not covered by the font")
	// ErrInvalid: Data is incomplete or malformed (unknown language or
	// decision, control characters, a text version that is not 64 hex
	// digits, a record that is not JSON, or too much text for one page).
	ErrInvalid = errors.New("receipt: invalid data")
	// ErrNoRecord: the PDF has no "record.json" attachment.
	ErrNoRecord = errors.New("receipt: no attached record")
	// ErrNotPDF: the file is not a PDF at all (ISO 32000-1 §7.5.2: a PDF
	// starts with "%PDF-").
	ErrNotPDF = errors.New("receipt: not a PDF file")
)

// AttachmentName is the name of the embedded file holding Data.Record.
const AttachmentName = "record.json"

// OpeningsName is the name of the embedded file holding Data.Openings.
const OpeningsName = "openings.json"

// ErrNoOpenings: the PDF has no "openings.json" attachment.
var ErrNoOpenings = errors.New("the receipt has no attachment " + OpeningsName)

// Openings returns the disclosures attached to a receipt as
// "openings.json", or an error wrapping [ErrNoOpenings].
func Openings(pdf []byte) ([]string, error) {
	if err := setup(); err != nil {
		return nil, err
	}
	aa, err := api.ExtractAttachmentsRaw(bytes.NewReader(pdf), "", []string{OpeningsName}, newConf())
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNoOpenings, err)
	}
	for _, a := range aa {
		if a.FileName == OpeningsName || a.ID == OpeningsName {
			b, err := io.ReadAll(a)
			if err != nil {
				return nil, fmt.Errorf("receipt: read attachment %s: %w", OpeningsName, err)
			}
			var ds []string
			if err := json.Unmarshal(b, &ds); err != nil {
				return nil, fmt.Errorf("receipt: attachment %s is not a JSON array of strings: %w", OpeningsName, err)
			}
			return ds, nil
		}
	}
	return nil, ErrNoOpenings
}

// MaxFieldBytes is the longest a string field of [Data] may be, in bytes;
// a page holds about 5000 characters in all. Data.Record has no limit.
const MaxFieldBytes = 2048

//go:embed template.pdf
var defaultTemplate []byte

// plainTemplateFile is the built-in template of layouts 3 and later: the
// rules of template.pdf without the program's name, for the controller's
// (go generate: gentemplate -plain).
//
//go:embed template3.pdf
var plainTemplateFile []byte

// plainTemplate is plainTemplateFile prepared once per process.
var plainTemplate = sync.OnceValues(func() (*prepared, error) {
	p, err := prepareTemplate(plainTemplateFile, nil, []*metrics{regular3, bold3})
	if err != nil {
		return nil, fmt.Errorf("built-in template of layout 3: %w", err)
	}
	return p, nil
})

// Stamper prints receipts onto a template PDF. It holds only immutable data
// and is safe for concurrent use.
type Stamper struct {
	// template is the template as pdfcpu wrote it after one full read,
	// validation and optimisation in [New], with the fonts embedded; each
	// Stamp reads it again because pdfcpu contexts cannot be cloned.
	template []byte
	// keys are the resource names of the fonts, by page and font name.
	keys map[int]map[string]string
	// slots place single values on a form or positioned template; nil
	// for the full receipt.
	slots []slot
	// labels and withdrawal are the labels of layouts 2 and later, by
	// language: the built-in German and English ones unless
	// [Stamper.WithStrings] gave the theme's.
	labels     map[string]*labels
	withdrawal map[string]labels
	// plain is the template of layouts 3 and later, with their fonts
	// (see fontRegular3); for the built-in template template3.pdf (no
	// program name in the footer).
	plain *prepared
	// builtin: the template is the built-in one (layout 3 prints the
	// controller in its footer).
	builtin bool
}

// New returns a Stamper for template, the bytes of a PDF; nil selects the
// embedded default (template.pdf: a thin rule and a "chatconsent" footer).
// What is printed depends on the template and placements:
//
//   - Placements given: each value is printed at its [Placement], on a
//     template of any number and size of pages (not rotated).
//   - Otherwise, a template with an AcroForm (PDF 32000 12.7): every form
//     field must be a text field named after a value ([FieldNames], e.g.
//     "name", "decision", "purposes"), and every one of [RequiredFields]
//     must exist. Each value is printed into its field's rectangle in the
//     Go font (the field's font size from its /DA, or fitted; the
//     multi-line flag wraps) and the form is flattened: widgets and
//     AcroForm are removed, so the receipt has nothing left to edit, and
//     names in any script print right whatever font the form names.
//   - Otherwise, the whole receipt ([Lines]) is printed on the template's
//     single A4 portrait page (595.28 × 841.89 pt, no rotation) between
//     20 mm from the left and right edges, 30 mm from the top and 25 mm
//     from the bottom, so a letterhead should keep that area empty.
//
// A template that does not fit (unreadable PDF, a missing or unknown form
// field, a placement outside its page, a multi-page template without
// fields) is an error wrapping [ErrTemplate] (or a [*PlacementError]),
// meant to stop start-up rather than the first decision.
//
// New validates the template once and embeds Go Regular and Go Bold into it
// with all their glyphs (twice: once as layouts 1 and 2 have them, once as
// layout 3's fonts, see the package documentation), so that Stamp only adds text: subsetting the fonts
// for each receipt measured 7 ms a receipt instead of 2 ms (see
// BenchmarkStamp), for a file a quarter of the size. New also performs the
// process-wide pdfcpu set-up on first use (see the package documentation).
func New(template []byte, placements ...Placement) (*Stamper, error) {
	if err := setup(); err != nil {
		return nil, err
	}
	if template == nil {
		if len(placements) > 0 {
			return nil, fmt.Errorf("receipt: %w: placements need your own template", ErrTemplate)
		}
		template = defaultTemplate
	}
	p, err := prepareTemplate(template, placements, []*metrics{regular, bold})
	if err != nil {
		return nil, fmt.Errorf("receipt: %w", err)
	}
	st := &Stamper{template: p.pdf, keys: p.keys, slots: p.slots, labels: labelsByLang, withdrawal: withdrawalLabels}
	if st.builtin = bytes.Equal(template, defaultTemplate); st.builtin {
		st.plain, err = plainTemplate()
	} else {
		st.plain, err = prepareTemplate(template, placements, []*metrics{regular3, bold3})
	}
	if err != nil {
		return nil, fmt.Errorf("receipt: %w", err)
	}
	return st, nil
}

// Stamp returns the receipt for d as the bytes of a one-page PDF: the
// template with the lines of [Lines] printed on it in the Go fonts, d.Record
// attached as "record.json", and document information (Title, Subject,
// Author = controller, Creator and Producer "chatconsent", CreationDate and
// ModDate = d.Time). It is the proof of consent a controller must be able to
// show (GDPR Art. 7(1)), in a form the data subject can keep.
//
// The output depends only on d and the template: stamping the same Data
// twice gives the same bytes, so a verifier can re-stamp a record and
// compare. A receipt is about 175 KB, most of it the two fonts, embedded
// whole (see [New]).
//
// Errors wrap [ErrInvalid] or [ErrUncovered] for bad Data.
func (s *Stamper) Stamp(d Data) ([]byte, error) { return s.StampLayout(CurrentLayout, d) }

// StampLayout is [Stamper.Stamp] with the frozen layout named layout (see
// [LayoutOf]): what verification uses to make a receipt again as it was
// made. An unknown layout is an error wrapping [ErrUnknownLayout].
func (s *Stamper) StampLayout(layout string, d Data) ([]byte, error) {
	l, err := s.layoutNamed(layout)
	if err != nil {
		return nil, err
	}
	doc, err := s.layout(l, d)
	if err != nil {
		return nil, err
	}
	out, err := s.render(layout, l, d, doc)
	if err != nil {
		return nil, fmt.Errorf("receipt: stamp record %s: %w", d.RecordID, err)
	}
	return out, nil
}

// Lines returns the lines s prints for d, page by page, top to bottom as
// laid out: for the full receipt the same as the package's [Lines], for a
// form or positioned template the values in the order of the fields.
// Errors are those of [Stamper.Stamp] for bad Data.
func (s *Stamper) Lines(d Data) ([]string, error) {
	l, err := s.layoutNamed(CurrentLayout)
	if err != nil {
		return nil, err
	}
	doc, err := s.layout(l, d)
	if err != nil {
		return nil, err
	}
	pages := make([]int, 0, len(doc))
	for p := range doc {
		pages = append(pages, p)
	}
	slices.Sort(pages)
	var out []string
	for _, p := range pages {
		for _, l := range doc[p] {
			if l.qr == nil {
				out = append(out, l.text)
			}
		}
	}
	return out, nil
}

// Attachment returns the bytes of the "record.json" file attached to pdf
// by [Stamper.Stamp]. It returns an error wrapping [ErrNoRecord] if the PDF
// has no such attachment, and another error if pdf cannot be read.
func Attachment(pdf []byte) ([]byte, error) {
	return AttachmentNamed(pdf, AttachmentName)
}

// AttachmentNamed returns the bytes of the file called name attached to
// pdf; an error wrapping [ErrNoRecord] if there is none.
func AttachmentNamed(pdf []byte, name string) ([]byte, error) {
	if !bytes.HasPrefix(pdf, []byte("%PDF-")) {
		return nil, fmt.Errorf("%w: it does not start with %%PDF-", ErrNotPDF)
	}
	if err := setup(); err != nil {
		return nil, err
	}
	conf := newConf()
	aa, err := api.ExtractAttachmentsRaw(bytes.NewReader(pdf), "", []string{name}, conf)
	if err != nil {
		// pdfcpu reports a missing attachment and a PDF without any
		// attachments as plain errors; tell them apart from broken PDFs by
		// listing the attachments.
		if list, lerr := api.Attachments(bytes.NewReader(pdf), newConf()); lerr == nil && !hasAttachment(list, name) {
			return nil, fmt.Errorf("%w %q", ErrNoRecord, name)
		}
		return nil, fmt.Errorf("receipt: damaged or cut-off PDF: %w", err)
	}
	for _, a := range aa {
		if a.FileName == name || a.ID == name {
			b, err := io.ReadAll(a)
			if err != nil {
				return nil, fmt.Errorf("receipt: read attachment %s: %w", name, err)
			}
			return b, nil
		}
	}
	return nil, fmt.Errorf("%w %q", ErrNoRecord, name)
}

func hasAttachment(aa []model.Attachment, name string) bool {
	for _, a := range aa {
		if a.FileName == name || a.ID == name {
			return true
		}
	}
	return false
}

// newConf returns a fresh pdfcpu configuration. Call only after setup:
// before it, pdfcpu would create a configuration directory in the user's
// home.
func newConf() *model.Configuration {
	conf := model.NewDefaultConfiguration()
	// Plain objects and a classic cross-reference table: canonical() needs
	// every object at an offset of its own to put them in a fixed order.
	conf.WriteObjectStream = false
	conf.WriteXRefStream = false
	conf.ValidationMode = model.ValidationRelaxed
	return conf
}
