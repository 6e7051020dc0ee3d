package themes

import (
	"io/fs"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/chatconsent/chatconsent/internal/fields"
)

// layoutForms are the layouts with a form and the form each posts.
var layoutForms = map[string]fields.Form{
	LayoutConsent:      fields.Consent,
	LayoutWithdrawal:   fields.Withdrawal,
	LayoutWithdrawLink: fields.Withdrawal,
}

var (
	controlRe   = regexp.MustCompile(`<(?:input|button|select|textarea)\b[^>]*>`)
	nameAttrRe  = regexp.MustCompile(`\sname="([^"]*)"`)
	maxLengthRe = regexp.MustCompile(`\smaxlength="([^"]*)"`)
)

// TestLayoutFieldsInTable: every form control of the default theme posts
// a field of internal/fields' table for its form, with the table's
// maxlength (on the inputs a person types into); every field of the table is on one of its form's layouts;
// and no other layout has a form control.
func TestLayoutFieldsInTable(t *testing.T) {
	t.Parallel()
	seen := map[fields.Form][]string{}
	for _, layout := range append([]string{"baseof"}, Layouts...) {
		src, err := fs.ReadFile(Default, "default/layouts/"+layout+".html")
		if err != nil {
			t.Fatal(err)
		}
		form, hasForm := layoutForms[layout]
		for _, ctl := range controlRe.FindAllString(string(src), -1) {
			m := nameAttrRe.FindStringSubmatch(ctl)
			if m == nil {
				continue // e.g. a button without a value to post
			}
			if !hasForm {
				t.Errorf("%s.html: control %s outside the forms of the field table", layout, ctl)
				continue
			}
			if m[1] == "{{.Name}}" {
				// The text inputs, rendered from the table (TestInputsFromTable).
				rng := map[fields.Form]string{fields.Consent: "range $in := .ConsentInputs", fields.Withdrawal: "range $in := .WithdrawalInputs"}[form]
				if !strings.Contains(string(src), rng) {
					t.Errorf("%s.html: control %s names a field by {{.Name}} outside {{%s}}", layout, ctl, rng)
				}
				for _, f := range fields.Inputs(fields.All, form) {
					seen[form] = append(seen[form], f.Name)
				}
				continue
			}
			f, ok := fields.Lookup(form, m[1])
			if !ok {
				t.Errorf("%s.html: field %q is not in internal/fields' table for this form", layout, m[1])
				continue
			}
			seen[form] = append(seen[form], f.Name)
			hidden := strings.Contains(ctl, `type="hidden"`)
			if ml := maxLengthRe.FindStringSubmatch(ctl); ml != nil || (f.MaxRunes != 0 && !hidden) {
				got := 0
				if ml != nil {
					got, _ = strconv.Atoi(ml[1])
				}
				if got != f.MaxRunes {
					t.Errorf("%s.html: %s has maxlength %d, the table says %d", layout, f.Name, got, f.MaxRunes)
				}
			}
		}
	}
	for _, form := range []fields.Form{fields.Consent, fields.Withdrawal} {
		for _, f := range fields.Of(form) {
			if !slices.Contains(seen[form], f.Name) {
				t.Errorf("field %q of form %d is on none of its layouts", f.Name, form)
			}
		}
	}
}

// TestInputsFromTable: a text input added to (a copy of) internal/fields'
// table appears on the consent form without touching the layout: its
// label, maxlength, autocomplete, the value to re-fill and its error; and
// the table's inputs are rendered in table order.
func TestInputsFromTable(t *testing.T) {
	t.Parallel()
	th, err := Load("")
	if err != nil {
		t.Fatal(err)
	}
	table := slices.Clone(fields.All)
	company := fields.Field{
		Name: "company", Forms: fields.Consent, MaxRunes: 120,
		Input: "text", Autocomplete: "organization", Label: "email_label", Check: fields.CheckText,
	}
	at := slices.IndexFunc(table, func(f fields.Field) bool { return f.Name == fields.Email })
	table = slices.Insert(table, at+1, company)
	form := &Form{
		Action: "/v1/consent", table: table,
		Values: FormValues{Name: "Ada", Other: map[string]string{"company": "ACME <Ltd>"}},
		Errors: []FieldError{{Field: "company", Message: "too long"}},
	}
	var b strings.Builder
	if err := th.Render(&b, LayoutConsent, &Page{Lang: "en", Title: "T", Form: form}); err != nil {
		t.Fatal(err)
	}
	got := b.String()
	want := `<p class="field">
<label for="company">` + th.Strings("en")["email_label"] + `</label>
<input type="text" id="company" name="company" autocomplete="organization" maxlength="120" value="ACME &lt;Ltd&gt;" aria-invalid="true" aria-describedby="company-error"><span class="error" id="company-error">too long</span>
</p>`
	if !strings.Contains(got, want) {
		t.Errorf("the consent form lacks the new field as\n%s\ngot\n%s", want, got)
	}
	var order []string
	for _, m := range regexp.MustCompile(`<input type="(?:text|tel|email)" id="([^"]*)"`).FindAllStringSubmatch(got, -1) {
		order = append(order, m[1])
	}
	if want := []string{"website", "name", "phone", "email", "company"}; !slices.Equal(order, want) {
		t.Errorf("text inputs in the order %q, want %q", order, want)
	}
}
