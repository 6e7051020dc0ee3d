// Package fields is the one table of the fields a data subject's browser
// (or an API client) posts to the collector: the consent form (POST
// /v1/consent) and the withdrawal forms (POST /v1/withdraw, and the
// query of GET /v1/withdraw behind a personal link). The names are the
// HTTP contract, the same in application/x-www-form-urlencoded and in
// JSON bodies; the limits are what the collector accepts and what the
// theme's inputs say in maxlength.
//
// The collector decodes exactly these fields (package collector's
// tests compare its decoders with [All]); the theme's layouts may post no
// other name (package themes' tests read every layout's name="…" and
// maxlength="…" against [All]). A new field starts here.
package fields

// Form is a set of the forms a field belongs to.
type Form int

// The forms.
const (
	// Consent is the consent form, POST /v1/consent.
	Consent Form = 1 << iota
	// Withdrawal is the withdrawal form, POST /v1/withdraw (the static
	// withdrawal page and the page behind a personal link).
	Withdrawal
)

// Field names: the HTTP contract.
const (
	Decision    = "decision"     // "granted" or "refused"
	Name        = "name"         // the person's name
	Phone       = "phone"        // the person's phone number, as typed
	Email       = "email"        // optional address for the receipt
	Purpose     = "purpose"      // repeated: one purpose id each ("all" on withdrawal)
	Lang        = "lang"         // the page's language
	TextVersion = "text_version" // SHA-256 (hex) of the text shown
	Honeypot    = "website"      // hidden from people; bots fill it in
	Invite      = "invite"       // a personal invite token
	ID          = "id"           // the record id of the decision to withdraw from
	Key         = "k"            // the MAC of a personal withdrawal link
)

// Limits on text fields, in runes (the inputs' maxlength).
const (
	MaxName  = 200
	MaxPhone = 40
	MaxEmail = 254 // RFC 5321's path limit, in bytes for the collector
	MaxID    = 64
)

// Field is one row of the table.
type Field struct {
	// Name is the HTTP name.
	Name string
	// Forms are the forms that post it.
	Forms Form
	// Repeated fields may be given more than once (an array in JSON);
	// every other field at most once.
	Repeated bool
	// MaxRunes is the input's maxlength; 0 for fields without a text
	// input of their own (hidden, buttons, checkboxes).
	MaxRunes int
}

// All is the table, in the order the consent form shows its fields.
var All = []Field{
	{Name: Name, Forms: Consent, MaxRunes: MaxName},
	{Name: Phone, Forms: Consent | Withdrawal, MaxRunes: MaxPhone},
	{Name: Email, Forms: Consent, MaxRunes: MaxEmail},
	{Name: Purpose, Forms: Consent | Withdrawal, Repeated: true},
	{Name: Decision, Forms: Consent},
	{Name: Lang, Forms: Consent | Withdrawal},
	{Name: TextVersion, Forms: Consent},
	{Name: Honeypot, Forms: Consent},
	{Name: Invite, Forms: Consent | Withdrawal},
	{Name: ID, Forms: Withdrawal, MaxRunes: MaxID},
	{Name: Key, Forms: Withdrawal},
}

// Of returns the fields of form, in the order of [All].
func Of(form Form) []Field {
	var out []Field
	for _, f := range All {
		if f.Forms&form != 0 {
			out = append(out, f)
		}
	}
	return out
}

// Lookup returns the field named name in form.
func Lookup(form Form, name string) (Field, bool) {
	for _, f := range Of(form) {
		if f.Name == name {
			return f, true
		}
	}
	return Field{}, false
}
