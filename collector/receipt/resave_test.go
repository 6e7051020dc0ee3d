package receipt

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pdfcpu/pdfcpu/pkg/api"
)

// resavers are PDF tools an owner or a data subject may run over a
// receipt ("optimise", linearise for the web, clean up): the file is
// written anew, what it shows is not changed.
var resavers = []struct {
	name string
	run  func(t *testing.T, in, out string) error
}{
	{"qpdf --linearize", tool("qpdf", "--linearize", "IN", "OUT")},
	{"qpdf --object-streams=generate", tool("qpdf", "--object-streams=generate", "IN", "OUT")},
	{"qpdf --object-streams=disable", tool("qpdf", "--object-streams=disable", "IN", "OUT")},
	{"qpdf --qdf", tool("qpdf", "--qdf", "IN", "OUT")},
	{"mutool clean", tool("mutool", "clean", "IN", "OUT")},
	{"mutool clean -gggz", tool("mutool", "clean", "-gggz", "IN", "OUT")},
	{"pdfcpu optimize", func(t *testing.T, in, out string) error {
		return api.OptimizeFile(in, out, newConf())
	}},
}

// tool runs a command with IN and OUT replaced by the file names.
func tool(bin string, args ...string) func(t *testing.T, in, out string) error {
	return func(t *testing.T, in, out string) error {
		path, err := exec.LookPath(bin)
		if err != nil {
			t.Fatalf("%s not found: apt-get install qpdf mupdf-tools (test.sh does)", bin)
		}
		a := make([]string, len(args))
		for i, s := range args {
			a[i] = strings.NewReplacer("IN", in, "OUT", out).Replace(s)
		}
		if msg, err := exec.Command(path, a...).CombinedOutput(); err != nil {
			// qpdf exits 3 for warnings; the file is written.
			var ee *exec.ExitError
			if !(bin == "qpdf" && errors.As(err, &ee) && ee.ExitCode() == 3) {
				return errors.New(string(msg) + err.Error())
			}
		}
		return nil
	}
}

func resave(t *testing.T, pdf []byte, run func(t *testing.T, in, out string) error) []byte {
	t.Helper()
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.pdf"), filepath.Join(dir, "out.pdf")
	if err := os.WriteFile(in, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := run(t, in, out); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(b, pdf) {
		t.Fatal("the tool wrote the same bytes")
	}
	return b
}

// A receipt re-saved by a PDF tool verifies: its attachments and what it
// shows are the same; one re-saved after a visible edit fails naming the
// line, as before.
func TestResavedReceiptsVerify(t *testing.T) {
	t.Parallel()
	d := sample("de")
	pdf := stamp(t, d)
	released, err := os.ReadFile(filepath.Join("testdata", "released", "v1", "form-en-withdrawal.pdf"))
	if err != nil {
		t.Fatal(err)
	}
	m := readReleased(t, filepath.Join("testdata", "released", "v1"))
	var relWant []byte
	for _, e := range m {
		if e.File == "form-en-withdrawal.pdf" {
			tpl, err := os.ReadFile(filepath.Join("testdata", "released", "v1", e.Template))
			if err != nil {
				t.Fatal(err)
			}
			st, err := New(tpl)
			if err != nil {
				t.Fatal(err)
			}
			if relWant, err = st.StampLayout("1", e.Data); err != nil {
				t.Fatal(err)
			}
		}
	}
	forged := editName(t, pdf, "Jürgen", "Jürgan")
	for _, rs := range resavers {
		t.Run(rs.name, func(t *testing.T) {
			t.Parallel()
			if err := Compare(resave(t, pdf, rs.run), pdf); err != nil {
				t.Errorf("Compare(re-saved) = %v", err)
			}
			if err := Compare(resave(t, released, rs.run), relWant); err != nil {
				t.Errorf("Compare(released receipt, re-saved) = %v", err)
			}
			err := Compare(resave(t, forged, rs.run), pdf)
			var td *TextDiff
			if !errors.As(err, &td) || td.Got != "Name: Jürgan Weiß" || td.Want != "Name: Jürgen Weiß" {
				t.Errorf("Compare(forged, re-saved) = %v, want a TextDiff naming the line", err)
			}
		})
	}
}
