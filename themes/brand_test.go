package themes

import (
	"bytes"
	"encoding/base64"
	"errors"
	"image"
	pngenc "image/png"
	"math"
	"os"
	"path/filepath"
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

func TestSetLogo(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var png bytes.Buffer
	img := image.NewRGBA(image.Rect(0, 0, 4, 2))
	if err := pngenc.Encode(&png, img); err != nil {
		t.Fatal(err)
	}
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, b, 0o644)
		return p
	}
	th, err := Load("")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ name, path, want string }{
		{"missing", filepath.Join(dir, "none.png"), "no such file"},
		{"text", write("logo.txt", []byte("hello")), "text/plain; charset=utf-8 is not an image"},
		{"svg without .svg", write("logo.xml", []byte(`<svg xmlns="http://www.w3.org/2000/svg"/>`)), "is not an image"},
		{"too large", write("big.png", append(png.Bytes(), make([]byte, MaxLogo)...)), "at most 64 KiB"},
	} {
		if err := th.SetLogo(tt.path); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want %q", tt.name, err, tt.want)
		}
	}
	var out strings.Builder
	if err := th.Render(&out, LayoutPage, &Page{Lang: "de", Title: "T", SiteTitle: "Laden"}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "<img") {
		t.Error("a page without logo has an img")
	}
	if err := th.SetLogo(write("logo.png", png.Bytes())); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := th.Render(&out, LayoutPage, &Page{Lang: "de", Title: "T", SiteTitle: "Laden"}); err != nil {
		t.Fatal(err)
	}
	want := `<p class="site"><img class="logo" src="data:image/png;base64,` + base64.StdEncoding.EncodeToString(png.Bytes()) + `" alt="">Laden</p>`
	if !strings.Contains(out.String(), want) {
		t.Errorf("page lacks %s", want)
	}
	svg := `<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"/>`
	if err := th.SetLogo(write("logo.svg", []byte(svg))); err != nil || !strings.HasPrefix(string(th.logo), "data:image/svg+xml;base64,") {
		t.Errorf("svg: %v %.40s", err, th.logo)
	}
}
