// Package e164 normalises telephone numbers as people type them into the
// international format E.164 (ITU-T E.164: "+" and up to 15 digits), with
// libphonenumber's metadata (github.com/nyaruka/phonenumbers). It is a leaf:
// the collector's form, the withdrawal form and the owner's commands
// (invite, status, export) all read numbers through [Normalize], so a
// number is written the same way everywhere.
package e164

import "github.com/nyaruka/phonenumbers"

// Normalize parses a phone number as typed by a person ("0170 1234567",
// "+49 (0)170 123 45 67", "0049…") with defaultRegion (ISO 3166-1 alpha-2,
// e.g. "DE") for numbers without a country code, and returns it in E.164
// ("+491701234567"). It uses libphonenumber's metadata (nyaruka/phonenumbers).
func Normalize(s, defaultRegion string) (string, bool) {
	n, err := phonenumbers.Parse(s, defaultRegion)
	if err != nil || !phonenumbers.IsValidNumber(n) {
		return "", false
	}
	return phonenumbers.Format(n, phonenumbers.E164), true
}
