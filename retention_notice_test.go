package chatconsent

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/chatconsent/chatconsent/generator"
	"github.com/chatconsent/chatconsent/internal/config"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

// retentionSection cuts the storage section ("Wie lange …"/"How long …",
// up to the next h2) out of a built privacy notice.
var retentionSection = regexp.MustCompile(`(?s)<h2 id="(?:speicherdauer|retention)">.*?</ul>`)

// overviewRow is the proof's row of the notice's overview table.
var overviewRow = regexp.MustCompile(`(?s)<td>(?:Nachweis der Einwilligung|Proof of consent)</td>.*?</tr>`)

// TestRetentionNotice builds the shipped site with retention.proof_years
// 1 and 3: the notice's storage section and overview row state that period
// with the right plural in German and English (goldens in
// testdata/retention/, refresh with go test . -run TestRetentionNotice
// -update), and no other number of years.
func TestRetentionNotice(t *testing.T) {
	t.Parallel()
	for _, years := range []int{1, 3} {
		t.Run(fmt.Sprint(years), func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join(t.TempDir(), "shop")
			if _, err := Init(dir); err != nil {
				t.Fatal(err)
			}
			f, err := os.OpenFile(filepath.Join(dir, "config.toml"), os.O_APPEND|os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(f, "\n[retention]\nproof_years = %d\n", years)
			f.Close()
			cfg, err := config.Load(filepath.Join(dir, "config.toml"))
			if err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(dir, "public")
			if _, err := generator.Build(cfg, generator.Options{OutDir: out, Now: func() time.Time { return time.Unix(0, 0) }}); err != nil {
				t.Fatal(err)
			}
			for lang, page := range map[string]string{"de": "de/datenschutz/index.html", "en": "en/privacy/index.html"} {
				html, err := os.ReadFile(filepath.Join(out, page))
				if err != nil {
					t.Fatal(err)
				}
				row, sec := overviewRow.Find(html), retentionSection.Find(html)
				if row == nil || sec == nil {
					t.Fatalf("%s: no overview row or storage section found", page)
				}
				got := append(append(append(row, '\n'), sec...), '\n')
				golden := filepath.Join("testdata", "retention", fmt.Sprintf("proof_years_%d.%s.html", years, lang))
				if *update {
					os.MkdirAll(filepath.Dir(golden), 0o755)
					if err := os.WriteFile(golden, got, 0o644); err != nil {
						t.Fatal(err)
					}
				}
				want, err := os.ReadFile(golden)
				if err != nil {
					t.Fatalf("%v (run go test . -run TestRetentionNotice -update)", err)
				}
				if !bytes.Equal(got, want) {
					t.Errorf("%s with proof_years = %d differs from %s:\n%s", page, years, golden, got)
				}
				// The stated period, plural-correct, twice; no other.
				period := map[string][2]string{"de": {"1 Jahr ", "3 Jahre "}, "en": {"1 year ", "3 years "}}[lang]
				want1, other := period[0], period[1]
				if years == 3 {
					want1, other = other, want1
				}
				if n := bytes.Count(got, []byte(want1)); n != 2 {
					t.Errorf("%s: %q %d times, want 2:\n%s", page, want1, n, got)
				}
				if bytes.Contains(got, []byte(other)) || regexp.MustCompile(`(?i)drei Jahr|three year|2028`).Match(html) {
					t.Errorf("%s states another period:\n%s", page, got)
				}
			}
		})
	}
}
