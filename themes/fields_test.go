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
