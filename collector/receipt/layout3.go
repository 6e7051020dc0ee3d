package receipt

import (
	"fmt"
	"net/url"
	"strings"
	"unicode/utf8"

	qrcode "github.com/skip2/go-qrcode"
)

// Layout 3 (issue 14, step 4): what layout 2 prints, made usable by a
// person:
//
//   - the record number is called as on the pages ("Vorgangsnummer",
//     "Reference number", theme key receipt_reference) and printed in
//     groups of four ("ed00 3a8f …"); every spelling is accepted where a
//     number is asked for (collector.NormalizeRecordID);
//   - links print in a short form on one line ("rad.example/v1/withdraw?…")
//     under a link annotation (PDF 32000 12.5.6.5) with the whole address,
//     so a phone viewer opens the link, never a truncated one; the
//     withdrawal link is also a QR code beside the withdrawal section;
//   - on the built-in template the footer names the controller (the
//     template without the program's name, template3.pdf);
//   - a grant made through a personal invite link says so
//     (receipt_via_invite), and a withdrawal receipt lists what is still
//     granted after it (receipt_purpose_still_granted, or
//     receipt_none_still_granted).

// QR code geometry: its side in points (25 mm) and the gap to the text.
const (
	qrSide = 70.87
	qrGap  = 12.0
)

// footerY is the baseline of layout 3's footer on the built-in template,
// below its bottom rule (at 48 pt).
const footerY = 36.0

// The text styles of layout 3: those of layouts 1 and 2 in its fonts.
var (
	style3Title   = style{&bold3, 18, 1.3, 0}
	style3Heading = style{&bold3, 11, 1.35, 0}
	style3Body    = style{&regular3, 10, 1.4, 0}
	style3Strong  = style{&bold3, 10, 1.4, 0}
	style3Note    = style{&regular3, 8.5, 1.4, 0.3}
)

// compose3 lays out v in layout 3; ok is false if the text runs below
// the bottom margin.
func compose3(v *values, scale float64) (doc []line, ok bool) {
	c := &composer{scale: scale, y: topY}
	lb := v.lb

	c.block(style3Title, lb.title, 0)
	c.text(style3Note, lb.intro)

	c.heading3(lb.controller)
	c.text(style3Body, v.ctrlName)
	if v.ctrlAddr != "" {
		c.text(style3Body, v.ctrlAddr)
	}
	c.field(style3Body, lb.email, v.ctrlMail)
	c.field(style3Body, lb.phone, v.ctrlPhone)

	c.heading3(lb.subject)
	c.field(style3Body, lb.name, v.name)
	c.field(style3Body, lb.phone, v.phone)
	c.field(style3Body, lb.email, v.email)

	c.heading3(lb.decision)
	c.text(style3Strong, v.decision)
	if v.viaInvite {
		c.text(style3Body, lb.viaInvite)
	}
	c.field(style3Body, lb.time, v.when)
	c.field(style3Body, lb.ref, groupID(v.ref))

	c.heading3(lb.purposes)
	if len(v.purposes) == 0 {
		c.text(style3Body, lb.noPurposes)
	}
	for i, title := range v.purposes {
		c.field(style3Body, v.purposeLabels[i], title)
	}
	if v.withdrawal {
		for _, title := range v.still {
			c.field(style3Body, lb.purposeStill, title)
		}
		if len(v.still) == 0 {
			c.text(style3Body, lb.noneStill)
		}
	}

	c.heading3(lb.evidence)
	c.field(style3Body, lb.reference, groupID(v.recordID))
	c.field(style3Body, lb.textVersion, v.textVersion)
	c.link(style3Body, lb.textURL, v.textURL)
	c.field(style3Body, lb.keyFP, v.key)
	c.text(style3Body, lb.attached)

	c.y -= 8 * c.scale
	top := c.y
	var qrLines []line
	if v.qr && v.withdrawalURL != "" {
		side := qrSide * c.scale
		x := marginX + textWidth - side
		if v.qrCode == nil {
			v.qrCode = startQR(v.withdrawalURL)
		}
		qrLines = append(qrLines, line{x: x, y: top - side, size: side, qr: v.qrCode, text: v.withdrawalURL})
		c.width = textWidth - side - qrGap*c.scale
	}
	c.text(style3Heading, lb.withdrawal)
	c.text(style3Body, lb.withdrawalText)
	c.link(style3Body, lb.online, v.withdrawalURL)
	c.field(style3Body, lb.email, v.ctrlMail)
	if v.ctrlAddr != "" {
		c.field(style3Body, lb.post, v.ctrlName+", "+v.ctrlAddr)
	}
	c.width = 0
	if len(qrLines) > 0 {
		// The caption under the QR code, right-aligned, and below the
		// section's last line, so it is read after it.
		capSize := style3Note.size * 0.85 * c.scale
		capY := min(qrLines[0].y-capSize*1.2, c.y)
		if capY < bottomY {
			return nil, false
		}
		c.lines = append(c.lines, qrLines[0], line{font: regular3, size: capSize, gray: style3Note.gray,
			x: marginX + textWidth - regular3.width(lb.qr, capSize), y: capY, text: lb.qr})
		c.y = capY - capSize*style3Note.leading
	}
	if v.footer {
		c.lines = append(c.lines, footerLine(v))
	}
	if c.full {
		return nil, false
	}
	return c.lines, true
}

// heading3 is heading in layout 3's fonts.
func (c *composer) heading3(s string) {
	c.y -= 8 * c.scale
	c.text(style3Heading, s)
}

// footerLine is layout 3's footer on the built-in template: the
// controller's name and address, shrunk to fit one line.
func footerLine(v *values) line {
	s := v.ctrlName
	if v.ctrlAddr != "" {
		s += " · " + v.ctrlAddr
	}
	size := 8.0
	for size > 4 && regular3.width(s, size) > textWidth {
		size -= 0.5
	}
	return line{font: regular3, size: size, gray: 0.45, x: marginX, y: footerY, text: s}
}

// link sets "label: short" on one line, the short form of address under
// a link annotation to the whole address; nothing if address is "".
func (c *composer) link(st style, label, address string) {
	if address == "" || c.full {
		return
	}
	f, size := *st.font, st.size*c.scale
	prefix := label + ": "
	short := fitShort(f, size, shortURL(address), c.lineWidth()-f.width(prefix, size))
	if c.y < bottomY {
		c.full = true
		return
	}
	c.lines = append(c.lines, line{font: f, size: size, gray: st.gray, x: marginX, y: c.y, text: prefix + short,
		uri: address, linkFrom: f.width(prefix, size)})
	c.y -= size * st.leading
}

// groupID prints a record number of 32 hex digits in groups of four
// ("ed00 3a8f 4ae1 …"), as a person reads it out; anything else as it is.
func groupID(id string) string {
	if len(id) != 32 || !isHex(id) {
		return id
	}
	var b strings.Builder
	for i := 0; i < len(id); i += 4 {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(id[i : i+4])
	}
	return b.String()
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// shortURL is the printed form of a link: without the scheme, the query
// as "?…", and in the path every token cut to its first 8 characters and
// "…" ("rad.example/archive/ee73e170….html"; see shortenRuns).
func shortURL(address string) string {
	s := address
	if u, err := url.Parse(address); err == nil && u.Host != "" {
		s = u.Host + shortenRuns(u.EscapedPath())
		if u.RawQuery != "" {
			s += "?…"
		}
		return s
	}
	return shortenRuns(s)
}

// shortenRuns cuts every token in s (a run of more than 12 letters,
// digits, "-" or "_" with a digit in it: a hash, an id, a secret) to its
// first 8 and "…"; words are kept.
func shortenRuns(s string) string {
	word := func(r rune) bool {
		return r == '-' || r == '_' || '0' <= r && r <= '9' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z'
	}
	var b strings.Builder
	rs := []rune(s)
	for i := 0; i < len(rs); {
		if !word(rs[i]) {
			b.WriteRune(rs[i])
			i++
			continue
		}
		j := i
		for j < len(rs) && word(rs[j]) {
			j++
		}
		if j-i > 12 && strings.ContainsAny(string(rs[i:j]), "0123456789") {
			b.WriteString(string(rs[i : i+8]))
			b.WriteRune('…')
		} else {
			b.WriteString(string(rs[i:j]))
		}
		i = j
	}
	return b.String()
}

// fitShort cuts s (with "…") until it fits into max points.
func fitShort(f *metrics, size float64, s string, max float64) string {
	if f.width(s, size) <= max {
		return s
	}
	for len(s) > 0 {
		_, n := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-n]
		if f.width(s+"…", size) <= max {
			return s + "…"
		}
	}
	return "…"
}

// qrCode is the QR code of a link (error correction level M, about 15
// %), made in a goroutine of its own from when the layout places it
// (compose3) until the page content draws it (contentStream): its
// mask selection is the costliest step of a receipt after reading and
// writing the PDF, and it overlaps with reading the template.
type qrCode struct {
	done chan struct{}
	bits [][]bool
	err  error
}

// startQR starts making the QR code of address.
func startQR(address string) *qrCode {
	q := &qrCode{done: make(chan struct{})}
	go func() {
		defer close(q.done)
		c, err := qrcode.New(address, qrcode.Medium)
		if err != nil {
			q.err = fmt.Errorf("%w: QR code of the withdrawal link: %v", ErrInvalid, err)
			return
		}
		c.DisableBorder = true
		q.bits = c.Bitmap()
	}()
	return q
}

// bitmap waits for the QR code and returns its modules (true: dark), row
// by row from the top.
func (q *qrCode) bitmap() ([][]bool, error) {
	<-q.done
	return q.bits, q.err
}

// qrContent draws a QR code's dark modules as filled rectangles, one per
// horizontal run, in black.
func qrContent(l line, origin [2]float64) (string, error) {
	bits, err := l.qr.bitmap()
	if err != nil {
		return "", err
	}
	n := len(bits)
	if n == 0 {
		return "", nil
	}
	m := l.size / float64(n)
	b := make([]byte, 0, 64*n)
	b = append(b, "q 0 g\n"...)
	ms := appendNum(nil, m)
	for row, mods := range bits {
		ys := appendNum(nil, origin[1]+l.y+float64(n-1-row)*m)
		for col := 0; col < len(mods); {
			if !mods[col] {
				col++
				continue
			}
			end := col
			for end < len(mods) && mods[end] {
				end++
			}
			b = appendNum(b, origin[0]+l.x+float64(col)*m)
			b = append(b, ' ')
			b = append(b, ys...)
			b = append(b, ' ')
			b = appendNum(b, float64(end-col)*m)
			b = append(b, ' ')
			b = append(b, ms...)
			b = append(b, " re\n"...)
			col = end
		}
	}
	b = append(b, "f Q\n"...)
	return string(b), nil
}

// fieldValues3 is fieldValues for layout 3: record numbers grouped, links
// short (the slot's lines get the link annotation, see placeSlots), and
// on a withdrawal what is still granted after the purposes withdrawn.
func fieldValues3(v *values) map[string][]string {
	m := fieldValues(v)
	set := func(name, s string) {
		if s != "" {
			m[name] = []string{s}
		}
	}
	set(FieldRecordID, groupID(v.recordID))
	set(FieldRef, groupID(v.ref))
	set(FieldTextURL, shortURL(v.textURL))
	set(FieldWithdrawalURL, shortURL(v.withdrawalURL))
	if v.withdrawal {
		for _, t := range v.still {
			m[FieldPurposes] = append(m[FieldPurposes], v.lb.purposeStill+": "+t)
		}
		if len(v.still) == 0 {
			m[FieldPurposes] = append(m[FieldPurposes], v.lb.noneStill)
		}
	}
	return m
}
