package proof

import (
	"errors"
	"strings"
	"testing"

	"github.com/chatconsent/chatconsent/collector/receipt"
)

func TestCheckName(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want, code string
		r              rune
		msg            string
	}{
		{"  Jürgen Weiß ", "Jürgen Weiß", "", 0, ""},
		{"Αλέξανδρος Юлия", "Αλέξανδρος Юлия", "", 0, ""},
		{"", "", "name", 0, "empty"},
		{"   ", "", "name", 0, "empty"},
		{"张伟", "", "name_char", '张', `"张" (U+5F20 CJK UNIFIED IDEOGRAPH-5F20) cannot be printed on the receipt; type the name without it`},
		{"Anna 😀", "", "name_char", '😀', `(U+1F600 GRINNING FACE)`},
		{"Nguyễn Thị Ánh", "Nguyễn Thị Ánh", "", 0, ""},                       // Noto Sans, layout 3
		{"דוד כהן", "דוד כהן", "", 0, ""},                                     // Noto Sans Hebrew, right to left
		{"דָּוִד", "", "name_char", '\u05b8', `(U+05B8 HEBREW POINT QAMATS)`}, // points need shaping
		{"مريم", "", "name_char", 'م', `(U+0645 ARABIC LETTER MEEM)`},
		{"Anna\u200bB", "", "name_invalid", '\u200b', "U+200B ZERO WIDTH SPACE"},
		{"a\nb", "", "name_invalid", '\n', "U+000A"},
		{strings.Repeat("a", MaxNameBytes+1), "", "name_invalid", 0, "more than 200"},
		{"\xff", "", "name_invalid", 0, "invalid UTF-8"},
	}
	for _, tt := range tests {
		got, err := CheckName(tt.in)
		if tt.code == "" {
			if err != nil || got != tt.want {
				t.Errorf("CheckName(%q) = %q, %+v; want %q", tt.in, got, err, tt.want)
			}
			continue
		}
		if err == nil || err.Code != tt.code || err.Rune != tt.r || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("CheckName(%q) = %q, %+v (%v); want code %s, rune %U, message with %q", tt.in, got, err, err, tt.code, tt.r, tt.msg)
		}
		if tt.code == "name_char" && !errors.Is(err, receipt.ErrUncovered) {
			t.Errorf("CheckName(%q): %v does not wrap ErrUncovered", tt.in, err)
		}
	}
}
