package records

import (
	"crypto/ed25519"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/chatconsent/chatconsent/collector/ledger"
	"github.com/chatconsent/chatconsent/internal/config"
	"github.com/chatconsent/chatconsent/internal/textarchive"
)

// Export is what a data subject's access request (GDPR Art. 15) about one
// number gets: every event with its signed line, the current state, the
// exact texts shown, and a consent receipt per grant in the Kantara
// Initiative Consent Receipt Specification v1.1 format.
type Export struct {
	Format     string            `json:"format"` // "chatconsent-export-v1"
	Generated  time.Time         `json:"generated"`
	Controller config.Controller `json:"controller"`
	Subject    ExportSubject     `json:"subject"`
	Status     []ExportStatus    `json:"status"`
	Events     []ExportEvent     `json:"events"`
	// Texts maps text version → the archived document (HTML) shown.
	Texts    map[string]string `json:"texts"`
	Receipts []ConsentReceipt  `json:"consent_receipts"`
	// Erased is when the person's personal data were erased (GDPR Art.
	// 17), by the log's erasure record Erasure; Subject is then empty and
	// Note says what that means for the access request.
	Erased  *time.Time `json:"erased,omitempty"`
	Erasure string     `json:"erasure,omitempty"`
	Note    string     `json:"note,omitempty"`
}

// ErasedNote is an erased person's [Export].Note.
const ErasedNote = "The personal data of this person (name, WhatsApp number, e-mail address, client address, user agent, invite token, notes) were erased on %s: their key and openings are destroyed, their receipts and mails deleted. No personal data of this person are held any more. What remains are the signed records below: record ids, times, decisions, purposes, languages and text versions, with salted commitments that cannot be tested against a number without the salts (which were erased too). They identify nobody, except together with the person's own receipt, which carries the openings of their fields."

// ExportSubject identifies the data subject.
type ExportSubject struct {
	Phone string `json:"phone"`
	Name  string `json:"name"`
	Email string `json:"email,omitempty"`
}

// ExportStatus is one purpose's current state.
type ExportStatus struct {
	Purpose     string    `json:"purpose"`
	State       string    `json:"state"`
	Since       time.Time `json:"since"`
	Event       string    `json:"event"`
	Decision    string    `json:"decision"`
	TextVersion string    `json:"text_version"`
}

// ExportEvent is one log record and the exact signed line that holds it.
type ExportEvent struct {
	Record ledger.Record `json:"record"`
	Line   string        `json:"line,omitempty"`
}

// ExportOptions is what [Book.Export] needs besides the log.
type ExportOptions struct {
	Config *config.Config
	// PolicyURLs maps language → absolute URL of the privacy notice.
	PolicyURLs map[string]string
	// PublicKey is the log's signing key, given in every receipt.
	PublicKey ed25519.PublicKey
	// Text returns the archived document of a text version.
	Text func(version string) ([]byte, error)
	// Manifest decides renewal; may be nil.
	Manifest *textarchive.Manifest
	Now      time.Time
}

// Export gathers everything about p. A text that cannot be found is an
// error: an access request must not silently lack what was shown.
func (b *Book) Export(p *Person, o ExportOptions) (*Export, error) {
	x := &Export{
		Format: "chatconsent-export-v1", Generated: o.Now.UTC(), Controller: o.Config.Controller,
		Subject: ExportSubject{Phone: p.Phone, Name: p.Name, Email: p.Email},
		Texts:   map[string]string{}, Status: []ExportStatus{}, Receipts: []ConsentReceipt{},
	}
	if IsErased(p.Phone) {
		t := p.Erased.UTC()
		x.Subject, x.Erased, x.Erasure = ExportSubject{}, &t, strings.TrimPrefix(p.Phone, ErasedPrefix)
		x.Note = fmt.Sprintf(ErasedNote, p.Erased.In(Berlin()).Format("2006-01-02"))
	}
	for _, s := range b.Status(p, o.Manifest) {
		x.Status = append(x.Status, ExportStatus{Purpose: s.ID, State: s.Shown, Since: s.Since, Event: s.Event, Decision: s.Decision, TextVersion: s.TextVersion})
	}
	for _, e := range p.Events {
		x.Events = append(x.Events, ExportEvent{Record: e.Record, Line: string(e.Line)})
		v := e.Record.TextVersion
		if v == "" || x.Texts[v] != "" {
			continue
		}
		t, err := o.Text(v)
		if err != nil {
			return nil, fmt.Errorf("text version %s of record %s: %w", v, e.Record.ID, err)
		}
		x.Texts[v] = string(t)
	}
	for _, e := range p.Events {
		if e.Record.Type == ledger.TypeDecision && e.Record.Decision == ledger.Granted {
			x.Receipts = append(x.Receipts, KantaraReceipt(&e.Record, o))
		}
	}
	return x, nil
}

// ConsentReceipt is a consent receipt in the Kantara Initiative Consent
// Receipt Specification v1.1 (version "KI-CR-v1.1.0"), field names as the
// specification's JSON schema spells them.
type ConsentReceipt struct {
	Version          string          `json:"version"`
	Jurisdiction     string          `json:"jurisdiction"`
	ConsentTimestamp int64           `json:"consentTimestamp"` // Unix seconds
	CollectionMethod string          `json:"collectionMethod"`
	ConsentReceiptID string          `json:"consentReceiptID"`
	PublicKey        string          `json:"publicKey,omitempty"`
	Language         string          `json:"language"`
	PIIPrincipalID   string          `json:"piiPrincipalId"`
	PIIControllers   []PIIController `json:"piiControllers"`
	PolicyURL        string          `json:"policyUrl"`
	Services         []Service       `json:"services"`
	Sensitive        bool            `json:"sensitive"`
	SPICat           []string        `json:"spiCat"`
}

// PIIController is a controller in a [ConsentReceipt].
type PIIController struct {
	PIIController string  `json:"piiController"`
	OnBehalf      bool    `json:"onBehalf"`
	Contact       string  `json:"contact"`
	Address       Address `json:"address"`
	Email         string  `json:"email"`
	Phone         string  `json:"phone"`
}

// Address is a postal address (schema.org PostalAddress); the config holds
// it as one line.
type Address struct {
	StreetAddress string `json:"streetAddress"`
}

// Service groups purposes in a [ConsentReceipt].
type Service struct {
	Service  string           `json:"service"`
	Purposes []ReceiptPurpose `json:"purposes"`
}

// ReceiptPurpose is one purpose consented to.
type ReceiptPurpose struct {
	Purpose              string   `json:"purpose"`
	PurposeCategory      []string `json:"purposeCategory"`
	ConsentType          string   `json:"consentType"`
	PIICategory          []string `json:"piiCategory"`
	PrimaryPurpose       bool     `json:"primaryPurpose"`
	Termination          string   `json:"termination"`
	ThirdPartyDisclosure bool     `json:"thirdPartyDisclosure"`
	ThirdPartyName       string   `json:"thirdPartyName"`
}

// KantaraReceipt describes a granted decision as a Kantara consent
// receipt. Jurisdiction is "DE" (the product serves German controllers
// under the GDPR); every purpose is explicit consent of category "Contact
// Requested", optional (not a primary purpose), with WhatsApp as the third
// party the data is disclosed to.
func KantaraReceipt(rec *ledger.Record, o ExportOptions) ConsentReceipt {
	cfg := o.Config
	method := "web form"
	if rec.Invite != "" {
		method = "web form via personal invite link sent by WhatsApp (invite " + rec.Invite + ")"
	}
	pii := []string{"name", "WhatsApp number", "WhatsApp profile", "content of messages and files"}
	if rec.Subject != nil && rec.Subject.Email != "" {
		pii = slices.Insert(pii, 2, "e-mail address")
	}
	cr := ConsentReceipt{
		Version: "KI-CR-v1.1.0", Jurisdiction: "DE", ConsentTimestamp: rec.Time.Unix(),
		CollectionMethod: method, ConsentReceiptID: rec.ID, Language: rec.Lang,
		PIIPrincipalID: principal(rec.Subject),
		PIIControllers: []PIIController{{
			PIIController: cfg.Controller.Name, Contact: cfg.Controller.Name,
			Address: Address{cfg.Controller.Address}, Email: cfg.Controller.Email, Phone: cfg.Controller.Phone,
		}},
		PolicyURL: o.PolicyURLs[rec.Lang], SPICat: []string{},
	}
	if len(o.PublicKey) > 0 {
		if der, err := x509.MarshalPKIXPublicKey(o.PublicKey); err == nil {
			cr.PublicKey = base64.StdEncoding.EncodeToString(der)
		}
	}
	svc := Service{Service: "WhatsApp communication with " + cfg.Controller.Name}
	for _, id := range rec.Purposes {
		title := cfg.PurposeTitle(id, rec.Lang)
		svc.Purposes = append(svc.Purposes, ReceiptPurpose{
			Purpose: title, PurposeCategory: []string{"Contact Requested"}, ConsentType: "EXPLICIT",
			PIICategory: pii, Termination: "until withdrawn by the data subject (GDPR Art. 7(3)), e.g. by writing to " + cfg.Controller.Email,
			ThirdPartyDisclosure: true, ThirdPartyName: "WhatsApp Ireland Limited; Meta Platforms, Inc.",
		})
	}
	cr.Services = []Service{svc}
	return cr
}

// principal is a receipt's piiPrincipalId: the number, or "erased".
func principal(s *ledger.Subject) string {
	if s == nil || IsErased(s.Phone) {
		return "erased"
	}
	return s.Phone
}

// MarshalIndent is json.MarshalIndent with two spaces and a final newline.
func MarshalIndent(v any) ([]byte, error) {
	b, err := json.MarshalIndent(v, "", "  ")
	return append(b, '\n'), err
}
