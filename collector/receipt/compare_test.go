package receipt

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/pdfcpu/pdfcpu/pkg/api"
)

// glyphHex returns s as the content stream shows it in font m.
func glyphHex(t testing.TB, m *metrics, s string) []byte {
	t.Helper()
	var b strings.Builder
	for _, r := range s {
		g, ok := m.chars[uint32(r)]
		if !ok {
			t.Fatalf("no glyph for %q", r)
		}
		fmt.Fprintf(&b, "%04X", g)
	}
	return []byte(b.String())
}

// editName returns pdf with the printed name old replaced by new (same
// length) in the content stream, as a forger with a text editor would.
func editName(t testing.TB, pdf []byte, old, new string) []byte {
	t.Helper()
	o, n := glyphHex(t, regular, old), glyphHex(t, regular, new)
	if len(o) != len(n) || !bytes.Contains(pdf, o) {
		t.Fatalf("cannot edit %q → %q", old, new)
	}
	return bytes.Replace(pdf, o, n, 1)
}

func TestTextIsLines(t *testing.T) {
	d := sample("de")
	d.Name = "Юлия (Соколова) \\ <x>"
	pdf := stamp(t, d)
	got, err := Text(pdf)
	if err != nil {
		t.Fatal(err)
	}
	want := lines(t, d) // the built-in template of layout 3 has no text of its own
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("Text:\n%s\nwant Lines:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestCompare(t *testing.T) {
	d := sample("de")
	pdf := stamp(t, d)
	if err := Compare(pdf, pdf); err != nil {
		t.Errorf("Compare(same) = %v", err)
	}

	// The same document written again by pdfcpu with object streams and a
	// cross-reference stream: other bytes, same content.
	ctx, err := api.ReadContext(bytes.NewReader(pdf), newConf())
	if err != nil {
		t.Fatal(err)
	}
	conf := newConf()
	conf.WriteObjectStream, conf.WriteXRefStream = true, true
	ctx.Configuration = conf
	var buf bytes.Buffer
	if err := api.WriteContext(ctx, &buf); err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(buf.Bytes(), pdf) {
		t.Fatal("rewritten PDF has the same bytes")
	}
	if err := Compare(buf.Bytes(), pdf); err != nil {
		t.Errorf("Compare(rewritten) = %v", err)
	}

	// The name changed in the content stream.
	forged := editName(t, pdf, "Jürgen", "Jürgan")
	err = Compare(forged, pdf)
	var td *TextDiff
	if !errors.As(err, &td) || !errors.Is(err, ErrTextDiffers) || td.Got != "Name: Jürgan Weiß" || td.Want != "Name: Jürgen Weiß" {
		t.Errorf("Compare(forged name) = %v, want a TextDiff naming the line", err)
	}
	if td != nil && !strings.Contains(err.Error(), `shows "Name: Jürgan Weiß", the record gives "Name: Jürgen Weiß"`) {
		t.Errorf("message: %v", err)
	}

	// The intro printed in black instead of grey: same text, other look.
	grey := []byte(" 0.3 g ")
	if !bytes.Contains(pdf, grey) {
		t.Fatal("no grey text in the receipt")
	}
	recoloured := bytes.Replace(pdf, grey, []byte(" 0.0 g "), 1)
	if err := Compare(recoloured, pdf); !errors.Is(err, ErrDiffers) || !strings.Contains(err.Error(), `page 1: drawing operation 25 is "0 g", want "0.3 g"`) {
		t.Errorf("Compare(recoloured) = %v, want ErrDiffers naming the drawing operation", err)
	}

	// A receipt of another decision.
	other := sample("de")
	other.Decision = "refused"
	if err := Compare(stamp(t, other), pdf); !errors.Is(err, ErrTextDiffers) {
		t.Errorf("Compare(other decision) = %v", err)
	}

	if err := Compare([]byte("%PDF-1.7 nonsense"), pdf); err == nil || errors.Is(err, ErrDiffers) {
		t.Errorf("Compare(garbage) = %v, want a read error", err)
	}
}

// FuzzContentText: the content-stream reader behind Text and Compare
// takes any bytes (a forged PDF's content) without panicking or looping.
func FuzzContentText(f *testing.F) {
	if err := setup(); err != nil {
		f.Fatal(err)
	}
	f.Add([]byte("BT /CC0 10 Tf 0 g 56.69 756.85 Td <00450046> Tj ET\n"))
	f.Add([]byte("BT /F1 9 Tf [(a\\)b) -20 (c)] TJ (x) ' 1 2 (y) \" ET % comment\n<< /A [1 2] >> BDC EMC"))
	f.Add([]byte("<<<<>>[[(]"))
	f.Fuzz(func(t *testing.T, c []byte) {
		contentText(c, map[string]*metrics{"CC0": regular})
	})
}

func FuzzDASize(f *testing.F) {
	for _, s := range []string{"/Helv 10 Tf 0 g", "/Helv 0 Tf", "Tf", "/F 1e309 Tf", "/F -3 Tf"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, da string) {
		if v := daSize(da); v < 0 || v > 72 {
			t.Errorf("daSize(%q) = %v", da, v)
		}
	})
}

func TestDASize(t *testing.T) {
	for da, want := range map[string]float64{"/Helv 10 Tf 0 g": 10, "/Helv 0 Tf 0 g": 0, "0 g /F1 7.5 Tf": 7.5, "": 0, "/F 100 Tf": 0} {
		if got := daSize(da); got != want {
			t.Errorf("daSize(%q) = %v, want %v", da, got, want)
		}
	}
}

// FuzzView: what a forged receipt's content shows is read without
// panicking or looping, and compares equal to itself.
func FuzzView(f *testing.F) {
	if err := setup(); err != nil {
		f.Fatal(err)
	}
	f.Add([]byte("q 0.1 0 0 0.1 0 0 cm BT /CC0 10 Tf 0 g 56.69 756.85 Td <00450046> Tj T* [(a) -20 (b)] TJ ET Q Q Q"))
	f.Add([]byte("BT 1 2 3 4 5 6 Tm 12 TL (x) ' 1 2 (y) \" /P <</MCID 0>> BDC EMC ET cm cm Tm"))
	f.Fuzz(func(t *testing.T, c []byte) {
		var v view
		ops, err := v.pageOps(nil, 1, c, nil, &hasher{})
		if err != nil {
			return
		}
		v.pages = [][]drawOp{ops}
		v.extras = [][]drawOp{nil}
		if err := compareViews(&v, &v); err != nil {
			t.Errorf("a view differs from itself: %v", err)
		}
	})
}
