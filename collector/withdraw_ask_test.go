package collector

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/chatconsent/chatconsent/collector/ledger"
)

// group writes a record number as a person might copy or type it: upper
// case, in groups of four with sep between them.
func group(id, sep string) string {
	var parts []string
	for i := 0; i < len(id); i += 4 {
		parts = append(parts, strings.ToUpper(id[i:i+4]))
	}
	return strings.Join(parts, sep)
}

// TestWithdrawAsksAndFindsEveryNumber: both withdrawal pages withdraw only
// what is ticked, "all" explicitly, nothing by omission (issue 11 item 21);
// every record number a person is shown, the decision's or a withdrawal's,
// grouped, with spaces or dashes, in capitals, finds the decision (item 20).
func TestWithdrawAsksAndFindsEveryNumber(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	w := h.do("POST", "/v1/consent", ctJSON, h.jsonBody("de", "purpose", []string{"orders", "documents"}))
	var dec struct{ ID string }
	if err := json.Unmarshal(w.Body.Bytes(), &dec); w.Code != 201 || err != nil {
		t.Fatalf("grant: %d %s", w.Code, w.Body)
	}
	n := len(h.records(t))
	u, _ := url.Parse(h.srv.WithdrawalURL(dec.ID))
	k := u.Query().Get("k")

	// Nothing ticked: refused on every page, nothing logged.
	for _, tt := range []struct{ name, ct, body, want string }{
		{"static page, JSON", ctJSON, `{"phone":"0170 1234567","id":"` + dec.ID + `","lang":"de"}`, `"code":"withdraw_purpose_none"`},
		{"static page, form", ctForm, "phone=0170+1234567&id=" + dec.ID + "&lang=de", "Bitte kreuzen Sie an, wofür Sie widerrufen"},
		{"personal link, form", ctForm, "id=" + dec.ID + "&k=" + k + "&lang=de", `id="purpose-all" name="purpose" value="all"`},
		{"personal link, JSON", ctJSON, `{"id":"` + dec.ID + `","k":"` + k + `"}`, `"code":"withdraw_purpose_none"`},
	} {
		w := h.do("POST", "/v1/withdraw", tt.ct, tt.body)
		if w.Code != 400 || !strings.Contains(w.Body.String(), tt.want) {
			t.Errorf("%s: %d %.300s; want 400 with %q", tt.name, w.Code, w.Body, tt.want)
		}
	}
	if got := len(h.records(t)); got != n {
		t.Fatalf("%d withdrawals logged without a purpose ticked", got-n)
	}
	// The link page asks like the static page: nothing pre-ticked.
	if w := h.do("GET", u.RequestURI(), "", ""); w.Code != 200 || strings.Contains(w.Body.String(), " checked") || !strings.Contains(w.Body.String(), `value="all"`) {
		t.Errorf("withdrawal link page: %d, pre-ticked: %v", w.Code, strings.Contains(w.Body.String(), " checked"))
	}

	// The decision's number as copied from the receipt: grouped, capitals.
	withdraw := func(id, purpose string) (string, []string) {
		t.Helper()
		b, _ := json.Marshal(map[string]any{"phone": "0170 1234567", "id": id, "purpose": []string{purpose}, "lang": "de"})
		w := h.do("POST", "/v1/withdraw", ctJSON, string(b))
		var got struct {
			ID        string
			Withdrawn []string
		}
		if err := json.Unmarshal(w.Body.Bytes(), &got); w.Code != 201 || err != nil {
			t.Fatalf("withdraw %s with id %q: %d %s", purpose, id, w.Code, w.Body)
		}
		return got.ID, got.Withdrawn
	}
	wid, got := withdraw(group(dec.ID, " "), "documents")
	if strings.Join(got, ",") != "documents" {
		t.Errorf("withdrawn %v, want documents only", got)
	}
	// The number the withdrawal's thank-you page shows (the withdrawal's
	// own), typed with dashes, finds the same decision.
	if _, got := withdraw(group(wid, "-"), "all"); strings.Join(got, ",") != "orders" {
		t.Errorf("withdrawn by the withdrawal's number: %v, want orders", got)
	}
	recs := h.records(t)
	if last := recs[len(recs)-1]; last.Type != ledger.TypeWithdrawal || last.Ref != dec.ID {
		t.Errorf("last record %s refers to %s, want the decision %s", last.Type, last.Ref, dec.ID)
	}
}

func TestNormalizeRecordID(t *testing.T) {
	t.Parallel()
	id := "a813163a3c976af610d9f7b35fff4549"
	for _, in := range []string{id, strings.ToUpper(id), group(id, " "), group(id, "-"), " " + group(id, "\u00a0") + "\t", "a813-163a.3c97:6af6_10d9 f7b3\u20135fff 4549"} {
		if got := NormalizeRecordID(in); got != id {
			t.Errorf("NormalizeRecordID(%q) = %q", in, got)
		}
	}
	if got := NormalizeRecordID("a813 163g"); got != "a813163g" {
		t.Errorf("a non-hex letter is kept for validation to refuse: %q", got)
	}
}
