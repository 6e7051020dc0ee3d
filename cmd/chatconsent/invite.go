package main

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/chatconsent/chatconsent/collector/invite"
	"github.com/chatconsent/chatconsent/internal/config"
	"github.com/chatconsent/chatconsent/internal/phone"
	"github.com/chatconsent/chatconsent/internal/records"
	"github.com/chatconsent/chatconsent/themes"
	qrcode "github.com/skip2/go-qrcode"
)

func runInvite(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("invite", stderr)
	cfgPath := fs.String("config", "config.toml", "site configuration `file`")
	data := fs.String("data", "", "data `folder` (default: collector.data_dir from the config)")
	phoneFlag := fs.String("phone", "", "the contact's WhatsApp `number`, e.g. 0170 1234567 or +49 170 1234567")
	name := fs.String("name", "", "the contact's `name`, pre-filled on the page (optional)")
	lang := fs.String("lang", "", "`language` of the page and message (default: the site's default)")
	renew := fs.Bool("renew", false, "invite everyone whose consent needs renewal after a material change")
	qr := fs.String("qr", "", "also write the personal link as a QR code: a PNG `file`, or - for the terminal (to invite in person)")
	logCopy := fs.String("log", "", "with --renew: a copy of the collector's decisions.jsonl (`file`, signing.pub beside it), for inviting from a computer that is not the server")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	if *renew == (*phoneFlag != "") {
		return usageError("invite: give --phone NUMBER, or --renew")
	}
	if *qr != "" && *renew {
		return usageError("invite: --qr goes with --phone, not --renew")
	}
	if *logCopy != "" && !*renew {
		return usageError("invite: --log goes with --renew")
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	dir := *data
	if dir == "" {
		dir = cfg.Collector.DataDir
	}
	keyPath := cfg.Invite.Key
	if keyPath == "" {
		keyPath = filepath.Join(dir, invite.KeyFile)
	}
	priv, err := invite.ReadKey(keyPath)
	if errors.Is(err, os.ErrNotExist) {
		return &hintError{err, "create the invite key once with: chatconsent keygen --invite, and give its invite.pub to the collector (its data folder, or invite.public_key)"}
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "invite key %s, fingerprint %s (doctor on the server prints the one of its invite.pub: they must be equal)\n",
		keyPath, invite.Fingerprint(priv.Public().(ed25519.PublicKey)))
	if w := loopbackWarning(cfg.Collector.PublicURL); w != "" {
		fmt.Fprintf(stderr, "chatconsent: warning: %s\n", w)
	}
	theme, err := themes.Load(cfg.Dir)
	if err != nil {
		return err
	}
	mk := &inviter{cfg: cfg, theme: theme, sign: func(inv invite.Invite) (string, error) { return invite.Encode(inv, priv) }, now: time.Now()}
	if !*renew {
		number, err := phone.Parse(*phoneFlag, phone.DefaultRegion)
		if err != nil {
			return usageError("invite: --phone %q: %v", *phoneFlag, err)
		}
		if *lang == "" {
			*lang = cfg.Site.DefaultLanguage
		}
		if !slices.Contains(cfg.Site.Languages, *lang) {
			return usageError("invite: --lang %q: the site has %s", *lang, strings.Join(cfg.Site.Languages, ", "))
		}
		mk.qr = *qr
		return mk.print(stdout, number, strings.TrimSpace(*name), *lang)
	}
	o, err := openRecordsLog(*cfgPath, *data, *logCopy, false)
	if err != nil {
		return err
	}
	people := o.book.NeedsRenewal(o.manifest)
	fmt.Fprintf(stdout, "%s to ask again (their consent was given on a text that has since changed materially)\n", count(uint64(len(people)), "person", "people"))
	for _, p := range people {
		var purposes []string
		pl := cfg.Site.DefaultLanguage
		for _, s := range o.book.Status(p, o.manifest) {
			if s.Renewal {
				purposes = append(purposes, s.ID)
				pl = s.Lang
			}
		}
		fmt.Fprintf(stdout, "\n%s %s: %s\n", p.Phone, p.Name, strings.Join(purposes, ", "))
		if err := mk.print(stdout, p.Phone, p.Name, pl); err != nil {
			return err
		}
	}
	return nil
}

// loopbackWarning says what is wrong with personal links to publicURL
// when its host is this computer (127.0.0.1, ::1, localhost): they open
// on no one else's phone. It returns "" for any other host.
func loopbackWarning(publicURL string) string {
	u, err := url.Parse(publicURL)
	if err != nil {
		return ""
	}
	h := u.Hostname()
	ip := net.ParseIP(h)
	if !(strings.EqualFold(h, "localhost") || strings.HasSuffix(strings.ToLower(h), ".localhost") || (ip != nil && (ip.IsLoopback() || ip.IsUnspecified()))) {
		return ""
	}
	return fmt.Sprintf("collector.public_url is %s, this computer: these links open on no one else's phone; for real invites set collector.public_url in config.toml to the collector's public https address (e.g. https://consent.example.org/)", publicURL)
}

// inviter makes and prints invites.
type inviter struct {
	cfg   *config.Config
	theme *themes.Theme
	sign  func(invite.Invite) (string, error)
	now   time.Time
	qr    string // "" none, "-" terminal, else a PNG file for the link
}

func (m *inviter) print(w io.Writer, phone, name, lang string) error {
	exp := m.now.Add(time.Duration(m.cfg.Invite.ValidDays) * 24 * time.Hour)
	inv, err := invite.New(phone, name, lang, exp)
	if err != nil {
		return fmt.Errorf("invite %s: %w", phone, err)
	}
	token, err := m.sign(inv)
	if err != nil {
		return fmt.Errorf("invite %s: %w", phone, err)
	}
	link := invite.ConsentURL(m.cfg.Collector.PublicURL, token)
	tpl := m.cfg.Invite.Message[lang]
	if tpl == "" {
		tpl = m.theme.Strings(lang)["invite_message"]
	}
	msg := invite.Message(tpl, name, link, m.cfg.Controller.Name)
	fmt.Fprintf(w, "invite %s for %s, valid until %s (Europe/Berlin)\n", inv.ID, phone, inv.Expires.In(records.Berlin()).Format("2006-01-02 15:04"))
	fmt.Fprintf(w, "personal link: %s\n", link)
	fmt.Fprintf(w, "WhatsApp:      %s\n", invite.WhatsAppURL(phone, msg))
	if m.qr != "" {
		return writeQR(w, m.qr, link)
	}
	return nil
}

// writeQR writes link as a QR code (ISO/IEC 18004, medium error
// correction) to a PNG file, or as text to w for path "-".
func writeQR(w io.Writer, path, link string) error {
	code, err := qrcode.New(link, qrcode.Medium)
	if err != nil {
		return fmt.Errorf("QR code: %w", err)
	}
	if path == "-" {
		_, err := io.WriteString(w, code.ToSmallString(false))
		return err
	}
	png, err := code.PNG(512)
	if err != nil {
		return fmt.Errorf("QR code: %w", err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		return fmt.Errorf("QR code: %w", err)
	}
	fmt.Fprintf(w, "QR code:       %s\n", path)
	return nil
}
