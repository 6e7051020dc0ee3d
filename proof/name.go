package proof

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/runenames"

	"github.com/chatconsent/chatconsent/collector/receipt"
)

// MaxNameBytes is the longest name a data subject may give, in bytes.
const MaxNameBytes = 200

// NameError says why a name cannot be recorded: Code is a key suffix of
// the theme's err_* strings ("name": empty, "name_invalid": too long,
// invalid UTF-8, a control or invisible character; "name_char": a
// character the receipt cannot print). Rune is the character, if one is
// to blame.
type NameError struct {
	Code string
	Rune rune
	Err  error
}

func (e *NameError) Error() string {
	switch {
	case e == nil:
		return "<nil>"
	case e.Code == "name":
		return "the name is empty"
	case e.Rune != 0 && e.Code == "name_char":
		return fmt.Sprintf("the character \"%c\" (%s) cannot be printed on the receipt; type the name without it, for example in Latin letters as in a passport", e.Rune, CharCode(e.Rune))
	case e.Rune != 0:
		return fmt.Sprintf("the name contains the invisible or control character %s; type it again without it", CharCode(e.Rune))
	}
	return fmt.Sprintf("the name is not valid: %v", e.Err)
}

func (e *NameError) Unwrap() error { return e.Err }

// CharCode names a character for a person who has to find it in what
// they typed: its code point and its Unicode name, "U+1F600 GRINNING
// FACE" (just "U+XXXX" for a character without a name).
func CharCode(r rune) string {
	switch n := runenames.Name(r); {
	case n == "<CJK Ideograph>":
		// The name Unicode derives for them (rule NR2).
		return fmt.Sprintf("%U CJK UNIFIED IDEOGRAPH-%04X", r, r)
	case n == "<Hangul Syllable>" && r >= 0xAC00 && r <= 0xD7A3:
		// Rule NR1 (Unicode 3.12): the short names of its jamo.
		i := int(r - 0xAC00)
		return fmt.Sprintf("%U HANGUL SYLLABLE %s%s%s", r, jamoL[i/588], jamoV[i%588/28], jamoT[i%28])
	case n != "" && !strings.HasPrefix(n, "<"):
		return fmt.Sprintf("%U %s", r, n)
	}
	return fmt.Sprintf("%U", r)
}

// The short names of the leading consonants, vowels and trailing
// consonants of Hangul syllables (Unicode, Jamo.txt).
var (
	jamoL = []string{"G", "GG", "N", "D", "DD", "R", "M", "B", "BB", "S", "SS", "", "J", "JJ", "C", "K", "T", "P", "H"}
	jamoV = []string{"A", "AE", "YA", "YAE", "EO", "E", "YEO", "YE", "O", "WA", "WAE", "OE", "YO", "U", "WEO", "WE", "WI", "YU", "EU", "YI", "I"}
	jamoT = []string{"", "G", "GG", "GS", "N", "NJ", "NH", "D", "L", "LG", "LM", "LB", "LS", "LT", "LP", "LH", "M", "B", "BS", "S", "SS", "NG", "J", "C", "K", "T", "P", "H"}
)

// CheckName applies the one rule for a data subject's name, the same for
// the consent form and for invite --name (issue 11 item 15): not empty
// after trimming spaces, at most [MaxNameBytes], valid UTF-8, no control
// or invisible formatting characters, and printable on the receipt
// (receipt.Printable). It returns the trimmed name, or a *NameError naming
// the character to blame.
func CheckName(name string) (string, *NameError) {
	name = strings.TrimSpace(name)
	switch {
	case name == "":
		return "", &NameError{Code: "name"}
	case len(name) > MaxNameBytes:
		return "", &NameError{Code: "name_invalid", Err: fmt.Errorf("%d bytes, more than %d", len(name), MaxNameBytes)}
	case !utf8.ValidString(name):
		return "", &NameError{Code: "name_invalid", Err: errors.New("invalid UTF-8")}
	}
	for _, r := range name {
		if r == utf8.RuneError || unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return "", &NameError{Code: "name_invalid", Rune: r, Err: errors.New("control character")}
		}
	}
	if err := receipt.Printable("name", name); err != nil {
		var ce *receipt.CharError
		if errors.As(err, &ce) {
			code := "name_char"
			if errors.Is(err, receipt.ErrInvalid) {
				code = "name_invalid"
			}
			return "", &NameError{Code: code, Rune: ce.Rune, Err: err}
		}
		return "", &NameError{Code: "name_invalid", Err: err}
	}
	return name, nil
}
