package proof

import (
	"errors"
	"fmt"
	"os"

	"github.com/chatconsent/chatconsent/collector/receipt"
	"github.com/chatconsent/chatconsent/internal/config"
)

// NewStamper returns the receipt stamper that cfg's [receipt] table asks
// for: the built-in template, the owner's letterhead with the whole
// receipt, its AcroForm fields, or its [[receipt.fields]] placements. A
// template that cannot be read or does not fit is an error naming the key,
// so that the collector refuses to start (and verify to guess).
func NewStamper(cfg *config.Config) (*receipt.Stamper, error) {
	var tpl []byte
	if cfg.Receipt.Template != "" {
		var err error
		if tpl, err = os.ReadFile(cfg.Receipt.Template); err != nil {
			return nil, fmt.Errorf("receipt.template: %w", err)
		}
	}
	var pp []receipt.Placement
	for _, f := range cfg.Receipt.Fields {
		pp = append(pp, receipt.Placement{Field: f.Field, Page: f.Page, X: f.X, Y: f.Y, Size: f.Size})
	}
	s, err := receipt.New(tpl, pp...)
	if err != nil {
		var pe *receipt.PlacementError
		if errors.As(err, &pe) {
			return nil, fmt.Errorf("receipt.fields[%d] (field = %q) on receipt.template %s: %w", pe.Index, pe.Field, cfg.Receipt.Template, pe.Err)
		}
		if cfg.Receipt.Template == "" {
			return nil, fmt.Errorf("built-in receipt template: %w", err)
		}
		return nil, fmt.Errorf("receipt.template %s: %w", cfg.Receipt.Template, err)
	}
	return s, nil
}
