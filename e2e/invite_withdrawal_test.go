package e2e

// The personal invite link and withdrawal flows (chatconsent invite,
// GET/POST /v1/withdraw, the static withdrawal page).

import (
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

var inviteLinkRe = regexp.MustCompile(`https?://\S+/v1/consent\?invite=[A-Za-z0-9_\-.~%]+`)

// TestFlowInvite: a personal link from "chatconsent invite" opens the form
// with the number pre-filled and read-only; the grant goes through; the
// same link a second time answers 409 with a way to withdraw.
func TestFlowInvite(t *testing.T) {
	t.Parallel()
	for _, v := range variants {
		t.Run(v.String(), func(t *testing.T) {
			t.Parallel()
			dir := site(t)
			cfg, data := filepath.Join(dir, "config.toml"), filepath.Join(dir, "data")
			run(t, "keygen", "--invite", "--config", cfg, "--data", data)
			srv := start(t, "serve", "--config", cfg, "--addr", "127.0.0.1:0", "--data", data)
			out := run(t, "invite", "--phone", "0170 1234567", "--name", "Jürgen Weiß", "--lang", v.lang, "--config", cfg, "--data", data)
			link := inviteLinkRe.FindString(out)
			if link == "" {
				t.Fatalf("no invite link in:\n%s", out)
			}
			link = srv.URL + link[strings.Index(link, "v1/consent"):] // the serve address, not public_url
			b := newBrowser(t)
			tb := b.newTab(t, v.vp, v.js)
			resp, err := chromedp.Run(tb.ctx, chromedp.NavigateResponse(link))
			if err != nil || resp.Status != http.StatusOK {
				t.Fatalf("open invite: %v %v", resp, err)
			}
			assertEquallyProminent(t, tb)
			if _, ok := attrs(t, tb, "#phone")["readonly"]; !ok {
				t.Error("phone not read-only on a personal link")
			}
			if err := chromedp.Do(tb.ctx, chromedp.Click(chromedp.CSS(`label[for="purpose-orders"]`))); err != nil {
				t.Fatal(err)
			}
			if n, _ := chromedp.Run(tb.ctx, chromedp.Value(chromedp.ID("name"))); n == "" {
				fill(t, tb, "Jürgen Weiß", "")
			}
			if st := press(t, tb, "granted"); st != http.StatusOK {
				t.Fatalf("grant through invite: status %d", st)
			}
			if got, want := text(t, tb, ".ok"), strs(t, v.lang)["thanks_granted"]; got != want {
				t.Errorf("thank-you page says %q, want %q", got, want)
			}
			assertReceipt(t, b, tb)
			resp, err = chromedp.Run(tb.ctx, chromedp.NavigateResponse(link))
			if err != nil || resp.Status != http.StatusConflict {
				t.Errorf("used invite again: %v %v, want 409", resp, err)
			}
			if _, err := chromedp.Run(tb.ctx, chromedp.Attributes(chromedp.CSS(`a[href*="/v1/withdraw"]`))); err != nil {
				t.Errorf("used invite page has no withdrawal link: %v", err)
			}
			b.assertLoopbackOnly(t, tb)
		})
	}
}

// TestFlowWithdrawal: grant, follow the withdrawal link on the thank-you
// page, withdraw with one button, get the withdrawal receipt as a PDF.
func TestFlowWithdrawal(t *testing.T) {
	t.Parallel()
	for _, v := range variants {
		t.Run(v.String(), func(t *testing.T) {
			t.Parallel()
			srv := serve(t) // its own: the variants withdraw for the same number
			b := newBrowser(t)
			tb := b.newTab(t, v.vp, v.js)
			flowGrant(t, b, tb, srv.URL, v)
			if n, err := chromedp.Run(tb.ctx, chromedp.Nodes(chromedp.CSS(`a[href*="/v1/withdraw"]`), chromedp.AtLeast(0))); err != nil || len(n) == 0 {
				t.Fatalf("thank-you page has no withdrawal link: %v", err)
			}
			resp, err := chromedp.RunResponse(tb.ctx, chromedp.Click(chromedp.CSS(`a[href*="/v1/withdraw"]`)))
			if err != nil || resp.Status != http.StatusOK {
				t.Fatalf("open withdrawal page: %v %v", resp, err)
			}
			resp, err = chromedp.RunResponse(tb.ctx, chromedp.Click(chromedp.CSS(`form[action$="/v1/withdraw"] button[type="submit"]`)))
			if err != nil || resp.Status != http.StatusOK {
				t.Fatalf("withdraw: %v %v", resp, err)
			}
			if got, want := text(t, tb, ".ok"), strs(t, v.lang)["thanks_withdrawn"]; got != want {
				t.Errorf("after withdrawing the page says %q, want %q", got, want)
			}
			assertReceipt(t, b, tb)
			b.assertLoopbackOnly(t, tb)
		})
	}
}

// withdrawalPath is the static withdrawal page of each language.
var withdrawalPath = map[string]string{"de": "de/widerruf/", "en": "en/withdrawal/"}

// TestFlowStaticWithdrawal: grant, then withdraw on the site's own
// withdrawal page by typing the number and the reference number from the
// thank-you page, as someone would who only kept the receipt.
func TestFlowStaticWithdrawal(t *testing.T) {
	t.Parallel()
	for _, v := range variants {
		t.Run(v.String(), func(t *testing.T) {
			t.Parallel()
			srv := serve(t) // its own: the variants withdraw for the same number
			b := newBrowser(t)
			tb := b.newTab(t, v.vp, v.js)
			flowGrant(t, b, tb, srv.URL, v)
			id := text(t, tb, "code")
			resp, err := chromedp.Run(tb.ctx, chromedp.NavigateResponse(srv.URL+withdrawalPath[v.lang]))
			if err != nil || resp.Status != http.StatusOK {
				t.Fatalf("open withdrawal page: %v %v", resp, err)
			}
			if err := chromedp.Do(tb.ctx,
				chromedp.SendKeys(chromedp.ID("phone"), "0170 1234567"),
				chromedp.SendKeys(chromedp.ID("id"), id),
			); err != nil {
				t.Fatal(err)
			}
			resp, err = chromedp.RunResponse(tb.ctx, chromedp.Click(chromedp.CSS(`#decision button[type="submit"]`)))
			if err != nil || resp.Status != http.StatusOK {
				t.Fatalf("withdraw: %v %v", resp, err)
			}
			if got, want := text(t, tb, ".ok"), strs(t, v.lang)["thanks_withdrawn"]; got != want {
				t.Errorf("after withdrawing the page says %q, want %q", got, want)
			}
			assertReceipt(t, b, tb)
			b.assertLoopbackOnly(t, tb)
		})
	}
}
