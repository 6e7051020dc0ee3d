package receipt

import (
	"fmt"
	"strings"
	"unicode"
)

// Links returns the addresses of the URI link annotations of pdf (PDF
// 32000 12.5.6.5 and 12.6.4.7), page by page in the order of each page's
// /Annots: on a receipt of layout 3 the whole archived-text and
// withdrawal links, of which the page prints only a short form. A PDF
// that cannot be read is an error ([ErrNotPDF] if it is not a PDF at all).
func Links(pdf []byte) ([]string, error) {
	ctx, err := openPDF(pdf)
	if err != nil {
		return nil, err
	}
	var out []string
	for p := 1; p <= ctx.PageCount; p++ {
		pd, _, _, err := ctx.PageDict(p, false)
		if err != nil {
			return nil, fmt.Errorf("receipt: page %d: %w", p, err)
		}
		o, ok := pd.Find("Annots")
		if !ok {
			continue
		}
		arr, err := ctx.DereferenceArray(o)
		if err != nil {
			return nil, fmt.Errorf("receipt: page %d: annotations: %w", p, err)
		}
		for _, a := range arr {
			d, err := ctx.DereferenceDict(a)
			if err != nil || d == nil || d.NameEntry("Subtype") == nil || *d.NameEntry("Subtype") != "Link" {
				continue
			}
			act, err := ctx.DereferenceDict(d["A"])
			if err != nil || act == nil {
				continue
			}
			uri, err := ctx.Dereference(act["URI"])
			if err != nil {
				continue
			}
			if b, ok := stringBytes(uri); ok {
				out = append(out, string(b))
			}
		}
	}
	return out, nil
}

// StillGrantedShown returns those of candidates that pdf, a withdrawal
// receipt of layout 3 in language lang, lists as still granted ("■ still
// granted: Title", wrapped or not), in the order of candidates. A verifier
// takes them from the receipt because they are not in the signed record,
// then makes the receipt again with them and compares, so a listed title
// that is no candidate, or a changed one, still fails the comparison.
func (s *Stamper) StillGrantedShown(pdf []byte, lang string, candidates []Purpose) ([]Purpose, error) {
	lb := s.labels[lang]
	if lb == nil {
		return nil, fmt.Errorf("%w: Lang %q: no labels", ErrInvalid, lang)
	}
	lines, err := Text(pdf)
	if err != nil {
		return nil, err
	}
	text := squeeze(strings.Join(lines, ""))
	var out []Purpose
	for _, p := range candidates {
		if strings.Contains(text, squeeze(lb.purposeStill+": "+p.Title)) {
			out = append(out, p)
		}
	}
	return out, nil
}

// squeeze drops white space (lines wrap at spaces, which are dropped).
func squeeze(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, s)
}
