package collector

import (
	"strings"
	"testing"
)

// TestEmailWithoutMail: with no mail configured an e-mail address could
// never be used, so a decision that comes with one is recorded without
// it, and the answer says so; the address is checked as ever (the form
// shows the field), and with mail it is kept.
func TestEmailWithoutMail(t *testing.T) {
	t.Parallel()
	off := newHarness(t, nil)
	on := newHarnessOpts(t, nil, func(o *Options) { o.Deliver = &deliveries{} })
	long := strings.Repeat("a", 250) + "@x.de"
	for _, tt := range []struct {
		name        string
		h           *harness
		ct, body    string
		status      int
		want, avoid string // in the answer
		kept        string // the e-mail address in the record
	}{
		{"no mail, JSON", off, ctJSON, off.jsonBody("de", "email", "jw@example.org"), 201, `"email_dropped":true`, "", ""},
		{"no mail, form", off, ctForm, off.formBody("de", "email=jw%40example.org"), 200, "Ihre E-Mail-Adresse haben wir nicht gespeichert", "", ""},
		{"no mail, form, English", off, ctForm, off.formBody("en", "email=jw%40example.org"), 200, "We did not store your e-mail address", "", ""},
		{"no mail, broken address", off, ctJSON, off.jsonBody("de", "email", long), 400, `"field":"email"`, "", "-"},
		{"no mail, spaces only", off, ctJSON, off.jsonBody("de", "email", "  "), 201, `"id"`, "email_dropped", ""},
		{"no mail, none given", off, ctForm, off.formBody("de", ""), 200, "Vielen Dank", "E-Mail-Adresse haben wir nicht", ""},
		{"mail, JSON", on, ctJSON, on.jsonBody("de", "email", "jw@example.org"), 201, `"id"`, "email_dropped", "jw@example.org"},
		{"mail, form", on, ctForm, on.formBody("de", "email=jw%40example.org"), 200, "Vielen Dank", "E-Mail-Adresse haben wir nicht", "jw@example.org"},
		{"mail, broken address", on, ctJSON, on.jsonBody("de", "email", long), 400, `"field":"email"`, "", "-"},
	} {
		before := len(tt.h.records(t))
		w := tt.h.do("POST", "/v1/consent", tt.ct, tt.body)
		body := w.Body.String()
		if w.Code != tt.status || !strings.Contains(body, tt.want) || (tt.avoid != "" && strings.Contains(body, tt.avoid)) {
			t.Errorf("%s: %d, want %d with %q and without %q:\n%.600s", tt.name, w.Code, tt.status, tt.want, tt.avoid, body)
			continue
		}
		recs := tt.h.records(t)
		if tt.kept == "-" {
			if len(recs) != before {
				t.Errorf("%s: refused, but recorded", tt.name)
			}
			continue
		}
		if len(recs) != before+1 {
			t.Fatalf("%s: %d records, want %d", tt.name, len(recs), before+1)
		}
		if got := recs[len(recs)-1].Subject.Email; got != tt.kept {
			t.Errorf("%s: the record keeps e-mail %q, want %q", tt.name, got, tt.kept)
		}
	}
	if strings.Contains(off.logs.String(), "jw@example.org") {
		t.Error("the collector's log names the address")
	}
}
