// Package receipt turns a consent decision into a one-page PDF receipt: the
// proof that a controller must be able to show that the data subject
// consented (GDPR Art. 7(1)), in a form the data subject keeps as well.
//
// A receipt shows, in the data subject's language (German or English), the
// controller, the data subject, the decision and its time (Europe/Berlin,
// with UTC offset), every purpose as granted or not, the version (SHA-256)
// and address of the texts shown, the record id, the fingerprint of the
// signing key and how to withdraw consent (GDPR Art. 7(3)). The exact signed
// log line is attached to the PDF as the embedded file "record.json", so the
// receipt carries its own evidence; [Attachment] reads it back.
//
// An owner's template can be a form (AcroForm fields named after the
// values) or a letterhead with [Placement]s; the value names are
// [FieldNames], internal/fields' receipt column, which the site
// configuration checks [[receipt.fields]] against as well. The package
// imports nothing of chatconsent's but such shared leaves.
//
// # Printing
//
// A [Stamper] prints onto a template PDF (by default the embedded
// template.pdf, regenerated with go generate) using pdfcpu's building
// blocks: it writes the page content itself, one text-showing operator per
// line with the text as glyph ids of the Go fonts (Go Regular and Go Bold,
// which cover WGL4: Latin, Greek and Cyrillic; embedded whole, once per
// Stamper). Nothing in the data is interpreted, unlike pdfcpu's stamp and
// create APIs, which expand "%p" and "\n" in their text. [Lines] returns
// exactly the lines printed; long values wrap within the text width, and if
// the text does not fit on the page at full size, all of it shrinks (down
// to 70 %) before the receipt is refused.
//
// A character the font lacks would be dropped silently by pdfcpu; instead
// [Lines] and [Stamper.Stamp] fail with [ErrUncovered], naming the field and
// the character. Control, line-separator and invisible formatting
// characters fail with [ErrInvalid]; text is printed in Unicode normal form
// C, so decomposed input ("u" + combining diaeresis) prints as "ü".
//
// # Layout 3
//
// Receipts of [CurrentLayout] ("3") print the record number as
// "Vorgangsnummer" in groups of four, links in a short form under link
// annotations with the whole address ([Links] reads them back), a QR code
// of the withdrawal link drawn as filled rectangles, the controller in the
// footer of the built-in template (template3.pdf, without the program's
// name), whether a grant came through an invite link ([Data].ViaInvite)
// and, on a withdrawal, what is still granted ([Data].StillGranted,
// read back by [Stamper.StillGrantedShown]). Its fonts are the Go fonts
// with "-" in the typographic hyphen glyph, embedded as fonts of their own
// (GoRegular-Hyphen, Go-Bold-Hyphen), so the fonts of layouts 1 and 2 stay
// byte for byte as their receipts have them. A character of a value that
// the Go fonts lack prints in the first of Noto Sans, Noto Sans Hebrew,
// Noto Sans Arabic, Droid Sans Fallback (Chinese and Japanese) and
// NanumGothic (Korean) that has
// it (all embedded in the binary, fonts/; a subset of the glyphs shown per
// receipt, see subsetTTF and subsetCompact), and a line with right-to-left
// text is drawn in visual order (UAX #9 with golang.org/x/text/unicode/bidi).
// Arabic is shaped (github.com/go-text/typesetting, HarfBuzz's rules:
// joined forms, lam-alef, kerning; see shape.go), and its ToUnicode map
// gives the letters typed. What is still not printed — combining marks
// (Hebrew points, Arabic vowel marks, a mark without a composed form)
// and emoji (no font here) — fails with [ErrUncovered],
// which is what [Printable] and so the form refuse.
//
// # Reproducible output
//
// [Stamper.Stamp] gives the same bytes for the same [Data] and template, so
// a verifier can re-stamp a record and compare the files. pdfcpu on its own
// does not: it writes objects in Go's random map order, stamps Producer,
// CreationDate, ModDate and the file identifier with the current time, and
// names font subsets with a random tag. The package fixes the subset tag,
// and rewrites pdfcpu's output with the objects in number order, its own
// document information (dates = Data.Time) and a content-derived file
// identifier. Byte equality holds for one version of this package, pdfcpu
// and the template.
//
// # Layouts and verification
//
// Every receipt names its frozen layout in the description of its record
// attachment ([LayoutOf]; the first release's means layout "1"), and
// [Stamper.StampLayout] makes a receipt again in that layout. [CompareWith]
// compares what two receipts show (each page's drawing operators with the
// text decoded and positions within half a point, resources by content,
// page boxes, annotations) and their attachments, not how the files are
// written: a receipt re-saved by qpdf, mutool clean or pdfcpu optimize
// still compares equal. [Attachments] reads every attached file, so other
// rooms can add theirs (openings, inclusion proofs) and check them.
//
// # pdfcpu set-up
//
// pdfcpu embeds TrueType fonts only from its configuration directory, a
// process-wide setting. On first use the package installs the Go fonts into
// a private temporary directory (never the user's home) and points pdfcpu
// at it, once per process; this is the package's only global state. Other
// code in the same process that uses pdfcpu shares that configuration.
package receipt
