package receipt

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// releasedEntry is one receipt of testdata/released/*/manifest.json (see
// internal/genreleased).
type releasedEntry struct {
	File, Config string
	Template     string
	Placements   []Placement
	Data         Data
}

func readReleased(t *testing.T, dir string) []releasedEntry {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m []releasedEntry
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if len(m) == 0 {
		t.Fatalf("%s: no receipts", dir)
	}
	return m
}

// Every receipt a release made keeps verifying: stamping its data again
// with today's code shows the same text, and its attachment is the record
// (the rule of the house: every receipt format ever released stays
// verifiable). Never regenerate these files.
func TestReleasedReceipts(t *testing.T) {
	t.Parallel()
	dirs, err := filepath.Glob(filepath.Join("testdata", "released", "v*"))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no released receipts: %v", err)
	}
	for _, dir := range dirs {
		for _, e := range readReleased(t, dir) {
			t.Run(filepath.Base(dir)+"/"+e.File, func(t *testing.T) {
				t.Parallel()
				pdf, err := os.ReadFile(filepath.Join(dir, e.File))
				if err != nil {
					t.Fatal(err)
				}
				att, err := Attachment(pdf)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(att, e.Data.Record) {
					t.Errorf("attachment %q, want the record %q", att, e.Data.Record)
				}
				var tpl []byte
				if e.Template != "" {
					if tpl, err = os.ReadFile(filepath.Join(dir, e.Template)); err != nil {
						t.Fatal(err)
					}
				}
				st, err := New(tpl, e.Placements...)
				if err != nil {
					t.Fatal(err)
				}
				layout, err := LayoutOf(pdf)
				if err != nil {
					t.Fatal(err)
				}
				want, err := st.StampLayout(layout, e.Data)
				if err != nil {
					t.Fatal(err)
				}
				if err := Compare(pdf, want); err != nil {
					t.Errorf("Compare: %v", err)
				}
			})
		}
	}
}

func TestLayoutNames(t *testing.T) {
	t.Parallel()
	old, err := os.ReadFile(filepath.Join("testdata", "released", "v1", "builtin-de-grant.pdf"))
	if err != nil {
		t.Fatal(err)
	}
	if l, err := LayoutOf(old); err != nil || l != "1" {
		t.Errorf("LayoutOf(receipt without a layout attachment) = %q, %v; want \"1\"", l, err)
	}
	if l, err := LayoutOf(stamp(t, sample("en"))); err != nil || l != CurrentLayout {
		t.Errorf("LayoutOf(new receipt) = %q, %v; want %q", l, err, CurrentLayout)
	}
	if _, err := testStamper(t).StampLayout("99", sample("en")); !errors.Is(err, ErrUnknownLayout) || !strings.Contains(err.Error(), `"99"`) {
		t.Errorf("StampLayout(99) = %v, want ErrUnknownLayout naming it", err)
	}
	for _, bad := range []string{"", "layout 2", layoutDesc0 + "2", layoutDesc0 + "a b)", layoutDesc0 + ")"} {
		if _, err := layoutIn(bad); !errors.Is(err, ErrUnknownLayout) {
			t.Errorf("layoutIn(%q) = %v, want ErrUnknownLayout", bad, err)
		}
	}
}
