package proof

import (
	"slices"
	"strings"
	"time"

	"github.com/chatconsent/chatconsent/collector/ledger"
	"github.com/chatconsent/chatconsent/collector/receipt"
	"github.com/chatconsent/chatconsent/internal/config"
)

// Data turns a log entry of either kind (a decision or a withdrawal) into
// what its receipt shows; withdrawalURL is the link the receipt prints
// for withdrawing (for a withdrawal: the decision's personal link).
func Data(cfg *config.Config, e ledger.Entry, withdrawalURL string) receipt.Data {
	if e.Record.Type == ledger.TypeWithdrawal {
		return WithdrawalReceiptData(cfg, e, withdrawalURL)
	}
	return ReceiptData(cfg, e, withdrawalURL)
}

// ReceiptData turns a decision's log entry into what its receipt shows:
// every configured purpose, granted or not, in the record's language.
func ReceiptData(cfg *config.Config, e ledger.Entry, withdrawalURL string) receipt.Data {
	d := receiptBase(cfg, e, withdrawalURL)
	for _, p := range cfg.Purposes {
		title, _ := p.Localized(e.Record.Lang)
		d.Purposes = append(d.Purposes, receipt.Purpose{
			ID: p.ID, Title: title,
			Granted: e.Record.Decision == ledger.Granted && slices.Contains(e.Record.Purposes, p.ID),
		})
	}
	return d
}

// receiptBase is what every receipt shows of its record: who, when, the
// text version and where it is archived, the key, the signed line.
func receiptBase(cfg *config.Config, e ledger.Entry, withdrawalURL string) receipt.Data {
	rec := e.Record
	d := receipt.Data{
		Lang:       rec.Lang,
		Controller: receipt.Controller(cfg.Controller),
		RecordID:   rec.ID, Time: rec.Time, Decision: rec.Decision,
		TextVersion:    rec.TextVersion,
		TextURL:        cfg.Site.BaseURL + "archive/" + rec.TextVersion + ".html",
		KeyFingerprint: "SHA256:" + rec.Key,
		WithdrawalURL:  withdrawalURL,
		Record:         e.Line,
		Openings:       e.Disclosures,
	}
	if rec.Subject != nil {
		d.Name, d.Phone, d.Email = rec.Subject.Name, rec.Subject.Phone, rec.Subject.Email
	}
	// Layout 3 says that a decision came through the personal link sent
	// to the number.
	d.ViaInvite = rec.Type == ledger.TypeDecision && rec.Invite != ""
	return d
}

// StillGranted returns the purpose ids still granted after a withdrawal
// (as the collector's book gives them) as a withdrawal receipt of layout 3
// lists them, titled in lang.
func StillGranted(cfg *config.Config, lang string, ids []string) []receipt.Purpose {
	var out []receipt.Purpose
	for _, id := range ids {
		out = append(out, receipt.Purpose{ID: id, Title: cfg.PurposeTitle(id, lang), Granted: true})
	}
	return out
}

// WithdrawalReceiptData turns a withdrawal's log entry into what its
// receipt shows; withdrawalURL is the decision's personal withdrawal link.
func WithdrawalReceiptData(cfg *config.Config, e ledger.Entry, withdrawalURL string) receipt.Data {
	d := receiptBase(cfg, e, withdrawalURL)
	d.Decision, d.Ref = ledger.Withdrawn, e.Record.Ref
	// In the record's order: the collector writes them in the configured
	// order, removed purposes last (records.Index.Withdrawable).
	for _, id := range e.Record.Purposes {
		d.Purposes = append(d.Purposes, receipt.Purpose{ID: id, Title: cfg.PurposeTitle(id, e.Record.Lang), Withdrawn: true})
	}
	return d
}

// Sample returns the data of a made-up decision in language lang with
// every configured purpose granted: what doctor and the collector's
// start-up stamp to check that a template and a language can print a
// receipt before a real decision needs one.
func Sample(cfg *config.Config, lang string) receipt.Data {
	d := receipt.Data{
		Lang:       lang,
		Controller: receipt.Controller(cfg.Controller),
		RecordID:   "00000000000000000000000000000000",
		Time:       time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC),
		Decision:   ledger.Granted, Name: "Erika Mustermann", Phone: "+491701234567",
		TextVersion:    strings.Repeat("0", 64),
		KeyFingerprint: "SHA256:sample",
		Record:         []byte(`{"sample":true}`),
	}
	for _, p := range cfg.Purposes {
		title, _ := p.Localized(lang)
		d.Purposes = append(d.Purposes, receipt.Purpose{ID: p.ID, Title: title, Granted: true})
	}
	return d
}
