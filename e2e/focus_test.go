package e2e

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// focused describes document.activeElement after a key press.
type focused struct {
	Tag, ID, Name, Value, Text string
	// Outline is the computed outline ("none" when there is none);
	// Visible is false if the element is off screen.
	OutlineStyle string
	OutlineWidth float64
	Visible      bool
}

const activeJS = `(() => {
	const e = document.activeElement;
	if (!e || e === document.body) return JSON.stringify(null);
	const s = getComputedStyle(e), r = e.getBoundingClientRect();
	return JSON.stringify({Tag: e.tagName.toLowerCase(), ID: e.id, Name: e.name || "", Value: e.value || "",
		Text: (e.textContent || "").trim().slice(0, 40),
		OutlineStyle: s.outlineStyle, OutlineWidth: parseFloat(s.outlineWidth) || 0,
		Visible: r.width > 0 && r.height > 0 && r.right > 0 && r.bottom > 0 && r.left < innerWidth});
})()`

// TestKeyboardFocus tabs through each consent page as a keyboard user
// would: every stop shows a focus outline and is on screen, the skip link
// comes first, and every field, purpose and both decision buttons are
// reached (WCAG 2.1.1, 2.4.1, 2.4.7). The form with errors is included.
func TestKeyboardFocus(t *testing.T) {
	t.Parallel()
	srv := serve(t)
	b := newBrowser(t)
	for _, v := range []variant{{desktop, false, "de"}, {phone, false, "en"}} {
		for _, withErrors := range []bool{false, true} {
			name := v.String()
			if withErrors {
				name += "/with-errors"
			}
			t.Run(name, func(t *testing.T) {
				tb := b.newTab(t, v.vp, v.js)
				openConsent(t, b, tb, srv.URL, v)
				if withErrors {
					if st := press(t, tb, "granted"); st != 400 {
						t.Fatalf("status %d, want 400", st)
					}
				}
				var stops []string
				for i := 0; i < 60; i++ {
					if err := chromedp.Do(tb.ctx, chromedp.KeyEvent(kb.Tab)); err != nil {
						t.Fatal(err)
					}
					out, err := chromedp.Run(tb.ctx, chromedp.Evaluate[string](activeJS))
					if err != nil {
						t.Fatal(err)
					}
					var f *focused
					if err := json.Unmarshal([]byte(out), &f); err != nil {
						t.Fatal(err)
					}
					if f == nil { // wrapped around to the browser
						break
					}
					stop := f.Tag + "#" + f.ID
					if f.Tag == "button" {
						stop = "button=" + f.Value
					}
					if f.Tag == "a" {
						stop = "a:" + f.Text
					}
					if len(stops) > 0 && stops[0] == stop {
						break
					}
					stops = append(stops, stop)
					if f.OutlineStyle == "none" || f.OutlineWidth < 2 {
						t.Errorf("focus on %s is not visible: outline %s %.1fpx", stop, f.OutlineStyle, f.OutlineWidth)
					}
					if !f.Visible {
						t.Errorf("focused %s is off screen", stop)
					}
				}
				t.Logf("tab stops: %v", stops)
				s := strs(t, v.lang)
				if len(stops) == 0 || stops[0] != "a:"+s["skip_to_content"] {
					t.Errorf("first stop %v, want the skip link", stops)
				}
				for _, want := range []string{"input#name", "input#phone", "input#email", "input#purpose-orders", "input#purpose-documents", "button=granted", "button=refused"} {
					if !slices.Contains(stops, want) {
						t.Errorf("keyboard never reaches %s; stops: %v", want, stops)
					}
				}
				if slices.Contains(stops, "input#website") {
					t.Error("the honeypot field takes the focus")
				}
			})
		}
	}
}
