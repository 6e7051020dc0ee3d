// Package phone reads a phone number as a person or an owner types it and
// returns it in E.164 ("+491701234567"), the one form the log stores.
//
// It is the one rule for the consent and withdrawal forms, `invite --phone`
// and every CLI command that takes a NUMBER, so a number typed in any of
// them finds the same person. Parsing and validity come from libphonenumber's
// metadata (github.com/nyaruka/phonenumbers).
//
// # Rule
//
//   - Only digits, spaces, and the separators + - . / ( ) are accepted;
//     anything else (a letter, an "ext.") is refused with [CodeCharacters]
//     rather than dropped, since a dropped character may be a typo.
//   - A number that starts with "+" or the region's international prefix
//     ("00" in Germany) is read as international, one that starts with the
//     region's national prefix ("0") as national.
//   - Bare digits ("4915112345678", as WhatsApp shows numbers without the
//     "+") are read both ways. A reading that is not a valid number drops
//     out. If both are valid and differ, digits that begin with the
//     region's own country code are that code (a national number is written
//     with its "0"); otherwise the number is ambiguous and refused with
//     [CodeAmbiguous], naming both ways to write it.
package phone

import (
	"errors"
	"fmt"
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// Codes of an [Error]; they are also the suffixes of the theme's message
// keys ("err_phone_invalid", "err_phone_ambiguous", "err_phone_characters").
const (
	CodeInvalid    = "phone_invalid"
	CodeAmbiguous  = "phone_ambiguous"
	CodeCharacters = "phone_characters"
)

// Error says why a number was refused. Choices holds, for [CodeAmbiguous],
// the number written both ways in international format ("+33 6 12 34 56
// 78"), so a message can show what to type instead.
type Error struct {
	Code    string
	Choices []string
}

func (e *Error) Error() string {
	switch e.Code {
	case CodeAmbiguous:
		return "ambiguous phone number: write it with its country code and a leading +, e.g. " + strings.Join(e.Choices, " or ")
	case CodeCharacters:
		return "a phone number has only digits, spaces and + - . / ( )"
	}
	return "not a valid phone number"
}

// Parse returns s in E.164. region (ISO 3166-1 alpha-2, e.g. "DE") is the
// country of numbers written without a country code. The error is an
// [*Error].
func Parse(s, region string) (string, error) {
	s = strings.TrimSpace(s)
	digits := 0
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case strings.ContainsRune(" +-./()\u00a0\u202f", r):
		default:
			return "", &Error{Code: CodeCharacters}
		}
	}
	if digits == 0 || strings.LastIndexByte(s, '+') > 0 {
		return "", &Error{Code: CodeInvalid}
	}
	plain := strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
	cc := phonenumbers.GetCountryCodeForRegion(region)
	if cc == 0 {
		return "", fmt.Errorf("phone: unknown region %q", region)
	}
	// libphonenumber reads the separators as it reads nothing (and a
	// refused character never gets here), but its extension pattern is
	// tried at every position of the text: hand it the digits, with the
	// "+" if there was one, which costs it a fraction (TestCompactSame).
	compact := plain
	if strings.HasPrefix(s, "+") {
		compact = "+" + plain
	}
	national, nationalOK := valid(compact, region)
	ndd := phonenumbers.GetNddPrefixForRegion(region, true)
	written := phonenumbers.PhoneNumber_FROM_DEFAULT_COUNTRY
	if nationalOK {
		written = national.GetCountryCodeSource()
	}
	switch {
	case written == phonenumbers.PhoneNumber_FROM_NUMBER_WITH_PLUS_SIGN,
		written == phonenumbers.PhoneNumber_FROM_NUMBER_WITH_IDD,
		strings.HasPrefix(s, "+"),
		ndd != "" && strings.HasPrefix(plain, ndd):
		// Written with "+", "00" or the national "0": one reading.
		if !nationalOK {
			return "", &Error{Code: CodeInvalid}
		}
		return format(national), nil
	}
	withPlus, plusOK := valid("+"+plain, region)
	switch {
	case nationalOK && plusOK:
		a, b := format(national), format(withPlus)
		if a == b || int(withPlus.GetCountryCode()) == cc {
			return b, nil
		}
		return "", &Error{Code: CodeAmbiguous, Choices: []string{
			phonenumbers.Format(withPlus, phonenumbers.INTERNATIONAL),
			phonenumbers.Format(national, phonenumbers.INTERNATIONAL),
		}}
	case plusOK:
		return format(withPlus), nil
	case nationalOK:
		return format(national), nil
	}
	return "", &Error{Code: CodeInvalid}
}

// Code returns the [Error] code of err, or CodeInvalid for any other error.
func Code(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInvalid
}

func valid(s, region string) (*phonenumbers.PhoneNumber, bool) {
	n, err := phonenumbers.ParseAndKeepRawInput(s, region)
	if err != nil || !phonenumbers.IsValidNumber(n) {
		return nil, false
	}
	return n, true
}

func format(n *phonenumbers.PhoneNumber) string { return phonenumbers.Format(n, phonenumbers.E164) }

// DefaultRegion is the region of numbers without a country code when the
// owner configured none: chatconsent is made for shops in Germany.
const DefaultRegion = "DE"
