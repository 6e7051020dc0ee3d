package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/chatconsent/chatconsent/themes"
)

// consentPath is the consent page of each language in the repo's content.
var consentPath = map[string]string{"de": "de/einwilligung/", "en": "en/consent/"}

// strs returns the default theme's strings in lang, which is what the
// pages show (the repo's site overrides none).
func strs(t *testing.T, lang string) map[string]string {
	t.Helper()
	th, err := themes.Load("")
	if err != nil {
		t.Fatal(err)
	}
	return th.Strings(lang)
}

// variant is one way a person meets the pages.
type variant struct {
	vp   viewport
	js   bool
	lang string
}

func (v variant) String() string {
	js := "js-off"
	if v.js {
		js = "js-on"
	}
	return fmt.Sprintf("%s/%s/%s", v.vp.Name, js, v.lang)
}

// variants covers both viewports with JavaScript on and off; the phone
// runs in German (the default language), the desktop in English.
var variants = []variant{
	{phone, true, "de"}, {phone, false, "de"},
	{desktop, true, "en"}, {desktop, false, "en"},
}

// TestFlows clicks through the grant, refuse and bad-field flows as a
// data subject would, in every variant.
func TestFlows(t *testing.T) {
	t.Parallel()
	srv := serve(t)
	flows := []struct {
		name string
		run  func(t *testing.T, b *browserT, tb *tab, base string, v variant)
	}{
		{"grant", flowGrant},
		{"refuse", flowRefuse},
		{"bad-field", flowBadField},
	}
	// One browser per variant, the variants in parallel.
	for _, v := range variants {
		t.Run(v.String(), func(t *testing.T) {
			t.Parallel()
			b := newBrowser(t)
			for _, f := range flows {
				t.Run(f.name, func(t *testing.T) {
					tb := b.newTab(t, v.vp, v.js)
					f.run(t, b, tb, srv.URL, v)
					b.assertLoopbackOnly(t, tb)
				})
			}
		})
	}
}

// openConsent opens the consent page and checks the two buttons.
func openConsent(t *testing.T, b *browserT, tb *tab, base string, v variant) {
	t.Helper()
	resp, err := chromedp.Run(tb.ctx, chromedp.NavigateResponse(base+consentPath[v.lang]))
	if err != nil || resp.Status != http.StatusOK {
		t.Fatalf("open consent page: %v %v", resp, err)
	}
	assertEquallyProminent(t, tb)
}

// fill types name and phone and ticks the purposes, by tapping their labels.
func fill(t *testing.T, tb *tab, name, phone string, purposes ...string) {
	t.Helper()
	actions := []chromedp.Action[chromedp.Void]{
		chromedp.SendKeys(chromedp.ID("name"), name),
		chromedp.SendKeys(chromedp.ID("phone"), phone),
	}
	for _, p := range purposes {
		actions = append(actions, chromedp.Click(chromedp.CSS(`label[for="purpose-`+p+`"]`)))
	}
	if err := chromedp.Do(tb.ctx, actions...); err != nil {
		t.Fatalf("fill the form: %v", err)
	}
}

// press presses a decision button and returns the answer's HTTP status.
func press(t *testing.T, tb *tab, decision string) int64 {
	t.Helper()
	resp, err := chromedp.RunResponse(tb.ctx, chromedp.Click(chromedp.CSS(`button[name="decision"][value="`+decision+`"]`)))
	if err != nil {
		t.Fatalf("press %s: %v", decision, err)
	}
	return resp.Status
}

// text returns the visible text of the first element matching css.
func text(t *testing.T, tb *tab, css string) string {
	t.Helper()
	s, err := chromedp.Run(tb.ctx, chromedp.Text(chromedp.CSS(css)))
	if err != nil {
		t.Fatalf("read %s: %v", css, err)
	}
	return strings.TrimSpace(s)
}

// attr returns an attribute of the first element matching css ("" if unset).
func attr(t *testing.T, tb *tab, css, name string) string {
	t.Helper()
	m, err := chromedp.Run(tb.ctx, chromedp.Attributes(chromedp.CSS(css)))
	if err != nil {
		t.Fatalf("attributes of %s: %v", css, err)
	}
	return m[name]
}

// assertReceipt downloads the receipt by clicking its link on the
// thank-you page and checks that it is a PDF.
func assertReceipt(t *testing.T, b *browserT, tb *tab) {
	t.Helper()
	pdf := b.download(t, tb, chromedp.Click(chromedp.CSS(`a[href*="/v1/receipts/"]`)))
	if !strings.HasPrefix(string(pdf), "%PDF-") {
		t.Errorf("receipt is not a PDF: %.20q", pdf)
	}
}

func flowGrant(t *testing.T, b *browserT, tb *tab, base string, v variant) {
	s := strs(t, v.lang)
	openConsent(t, b, tb, base, v)
	fill(t, tb, "Jürgen Weiß", "0170 1234567", "orders", "documents")
	if st := press(t, tb, "granted"); st != http.StatusOK {
		t.Fatalf("grant: status %d", st)
	}
	if got, want := text(t, tb, ".ok"), s["thanks_granted"]; got != want {
		t.Errorf("thank-you page says %q, want %q", got, want)
	}
	assertReceipt(t, b, tb)
}

func flowRefuse(t *testing.T, b *browserT, tb *tab, base string, v variant) {
	s := strs(t, v.lang)
	openConsent(t, b, tb, base, v)
	// Refusing needs no ticks: it is as easy as granting.
	fill(t, tb, "Łukasz Wróbel", "+48 512 345 678")
	if st := press(t, tb, "refused"); st != http.StatusOK {
		t.Fatalf("refuse: status %d", st)
	}
	if got, want := text(t, tb, ".ok"), s["thanks_refused"]; got != want {
		t.Errorf("thank-you page says %q, want %q", got, want)
	}
	assertReceipt(t, b, tb)
}

// flowBadField types a phone number that cannot be one, gets the form back
// with the error tied to the field and the entries kept, corrects it and
// succeeds.
func flowBadField(t *testing.T, b *browserT, tb *tab, base string, v variant) {
	s := strs(t, v.lang)
	openConsent(t, b, tb, base, v)
	fill(t, tb, "Jürgen Weiß", "12", "orders")
	if st := press(t, tb, "granted"); st != http.StatusBadRequest {
		t.Fatalf("bad phone: status %d, want 400", st)
	}
	if got, want := text(t, tb, "h1"), s["error_title"]; got != want {
		t.Errorf("error page heading %q, want %q", got, want)
	}
	if got := attr(t, tb, "#phone", "aria-invalid"); got != "true" {
		t.Errorf("phone aria-invalid = %q, want true", got)
	}
	if got := attr(t, tb, "#phone", "aria-describedby"); !strings.Contains(" "+got+" ", " phone-error ") {
		t.Errorf("phone aria-describedby = %q, want it to name phone-error", got)
	}
	if got, want := text(t, tb, "#phone-error"), s["err_phone_invalid"]; got != want {
		t.Errorf("phone error %q, want %q", got, want)
	}
	if got := attr(t, tb, "#name", "aria-invalid"); got != "" {
		t.Errorf("name aria-invalid = %q on a good name", got)
	}
	if got := attr(t, tb, `.errors a[href="#phone"]`, "href"); got != "#phone" {
		t.Errorf("error summary does not link the field: %q", got)
	}
	name, err := chromedp.Run(tb.ctx, chromedp.Value(chromedp.ID("name")))
	if err != nil || name != "Jürgen Weiß" {
		t.Errorf("name after the error = %q, %v; want it kept", name, err)
	}
	if _, ok := attrs(t, tb, "#purpose-orders")["checked"]; !ok {
		t.Errorf("ticked purpose lost after the error")
	}
	assertEquallyProminent(t, tb)
	// Correct the number and decide again.
	if err := chromedp.Do(tb.ctx,
		chromedp.Clear(chromedp.ID("phone")),
		chromedp.SendKeys(chromedp.ID("phone"), "+49 170 1234567"),
	); err != nil {
		t.Fatal(err)
	}
	if st := press(t, tb, "granted"); st != http.StatusOK {
		t.Fatalf("corrected: status %d", st)
	}
	if got, want := text(t, tb, ".ok"), s["thanks_granted"]; got != want {
		t.Errorf("thank-you page says %q, want %q", got, want)
	}
	assertReceipt(t, b, tb)
}

func attrs(t *testing.T, tb *tab, css string) map[string]string {
	t.Helper()
	m, err := chromedp.Run(tb.ctx, chromedp.Attributes(chromedp.CSS(css)))
	if err != nil {
		t.Fatalf("attributes of %s: %v", css, err)
	}
	return m
}

// prominence lists the computed properties that make a button stand out.
var prominence = []string{
	"width", "height", "font-size", "font-weight", "font-family", "color",
	"background-color", "border-top-width", "border-top-color", "border-top-style",
	"padding-top", "padding-left", "text-decoration-line", "opacity", "visibility",
}

// assertEquallyProminent checks that grant and refuse look alike: the same
// size on screen, weight, colours and border (GDPR Art. 7(3), EDPB 05/2020:
// refusing as easy as granting).
func assertEquallyProminent(t *testing.T, tb *tab) {
	t.Helper()
	style := func(decision string) (map[string]string, [2]float64) {
		sel := chromedp.CSS(`button[name="decision"][value="` + decision + `"]`)
		props, err := chromedp.Run(tb.ctx, chromedp.ComputedStyle(sel))
		if err != nil {
			t.Fatalf("style of %s: %v", decision, err)
		}
		m := map[string]string{}
		for _, p := range props {
			m[p.Name] = p.Value
		}
		box, err := chromedp.Run(tb.ctx, chromedp.Dimensions(sel))
		if err != nil {
			t.Fatalf("box of %s: %v", decision, err)
		}
		return m, [2]float64{float64(box.Width), float64(box.Height)}
	}
	g, gbox := style("granted")
	r, rbox := style("refused")
	for _, p := range prominence {
		if g[p] != r[p] {
			t.Errorf("buttons differ in %s: grant %q, refuse %q", p, g[p], r[p])
		}
	}
	if gbox != rbox {
		t.Errorf("buttons differ in size on screen: grant %v, refuse %v", gbox, rbox)
	}
}
