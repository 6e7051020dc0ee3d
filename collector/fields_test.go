package collector

import (
	"maps"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/chatconsent/chatconsent/collector/invite"
	"github.com/chatconsent/chatconsent/internal/fields"
)

// TestDecodersMatchFieldTable: the consent and withdrawal decoders take
// exactly the fields of internal/fields' table for their form (the
// single-valued ones once, the repeated one as a list), and the invite
// link's query parameter is the table's invite field.
func TestDecodersMatchFieldTable(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		form   fields.Form
		single map[string]*string
	}{
		{fields.Consent, (&Request{}).fields()},
		{fields.Withdrawal, (&WithdrawRequest{}).fields()},
	} {
		var want, wantRepeated []string
		for _, f := range fields.Of(tt.form) {
			if f.Repeated {
				wantRepeated = append(wantRepeated, f.Name)
			} else {
				want = append(want, f.Name)
			}
		}
		slices.Sort(want)
		if got := slices.Sorted(maps.Keys(tt.single)); !slices.Equal(got, want) {
			t.Errorf("form %d: the decoder takes %q, the table has %q", tt.form, got, want)
		}
		// The one repeated field the decoders know.
		if !slices.Equal(wantRepeated, []string{FieldPurpose}) {
			t.Errorf("form %d: repeated fields %q, the decoder repeats only %q", tt.form, wantRepeated, FieldPurpose)
		}
	}
	if invite.Param != fields.Invite {
		t.Errorf("invite links use ?%s=, the table's field is %q", invite.Param, fields.Invite)
	}
}

// TestFieldLimitsDecoded: through the handler, a name at the table's
// limit is taken and one rune more is refused naming the field; a number
// one rune over its limit likewise.
func TestFieldLimitsDecoded(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	for _, tt := range []struct {
		field, value string
		status       int
		want         string
	}{
		{fields.Name, strings.Repeat("a", fields.MaxName), 201, `"id"`},
		{fields.Name, strings.Repeat("a", fields.MaxName+1), 400, `"field":"name","code":"name_invalid"`},
		{fields.Phone, strings.Repeat("1", fields.MaxPhone+1), 400, `"field":"phone","code":"phone_invalid"`},
		{fields.Email, strings.Repeat("a", fields.MaxEmail-len("@x.de")+1) + "@x.de", 400, `"field":"email"`},
	} {
		w := h.do("POST", "/v1/consent", ctJSON, h.jsonBody("de", tt.field, tt.value))
		if w.Code != tt.status || !strings.Contains(w.Body.String(), tt.want) {
			t.Errorf("%s of %d runes: %d %.200s; want %d with %s", tt.field, len([]rune(tt.value)), w.Code, w.Body, tt.status, tt.want)
		}
	}
}

// TestFieldAddedToTable: a text field added to (a copy of) internal/fields'
// table is decoded from a form and a JSON body without touching the
// decoders, checked by its row (required, limit), and refused by the
// decoders of the real table.
func TestFieldAddedToTable(t *testing.T) {
	t.Parallel()
	table := slices.Clone(fields.All)
	table = append(table, fields.Field{
		Name: "company", Forms: fields.Consent, MaxRunes: 5, Required: true,
		Input: "text", Label: "company_label", Check: fields.CheckText,
	})
	form := &Request{}
	if err := decodeFormFields(url.Values{"company": {"ACME"}, fields.Name: {"Ada"}}, form.fieldsIn(table), &form.Purposes); err != nil {
		t.Fatalf("form with the new field: %v", err)
	}
	if form.Other("company") != "ACME" || form.Name != "Ada" {
		t.Errorf("decoded company %q, name %q", form.Other("company"), form.Name)
	}
	js := &Request{}
	if err := decodeJSONFields([]byte(`{"company":"ACME","name":"Ada"}`), js.fieldsIn(table), &js.Purposes); err != nil || js.Other("company") != "ACME" {
		t.Fatalf("JSON with the new field: %q, %v", js.Other("company"), err)
	}
	if err := decodeFormFields(url.Values{"company": {"ACME"}}, (&Request{}).fields(), new([]string)); err == nil {
		t.Error("the real table's decoder took a field it does not have")
	}
	for _, tt := range []struct{ value, code string }{{"ACME", ""}, {"  ", "company"}, {"ACME Ltd", "company_invalid"}, {"A\u202eB", "company_invalid"}} {
		req := &Request{}
		decodeFormFields(url.Values{"company": {tt.value}}, req.fieldsIn(table), &req.Purposes)
		errs := checkOther(table, req)
		var got string
		if len(errs) > 0 {
			got = errs[0].Field + ":" + errs[0].Code
		}
		if want := map[bool]string{true: "", false: "company:" + tt.code}[tt.code == ""]; got != want || len(errs) > 1 {
			t.Errorf("company %q: errors %v, want %q", tt.value, errs, want)
		}
	}
	if v := otherValues(form); v["company"] != "ACME" {
		t.Errorf("re-filled values %v", v)
	}
}

// TestErrorLinksOnPage: the error summary of the consent form links each
// error to an element on the page: a text input of the table by its
// name, a hidden field (here a stale text version) to the buttons.
func TestErrorLinksOnPage(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	body := strings.Replace(h.formBody("de", ""), "phone=0170+1234567", "phone=", 1)
	body = strings.Replace(body, h.versions["de"], strings.Repeat("0", 64), 1)
	w := h.do("POST", "/v1/consent", ctForm, body)
	got := w.Body.String()
	for _, want := range []string{`<a href="#phone">`, `<a href="#decision">`} {
		if !strings.Contains(got, want) {
			t.Errorf("%d: the error summary lacks %s:\n%s", w.Code, want, got)
		}
	}
	if strings.Contains(got, `href="#text_version"`) {
		t.Error("an error links to the hidden text_version field")
	}
	if !onPage(fields.Email) || onPage(fields.Honeypot) || onPage(fields.Lang) {
		t.Error("onPage: email should be on the page, website and lang not")
	}
}
