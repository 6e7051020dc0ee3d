package proof

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/chatconsent/chatconsent/collector/ledger"
	"github.com/chatconsent/chatconsent/collector/receipt"
	"github.com/chatconsent/chatconsent/internal/config"
)

// layout3 re-stamps the released v2 receipt file (its record, openings and
// links) in today's layout and returns it with the check it verifies
// with and the entry it was made from.
func layout3(t *testing.T, file string, edit func(*receipt.Data)) ([]byte, ReceiptCheck) {
	t.Helper()
	dir := filepath.Join("..", "collector", "receipt", "testdata", "released", "v2")
	cfgPath := filepath.Join(dir, "config-builtin.toml")
	text, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Parse(cfgPath, dir, text)
	if err != nil {
		t.Fatal(err)
	}
	st, err := NewStamper(cfg)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := ledger.ReadPublicKey(filepath.Join(dir, config.SigningPublicKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	old, err := os.ReadFile(filepath.Join(dir, file))
	if err != nil {
		t.Fatal(err)
	}
	var m []struct {
		File string
		Data receipt.Data
	}
	b, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(m, func(e struct {
		File string
		Data receipt.Data
	}) bool {
		return e.File == file
	})
	if i < 0 {
		t.Fatalf("%s not in the manifest", file)
	}
	line, err := receipt.Attachment(old)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := ledger.ParseLine(line, pub)
	if err != nil {
		t.Fatal(err)
	}
	ds, err := receipt.Openings(old)
	if err != nil {
		t.Fatal(err)
	}
	if err := ledger.Disclose(rec, ds); err != nil {
		t.Fatal(err)
	}
	d := Data(cfg, ledger.Entry{Record: *rec, Line: line, Disclosures: ds}, m[i].Data.WithdrawalURL)
	if edit != nil {
		edit(&d)
	}
	pdf, err := st.Stamp(d)
	if err != nil {
		t.Fatal(err)
	}
	if l, err := receipt.LayoutOf(pdf); err != nil || l != receipt.CurrentLayout {
		t.Fatalf("LayoutOf = %q, %v", l, err)
	}
	return pdf, ReceiptCheck{Config: cfg, Stamper: st, Key: pub, ConsentURLs: map[string][]string{"de": {"https://rad.example/de/einwilligung/"}, "en": {"https://rad.example/en/consent/"}}}
}

// A layout-3 grant prints its personal withdrawal link only in a short
// form: verify reads the whole link from the link annotation.
func TestVerifyLayout3Grant(t *testing.T) {
	t.Parallel()
	pdf, c := layout3(t, "builtin-de-grant.pdf", nil)
	res, err := VerifyReceipt(pdf, c)
	if err != nil {
		t.Fatalf("VerifyReceipt: %v", err)
	}
	if res.Layout != "3" || !res.Identical {
		t.Errorf("result: layout %q, identical %v", res.Layout, res.Identical)
	}
	text, err := receipt.Text(pdf)
	if err != nil {
		t.Fatal(err)
	}
	joined := strings.Join(text, "\n")
	if strings.Contains(joined, "&k=") || !strings.Contains(joined, "Online: rad.example/v1/withdraw?…") {
		t.Errorf("the page should print the link's short form only:\n%s", joined)
	}
	if !strings.Contains(joined, "Vorgangsnummer: ed00 3a8f 4ae1 77a3 f313 44e9 10a5 320c") {
		t.Errorf("no grouped Vorgangsnummer:\n%s", joined)
	}
	// Another secret in the annotation: the receipt names the record,
	// so it verifies as far as the public key can tell; a link to
	// another record does not.
	links, err := receipt.Links(pdf)
	if err != nil || len(links) != 2 {
		t.Fatalf("Links = %q, %v; want the text's and the withdrawal link", links, err)
	}
	other := bytes.Replace(pdf, []byte("id=ed003a8f4ae177a3f31344e910a5320c"), []byte("id=ed003a8f4ae177a3f31344e910a5320d"), 1)
	if _, err := VerifyReceipt(other, c); err == nil {
		t.Error("a link annotation to another record verified")
	}
}

// A layout-3 withdrawal lists what is still granted; verify takes the list
// from the receipt among the purposes not withdrawn, so a receipt that
// claims a withdrawn purpose is still granted fails.
func TestVerifyLayout3Withdrawal(t *testing.T) {
	t.Parallel()
	pdf, c := layout3(t, "builtin-de-withdrawal.pdf", func(d *receipt.Data) {
		d.StillGranted = []receipt.Purpose{{ID: "orders", Title: "Rückfragen zu Bestellungen"}}
	})
	if _, err := VerifyReceipt(pdf, c); err != nil {
		t.Fatalf("VerifyReceipt: %v", err)
	}
	text, _ := receipt.Text(pdf)
	if !slices.Contains(text, "■ weiterhin erteilt: Rückfragen zu Bestellungen") {
		t.Errorf("no still-granted line in\n%s", strings.Join(text, "\n"))
	}
	none, _ := layout3(t, "builtin-de-withdrawal.pdf", nil)
	if _, err := VerifyReceipt(none, c); err != nil {
		t.Fatalf("VerifyReceipt (nothing left): %v", err)
	}
	forged, _ := layout3(t, "builtin-de-withdrawal.pdf", func(d *receipt.Data) {
		d.StillGranted = []receipt.Purpose{{ID: "offers", Title: "Angebote und Neuigkeiten"}}
	})
	if _, err := VerifyReceipt(forged, c); !errors.Is(err, receipt.ErrTextDiffers) {
		t.Errorf("withdrawn purpose listed as still granted: %v, want ErrTextDiffers", err)
	}
}

// A grant through a personal invite link says so.
func TestLayout3ViaInvite(t *testing.T) {
	t.Parallel()
	cfg := &config.Config{}
	e := ledger.Entry{Record: ledger.Record{Type: ledger.TypeDecision, Invite: "abc"}}
	if d := ReceiptData(cfg, e, ""); !d.ViaInvite {
		t.Error("decision with an invite: ViaInvite false")
	}
	e.Record.Invite = ""
	if d := ReceiptData(cfg, e, ""); d.ViaInvite {
		t.Error("decision without an invite: ViaInvite true")
	}
}
