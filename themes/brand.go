package themes

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"math"
	"regexp"
	"strconv"
)

// MinContrast is the least contrast ratio the brand colour must have with
// the text and background it meets: WCAG 2.2 success criterion 1.4.3
// (Contrast, level AA) for normal text.
const MinContrast = 4.5

// ErrContrast is wrapped by [Theme.SetBrandColor] for a colour too light
// or too dark to read.
var ErrContrast = errors.New("contrast too low")

var (
	bgRe  = regexp.MustCompile(`--bg:(#[0-9a-fA-F]{3,6})\b`)
	hexRe = regexp.MustCompile(`^#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$`)
)

// buttonText is the label colour of the theme's buttons, which have the
// brand colour as background (style.css, .decide button).
const buttonText = "#fff"

// SetBrandColor makes color ("#rrggbb", config site.brand_color) the
// theme's accent: links on the page background and the labels of buttons
// filled with it. It checks both contrasts against [MinContrast] first and
// returns an error wrapping [ErrContrast] that names the ratio. "" changes
// nothing.
func (t *Theme) SetBrandColor(color string) error {
	if color == "" {
		return nil
	}
	fg, err := luminance(color)
	if err != nil {
		return fmt.Errorf("site.brand_color: %w", err)
	}
	bgColor := "#fff"
	if m := bgRe.FindStringSubmatch(string(t.css)); m != nil {
		bgColor = m[1]
	}
	for _, other := range []struct{ color, what string }{
		{bgColor, "the page background " + bgColor + " (links)"},
		{buttonText, "the button text " + buttonText},
	} {
		l, err := luminance(other.color)
		if err != nil {
			return fmt.Errorf("theme colour: %w", err)
		}
		if r := contrast(fg, l); r < MinContrast {
			return fmt.Errorf("site.brand_color %s: %w: %.2f:1 against %s; WCAG 2.2 AA needs at least %.1f:1: choose a darker colour", color, ErrContrast, math.Floor(r*100)/100, other.what, MinContrast)
		}
	}
	t.css += template.CSS(":root{--accent:" + color + "}\n")
	h := sha256.Sum256([]byte(t.sum + " brand " + color))
	t.sum = hex.EncodeToString(h[:])
	return nil
}

// luminance is the relative luminance of a CSS hex colour (WCAG 2.2,
// "relative luminance": sRGB channels linearised, weighted 0.2126,
// 0.7152, 0.0722).
func luminance(c string) (float64, error) {
	if !hexRe.MatchString(c) {
		return 0, fmt.Errorf("%q is not a hex colour like #0b5c3b", c)
	}
	h := c[1:]
	if len(h) == 3 {
		h = string([]byte{h[0], h[0], h[1], h[1], h[2], h[2]})
	}
	var lin [3]float64
	for i := range 3 {
		v, _ := strconv.ParseUint(h[2*i:2*i+2], 16, 8)
		s := float64(v) / 255
		if s <= 0.04045 {
			lin[i] = s / 12.92
		} else {
			lin[i] = math.Pow((s+0.055)/1.055, 2.4)
		}
	}
	return 0.2126*lin[0] + 0.7152*lin[1] + 0.0722*lin[2], nil
}

// contrast is the WCAG contrast ratio of two relative luminances, 1 to 21.
func contrast(a, b float64) float64 {
	if a < b {
		a, b = b, a
	}
	return (a + 0.05) / (b + 0.05)
}
