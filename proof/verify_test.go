package proof

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chatconsent/chatconsent/collector/ledger"
	"github.com/chatconsent/chatconsent/collector/receipt"
	"github.com/chatconsent/chatconsent/internal/config"
	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
)

// released returns a released receipt and the check it verifies with.
func released(t *testing.T, file string) ([]byte, ReceiptCheck) {
	t.Helper()
	dir := filepath.Join("..", "collector", "receipt", "testdata", "released", "v1")
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
	pdf, err := os.ReadFile(filepath.Join(dir, file))
	if err != nil {
		t.Fatal(err)
	}
	return pdf, ReceiptCheck{Config: cfg, Stamper: st, Key: pub}
}

// attach returns pdf with one more attached file, as the erasure and
// transparency-log rooms add theirs.
func attach(t *testing.T, pdf []byte, name string, content []byte) []byte {
	t.Helper()
	conf := model.NewDefaultConfiguration()
	conf.ValidationMode = model.ValidationRelaxed
	ctx, err := api.ReadValidateAndOptimize(bytes.NewReader(pdf), conf)
	if err != nil {
		t.Fatal(err)
	}
	mod := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	if err := ctx.AddAttachment(model.Attachment{Reader: bytes.NewReader(content), ID: name, FileName: name, ModTime: &mod}, false); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := api.WriteContext(ctx, &buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// Extra attachments are handed to their checkers with the verified record;
// one that no checker knows, or that its checker refuses, fails the
// receipt.
func TestExtraAttachments(t *testing.T) {
	t.Parallel()
	pdf, c := released(t, "builtin-de-grant.pdf")
	with := attach(t, pdf, "openings.json", []byte(`["salt","name","Jürgen"]`))

	if _, err := VerifyReceipt(with, c); !errors.Is(err, ErrUnknownAttachment) {
		t.Errorf("without a checker: %v, want ErrUnknownAttachment", err)
	}
	var got []byte
	var gotID string
	c.Attachments = map[string]AttachmentChecker{"openings.json": func(rec *ledger.Record, line, att []byte) error {
		got, gotID = att, rec.ID
		return nil
	}}
	res, err := VerifyReceipt(with, c)
	if err != nil {
		t.Fatalf("with a checker: %v", err)
	}
	if string(got) != `["salt","name","Jürgen"]` || gotID != res.Record.ID || len(res.Checked) != 1 || res.Checked[0] != "openings.json" {
		t.Errorf("checker saw %q for %s, result %+v", got, gotID, res)
	}
	bad := errors.New("opening does not match the commitment")
	c.Attachments["openings.json"] = func(*ledger.Record, []byte, []byte) error { return bad }
	if _, err := VerifyReceipt(with, c); !errors.Is(err, bad) {
		t.Errorf("refused by its checker: %v", err)
	}
}

// A receipt re-saved by qpdf verifies, and names its layout.
func TestResavedReceiptVerifies(t *testing.T) {
	t.Parallel()
	pdf, c := released(t, "builtin-en-grant.pdf")
	bin, err := exec.LookPath("qpdf")
	if err != nil {
		t.Fatal("qpdf not found: apt-get install qpdf (test.sh does)")
	}
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.pdf"), filepath.Join(dir, "out.pdf")
	os.WriteFile(in, pdf, 0o600)
	if msg, err := exec.Command(bin, "--linearize", "--object-streams=generate", in, out).CombinedOutput(); err != nil {
		t.Fatalf("qpdf: %v %s", err, msg)
	}
	re, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	res, err := VerifyReceipt(re, c)
	if err != nil {
		t.Fatalf("VerifyReceipt(re-saved): %v", err)
	}
	if res.Identical || res.Layout != "1" {
		t.Errorf("result %+v: want not identical, layout 1", res)
	}
	// A new receipt names the current layout.
	d := Data(c.Config, ledger.Entry{Record: *res.Record, Line: res.Line}, "https://rad.example/v1/withdraw?id=x")
	fresh, err := c.Stamper.Stamp(d)
	if err != nil {
		t.Fatal(err)
	}
	if l, err := receipt.LayoutOf(fresh); err != nil || l != receipt.CurrentLayout {
		t.Errorf("LayoutOf(new receipt) = %q, %v; want %q", l, err, receipt.CurrentLayout)
	}
}
