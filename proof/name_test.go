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
		{"张伟", "张伟", "", 0, ""},                                              // Droid Sans Fallback
		{"山田 花子", "山田 花子", "", 0, ""},                                        // kanji and kana
		{"김민준", "김민준", "", 0, ""},                                            // NanumGothic
		{"가영 Kim", "가영 Kim", "", 0, ""},                                      // 가 in Droid, 영 in NanumGothic
		{"ㄱㄴㄷ", "ㄱㄴㄷ", "", 0, ""},                                            // compatibility jamo
		{"Anna ☝", "", "name_char", '☝', `(U+261D WHITE UP POINTING INDEX)`}, // NanumGothic has it; only its Hangul is used
		{"김민준 😀", "", "name_char", '😀', `"😀" (U+1F600 GRINNING FACE) cannot be printed on the receipt; type the name without it`},
		{"Anna 😀", "", "name_char", '😀', `(U+1F600 GRINNING FACE)`},
		{"Nguyễn Thị Ánh", "Nguyễn Thị Ánh", "", 0, ""},                       // Noto Sans, layout 3
		{"דוד כהן", "דוד כהן", "", 0, ""},                                     // Noto Sans Hebrew, right to left
		{"דָּוִד", "", "name_char", '\u05b8', `(U+05B8 HEBREW POINT QAMATS)`}, // points need shaping
		{"مريم", "مريم", "", 0, ""},                                           // Noto Sans Arabic, shaped
		{"مَريم", "", "name_char", '\u064e', `(U+064E ARABIC FATHA)`},         // vowel marks need mark positioning
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

func TestCharCode(t *testing.T) {
	t.Parallel()
	for r, want := range map[rune]string{
		'张': "U+5F20 CJK UNIFIED IDEOGRAPH-5F20",
		'김': "U+AE40 HANGUL SYLLABLE GIM",
		'가': "U+AC00 HANGUL SYLLABLE GA",
		'힣': "U+D7A3 HANGUL SYLLABLE HIH",
		'뷁': "U+BDC1 HANGUL SYLLABLE BWELG",
		'😀': "U+1F600 GRINNING FACE",
		'ア': "U+30A2 KATAKANA LETTER A",
	} {
		if got := CharCode(r); got != want {
			t.Errorf("CharCode(%q) = %q, want %q", r, got, want)
		}
	}
}
