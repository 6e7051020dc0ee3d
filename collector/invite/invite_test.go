package invite

import (
	"crypto/ed25519"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chatconsent/chatconsent/collector/ledger"
)

var (
	seed1 = []byte("0123456789abcdef0123456789abcdef")
	seed2 = []byte("fedcba9876543210fedcba9876543210")
	priv  = ed25519.NewKeyFromSeed(seed1)
	pub   = priv.Public().(ed25519.PublicKey)
	other = ed25519.NewKeyFromSeed(seed2)
	exp   = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
)

func sample() Invite {
	return Invite{ID: "00112233445566778899aabbccddeeff", Phone: "+491701234567", Expires: exp, Lang: "de", Name: "Jürgen Weiß"}
}

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	for _, inv := range []Invite{
		sample(),
		{ID: "ffffffffffffffffffffffffffffffff", Phone: "+12", Expires: time.Unix(1, 0).UTC()},
		{ID: "0123456789abcdef0123456789abcdef", Phone: "+905321234567", Expires: exp, Lang: "en", Name: strings.Repeat("Ж", MaxNameRunes)},
	} {
		tok, err := Encode(inv, priv)
		if err != nil {
			t.Fatalf("Encode(%+v): %v", inv, err)
		}
		if strings.ContainsAny(tok, "+/=") {
			t.Errorf("token %q is not URL-safe", tok)
		}
		got, err := Parse(tok, pub)
		if err != nil {
			t.Fatalf("Parse: %v", err)
		}
		if got != inv {
			t.Errorf("Parse = %+v, want %+v", got, inv)
		}
	}
}

func TestTokenLength(t *testing.T) {
	tok, _ := Encode(sample(), priv)
	if len(tok) > 180 {
		t.Errorf("token is %d characters, want at most 180 for a short name", len(tok))
	}
}

func TestEncodeRefusesBadFields(t *testing.T) {
	t.Parallel()
	for name, mod := range map[string]func(*Invite){
		"id":          func(i *Invite) { i.ID = "xyz" },
		"phone":       func(i *Invite) { i.Phone = "0170 1234567" },
		"phone long":  func(i *Invite) { i.Phone = "+1234567890123456" },
		"lang":        func(i *Invite) { i.Lang = "DE" },
		"name ctrl":   func(i *Invite) { i.Name = "a\nb" },
		"name bidi":   func(i *Invite) { i.Name = "a\u202eb" },
		"name long":   func(i *Invite) { i.Name = strings.Repeat("a", MaxNameRunes+1) },
		"name utf8":   func(i *Invite) { i.Name = "\xff" },
		"expiry zero": func(i *Invite) { i.Expires = time.Time{} },
		"expiry frac": func(i *Invite) { i.Expires = exp.Add(time.Millisecond) },
	} {
		inv := sample()
		mod(&inv)
		if _, err := Encode(inv, priv); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: Encode err = %v, want ErrMalformed", name, err)
		}
	}
}

func TestVerify(t *testing.T) {
	t.Parallel()
	tok, _ := Encode(sample(), priv)
	if _, err := Verify(tok, pub, exp.Add(-time.Second)); err != nil {
		t.Errorf("Verify before expiry: %v", err)
	}
	inv, err := Verify(tok, pub, exp)
	if !errors.Is(err, ErrExpired) || inv.Phone != "+491701234567" {
		t.Errorf("Verify at expiry = %+v, %v; want the invite and ErrExpired", inv, err)
	}
	forged, _ := Encode(sample(), other)
	if _, err := Verify(forged, pub, exp.Add(-time.Hour)); !errors.Is(err, ErrBadSignature) {
		t.Errorf("Verify of a token signed by another key: %v, want ErrBadSignature", err)
	}
	for _, bad := range []string{"", "!!!", "AAAA", strings.Repeat("A", MaxTokenLen+1)} {
		if _, err := Verify(bad, pub, exp); !errors.Is(err, ErrMalformed) {
			t.Errorf("Verify(%.20q) = %v, want ErrMalformed", bad, err)
		}
	}
}

// TestMangling changes every byte of a token and cuts it at every length:
// each must be refused (sumdb/note style).
func TestMangling(t *testing.T) {
	t.Parallel()
	tok, _ := Encode(sample(), priv)
	raw, _ := enc.DecodeString(tok)
	for i := range raw {
		for _, x := range []byte{0x01, 0x80, 0xff} {
			b := append([]byte(nil), raw...)
			b[i] ^= x
			if _, err := Parse(enc.EncodeToString(b), pub); err == nil {
				t.Fatalf("byte %d ^ %#x accepted", i, x)
			}
		}
	}
	for n := 0; n < len(tok); n++ {
		if _, err := Parse(tok[:n], pub); err == nil {
			t.Fatalf("token cut to %d characters accepted", n)
		}
	}
	if _, err := Parse(tok+"A", pub); err == nil {
		t.Fatal("token with an extra character accepted")
	}
}

func TestNonMinimalVarintRefused(t *testing.T) {
	inv := sample()
	p := inv.payload()
	// Re-encode the phone length (first byte after the expiry) with a
	// redundant continuation byte.
	i := 1 + idLen
	for p[i]&0x80 != 0 {
		i++
	}
	i++
	l := p[i]
	b := append(append(append([]byte{}, p[:i]...), l|0x80, 0x00), p[i+1:]...)
	sig := ed25519.Sign(priv, append([]byte(domain), b...))
	if _, err := Parse(enc.EncodeToString(append(b, sig...)), pub); !errors.Is(err, ErrMalformed) {
		t.Errorf("non-minimal varint: %v, want ErrMalformed", err)
	}
}

func TestLinks(t *testing.T) {
	t.Parallel()
	if got, want := ConsentURL("https://c.example/", "TOK"), "https://c.example/v1/consent?invite=TOK"; got != want {
		t.Errorf("ConsentURL = %q, want %q", got, want)
	}
	msg := Message("Hallo {name}, bitte hier entscheiden ({controller}): {link}", "", "https://x/?invite=a&b", "Laden & Co")
	if want := "Hallo, bitte hier entscheiden (Laden & Co): https://x/?invite=a&b"; msg != want {
		t.Errorf("Message = %q, want %q", msg, want)
	}
	if got, want := Message("Hi {name}!", "Jürgen", "", ""), "Hi Jürgen!"; got != want {
		t.Errorf("Message = %q, want %q", got, want)
	}
	got := WhatsAppURL("+491701234567", "Hallo Jürgen: https://x/?invite=a&b+c")
	want := "https://wa.me/491701234567?text=Hallo%20J%C3%BCrgen%3A%20https%3A%2F%2Fx%2F%3Finvite%3Da%26b%2Bc"
	if got != want {
		t.Errorf("WhatsAppURL = %q, want %q", got, want)
	}
}

func FuzzDecode(f *testing.F) {
	tok, _ := Encode(sample(), priv)
	f.Add(tok)
	tok2, _ := Encode(Invite{ID: "ffffffffffffffffffffffffffffffff", Phone: "+12", Expires: time.Unix(1, 0)}, priv)
	f.Add(tok2)
	f.Add("")
	f.Add("AQ")
	f.Fuzz(func(t *testing.T, s string) {
		inv, err := Decode(s)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("Decode error %v does not wrap ErrMalformed", err)
			}
			return
		}
		// A decodable token re-encodes to the same payload: one encoding
		// per invite.
		_, payload, sig, _ := decode(s)
		if got := enc.EncodeToString(append(inv.payload(), sig...)); got != s {
			t.Fatalf("re-encoded %q, want %q", got, s)
		}
		if len(payload) == 0 {
			t.Fatal("empty payload accepted")
		}
		// The fuzzer cannot forge the signature.
		if _, err := Parse(s, pub); err == nil && s != tok && s != tok2 {
			t.Fatalf("Parse accepted a token the key never signed: %q", s)
		}
	})
}

func BenchmarkEncode(b *testing.B) {
	inv := sample()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Encode(inv, priv); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	tok, _ := Encode(sample(), priv)
	now := exp.Add(-time.Hour)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Verify(tok, pub, now); err != nil {
			b.Fatal(err)
		}
	}
}

// TestInviteKeyWording (issue 11 item 24): errors about the invite key
// call it that, never "signing key" (the log's key).
func TestInviteKeyWording(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p, pub := filepath.Join(dir, "invite.key"), filepath.Join(dir, "invite.pub")
	if _, err := GenerateKey(p, pub); err != nil {
		t.Fatal(err)
	}
	_, err := GenerateKey(p, pub)
	if err == nil || !errors.Is(err, ledger.ErrKeyExists) || !strings.Contains(err.Error(), "an invite key already exists") || strings.Contains(err.Error(), "signing key") {
		t.Errorf("second GenerateKey: %v", err)
	}
	os.Chmod(p, 0o644)
	if _, err := ReadKey(p); err == nil || !strings.Contains(err.Error(), "invite key "+p+" has mode 0644") || strings.Contains(err.Error(), "signing key") {
		t.Errorf("open key: %v", err)
	}
	os.WriteFile(p, []byte("junk"), 0o600)
	os.Chmod(p, 0o600)
	if _, err := ReadKey(p); err == nil || !strings.Contains(err.Error(), "read invite key") {
		t.Errorf("junk key: %v", err)
	}
}
