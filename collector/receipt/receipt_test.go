package receipt

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
	"golang.org/x/text/unicode/norm"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

const testTextVersion = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

// sample returns a complete, valid Data in lang.
func sample(lang string) Data {
	return Data{
		Lang: lang,
		Controller: Controller{
			Name:    "Zahnarztpraxis Dr. Müller & Partner",
			Address: "Friedrichstraße 123, 10117 Berlin, Deutschland",
			Email:   "datenschutz@praxis-mueller.example",
			Phone:   "+49 30 1234567",
		},
		RecordID: "01JDQ8ZK3T6V9X2B4N7M5C8R0W",
		Time:     time.Date(2026, 11, 29, 22, 15, 4, 0, time.UTC),
		Decision: "granted",
		Name:     "Jürgen Weiß",
		Phone:    "+491701234567",
		Email:    "juergen.weiss@example.org",
		Purposes: []Purpose{
			{ID: "reminders", Title: "Terminerinnerungen per WhatsApp", Granted: true},
			{ID: "newsletter", Title: "Newsletter mit Praxisneuigkeiten", Granted: false},
		},
		TextVersion:    testTextVersion,
		TextURL:        "https://praxis-mueller.example/einwilligung/texte/9f86d081",
		KeyFingerprint: "SHA256:x7Qk2c1mZ5pYVb0Rj8sWnE4uT6aL9dF3gH1iK2oP0qM",
		WithdrawalURL:  "https://praxis-mueller.example/widerruf",
		Record:         []byte(`{"id":"01JDQ8ZK3T6V9X2B4N7M5C8R0W","name":"Jürgen Weiß","decision":"granted","sig":"ed25519:AbC="}` + "\n"),
	}
}

var (
	stamperOnce sync.Once
	stamper     *Stamper
	stamperErr  error
)

// testStamper returns a Stamper on the default template, shared by tests.
func testStamper(t testing.TB) *Stamper {
	t.Helper()
	stamperOnce.Do(func() { stamper, stamperErr = New(nil) })
	if stamperErr != nil {
		t.Fatalf("New(nil): %v", stamperErr)
	}
	return stamper
}

func stamp(t testing.TB, d Data) []byte {
	t.Helper()
	pdf, err := testStamper(t).Stamp(d)
	if err != nil {
		t.Fatalf("Stamp: %v", err)
	}
	return pdf
}

// pdfText returns the text of pdf as pdftotext -layout extracts it, one
// element per non-empty line, runs of white space collapsed to one space.
func extract(t testing.TB, pdf []byte) []string {
	t.Helper()
	bin, err := exec.LookPath("pdftotext")
	if err != nil {
		t.Fatal("pdftotext not found: apt-get install poppler-utils (.ci/run does)")
	}
	f := filepath.Join(t.TempDir(), "r.pdf")
	if err := os.WriteFile(f, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "-layout", "-enc", "UTF-8", f, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	return normalize(strings.Split(string(out), "\n"))
}

// normalize collapses white space in each line and drops empty lines.
func normalize(lines []string) []string {
	var out []string
	for _, l := range lines {
		if l = strings.Join(strings.Fields(l), " "); l != "" {
			out = append(out, l)
		}
	}
	return out
}

func lines(t testing.TB, d Data) []string {
	t.Helper()
	ll, err := Lines(d)
	if err != nil {
		t.Fatalf("Lines: %v", err)
	}
	return ll
}

// TestExtractedTextIsLines: what a PDF reader extracts is exactly what
// Lines says is printed (the built-in template of layout 3 has no text of
// its own; the footer names the controller).
func TestExtractedTextIsLines(t *testing.T) {
	for _, lang := range []string{"de", "en"} {
		t.Run(lang, func(t *testing.T) {
			t.Parallel()
			d := sample(lang)
			got := extract(t, stamp(t, d))
			want := normalize(lines(t, d))
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("extracted text:\n%s\n\nwant (Lines):\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		})
	}
}

func TestNamesPrintExactly(t *testing.T) {
	names := []struct{ in, want string }{
		{"Jürgen Weiß", "Jürgen Weiß"},
		{"Łukasz Wróbel", "Łukasz Wróbel"},
		{"Şükrü Çelik", "Şükrü Çelik"},
		{"Αλέξανδρος", "Αλέξανδρος"},
		{"Юлия Соколова", "Юлия Соколова"},
		{"Řehoř Čapek", "Řehoř Čapek"},
		{"Ærøskøbing Åse Ðórr Þór", "Ærøskøbing Åse Ðórr Þór"},
		{"50%p Rabatt", "50%p Rabatt"},
		{`a\nb`, `a\nb`}, // a literal backslash and n
		{"%v %s %t %% %P {{.Name}}", "%v %s %t %% %P {{.Name}}"},
		{`(Klammer) \ Backslash)`, `(Klammer) \ Backslash)`},
		{"O'Brien-Smith „Zoë“", "O'Brien-Smith „Zoë“"},
		{"Ju\u0308rgen", "Jürgen"}, // decomposed input prints composed (NFC)
	}
	for _, tc := range names {
		t.Run(tc.in, func(t *testing.T) {
			t.Parallel()
			d := sample("de")
			d.Name = tc.in
			got := extract(t, stamp(t, d))
			want := "Name: " + tc.want
			found := false
			for _, l := range got {
				if l == want {
					found = true
				}
			}
			if !found {
				t.Errorf("no line %q in extracted text:\n%s", want, strings.Join(got, "\n"))
			}
			if l := lines(t, d); !contains(l, want) {
				t.Errorf("Lines has no %q: %q", want, l)
			}
		})
	}
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func TestUncovered(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*Data)
		want   []string // in the error message
	}{
		{"Korean name with an emoji", func(d *Data) { d.Name = "김민준 😀" }, []string{"Name", "U+1F600"}},
		{"emoji name", func(d *Data) { d.Name = "Anna 😀" }, []string{"Name", "U+1F600"}},
		{"Arabic address with vowel marks", func(d *Data) { d.Controller.Address = "شَارِع 1" }, []string{"Controller.Address", "U+064E"}},
		{"purpose title", func(d *Data) { d.Purposes[1].Title = "News ✓" }, []string{"Purposes[1].Title", "U+2713"}},
		{"combining mark without composed form", func(d *Data) { d.Name = "q\u0301" }, []string{"Name", "U+0301"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := sample("en")
			tc.modify(&d)
			for fn, call := range map[string]func() error{
				"Lines": func() error { _, err := Lines(d); return err },
				"Stamp": func() error { _, err := testStamper(t).Stamp(d); return err },
			} {
				err := call()
				if !errors.Is(err, ErrUncovered) {
					t.Fatalf("%s: err = %v, want ErrUncovered", fn, err)
				}
				for _, w := range tc.want {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("%s: error %q does not name %q", fn, err, w)
					}
				}
			}
		})
	}
}

func TestInvalid(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*Data)
		want   string // in the error message
	}{
		{"line feed in name", func(d *Data) { d.Name = "a\nb" }, "Name: control or formatting character U+000A"},
		{"carriage return in address", func(d *Data) { d.Controller.Address = "Straße 1\r10115 Berlin" }, "Controller.Address: control or formatting character U+000D"},
		{"tab in email", func(d *Data) { d.Email = "a\tb@example.org" }, "Email: control or formatting character U+0009"},
		{"line separator", func(d *Data) { d.Name = "a\u2028b" }, "U+2028"},
		{"paragraph separator", func(d *Data) { d.Purposes[0].Title = "a\u2029b" }, "Purposes[0].Title"},
		{"soft hyphen", func(d *Data) { d.Name = "Mül\u00adler" }, "U+00AD"},
		{"right-to-left override", func(d *Data) { d.Name = "\u202eevil" }, "U+202E"},
		{"NUL", func(d *Data) { d.RecordID = "a\x00" }, "RecordID"},
		{"invalid UTF-8", func(d *Data) { d.Name = "J\xfcrgen" }, "Name: invalid UTF-8"},
		{"empty name", func(d *Data) { d.Name = "  " }, "Name is empty"},
		{"empty controller", func(d *Data) { d.Controller.Name = "" }, "Controller.Name is empty"},
		{"empty record id", func(d *Data) { d.RecordID = "" }, "RecordID is empty"},
		{"empty key", func(d *Data) { d.KeyFingerprint = "" }, "KeyFingerprint is empty"},
		{"empty purpose title", func(d *Data) { d.Purposes[1].Title = "" }, "Purposes[1].Title is empty"},
		{"language", func(d *Data) { d.Lang = "fr" }, `Lang "fr"`},
		{"decision", func(d *Data) { d.Decision = "yes" }, `Decision "yes"`},
		{"zero time", func(d *Data) { d.Time = time.Time{} }, "Time is zero"},
		{"short text version", func(d *Data) { d.TextVersion = "abc" }, "TextVersion"},
		{"upper-case text version", func(d *Data) { d.TextVersion = strings.ToUpper(testTextVersion) }, "TextVersion"},
		{"phone not E.164", func(d *Data) { d.Phone = "0170 1234567" }, "Phone"},
		{"empty record", func(d *Data) { d.Record = nil }, "Record is empty"},
		{"field too long", func(d *Data) { d.Controller.Address = strings.Repeat("x", MaxFieldBytes+1) }, "Controller.Address: 2049 bytes"},
		{"record not JSON", func(d *Data) { d.Record = []byte("{") }, "Record is not valid JSON"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := sample("de")
			tc.modify(&d)
			_, err := Lines(d)
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Lines: err = %v, want ErrInvalid mentioning %q", err, tc.want)
			}
			_, err = testStamper(t).Stamp(d)
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("Stamp: err = %v, want ErrInvalid", err)
			}
		})
	}
}

func TestTime(t *testing.T) {
	tests := []struct {
		lang string
		t    time.Time
		want string
	}{
		{"de", time.Date(2026, 11, 29, 22, 15, 4, 0, time.UTC), "Zeitpunkt: 29.11.2026, 23:15:04 (UTC+01:00)"},
		{"en", time.Date(2026, 11, 29, 22, 15, 4, 0, time.UTC), "Time: 29 Nov 2026, 23:15:04 (UTC+01:00)"},
		{"de", time.Date(2026, 7, 1, 22, 30, 0, 0, time.UTC), "Zeitpunkt: 02.07.2026, 00:30:00 (UTC+02:00)"},
		{"en", time.Date(2026, 7, 1, 8, 0, 0, 0, time.FixedZone("X", 5*3600)), "Time: 01 Jul 2026, 05:00:00 (UTC+02:00)"},
	}
	for _, tc := range tests {
		d := sample(tc.lang)
		d.Time = tc.t
		if l := lines(t, d); !contains(l, tc.want) {
			t.Errorf("%s %v: no line %q in %q", tc.lang, tc.t, tc.want, l)
		}
	}
}

func TestRefusedAndOptionalFields(t *testing.T) {
	d := sample("en")
	d.Decision = "refused"
	d.Email, d.TextURL, d.WithdrawalURL = "", "", ""
	d.Controller.Address, d.Controller.Phone = "", ""
	for i := range d.Purposes {
		d.Purposes[i].Granted = false
	}
	got := extract(t, stamp(t, d))
	want := normalize(lines(t, d))
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("extracted:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, l := range []string{"Consent refused", "□ not granted: Terminerinnerungen per WhatsApp"} {
		if !contains(got, l) {
			t.Errorf("no line %q", l)
		}
	}
	for _, l := range got {
		if strings.HasPrefix(l, "Email:") && !strings.Contains(l, "datenschutz@") || strings.HasPrefix(l, "Online:") || strings.HasPrefix(l, "Post:") || strings.HasPrefix(l, "Archived text:") {
			t.Errorf("line %q for an empty field", l)
		}
	}

	d.Purposes = nil
	if l := lines(t, d); !contains(l, "(no purposes)") {
		t.Errorf("no purposes: %q", l)
	}
}

// TestWrap: long values wrap inside the text width and lose nothing but the
// spaces at the breaks.
func TestWrap(t *testing.T) {
	d := sample("de")
	d.Name = strings.Repeat("Hannelore-Friederike ", 8) + "von Hohenzollern-Sigmaringen"
	d.Controller.Address = "Gemeinschaftspraxis für Allgemeinmedizin im Ärztehaus am Marktplatz, Hinterhaus, 3. Obergeschoss links, Kurfürstendamm 234a, 10719 Berlin-Charlottenburg-Wilmersdorf"
	d.Purposes[0].Title = strings.Repeat("Sehr langer Zweck ", 12)
	d.TextURL = "https://praxis-mueller.example/" + strings.Repeat("einwilligungstexte/", 8) + testTextVersion
	doc, err := layoutData(layouts["1"], d, false)
	if err != nil {
		t.Fatal(err)
	}
	var all strings.Builder
	for _, l := range doc {
		if w := l.x + l.font.width(l.text, l.size); w > marginX+textWidth+0.01 {
			t.Errorf("line %q ends at %.2f pt, beyond the margin at %.2f", l.text, w, marginX+textWidth)
		}
		all.WriteString(l.text)
	}
	squeeze := func(s string) string { return strings.ReplaceAll(s, " ", "") }
	for _, v := range []string{d.Name, d.Controller.Address, d.Purposes[0].Title, d.TextURL, testTextVersion} {
		if !strings.Contains(squeeze(all.String()), squeeze(v)) {
			t.Errorf("value %q lost in wrapping", v)
		}
	}
	got := extract(t, stamp(t, d))
	want := normalize(lines(t, d))
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("extracted:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestWrapUnit(t *testing.T) {
	if err := setup(); err != nil {
		t.Fatal(err)
	}
	w := func(s string) float64 { return regular.width(s, 10) }
	tests := []struct {
		s     string
		width float64
		want  []string
	}{
		{"short", 100, []string{"short"}},
		{"", 100, []string{""}},
		{"aaa bbb ccc", w("aaa bbb"), []string{"aaa bbb", "ccc"}},
		{"aaa  bbb", w("aaa  bbb"), []string{"aaa  bbb"}}, // inner spaces kept
		{"aaaaaaaaaa", w("aaaa"), []string{"aaaa", "aaaa", "aa"}},
		// A word that must be split anyway starts on the current line.
		{"x " + "aaaaaaaaaa", w("aaaa"), []string{"x aa", "aaaa", "aaaa"}},
		// One that fits on a line of its own goes to the next line whole.
		{"xxx aaaa", w("aaaa"), []string{"xxx", "aaaa"}},
		{"€€€", 1, []string{"€", "€", "€"}}, // at least one rune per line
	}
	for _, tc := range tests {
		got := wrap(regular, 10, tc.s, tc.width, tc.width)
		if strings.Join(got, "|") != strings.Join(tc.want, "|") {
			t.Errorf("wrap(%q, %.1f) = %q, want %q", tc.s, tc.width, got, tc.want)
		}
	}
}

func TestShrinkAndTooLong(t *testing.T) {
	d := sample("de")
	for i := 0; i < 22; i++ {
		d.Purposes = append(d.Purposes, Purpose{ID: fmt.Sprint(i), Title: fmt.Sprintf("Zusätzlicher Zweck Nummer %d", i), Granted: i%2 == 0})
	}
	doc, err := layoutData(layouts["1"], d, false)
	if err != nil {
		t.Fatalf("22 extra purposes: %v", err)
	}
	if doc[len(doc)-1].size >= styleBody.size {
		t.Errorf("text not shrunk: last line at %.1f pt", doc[len(doc)-1].size)
	}
	got := extract(t, stamp(t, d))
	if want := normalize(lines(t, d)); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("extracted:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	for i := 0; i < 100; i++ {
		d.Purposes = append(d.Purposes, Purpose{ID: "x", Title: "Noch ein Zweck", Granted: true})
	}
	if _, err := Lines(d); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "one page") {
		t.Errorf("122 purposes: err = %v, want ErrInvalid (too much text for one page)", err)
	}
}

func TestGolden(t *testing.T) {
	for _, lang := range []string{"de", "en"} {
		t.Run(lang, func(t *testing.T) {
			got := strings.Join(extract(t, stamp(t, sample(lang))), "\n") + "\n"
			file := filepath.Join("testdata", "receipt_"+lang+".txt")
			if *update {
				if err := os.WriteFile(file, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(file)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("extracted text differs from %s (go test -update rewrites it):\n%s", file, got)
			}
		})
	}
}

func TestAttachmentRoundTrip(t *testing.T) {
	d := sample("de")
	d.Record = []byte(`{"n":"Αλέξανδρος","b":"\u0000 \\ )(","x":[1,2,3]}` + "\n")
	got, err := Attachment(stamp(t, d))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, d.Record) {
		t.Errorf("Attachment = %q, want %q", got, d.Record)
	}
}

func TestAttachmentMissing(t *testing.T) {
	if _, err := Attachment(defaultTemplate); !errors.Is(err, ErrNoRecord) {
		t.Errorf("template without attachment: err = %v, want ErrNoRecord", err)
	}
	if _, err := Attachment([]byte("not a pdf")); !errors.Is(err, ErrNotPDF) {
		t.Errorf("garbage: err = %v, want ErrNotPDF", err)
	}
	pdf := stamp(t, sample("de"))
	if _, err := Attachment(pdf[:len(pdf)/2]); err == nil || errors.Is(err, ErrNoRecord) || !strings.Contains(err.Error(), "damaged or cut-off PDF") {
		t.Errorf("half a receipt: err = %v, want a damaged-PDF error", err)
	}
}

func TestValidates(t *testing.T) {
	pdf := stamp(t, sample("en"))
	for _, mode := range []int{model.ValidationRelaxed, model.ValidationStrict} {
		conf := newConf()
		conf.ValidationMode = mode
		if err := api.Validate(bytes.NewReader(pdf), conf); err != nil {
			t.Errorf("api.Validate (mode %d): %v", mode, err)
		}
	}
	if n, err := api.PageCount(bytes.NewReader(pdf), newConf()); err != nil || n != 1 {
		t.Errorf("PageCount = %d, %v; want 1", n, err)
	}
}

func TestDocumentInfo(t *testing.T) {
	pdf := stamp(t, sample("de"))
	for _, want := range []string{
		"/Producer(chatconsent)",
		"/Creator(chatconsent)",
		"/CreationDate(D:20261129231504+01'00')",
		"/ModDate(D:20261129231504+01'00')",
		"/Lang(de)",
	} {
		if !bytes.Contains(pdf, []byte(want)) {
			t.Errorf("PDF lacks %s", want)
		}
	}
	if bytes.Contains(pdf, []byte("pdfcpu")) {
		t.Error("PDF mentions pdfcpu (Producer not replaced?)")
	}
}

func TestDeterministic(t *testing.T) {
	d := sample("de")
	first := stamp(t, d)
	other, err := New(nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ {
		s := testStamper(t)
		if i%2 == 1 {
			s = other
		}
		got, err := s.Stamp(d)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, first) {
			i := 0
			for i < len(got) && i < len(first) && got[i] == first[i] {
				i++
			}
			t.Fatalf("stamp %d differs from the first at byte %d of %d/%d", i, i, len(got), len(first))
		}
	}
	d.Time = d.Time.Add(time.Second)
	if bytes.Equal(stamp(t, d), first) {
		t.Error("different Data, same bytes")
	}
}

func TestConcurrent(t *testing.T) {
	s := testStamper(t)
	var wg sync.WaitGroup
	errs := make(chan error, 10)
	for i := 0; i < 10; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d := sample([]string{"de", "en"}[i%2])
			d.Name = fmt.Sprintf("Person %d Αλέξανδρος", i)
			d.Record = []byte(fmt.Sprintf(`{"i":%d}`, i))
			for j := 0; j < 3; j++ {
				pdf, err := s.Stamp(d)
				if err != nil {
					errs <- err
					return
				}
				rec, err := Attachment(pdf)
				if err != nil || !bytes.Equal(rec, d.Record) {
					errs <- fmt.Errorf("goroutine %d: attachment %q, %v", i, rec, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func FuzzStamp(f *testing.F) {
	for _, s := range []string{"Jürgen Weiß", "50%p Rabatt", `a\nb`, "a\nb", "王", "Юлия", "(", ")", `\`, " x  y ", "q\u0301", "\xff"} {
		f.Add(s)
	}
	s := testStamper(f)
	f.Fuzz(func(t *testing.T, name string) {
		d := sample("de")
		d.Name = name
		pdf, err := s.Stamp(d)
		if err != nil {
			if !errors.Is(err, ErrUncovered) && !errors.Is(err, ErrInvalid) {
				t.Fatalf("Stamp(%q): unexpected error %v", name, err)
			}
			return
		}
		if len(pdf) == 0 {
			t.Fatal("empty PDF")
		}
		ll, err := Lines(d)
		if err != nil {
			t.Fatalf("Stamp ok but Lines failed: %v", err)
		}
		// The name may be wrapped: compare without the spaces.
		squeeze := func(s string) string { return strings.Join(strings.Fields(s), "") }
		printed := strings.Join(ll, "")
		want := squeeze(norm.NFC.String(name))
		if !strings.Contains(squeeze(printed), "Name:"+want) {
			t.Fatalf("name %q not in Lines %q", name, ll)
		}
	})
}

func BenchmarkStamp(b *testing.B) {
	s := testStamper(b)
	d := sample("de")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Stamp(d); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLines(b *testing.B) {
	d := sample("de")
	if _, err := Lines(d); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Lines(d); err != nil {
			b.Fatal(err)
		}
	}
}
