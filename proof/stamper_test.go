package proof

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/chatconsent/chatconsent/collector/receipt"
	"github.com/chatconsent/chatconsent/internal/config"
)

// The configuration validates [[receipt.fields]] names before the receipt
// package sees them: both lists are internal/fields' receipt column, and
// neither may grow a list of its own.
func TestFieldNamesAgree(t *testing.T) {
	if !slices.Equal(config.ReceiptFieldNames, receipt.FieldNames) {
		t.Errorf("config.ReceiptFieldNames = %v\nreceipt.FieldNames = %v", config.ReceiptFieldNames, receipt.FieldNames)
	}
	if !slices.Equal(config.RequiredReceiptFields, receipt.RequiredFields) {
		t.Errorf("config.RequiredReceiptFields = %v\nreceipt.RequiredFields = %v", config.RequiredReceiptFields, receipt.RequiredFields)
	}
}

func TestNewStamperErrors(t *testing.T) {
	testdata := filepath.Join("..", "collector", "receipt", "testdata")
	base, err := os.ReadFile(filepath.Join("..", "config.toml"))
	if err != nil {
		t.Fatal(err)
	}
	withReceipt := func(receiptTable string) *config.Config {
		t.Helper()
		// Replace the [receipt] table, up to the next table.
		i := strings.Index(string(base), "\n[receipt]\n")
		j := strings.Index(string(base), "\n[[purposes]]")
		if i < 0 || j < i {
			t.Fatal("config.toml has no [receipt] table before [[purposes]]")
		}
		text := string(base[:i+1]) + receiptTable + string(base[j:])
		cfg, err := config.Parse("config.toml", testdata, []byte(text))
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	placed := "[receipt]\ntemplate = \"letterhead.pdf\"\n"
	for _, f := range []string{"name", "phone", "decision", "purposes", "time"} {
		placed += "[[receipt.fields]]\nfield = \"" + f + "\"\nx = 170\ny = 600\n"
	}
	tests := []struct {
		name, table, want string
	}{
		{"missing file", "[receipt]\ntemplate = \"nope.pdf\"\n", "receipt.template: open "},
		{"unreadable", "[receipt]\ntemplate = \"broken.pdf\"\n", "broken.pdf: receipt: template does not fit: read template"},
		{"form without field", "[receipt]\ntemplate = \"form_missing.pdf\"\n", `form_missing.pdf: receipt: template does not fit: the form has no field "decision"`},
		{"placement off the page", placed + "[[receipt.fields]]\nfield = \"record_id\"\nx = 170\ny = 800\npage = 2\n", `receipt.fields[5] (field = "record_id") on receipt.template ` + filepath.Join(testdata, "letterhead.pdf") + `: template does not fit: x = 170, y = 800 is outside page 2 (612.00 × 792.00 pt)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewStamper(withReceipt(tt.table))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("NewStamper: %v\nwant %q", err, tt.want)
			}
		})
	}
	// The good ones.
	for _, table := range []string{"", "[receipt]\ntemplate = \"form.pdf\"\n", placed + "[[receipt.fields]]\nfield = \"record_id\"\nx = 170\ny = 460\n"} {
		cfg := withReceipt(table)
		if table == "" {
			cfg = withReceipt("[receipt]\n")
		}
		if _, err := NewStamper(cfg); err != nil {
			t.Errorf("NewStamper(%q): %v", table, err)
		}
	}
}
