package collector

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/chatconsent/chatconsent/collector/ledger"
)

// A withdrawal receipt (layout 3) says what is still granted after the
// withdrawal: the number's other purposes, from the book.
func TestWithdrawalReceiptStillGranted(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	w := h.do("POST", "/v1/consent", ctJSON, h.jsonBody("de", "purpose", []string{"orders", "documents"}))
	var dec struct{ ID string }
	if err := json.Unmarshal(w.Body.Bytes(), &dec); w.Code != 201 || err != nil {
		t.Fatalf("grant: %d %s", w.Code, w.Body)
	}
	still := func(purpose string) []string {
		t.Helper()
		b, _ := json.Marshal(map[string]any{"phone": "0170 1234567", "id": dec.ID, "purpose": []string{purpose}, "lang": "de"})
		if w := h.do("POST", "/v1/withdraw", ctJSON, string(b)); w.Code != 201 {
			t.Fatalf("withdraw %s: %d %s", purpose, w.Code, w.Body)
		}
		recs := h.records(t)
		rec := recs[len(recs)-1]
		if rec.Type != ledger.TypeWithdrawal {
			t.Fatalf("last record is a %s", rec.Type)
		}
		var ids []string
		for _, p := range h.srv.ReceiptData(ledger.Entry{Record: rec}).StillGranted {
			if p.Title == "" {
				t.Errorf("still granted %s without a title", p.ID)
			}
			ids = append(ids, p.ID)
		}
		return ids
	}
	if got := still("documents"); !slices.Equal(got, []string{"orders"}) {
		t.Errorf("after withdrawing documents, still granted %v; want [orders]", got)
	}
	if got := still("orders"); len(got) != 0 {
		t.Errorf("after withdrawing everything, still granted %v; want none", got)
	}
}
