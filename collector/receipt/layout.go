package receipt

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	_ "time/tzdata" // Europe/Berlin without the system's zoneinfo

	"golang.org/x/text/unicode/norm"
)

// Page geometry in PDF points (1/72 inch), origin at the lower-left corner
// of an A4 portrait page.
const (
	pageWidth  = 595.27563
	pageHeight = 841.8898
	marginX    = 56.69  // 20 mm left and right
	topY       = 756.85 // first baseline, 30 mm from the top
	bottomY    = 70.87  // no baseline below 25 mm from the bottom
	textWidth  = pageWidth - 2*marginX
	minScale   = 0.7 // smallest scale tried before giving up on one page
	scaleStep  = 0.05
	hangingMax = 0.4 // a hanging indent wider than this share of the line falls back to indentStep
	indentStep = 14.0
)

// Text styles: font (the address of the package variable that setup fills),
// size in points, line height as a multiple of the size, gray level (0
// black, 1 white).
type style struct {
	font    **metrics
	size    float64
	leading float64
	gray    float64
}

var (
	styleTitle   = style{&bold, 18, 1.3, 0}
	styleHeading = style{&bold, 11, 1.35, 0}
	styleBody    = style{&regular, 10, 1.4, 0}
	styleStrong  = style{&bold, 10, 1.4, 0}
	styleNote    = style{&regular, 8.5, 1.4, 0.3}
)

// line is one printed line: text set in one font at one position.
type line struct {
	font *metrics
	size float64
	gray float64
	x, y float64 // start of the baseline, in points
	text string
	// uri, if not "", puts a link annotation to it over the text from
	// linkFrom points after x to its end (layout 3).
	uri      string
	linkFrom float64
	// qr, if not nil, makes the line a QR code instead of text: its
	// modules (true is dark), (x, y) its lower-left corner, size its side
	// in points; text is the address it encodes.
	qr *qrCode
}

// labels are the fixed texts of a receipt in one language.
type labels struct {
	title, intro                               string
	controller, subject, decision, purposes    string
	evidence, withdrawal                       string
	name, phone, email, post, online           string
	granted, refused                           string // the decision
	purposeGranted, purposeRefused, noPurposes string
	time, timeLayout                           string
	recordID, textVersion, textURL, keyFP      string
	attached, withdrawalText, subjectLine      string
	// For withdrawal receipts (Data.Decision "withdrawn").
	withdrawn, purposeWithdrawn, ref string
	// Layout 3 only (layouts 1 and 2 never print them): the record
	// number's one name, a grant through a personal link, what a
	// withdrawal leaves granted, the caption of the QR code.
	reference, viaInvite, purposeStill, noneStill, qr string
}

// withdrawalLabels are the labels that differ on a withdrawal receipt
// (GDPR Art. 7(3)); see [labelsFor].
var withdrawalLabels = map[string]labels{
	"de": {
		title:            "Widerrufsbestätigung",
		intro:            "Nachweis Ihres Widerrufs nach Art. 7 Abs. 3 DSGVO. Bitte bewahren Sie dieses Dokument auf.",
		subjectLine:      "Nachweis des Widerrufs nach Art. 7 Abs. 3 DSGVO",
		withdrawn:        "Einwilligung widerrufen",
		purposeWithdrawn: "□ widerrufen",
		ref:              "Widerrufene Entscheidung",
		withdrawalText:   "Weitere Zwecke, die noch erteilt sind, können Sie ebenso jederzeit widerrufen:",
	},
	"en": {
		title:            "Withdrawal receipt",
		intro:            "Proof of your withdrawal under GDPR Art. 7(3). Please keep this document.",
		subjectLine:      "Proof of withdrawal under GDPR Art. 7(3)",
		withdrawn:        "Consent withdrawn",
		purposeWithdrawn: "□ withdrawn",
		ref:              "Decision withdrawn",
		withdrawalText:   "Purposes still granted can be withdrawn in the same way at any time:",
	},
}

// labelsFor returns the labels of d's language, with the withdrawal
// receipt's titles when d is a withdrawal; nil for an unknown language.
func labelsFor(l *layoutDef, d Data) *labels {
	lb, ok := l.labels[d.Lang]
	if !ok || d.Decision != "withdrawn" {
		return lb
	}
	w := l.withdrawal[d.Lang]
	c := *lb
	c.title, c.intro, c.subjectLine, c.withdrawalText = w.title, w.intro, w.subjectLine, w.withdrawalText
	c.withdrawn, c.purposeWithdrawn, c.ref = w.withdrawn, w.purposeWithdrawn, w.ref
	return &c
}

var labelsByLang = map[string]*labels{
	"de": {
		title:          "Einwilligungsbestätigung",
		intro:          "Nachweis Ihrer Entscheidung nach Art. 7 Abs. 1 DSGVO. Bitte bewahren Sie dieses Dokument auf.",
		controller:     "Verantwortlicher",
		subject:        "Betroffene Person",
		decision:       "Entscheidung",
		purposes:       "Zwecke",
		evidence:       "Nachweis",
		withdrawal:     "Widerruf",
		name:           "Name",
		phone:          "Telefon",
		email:          "E-Mail",
		post:           "Post",
		online:         "Online",
		granted:        "Einwilligung erteilt",
		refused:        "Einwilligung verweigert",
		purposeGranted: "■ erteilt",
		purposeRefused: "□ nicht erteilt",
		noPurposes:     "(keine Zwecke)",
		time:           "Zeitpunkt",
		timeLayout:     "02.01.2006, 15:04:05 (UTC-07:00)",
		recordID:       "Datensatz-ID",
		textVersion:    "Textversion (SHA-256)",
		textURL:        "Archivierter Text",
		keyFP:          "Signaturschlüssel",
		attached:       "Der signierte Datensatz ist dieser PDF-Datei als Anhang „record.json“ beigefügt.",
		withdrawalText: "Eine Einwilligung können Sie jederzeit mit Wirkung für die Zukunft widerrufen (Art. 7 Abs. 3 DSGVO):",
		subjectLine:    "Nachweis der Einwilligung nach Art. 7 Abs. 1 DSGVO",
		// Layout 3 (the theme's receipt_* keys of the same name).
		reference:    "Vorgangsnummer",
		viaInvite:    "Erteilt über den Link, der an diese Nummer gesendet wurde.",
		purposeStill: "■ weiterhin erteilt",
		noneStill:    "Keine Einwilligung mehr erteilt.",
		qr:           "QR-Code: Link zum Widerruf",
	},
	"en": {
		title:          "Consent receipt",
		intro:          "Proof of your decision under GDPR Art. 7(1). Please keep this document.",
		controller:     "Controller",
		subject:        "Data subject",
		decision:       "Decision",
		purposes:       "Purposes",
		evidence:       "Evidence",
		withdrawal:     "Withdrawal",
		name:           "Name",
		phone:          "Phone",
		email:          "Email",
		post:           "Post",
		online:         "Online",
		granted:        "Consent granted",
		refused:        "Consent refused",
		purposeGranted: "■ granted",
		purposeRefused: "□ not granted",
		noPurposes:     "(no purposes)",
		time:           "Time",
		timeLayout:     "02 Jan 2006, 15:04:05 (UTC-07:00)",
		recordID:       "Record ID",
		textVersion:    "Text version (SHA-256)",
		textURL:        "Archived text",
		keyFP:          "Signing key",
		attached:       "The signed record is attached to this PDF as “record.json”.",
		withdrawalText: "You can withdraw consent at any time, with effect for the future (GDPR Art. 7(3)):",
		subjectLine:    "Proof of consent under GDPR Art. 7(1)",
		// Layout 3 (the theme's receipt_* keys of the same name).
		reference:    "Reference number",
		viaInvite:    "Given through the link sent to this number.",
		purposeStill: "■ still granted",
		noneStill:    "No consent remains granted.",
		qr:           "QR code: withdrawal link",
	},
}

// berlin is the zone receipts show times in, loaded once from the embedded
// tzdata.
var berlin = sync.OnceValues(func() (*time.Location, error) {
	return time.LoadLocation("Europe/Berlin")
})

// Lines returns the text lines a receipt for d prints on the built-in
// template in [CurrentLayout] with the built-in labels, top to bottom
// (the QR code is not a line), exactly as set on the page: long values are wrapped at spaces (or, for a
// word longer than a line, between characters), and a wrapped line is one
// element. It is the basis for tests and for verifying a receipt by
// re-stamping its record.
//
// Lines validates d: an error wraps [ErrUncovered] naming the field and the
// character (U+XXXX) the font cannot print, or [ErrInvalid] naming the field
// and the problem (missing value, control character, unknown language or
// decision, too much text for one page).
func Lines(d Data) ([]string, error) {
	l := *layouts[CurrentLayout]
	if l.fromStrings {
		l.labels, l.withdrawal = labelsByLang, withdrawalLabels
	}
	doc, err := layoutData(&l, d, l.plain)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(doc))
	for _, l := range doc {
		if l.qr == nil {
			out = append(out, l.text)
		}
	}
	return out, nil
}

// layoutData validates d and lays it out on the page, shrinking all text
// sizes step by step if it does not fit at full size.
func layoutData(l *layoutDef, d Data, footer bool) ([]line, error) {
	if err := setup(); err != nil {
		return nil, err
	}
	v, err := prepare(l, d)
	if err != nil {
		return nil, err
	}
	v.footer = footer
	for scale := 1.0; scale >= minScale-1e-9; scale -= scaleStep {
		doc, ok := l.compose(v, scale)
		if ok {
			return doc, nil
		}
	}
	return nil, fmt.Errorf("%w: record %s: too much text for one page", ErrInvalid, d.RecordID)
}

// values holds the checked, normalised strings to print.
type values struct {
	lb                                      *labels
	ctrlName, ctrlAddr, ctrlMail, ctrlPhone string
	name, phone, email                      string
	decision, when                          string
	purposes                                []string // titles
	purposeLabels                           []string // "■ erteilt" or "□ nicht erteilt", one per title
	recordID, textVersion, textURL, key     string
	withdrawalURL                           string
	ref                                     string
	// Layout 3: a grant through a personal link; a withdrawal and the
	// titles of what it leaves granted; whether the withdrawal link gets
	// a QR code; whether the footer (controller) is printed.
	viaInvite, withdrawal, qr, footer bool
	still                             []string
	qrCode                            *qrCode // the withdrawal link's, once compose3 placed it
}

// prepare validates d and returns the values to print.
func prepare(l *layoutDef, d Data) (*values, error) {
	lb := labelsFor(l, d)
	if lb == nil {
		return nil, fmt.Errorf("%w: Lang %q: want \"de\" or \"en\"", ErrInvalid, d.Lang)
	}
	v := &values{lb: lb}
	// What the values print in: the Go font, from layout 3 on with the
	// fallback font for the characters it lacks.
	font := regular
	if l.plain {
		font = regular3
	}
	switch d.Decision {
	case "granted":
		v.decision = lb.granted
		v.viaInvite, v.qr = d.ViaInvite, true
	case "refused":
		v.decision = lb.refused
	case "withdrawn":
		v.decision, v.withdrawal, v.qr = lb.withdrawn, true, true
	default:
		return nil, fmt.Errorf("%w: Decision %q: want \"granted\", \"refused\" or \"withdrawn\"", ErrInvalid, d.Decision)
	}
	if d.Time.IsZero() {
		return nil, fmt.Errorf("%w: Time is zero", ErrInvalid)
	}
	loc, err := berlin()
	if err != nil {
		return nil, fmt.Errorf("receipt: load time zone Europe/Berlin: %w", err)
	}
	v.when = d.Time.In(loc).Format(lb.timeLayout)
	if !isHex64(d.TextVersion) {
		return nil, fmt.Errorf("%w: TextVersion %q: want 64 lowercase hex digits (SHA-256)", ErrInvalid, d.TextVersion)
	}
	v.textVersion = d.TextVersion
	if !isE164(d.Phone) {
		return nil, fmt.Errorf("%w: Phone %q: want E.164 (+ and 2 to 15 digits)", ErrInvalid, d.Phone)
	}
	v.phone = d.Phone
	if len(d.Record) == 0 {
		return nil, fmt.Errorf("%w: Record is empty", ErrInvalid)
	}
	if !json.Valid(d.Record) {
		return nil, fmt.Errorf("%w: Record is not valid JSON", ErrInvalid)
	}
	names := map[string]bool{AttachmentName: true}
	for _, f := range d.Extra {
		if f.Name == "" || names[f.Name] || len(f.Data) == 0 {
			return nil, fmt.Errorf("%w: attachment %q: empty, or its name is empty or taken", ErrInvalid, f.Name)
		}
		names[f.Name] = true
	}

	fields := []struct {
		name     string
		in       string
		out      *string
		required bool
	}{
		{"Controller.Name", d.Controller.Name, &v.ctrlName, true},
		{"Controller.Address", d.Controller.Address, &v.ctrlAddr, false},
		{"Controller.Email", d.Controller.Email, &v.ctrlMail, false},
		{"Controller.Phone", d.Controller.Phone, &v.ctrlPhone, false},
		{"RecordID", d.RecordID, &v.recordID, true},
		{"Name", d.Name, &v.name, true},
		{"Email", d.Email, &v.email, false},
		{"TextURL", d.TextURL, &v.textURL, false},
		{"KeyFingerprint", d.KeyFingerprint, &v.key, true},
		{"WithdrawalURL", d.WithdrawalURL, &v.withdrawalURL, false},
		{"Ref", d.Ref, &v.ref, false},
	}
	for _, f := range fields {
		s, err := printableIn(font, f.name, f.in, f.required)
		if err != nil {
			return nil, err
		}
		*f.out = s
	}
	for i, p := range d.Purposes {
		s, err := printableIn(font, fmt.Sprintf("Purposes[%d].Title", i), p.Title, true)
		if err != nil {
			return nil, err
		}
		label := lb.purposeRefused
		switch {
		case p.Withdrawn:
			label = lb.purposeWithdrawn
		case p.Granted:
			label = lb.purposeGranted
		}
		v.purposeLabels = append(v.purposeLabels, label)
		v.purposes = append(v.purposes, s)
	}
	for i, p := range d.StillGranted {
		s, err := printableIn(font, fmt.Sprintf("StillGranted[%d].Title", i), p.Title, true)
		if err != nil {
			return nil, err
		}
		v.still = append(v.still, s)
	}
	return v, nil
}

// printable returns s in Unicode normal form C after checking that it can
// be printed as one line of the Go font (labels, which print in bold too).
func printable(field, s string, required bool) (string, error) {
	return printableIn(regular, field, s, required)
}

// printableIn is printable in font f (and its fallback).
func printableIn(f *metrics, field, s string, required bool) (string, error) {
	if len(s) > MaxFieldBytes {
		return "", fmt.Errorf("%w: %s: %d bytes, more than %d", ErrInvalid, field, len(s), MaxFieldBytes)
	}
	if !utf8.ValidString(s) {
		return "", fmt.Errorf("%w: %s: invalid UTF-8", ErrInvalid, field)
	}
	s = norm.NFC.String(s)
	if required && strings.TrimSpace(s) == "" {
		return "", fmt.Errorf("%w: %s is empty", ErrInvalid, field)
	}
	for i, r := range s {
		// Control characters (Cc: tab, line feed …), line and paragraph
		// separators (Zl, Zp), invisible formatting (Cf: soft hyphen,
		// bidi marks, zero-width joiners …) and private-use characters
		// would add lines, hide text or print nothing meaningful.
		if unicode.In(r, unicode.Cc, unicode.Cf, unicode.Zl, unicode.Zp, unicode.Co) {
			return "", &CharError{Field: field, Rune: r, At: i, Err: ErrInvalid}
		}
		if !f.covers(r) {
			return "", &CharError{Field: field, Rune: r, At: i, Err: ErrUncovered}
		}
	}
	return s, nil
}

func isHex64(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

func isE164(s string) bool {
	if len(s) < 3 || len(s) > 16 || s[0] != '+' || s[1] == '0' {
		return false
	}
	for i := 1; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// composer places lines top-down at one scale.
type composer struct {
	scale float64
	width float64 // the text width if not 0 (beside layout 3's QR code)
	y     float64
	lines []line
	full  bool // a line fell below the bottom margin; the rest is skipped
}

// compose lays out v; ok is false if the text runs below the bottom margin.
func compose(v *values, scale float64) (doc []line, ok bool) {
	c := &composer{scale: scale, y: topY}
	lb := v.lb

	c.block(styleTitle, lb.title, 0)
	c.text(styleNote, lb.intro)

	c.heading(lb.controller)
	c.text(styleBody, v.ctrlName)
	if v.ctrlAddr != "" {
		c.text(styleBody, v.ctrlAddr)
	}
	c.field(styleBody, lb.email, v.ctrlMail)
	c.field(styleBody, lb.phone, v.ctrlPhone)

	c.heading(lb.subject)
	c.field(styleBody, lb.name, v.name)
	c.field(styleBody, lb.phone, v.phone)
	c.field(styleBody, lb.email, v.email)

	c.heading(lb.decision)
	c.text(styleStrong, v.decision)
	c.field(styleBody, lb.time, v.when)
	c.field(styleBody, lb.ref, v.ref)

	c.heading(lb.purposes)
	if len(v.purposes) == 0 {
		c.text(styleBody, lb.noPurposes)
	}
	for i, title := range v.purposes {
		c.field(styleBody, v.purposeLabels[i], title)
	}

	c.heading(lb.evidence)
	c.field(styleBody, lb.recordID, v.recordID)
	c.field(styleBody, lb.textVersion, v.textVersion)
	c.field(styleBody, lb.textURL, v.textURL)
	c.field(styleBody, lb.keyFP, v.key)
	c.text(styleBody, lb.attached)

	c.heading(lb.withdrawal)
	c.text(styleBody, lb.withdrawalText)
	c.field(styleBody, lb.online, v.withdrawalURL)
	c.field(styleBody, lb.email, v.ctrlMail)
	if v.ctrlAddr != "" {
		c.field(styleBody, lb.post, v.ctrlName+", "+v.ctrlAddr)
	}

	if c.full {
		return nil, false
	}
	return c.lines, true
}

// lineWidth is the width lines are wrapped to.
func (c *composer) lineWidth() float64 {
	if c.width > 0 {
		return c.width
	}
	return textWidth
}

// heading starts a section: a gap, then the heading in bold.
func (c *composer) heading(s string) {
	c.y -= 8 * c.scale
	c.text(styleHeading, s)
}

// text sets s wrapped to the full text width.
func (c *composer) text(st style, s string) { c.block(st, s, 0) }

// field sets "label: value" with continuation lines indented under the
// value; nothing if value is "".
func (c *composer) field(st style, label, value string) {
	if value == "" {
		return
	}
	prefix := label + ": "
	indent := (*st.font).width(prefix, st.size*c.scale)
	if indent > hangingMax*c.lineWidth() {
		indent = indentStep * c.scale
	}
	c.block(st, prefix+value, indent)
}

// block wraps s to the text width, the first line at the margin and the
// following ones indented by indent points, and advances the baseline.
func (c *composer) block(st style, s string, indent float64) {
	if c.full {
		return
	}
	f, size := *st.font, st.size*c.scale
	w := c.lineWidth()
	for i, t := range wrap(f, size, s, w, w-indent) {
		x := marginX
		if i > 0 {
			x += indent
		}
		if c.y < bottomY {
			c.full = true
			return
		}
		c.lines = append(c.lines, line{font: f, size: size, gray: st.gray, x: x, y: c.y, text: t})
		c.y -= size * st.leading
	}
}

// wrap breaks s into lines no wider than first (the first line) and rest
// (the others) points at size: greedily at spaces, which are dropped at a
// break, and between characters inside a word too long for a line (such a
// word starts right after the preceding text instead of on a new line).
// Each line holds at least one character, so wrap always ends.
func wrap(f *metrics, size float64, s string, first, rest float64) []string {
	var out []string
	max := first
	cur := ""
	emit := func() {
		out = append(out, cur)
		cur = ""
		max = rest
	}
	for i, w := range strings.Split(s, " ") {
		cand := w
		if i > 0 && !(cur == "" && len(out) > 0) { // no space at the start of a continuation line
			cand = cur + " " + w
		}
		if f.width(cand, size) <= max {
			cur = cand
			continue
		}
		if f.width(w, size) > rest {
			// w must be split anyway: fill the current line first.
			head := cand[:len(cand)-len(w)]
			if n := fitPrefix(f, size, w, max-f.width(head, size)); n > 0 {
				cur = head + w[:n]
				w = w[n:]
			}
		}
		if cur != "" {
			emit()
		}
		for f.width(w, size) > max {
			n := fitPrefix(f, size, w, max)
			if n == 0 {
				_, n = utf8.DecodeRuneInString(w)
			}
			cur = w[:n]
			emit()
			w = w[n:]
		}
		cur = w
	}
	if cur != "" || len(out) == 0 {
		out = append(out, cur)
	}
	return out
}

// fitPrefix returns the byte length of the longest prefix of w that fits
// into max points; 0 if not even the first character fits.
func fitPrefix(f *metrics, size float64, w string, max float64) int {
	n, width := 0, 0.0
	for i, r := range w {
		width += f.width(string(r), size)
		if width > max {
			return n
		}
		n = i + utf8.RuneLen(r)
	}
	return n
}

// Printable reports whether s can be printed in a receipt field: nil, or an
// error wrapping [ErrUncovered] (a character the embedded font lacks, named
// as U+XXXX) or [ErrInvalid] (control or invisible formatting characters,
// invalid UTF-8, longer than [MaxFieldBytes]). The collector calls it before
// a decision is recorded, so that every recorded decision gets its receipt.
func Printable(field, s string) error {
	if err := setup(); err != nil { // the fonts' metrics; nil before
		return err
	}
	_, err := printableIn(regular3, field, s, false)
	return err
}

// CharError is the character of a field that a receipt cannot print:
// Err is [ErrUncovered] (the font has no glyph for it) or [ErrInvalid] (a
// control or invisible formatting character). At is its byte offset in
// the field after NFC normalisation.
type CharError struct {
	Field string
	Rune  rune
	At    int
	Err   error
}

func (e *CharError) Error() string {
	if e.Err == ErrInvalid {
		return fmt.Sprintf("%v: %s: control or formatting character %U at byte %d", e.Err, e.Field, e.Rune, e.At)
	}
	return fmt.Sprintf("%v: %s: character %U %q at byte %d", e.Err, e.Field, e.Rune, e.Rune, e.At)
}

func (e *CharError) Unwrap() error { return e.Err }
