package proof

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/chatconsent/chatconsent/collector/ledger"
	"github.com/chatconsent/chatconsent/collector/receipt"
	"github.com/chatconsent/chatconsent/internal/config"
)

// releasedStampers holds one stamper per released configuration file: the
// receipts of one release share a few configurations, and a stamper costs
// seconds under the race detector (the template read, the fonts embedded).
var releasedStampers sync.Map // config path → func() (*receipt.Stamper, error)

func releasedStamper(path string, cfg *config.Config) (*receipt.Stamper, error) {
	f, _ := releasedStampers.LoadOrStore(path, sync.OnceValues(func() (*receipt.Stamper, error) { return NewStamper(cfg) }))
	return f.(func() (*receipt.Stamper, error))()
}

// The receipts of every release (collector/receipt/testdata/released, see
// its internal/genreleased) verify offline with today's code, against the
// configuration, key and log they were made with, and a receipt whose
// attached record was swapped for another release's record does not.
func TestVerifyReleasedReceipts(t *testing.T) {
	t.Parallel()
	dirs, err := filepath.Glob(filepath.Join("..", "collector", "receipt", "testdata", "released", "v*"))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no released receipts: %v", err)
	}
	consent := map[string][]string{"de": {"https://rad.example/de/einwilligung/"}, "en": {"https://rad.example/en/consent/"}}
	for _, dir := range dirs {
		b, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
		if err != nil {
			t.Fatal(err)
		}
		var m []struct{ File, Config string }
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		pub, err := ledger.ReadPublicKey(filepath.Join(dir, config.SigningPublicKeyFile))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range m {
			t.Run(filepath.Base(dir)+"/"+e.File, func(t *testing.T) {
				t.Parallel()
				cfgPath := filepath.Join(dir, e.Config)
				text, err := os.ReadFile(cfgPath)
				if err != nil {
					t.Fatal(err)
				}
				cfg, err := config.Parse(cfgPath, dir, text)
				if err != nil {
					t.Fatal(err)
				}
				st, err := releasedStamper(cfgPath, cfg)
				if err != nil {
					t.Fatal(err)
				}
				pdf, err := os.ReadFile(filepath.Join(dir, e.File))
				if err != nil {
					t.Fatal(err)
				}
				log, err := os.Open(filepath.Join(dir, config.LogFile))
				if err != nil {
					t.Fatal(err)
				}
				defer log.Close()
				res, err := VerifyReceipt(pdf, ReceiptCheck{Config: cfg, Stamper: st, ConsentURLs: consent, Key: pub, Log: log})
				if err != nil {
					t.Fatalf("VerifyReceipt: %v", err)
				}
				if res.LogRecords == 0 || res.Record.Seq == 0 {
					t.Errorf("result %+v: want the record's place in the log", res)
				}
				// The same record under another purpose title is not what
				// the receipt shows.
				cfg2 := *cfg
				cfg2.Purposes = slices.Clone(cfg.Purposes)
				cfg2.Purposes[1].Title = map[string]string{"de": "Werbung", "en": "Advertising"}
				_, err = VerifyReceipt(pdf, ReceiptCheck{Config: &cfg2, Stamper: st, ConsentURLs: consent, Key: pub})
				if !errors.Is(err, receipt.ErrTextDiffers) {
					t.Errorf("VerifyReceipt with another purpose title: %v, want ErrTextDiffers", err)
				}
			})
		}
	}
}
