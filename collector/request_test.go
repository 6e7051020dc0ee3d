package collector

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestCheckText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Jürgen Weiß", ""},
		{"Αλέξανδρος", ""},
		{"a\nb", "control"},
		{"a\x00b", "control"},
		{"evil\u202Eoh", "control"},
		{"\u2066x", "control"},
		{"\xff", "invalid_utf8"},
		{strings.Repeat("a", 201), "too_long"},
	}
	for _, tt := range tests {
		if got := checkText(tt.in, maxName); got != tt.want {
			t.Errorf("checkText(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func decode(t *testing.T, ct, body string) (*Request, error) {
	t.Helper()
	r := httptest.NewRequest("POST", "/v1/consent", strings.NewReader(body))
	if ct != "" {
		r.Header.Set("Content-Type", ct)
	}
	req, _, err := decodeRequest(httptest.NewRecorder(), r)
	return req, err
}

func TestDecodeRequest(t *testing.T) {
	const form = "application/x-www-form-urlencoded"
	req, err := decode(t, form, "decision=granted&name=J%C3%BCrgen&phone=0170&purpose=a&purpose=b&lang=de&text_version=x")
	if err != nil || req.Name != "Jürgen" || len(req.Purposes) != 2 {
		t.Errorf("form = %+v, %v", req, err)
	}
	req, err = decode(t, "application/json; charset=utf-8", `{"decision":"refused","name":"Ł","phone":"1","purpose":["a"]}`)
	if err != nil || req.Decision != "refused" || req.Purposes[0] != "a" {
		t.Errorf("json = %+v, %v", req, err)
	}
	bad := []struct {
		name, ct, body string
		status         int
		field          string
	}{
		{"unknown form field", form, "decision=granted&admin=1", 400, "admin"},
		{"duplicate form field", form, "name=a&name=b", 400, "name"},
		{"unknown JSON field", "application/json", `{"nme":"x"}`, 400, "nme"},
		{"duplicate JSON field", "application/json", `{"name":"a","name":"b"}`, 400, "name"},
		{"wrong JSON type", "application/json", `{"purpose":"a"}`, 400, "purpose"},
		{"JSON array", "application/json", `[1]`, 400, ""},
		{"two JSON objects", "application/json", `{}{}`, 400, ""},
		{"garbage after the object", "application/json", `{"name":"a"}x`, 400, ""},
		{"closing brace after the object", "application/json", `{"name":"a"}}`, 400, ""},
		{"invalid UTF-8 JSON", "application/json", "{\"name\":\"\xff\"}", 400, ""},
		{"wrong content type", "text/plain", "name=x", 415, ""},
		{"no content type", "", "name=x", 415, ""},
		{"too large", form, "name=" + strings.Repeat("a", MaxBodyBytes), 413, ""},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, err := decode(t, tt.ct, tt.body)
			var re *RequestError
			if !errors.As(err, &re) || re.Status != tt.status || re.Field != tt.field {
				t.Errorf("err = %#v, want status %d field %q", err, tt.status, tt.field)
			}
		})
	}
}

func FuzzDecodeJSON(f *testing.F) {
	f.Add([]byte(`{"decision":"granted","name":"Jürgen Weiß","phone":"0170 1234567","purpose":["orders"],"lang":"de","text_version":"ab"}`))
	f.Add([]byte(`{"purpose":[]}`))
	f.Add([]byte(`{"name":"a","name":"b"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		req, err := DecodeJSON(b)
		if err == nil && req == nil {
			t.Fatal("nil request without error")
		}
		var re *RequestError
		if err != nil && (!errors.As(err, &re) || re.Status != http.StatusBadRequest) {
			t.Fatalf("error %v is not a 400 RequestError", err)
		}
	})
}

func FuzzDecodeForm(f *testing.F) {
	f.Add([]byte("decision=granted&name=J%C3%BCrgen&phone=0170+1234567&purpose=orders&lang=de&text_version=ab"))
	f.Add([]byte("%zz"))
	f.Fuzz(func(t *testing.T, b []byte) {
		req, err := decodeForm(b)
		if err == nil && req == nil {
			t.Fatal("nil request without error")
		}
	})
}

// TestPhoneAsTyped: the number a person types in the form is stored as the
// one number it is (never with a doubled country code), and a number that
// is ambiguous or has letters is refused with a message saying what to type.
func TestPhoneAsTyped(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	stored := []struct{ in, want string }{
		{"4915112345678", "+4915112345678"}, // as WhatsApp shows it
		{"49 170 1234567", "+491701234567"},
		{"0049 170 1234567", "+491701234567"},
		{"0170 1234567", "+491701234567"},
		{"12125550100", "+12125550100"},
	}
	for _, tt := range stored {
		if w := h.do("POST", "/v1/consent", ctJSON, h.jsonBody("de", "phone", tt.in)); w.Code != 201 {
			t.Fatalf("phone %q: status %d %s", tt.in, w.Code, w.Body)
		}
		recs := h.records(t)
		if got := recs[len(recs)-1].Subject.Phone; got != tt.want {
			t.Errorf("phone %q stored as %q, want %q", tt.in, got, tt.want)
		}
	}
	refused := []struct{ in, want string }{
		{"33612345678", `"code":"phone_ambiguous"`},
		{"33612345678", "+33 6 12 34 56 78 / +49 3361 2345678"},
		{"01701234567abc", `"code":"phone_characters"`},
		{"0170 1234567 x", `"code":"phone_characters"`},
	}
	n := len(h.records(t))
	for _, tt := range refused {
		w := h.do("POST", "/v1/consent", ctJSON, h.jsonBody("en", "phone", tt.in))
		if w.Code != 400 || !strings.Contains(w.Body.String(), tt.want) {
			t.Errorf("phone %q: %d %s; want 400 with %q", tt.in, w.Code, w.Body, tt.want)
		}
	}
	w := h.do("POST", "/v1/consent", ctForm, strings.Replace(h.formBody("de", ""), "phone=0170+1234567", "phone=33612345678", 1))
	if w.Code != 400 || !strings.Contains(w.Body.String(), "Ländervorwahl und &#43;, also &#43;33 6 12 34 56 78 / &#43;49 3361 2345678.") {
		t.Errorf("German form page for an ambiguous number: %d %.400s", w.Code, w.Body)
	}
	if got := len(h.records(t)); got != n {
		t.Errorf("%d records logged by refused numbers", got-n)
	}
}
