// Package fields is the one table of the values of a decision: the fields
// a data subject's browser (or an API client) posts to the collector, and
// the values a receipt and the owner's list and export show of them.
//
// # The table
//
// [All] has one row per value. A posted field ([Field].Forms ≠ 0) belongs
// to the consent form (POST /v1/consent) and/or the withdrawal forms (POST
// /v1/withdraw, and the query of GET /v1/withdraw behind a personal link);
// its name is the HTTP contract, the same in
// application/x-www-form-urlencoded and in JSON bodies. A row with no form
// is a value taken from the record or the config (the record id, the time,
// the controller), which only a receipt shows. The columns say, per value:
//
//   - Name, Forms, Repeated: what the collector decodes;
//   - Input, Autocomplete, Label, Hint, MaxRunes, Required, Check: the text
//     inputs a person types into, as the theme's layouts render them
//     (ranging over [Inputs]) and as the collector validates them;
//   - Receipt, ReceiptRequired: the receipt value a form or positioned
//     receipt template can place ([[receipt.fields]] field = "…", or an
//     AcroForm field's name; see [ReceiptNames]);
//   - Export: the column of `chatconsent list` and the member of
//     `chatconsent export`'s subject ([ExportColumns]).
//
// # Who reads it
//
// The collector's decoders are built from the posted fields of their form
// ([Of]; a field without a member of the request struct is decoded, checked
// by its Check and re-shown on the form all the same); the default theme's
// consent and withdrawal layouts range over [Inputs], and themes' tests
// check every layout's name="…" and maxlength="…" against the table; the
// receipt package's FieldNames and RequiredFields and the config's
// ReceiptFieldNames are [ReceiptNames] and [ReceiptRequired]; the owner's
// list (CSV header and cells) names the subject's columns by
// [ExportColumns]. A new field starts here; its label, hint and error
// messages (err_NAME, err_NAME_invalid) are theme strings
// (themes/default/i18n).
//
// What the table does not reach: the signed record keeps the data
// subject's fields as typed members (collector/ledger's Subject: name,
// phone, email), each committed to separately in format version 2, so a
// new personal field that must be recorded also needs a member there and
// in its readers (a format decision, not a table row).
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

// Field names: the HTTP contract of the posted fields.
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

// Names of the values only a receipt shows (rows without a form), as a
// form or positioned receipt template names them.
const (
	Controller        = "controller"         // the controller's name
	ControllerAddress = "controller_address" // one line
	ControllerEmail   = "controller_email"
	ControllerPhone   = "controller_phone"
	Time              = "time"     // Europe/Berlin with UTC offset
	Purposes          = "purposes" // the receipt value of [Purpose]: one line per purpose
	RecordID          = "record_id"
	TextURL           = "text_url"
	SigningKey        = "key" // the signing key's fingerprint
	WithdrawalURL     = "withdrawal_url"
	Ref               = "ref" // on a withdrawal receipt: the decision withdrawn from
)

// Limits on text fields, in runes (the inputs' maxlength).
const (
	MaxName  = 200
	MaxPhone = 40
	MaxEmail = 254 // RFC 5321's path limit, in bytes for the collector
	MaxID    = 64
)

// Check is how the collector validates a text input.
type Check int

// The checks.
const (
	// NoCheck: not a text input; the handler checks the field itself.
	NoCheck Check = iota
	// CheckText: valid UTF-8, no control or bidirectional override
	// characters, at most MaxRunes runes; a field for a new text input.
	CheckText
	// CheckName: CheckText plus the characters a receipt can print (the
	// rule of proof.CheckName, shared with invite --name).
	CheckName
	// CheckPhone: a phone number (internal/phone), stored as E.164.
	CheckPhone
	// CheckEmail: a bare address of at most MaxRunes bytes.
	CheckEmail
	// CheckRecordID: the record id of a decision (32 hex digits).
	CheckRecordID
)

// Field is one row of the table.
type Field struct {
	// Name is the HTTP name of a posted field, else the value's name.
	Name string
	// Forms are the forms that post it; 0 for a value only a receipt
	// shows.
	Forms Form
	// Repeated fields may be given more than once (an array in JSON);
	// every other field at most once.
	Repeated bool
	// MaxRunes is the input's maxlength; 0 for fields without a text
	// input of their own (hidden, buttons, checkboxes).
	MaxRunes int

	// Input is the type of the text input a person types the value into
	// ("text", "tel", "email"); "" for fields the layouts write
	// themselves (hidden fields, checkboxes, buttons).
	Input string
	// Autocomplete is the input's autocomplete token (HTML §4.10.18.7).
	Autocomplete string
	// NoSpellcheck turns the browser's spell checker off (for codes).
	NoSpellcheck bool
	// Label is the theme string of the input's label.
	Label string
	// Hint is the theme string of the hint under the input, "" for none.
	// The withdrawal form shows "withdraw_"+Hint; the consent form with a
	// personal invite "invite_"+Hint for the field the invite fills in
	// (FromInvite); the e-mail field without mail (no [smtp])
	// Hint+"_nomail".
	Hint string
	// Required fields must not be empty; their label says so.
	Required bool
	// FromInvite fields are filled in by a personal invite link and shown
	// read-only on its form (the number the invite was sent to).
	FromInvite bool
	// Check is how the collector validates the value.
	Check Check

	// Receipt is the receipt value that shows the field, "" for none.
	Receipt string
	// ReceiptRequired values must each appear on a form or positioned
	// receipt template: without them a receipt does not say who decided
	// what, when, or which record proves it.
	ReceiptRequired bool

	// Export is the field's column in the owner's list and member of the
	// export's subject, "" for none. IdentifiesPerson marks the field
	// that keys a person (the number): its column comes first.
	Export           string
	IdentifiesPerson bool
}

// All is the table, in the order of the full receipt; the inputs of a
// form are shown in this order too.
var All = []Field{
	{Name: Controller, Receipt: Controller},
	{Name: ControllerAddress, Receipt: ControllerAddress},
	{Name: ControllerEmail, Receipt: ControllerEmail},
	{Name: ControllerPhone, Receipt: ControllerPhone},
	{
		Name: Name, Forms: Consent, MaxRunes: MaxName,
		Input: "text", Autocomplete: "name", Label: "name_label", Required: true, Check: CheckName,
		Receipt: Name, ReceiptRequired: true, Export: "name",
	},
	{
		Name: Phone, Forms: Consent | Withdrawal, MaxRunes: MaxPhone,
		Input: "tel", Autocomplete: "tel", Label: "phone_label", Hint: "phone_hint", Required: true, FromInvite: true, Check: CheckPhone,
		Receipt: Phone, ReceiptRequired: true, Export: "phone", IdentifiesPerson: true,
	},
	{
		Name: Email, Forms: Consent, MaxRunes: MaxEmail,
		Input: "email", Autocomplete: "email", Label: "email_label", Hint: "email_hint", Check: CheckEmail,
		Receipt: Email, Export: "email",
	},
	{Name: Decision, Forms: Consent, Receipt: Decision, ReceiptRequired: true},
	{Name: Time, Receipt: Time, ReceiptRequired: true},
	{Name: Purpose, Forms: Consent | Withdrawal, Repeated: true, Receipt: Purposes, ReceiptRequired: true},
	{Name: RecordID, Receipt: RecordID, ReceiptRequired: true},
	{Name: TextVersion, Forms: Consent, Receipt: TextVersion},
	{Name: TextURL, Receipt: TextURL},
	{Name: SigningKey, Receipt: SigningKey},
	{Name: WithdrawalURL, Receipt: WithdrawalURL},
	{Name: Ref, Receipt: Ref},
	{Name: Lang, Forms: Consent | Withdrawal},
	{Name: Honeypot, Forms: Consent},
	{Name: Invite, Forms: Consent | Withdrawal},
	{
		Name: ID, Forms: Withdrawal, MaxRunes: MaxID,
		Input: "text", Autocomplete: "off", NoSpellcheck: true, Label: "record_id", Hint: "id_hint", Required: true, Check: CheckRecordID,
	},
	{Name: Key, Forms: Withdrawal},
}

// Of returns the fields of form, in the order of [All].
func Of(form Form) []Field { return OfTable(All, form) }

// OfTable returns the fields of form in table (a copy of [All] with a
// field more, in tests), in table order.
func OfTable(table []Field, form Form) []Field {
	var out []Field
	for _, f := range table {
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

// Inputs returns the text inputs of form in table (usually [All]): the
// fields with an Input, in table order.
func Inputs(table []Field, form Form) []Field {
	var out []Field
	for _, f := range OfTable(table, form) {
		if f.Input != "" {
			out = append(out, f)
		}
	}
	return out
}

// ReceiptNames returns the receipt values of table (usually [All]), in
// table order: what a form or positioned receipt template may name.
func ReceiptNames(table []Field) []string {
	var out []string
	for _, f := range table {
		if f.Receipt != "" {
			out = append(out, f.Receipt)
		}
	}
	return out
}

// ReceiptRequired returns the receipt values of table that every form or
// positioned receipt template must place, in table order.
func ReceiptRequired(table []Field) []string {
	var out []string
	for _, f := range table {
		if f.Receipt != "" && f.ReceiptRequired {
			out = append(out, f.Receipt)
		}
	}
	return out
}

// ExportColumns returns the columns of table (usually [All]) that the
// owner's list and export show of the data subject: the one that
// identifies the person first, then the others in table order.
func ExportColumns(table []Field) []string {
	var first, rest []string
	for _, f := range table {
		switch {
		case f.Export == "":
		case f.IdentifiesPerson:
			first = append(first, f.Export)
		default:
			rest = append(rest, f.Export)
		}
	}
	return append(first, rest...)
}
