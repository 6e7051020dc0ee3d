package proof

import (
	"errors"
	"fmt"
	"os"

	"github.com/chatconsent/chatconsent/collector/receipt"
	"github.com/chatconsent/chatconsent/internal/config"
	"github.com/chatconsent/chatconsent/themes"
)

// NewStamper returns the receipt stamper that cfg's [receipt] table asks
// for: the built-in template, the owner's letterhead with the whole
// receipt, its AcroForm fields, or its [[receipt.fields]] placements, with
// the receipt labels of the site's theme (themes/default/i18n/LANG.toml
// and the site's i18n/LANG.toml) for every language of site.languages. It
// stamps a sample receipt in each language. A template that cannot be read
// or does not fit is an error naming the key, and a language that cannot
// stamp a receipt (a label missing or not printable) an error naming the
// language, so that the collector refuses to start (and verify to guess).
func NewStamper(cfg *config.Config) (*receipt.Stamper, error) {
	st, err := newTemplateStamper(cfg)
	if err != nil {
		return nil, err
	}
	theme, err := themes.LoadSite(cfg.Dir, cfg.Site.DefaultLanguage)
	if err != nil {
		return nil, fmt.Errorf("receipt labels: %w", err)
	}
	strs := map[string]map[string]string{}
	for _, lang := range cfg.Site.Languages {
		m := theme.Strings(lang)
		if m == nil {
			return nil, fmt.Errorf("site.languages: %q has no receipt labels: add i18n/%s.toml (the keys receipt_* of themes/default/i18n/en.toml)", lang, lang)
		}
		strs[lang] = m
	}
	if st, err = st.WithStrings(strs); err != nil {
		return nil, fmt.Errorf("receipt labels: %w", err)
	}
	for _, lang := range cfg.Site.Languages {
		if _, err := st.Stamp(Sample(cfg, lang)); err != nil {
			return nil, fmt.Errorf("site.languages: a receipt in %q cannot be made: %w", lang, err)
		}
	}
	return st, nil
}

// newTemplateStamper is the stamper of cfg's template, with the built-in
// labels.
func newTemplateStamper(cfg *config.Config) (*receipt.Stamper, error) {
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
