package phone

import (
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/nyaruka/phonenumbers"
)

func TestParse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, region, want, code string
		choices                []string
	}{
		// As typed in Germany, with and without country code.
		{in: "0170 1234567", region: "DE", want: "+491701234567"},
		{in: "+49 (0)170 123 45 67", region: "DE", want: "+491701234567"},
		{in: "0049 170 1234567", region: "DE", want: "+491701234567"},
		{in: "+48 512 345 678", region: "DE", want: "+48512345678"},
		{in: "030 1234567", region: "DE", want: "+49301234567"},
		{in: "030/123 45-67", region: "DE", want: "+49301234567"},
		{in: "0151.1234.5678", region: "DE", want: "+4915112345678"},
		{in: "0170\u202f1234567", region: "DE", want: "+491701234567"},
		{in: "+49\u00a0170\u00a01234567", region: "DE", want: "+491701234567"},
		{in: "15112345678", region: "DE", want: "+4915112345678"},
		// Country code without + or 00, as WhatsApp shows numbers: never doubled.
		{in: "4915112345678", region: "DE", want: "+4915112345678"},
		{in: "49 151 12345678", region: "DE", want: "+4915112345678"},
		{in: "491701234567", region: "DE", want: "+491701234567"},
		{in: "4917612345678", region: "DE", want: "+4917612345678"},
		{in: "4930123456", region: "DE", want: "+4930123456"},
		{in: "12125550100", region: "DE", want: "+12125550100"},
		{in: "1 212 555 0100", region: "DE", want: "+12125550100"},
		{in: "436641234567", region: "AT", want: "+436641234567"},
		// A foreign country code without +: also a valid German number.
		{in: "33612345678", region: "DE", code: CodeAmbiguous, choices: []string{"+33 6 12 34 56 78", "+49 3361 2345678"}},
		{in: "447911123456", region: "DE", code: CodeAmbiguous},
		{in: "17012345678", region: "DE", code: CodeAmbiguous},
		// Letters are refused, not dropped.
		{in: "01701234567abc", region: "DE", code: CodeCharacters},
		{in: "0170 1234567 x", region: "DE", code: CodeCharacters},
		{in: "0151 1234 5678 ext. 12", region: "DE", code: CodeCharacters},
		{in: "0800 FLOWERS", region: "DE", code: CodeCharacters},
		{in: "hello", region: "DE", code: CodeCharacters},
		{in: "0170\n1234567", region: "DE", code: CodeCharacters},
		// Not numbers.
		{in: "12", region: "DE", code: CodeInvalid},
		{in: "0170 12345678901234", region: "DE", code: CodeInvalid},
		{in: "", region: "DE", code: CodeInvalid},
		{in: "+", region: "DE", code: CodeInvalid},
		{in: "0170+1234567", region: "DE", code: CodeInvalid},
	}
	for _, tt := range tests {
		got, err := Parse(tt.in, tt.region)
		if tt.code == "" {
			if err != nil || got != tt.want {
				t.Errorf("Parse(%q, %s) = %q, %v; want %q", tt.in, tt.region, got, err, tt.want)
			}
			continue
		}
		var e *Error
		if !errors.As(err, &e) || e.Code != tt.code || got != "" {
			t.Errorf("Parse(%q, %s) = %q, %v; want error %s", tt.in, tt.region, got, err, tt.code)
			continue
		}
		if Code(err) != tt.code {
			t.Errorf("Code(%v) = %s, want %s", err, Code(err), tt.code)
		}
		if tt.choices != nil && !slices.Equal(e.Choices, tt.choices) {
			t.Errorf("Parse(%q) choices = %q, want %q", tt.in, e.Choices, tt.choices)
		}
	}
}

func TestParseUnknownRegion(t *testing.T) {
	t.Parallel()
	if _, err := Parse("0170 1234567", "XX"); err == nil {
		t.Fatal("Parse with region XX: no error")
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"4915112345678", "+49 (0)170 123 45 67", "0049 170", "33612345678", "0170x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := Parse(s, "DE")
		if err != nil {
			return
		}
		// E.164 is a fixed point.
		again, err := Parse(got, "DE")
		if err != nil || again != got {
			t.Fatalf("Parse(%q) = %q, but Parse(%q) = %q, %v", s, got, got, again, err)
		}
	})
}

// TestCompactSame: Parse hands libphonenumber the digits only (with a
// leading "+" kept); for every text Parse lets through, the library must
// read the compact form exactly as the text as typed: the same validity,
// number, formats and where the country code came from.
func TestCompactSame(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(13, 1))
	prefixes := []string{"", "", "+", "+", "00", "0", "+49 (0)", "0049 ", "(0", "+1 ", "+44 (0)", "+33 ", "+39 0", "011 "}
	seps := []string{" ", " ", "-", ".", "/", "(", ")", "\u00a0", "\u202f", "  ", " / "}
	regions := []string{"DE", "AT", "CH", "US", "GB", "FR", "IT", "NL", "PL"}
	for i := range 3000 {
		var b strings.Builder
		b.WriteString(prefixes[rng.IntN(len(prefixes))])
		for range 3 + rng.IntN(13) {
			if rng.IntN(4) == 0 {
				b.WriteString(seps[rng.IntN(len(seps))])
			}
			b.WriteByte(byte('0' + rng.IntN(10)))
		}
		s := b.String()
		if i < len(tests0) {
			s = tests0[i]
		}
		plain := strings.Map(func(r rune) rune {
			if r >= '0' && r <= '9' {
				return r
			}
			return -1
		}, s)
		compact := plain
		if strings.HasPrefix(s, "+") {
			compact = "+" + plain
		}
		region := regions[rng.IntN(len(regions))]
		if strings.Contains(s, "\u202f") {
			// libphonenumber does not take the narrow no-break space for
			// a separator (it refused such a number as typed); Parse's
			// rule does, and the compact form gives the number.
			continue
		}
		a, aok := valid(s, region)
		c, cok := valid(compact, region)
		if aok != cok {
			t.Errorf("%s: %q valid %v, %q valid %v", region, s, aok, compact, cok)
			continue
		}
		if !aok {
			continue
		}
		for _, f := range []phonenumbers.PhoneNumberFormat{phonenumbers.E164, phonenumbers.INTERNATIONAL, phonenumbers.NATIONAL} {
			if x, y := phonenumbers.Format(a, f), phonenumbers.Format(c, f); x != y {
				t.Errorf("%s: %q is %q, %q is %q", region, s, x, compact, y)
			}
		}
		if a.GetCountryCodeSource() != c.GetCountryCodeSource() {
			t.Errorf("%s: %q country code from %v, %q from %v", region, s, a.GetCountryCodeSource(), compact, c.GetCountryCodeSource())
		}
	}
}

// tests0 are the typed forms of TestParse, tried first by TestCompactSame.
var tests0 = []string{"0170 1234567", "+49 (0)170 123 45 67", "0049 170 1234567", "+48 512 345 678", "030 1234567",
	"030/123 45-67", "0151.1234.5678", "15112345678", "4915112345678", "49 151 12345678", "1 212 555 0100",
	"33612345678", "447911123456", "17012345678", "(030) 123 4567", "+1 (212) 555-0100"}

func BenchmarkParse(b *testing.B) {
	for _, in := range []string{"0170 1234567", "+49 170 1234567", "4915112345678"} {
		b.Run(in, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Parse(in, "DE"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
