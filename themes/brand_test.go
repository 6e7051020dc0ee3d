package themes

import (
	"errors"
	"math"
	"strings"
	"testing"
)

func TestContrastRatio(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		a, b string
		want float64
	}{
		{"#000000", "#ffffff", 21},
		{"#fff", "#fff", 1},
		{"#0b5c3b", "#fff", 8.05}, // the theme's own accent
		{"#767676", "#fff", 4.54}, // the lightest grey that passes AA on white
	} {
		la, err := luminance(tt.a)
		if err != nil {
			t.Fatal(err)
		}
		lb, _ := luminance(tt.b)
		if got := contrast(la, lb); math.Abs(got-tt.want) > 0.01 {
			t.Errorf("contrast(%s, %s) = %.3f, want %.2f", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestSetBrandColor(t *testing.T) {
	t.Parallel()
	th, err := Load("")
	if err != nil {
		t.Fatal(err)
	}
	fp := th.Fingerprint()
	if err := th.SetBrandColor(""); err != nil || th.Fingerprint() != fp {
		t.Fatalf("empty colour: %v, fingerprint changed %v", err, th.Fingerprint() != fp)
	}
	err = th.SetBrandColor("#ffcc00")
	if !errors.Is(err, ErrContrast) || !strings.Contains(err.Error(), "1.51:1 against the page background #fff") || !strings.Contains(err.Error(), "at least 4.5:1") {
		t.Errorf("yellow: %v", err)
	}
	if err := th.SetBrandColor("#777777"); !errors.Is(err, ErrContrast) || !strings.Contains(err.Error(), "4.47:1") {
		t.Errorf("#777777 (just under 4.5): %v", err)
	}
	if strings.Contains(string(th.css), "--accent:#ff") || th.Fingerprint() != fp {
		t.Error("a refused colour changed the theme")
	}
	if err := th.SetBrandColor("#1d4ed8"); err != nil {
		t.Fatalf("blue: %v", err)
	}
	if !strings.HasSuffix(string(th.css), ":root{--accent:#1d4ed8}\n") || th.Fingerprint() == fp {
		t.Errorf("brand colour not applied: fingerprint changed %v", th.Fingerprint() != fp)
	}
	if err := th.SetBrandColor("blue"); err == nil {
		t.Error("a colour name accepted")
	}
}
