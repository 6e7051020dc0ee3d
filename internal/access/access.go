// Package access answers a data subject's access request (GDPR Art. 15)
// in a form a person reads: a PDF in their language, beside the
// machine-readable export of package internal/records ([records.Export],
// format "chatconsent-export-v1", what `chatconsent export` prints).
//
// The PDF says what is held about the person (Art. 15(1)(b)): their name,
// number and e-mail address, and per event the further fields a record
// keeps (device address, browser, the owner's note); the purposes
// (Art. 15(1)(a)) and what applies to each now; every event; the texts
// shown to them, as archived (the copy, not a link to today's page); the
// recipients (Art. 15(1)(c)); how long the data are kept (Art. 15(1)(d));
// where the data came from (Art. 15(1)(g)) and the person's rights
// (Art. 15(1)(e), (f)). Its labels are the theme's strings access_* (and
// a few console_* and receipt_* ones it shares) in the person's language.
// It is printed by [receipt.PrintDocument] in the receipts' fonts.
//
// [Export] builds the records' export options for a site, for the
// collector's owner console; the CLI builds its own the same way.
package access

import (
	"bytes"
	"crypto/ed25519"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/chatconsent/chatconsent/collector/ledger"
	"github.com/chatconsent/chatconsent/collector/receipt"
	"github.com/chatconsent/chatconsent/generator"
	"github.com/chatconsent/chatconsent/internal/config"
	"github.com/chatconsent/chatconsent/internal/records"
	"github.com/chatconsent/chatconsent/internal/textarchive"
)

// Options is what [PDF] needs besides the export.
type Options struct {
	Config *config.Config
	// Strings returns the theme's strings of a language (nil if it has
	// none).
	Strings func(lang string) map[string]string
	// Lang is the report's language; "" picks the person's (see
	// [Language]).
	Lang string
}

// Language is the language of x's person: that of their latest event
// that has one, if the site has it; else the site's default language.
func Language(x *records.Export, cfg *config.Config) string {
	for _, e := range slices.Backward(x.Events) {
		if l := e.Record.Lang; l != "" && slices.Contains(cfg.Site.Languages, l) {
			return l
		}
	}
	return cfg.Site.DefaultLanguage
}

// SiteOptions returns the export options for cfg's site: the privacy
// notice's address per language, the signing key pub, the text archive's
// manifest m, and the archived texts from dirs (config.Paths.TextDirs,
// the first intact copy).
func SiteOptions(cfg *config.Config, pub ed25519.PublicKey, m *textarchive.Manifest, dirs []string, now time.Time) (records.ExportOptions, error) {
	urls, err := generator.PageURLs(cfg)
	if err != nil {
		return records.ExportOptions{}, err
	}
	policy := map[string]string{}
	for l, pages := range urls {
		if pages["policy"] != "" {
			policy[l] = cfg.SiteURL(pages["policy"])
		}
	}
	return records.ExportOptions{
		Config: cfg, PolicyURLs: policy, PublicKey: pub, Manifest: m, Now: now,
		Text: func(v string) ([]byte, error) {
			b, _, _, err := textarchive.Find(dirs, v)
			return b, err
		},
	}, nil
}

// FileName is the name a person's access report downloads as:
// "access-DATE.pdf" (no number in it: file names end up in places).
func FileName(x *records.Export, ext string) string {
	return "access-" + x.Generated.In(records.Berlin()).Format("2006-01-02") + "." + ext
}

// PDF prints the access report of x (see the package documentation).
func PDF(x *records.Export, o Options) ([]byte, error) {
	d, err := Document(x, o)
	if err != nil {
		return nil, err
	}
	pdf, err := receipt.PrintDocument(d)
	if err != nil {
		return nil, fmt.Errorf("print access report: %w", err)
	}
	return pdf, nil
}

// Document returns the access report of x as a [receipt.Document].
func Document(x *records.Export, o Options) (receipt.Document, error) {
	cfg := o.Config
	lang := o.Lang
	if lang == "" {
		lang = Language(x, cfg)
	}
	t := o.Strings(lang)
	if t == nil || t["access_title"] == "" {
		return receipt.Document{}, fmt.Errorf("access report: the theme has no access_* strings for language %q", lang)
	}
	when := func(tm time.Time) string { return tm.In(records.Berlin()).Format("2006-01-02 15:04") }
	day := func(tm time.Time) string { return tm.In(records.Berlin()).Format("2006-01-02") }
	years := func(n int) string {
		k := "years_other"
		if n == 1 {
			k = "years_one"
		}
		return strings.ReplaceAll(t[k], "{n}", strconv.Itoa(n))
	}
	fill := strings.NewReplacer("{controller}", cfg.Controller.Name, "{date}", day(x.Generated), "{years}", years(cfg.Retention.ProofYears))
	s := func(key string) string { return fill.Replace(t[key]) }
	var b []receipt.Block
	add := func(k receipt.BlockKind, label, text string) {
		b = append(b, receipt.Block{Kind: k, Label: label, Text: text})
	}
	add(receipt.Note, "", s("access_intro"))

	add(receipt.Heading, "", s("access_controller"))
	add(receipt.Paragraph, "", cfg.Controller.Name)
	if cfg.Controller.Address != "" {
		add(receipt.Paragraph, "", cfg.Controller.Address)
	}
	add(receipt.Field, s("access_email"), cfg.Controller.Email)
	add(receipt.Field, s("access_phone"), cfg.Controller.Phone)

	add(receipt.Heading, "", s("access_held"))
	if x.Erased != nil {
		add(receipt.Paragraph, "", strings.ReplaceAll(s("access_erased"), "{erased}", day(*x.Erased)))
	} else {
		add(receipt.Field, s("access_name"), x.Subject.Name)
		add(receipt.Field, s("access_phone"), x.Subject.Phone)
		add(receipt.Field, s("access_email"), x.Subject.Email)
		var ips, agents, notes []string
		for _, e := range x.Events {
			r := e.Record
			if r.ClientIP != "" && !slices.Contains(ips, r.ClientIP) {
				ips = append(ips, r.ClientIP)
			}
			if r.UserAgent != "" && !slices.Contains(agents, r.UserAgent) {
				agents = append(agents, r.UserAgent)
			}
			if r.Note != "" {
				notes = append(notes, r.Note)
			}
		}
		add(receipt.Field, s("access_client_ip"), strings.Join(ips, ", "))
		add(receipt.Field, s("access_user_agent"), strings.Join(agents, "; "))
		add(receipt.Field, s("access_notes"), strings.Join(notes, "; "))
	}
	add(receipt.Paragraph, "", s("access_held_records"))

	add(receipt.Heading, "", s("access_purposes"))
	add(receipt.Paragraph, "", s("access_purposes_intro"))
	if len(x.Status) == 0 {
		add(receipt.Paragraph, "", s("access_none"))
	}
	for _, st := range x.Status {
		state := t[stateKey(st.State)]
		if x.Erased != nil {
			state = t["console_state_erased"]
		}
		text := cfg.PurposeTitle(st.Purpose, lang) + ": " + state
		if !st.Since.IsZero() {
			text += " (" + s("console_since") + " " + when(st.Since) + ")"
		}
		add(receipt.Item, "", text)
	}

	add(receipt.Heading, "", s("access_events"))
	if len(x.Events) == 0 {
		add(receipt.Paragraph, "", s("access_none"))
	}
	for _, e := range x.Events {
		r := e.Record
		add(receipt.Subheading, "", when(r.Time)+" – "+eventName(t, &r))
		var titles []string
		for _, id := range r.Purposes {
			titles = append(titles, cfg.PurposeTitle(id, lang))
		}
		add(receipt.Field, s("console_purpose"), strings.Join(titles, "; "))
		if r.Via != "" {
			via := t["access_via_"+strings.ReplaceAll(r.Via, "-", "_")]
			if via == "" {
				via = t["console_via_"+strings.ReplaceAll(r.Via, "-", "_")]
			}
			if via == "" {
				via = r.Via
			}
			add(receipt.Field, s("console_via"), via)
		}
		add(receipt.Field, s("access_by"), r.By)
		add(receipt.Field, s("access_text_version"), r.TextVersion)
		add(receipt.Field, s("receipt_reference"), r.ID)
	}

	add(receipt.Heading, "", s("access_texts"))
	var versions []string
	for _, e := range x.Events {
		if v := e.Record.TextVersion; v != "" && !slices.Contains(versions, v) {
			versions = append(versions, v)
		}
	}
	if len(versions) == 0 {
		add(receipt.Paragraph, "", s("access_none"))
	}
	for _, v := range versions {
		add(receipt.Subheading, "", s("access_text_version")+" "+v)
		blocks, err := textBlocks([]byte(x.Texts[v]))
		if err != nil {
			return receipt.Document{}, fmt.Errorf("access report: text version %s: %w", v, err)
		}
		b = append(b, blocks...)
	}

	add(receipt.Heading, "", s("access_recipients"))
	add(receipt.Paragraph, "", s("access_recipients_text"))
	if cfg.SMTP != nil {
		add(receipt.Paragraph, "", s("access_recipients_mail"))
	}

	add(receipt.Heading, "", s("access_retention"))
	add(receipt.Paragraph, "", s("access_retention_text"))

	add(receipt.Heading, "", s("access_source"))
	add(receipt.Paragraph, "", s("access_source_text"))

	add(receipt.Heading, "", s("access_rights"))
	add(receipt.Paragraph, "", s("access_rights_text"))
	add(receipt.Note, "", s("access_json"))

	return receipt.Document{
		Lang: lang, Title: s("access_title"), Author: cfg.Controller.Name, Time: x.Generated,
		Footer: cfg.Controller.Name, PageLabel: t["access_page"], Blocks: b,
	}, nil
}

// stateKey is the theme key of a records state.
func stateKey(state string) string {
	switch state {
	case records.Granted:
		return "console_state_granted"
	case records.Refused:
		return "console_state_refused"
	case records.Withdrawn:
		return "console_state_withdrawn"
	case records.RenewalNeeded:
		return "console_state_renewal"
	}
	return "console_state_not_asked"
}

// eventName names the event of r in the language of t.
func eventName(t map[string]string, r *ledger.Record) string {
	switch r.Type {
	case ledger.TypeDecision:
		return t[stateKey(r.Decision)]
	case ledger.TypeWithdrawal:
		return t["console_state_withdrawn"]
	case ledger.TypeInvite:
		return t["console_event_invite"]
	case ledger.TypeErasure:
		return t["console_state_erased"]
	}
	return r.Type
}

// textBlocks turns an archived text (a whole HTML page) into blocks: the
// headings, paragraphs and list items of its <main> (else its <body>),
// links with their address when it is not the link's text; forms,
// scripts, styles and navigation are left out.
func textBlocks(doc []byte) ([]receipt.Block, error) {
	root, err := html.Parse(bytes.NewReader(doc))
	if err != nil {
		return nil, err
	}
	start := find(root, atom.Main)
	if start == nil {
		start = find(root, atom.Body)
	}
	if start == nil {
		start = root
	}
	var out []receipt.Block
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type != html.ElementNode {
			for c := n.FirstChild; c != nil; c = c.NextSibling {
				walk(c)
			}
			return
		}
		switch n.DataAtom {
		case atom.Script, atom.Style, atom.Nav, atom.Form, atom.Button, atom.Input, atom.Select, atom.Textarea, atom.Template, atom.Noscript:
			return
		case atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6:
			if s := inline(n); s != "" {
				out = append(out, receipt.Block{Kind: receipt.Subheading, Text: s})
			}
			return
		case atom.P, atom.Dt, atom.Dd, atom.Blockquote, atom.Figcaption, atom.Address:
			if s := inline(n); s != "" {
				out = append(out, receipt.Block{Kind: receipt.Paragraph, Text: s})
			}
			return
		case atom.Li:
			if hasBlockChild(n) {
				break
			}
			if s := inline(n); s != "" {
				out = append(out, receipt.Block{Kind: receipt.Item, Text: s})
			}
			return
		case atom.Tr:
			var cells []string
			for c := n.FirstChild; c != nil; c = c.NextSibling {
				if c.Type == html.ElementNode {
					if s := inline(c); s != "" {
						cells = append(cells, s)
					}
				}
			}
			if len(cells) > 0 {
				out = append(out, receipt.Block{Kind: receipt.Item, Text: strings.Join(cells, " – ")})
			}
			return
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(start)
	return out, nil
}

func find(n *html.Node, a atom.Atom) *html.Node {
	if n.Type == html.ElementNode && n.DataAtom == a {
		return n
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if f := find(c, a); f != nil {
			return f
		}
	}
	return nil
}

func hasBlockChild(n *html.Node) bool {
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		switch c.DataAtom {
		case atom.Ul, atom.Ol, atom.P, atom.Div:
			return true
		}
	}
	return false
}

// inline returns the text of n with white space collapsed; a link whose
// address (absolute, or mailto:) is not its text gets it in brackets.
func inline(n *html.Node) string {
	var b strings.Builder
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		switch n.Type {
		case html.TextNode:
			b.WriteString(n.Data)
			return
		case html.ElementNode:
			switch n.DataAtom {
			case atom.Script, atom.Style, atom.Input, atom.Select, atom.Textarea, atom.Button:
				return
			case atom.Br:
				b.WriteString(" ")
				return
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
		if n.DataAtom == atom.A {
			for _, a := range n.Attr {
				if a.Key != "href" {
					continue
				}
				href := strings.TrimPrefix(a.Val, "mailto:")
				if (strings.HasPrefix(a.Val, "https://") || strings.HasPrefix(a.Val, "http://") || strings.HasPrefix(a.Val, "mailto:")) && !strings.Contains(inlineText(n), href) {
					b.WriteString(" (" + href + ")")
				}
			}
		}
	}
	walk(n)
	return strings.Join(strings.Fields(b.String()), " ")
}

func inlineText(n *html.Node) string {
	var b strings.Builder
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return b.String()
}
