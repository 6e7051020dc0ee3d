package doctor

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// Words that make a line of content a statement about how long the proof
// of consent is kept (lower case; matched as parts of words).
var (
	proofWords = []string{"nachweis", "verjähr", "proof", "record of your consent", "record of consent", "limitation period"}
	// keepWords speak of keeping or deleting something; such a line is
	// about the proof unless it names other data (otherWords), which have
	// periods of their own that no config value holds.
	keepWords  = []string{"aufbewahr", "speicher", "lösch", "loesch", "retention", "retain", "keep", "kept", "delete", "erase", "stored", "storage"}
	otherWords = []string{"chat", "datei", "adressbuch", "rechnung", "geschäftsunterlag", "buchhaltung", "nachricht", "file", "address book", "invoice", "accounts", "message"}
)

// numberWords are the spelt-out numbers a notice may use, German and
// English, with the value each stands for.
var numberWords = map[string]int{
	"ein": 1, "eine": 1, "einem": 1, "einen": 1, "one": 1,
	"zwei": 2, "two": 2, "drei": 3, "three": 3, "vier": 4, "four": 4, "fünf": 5, "five": 5,
	"sechs": 6, "six": 6, "sieben": 7, "seven": 7, "acht": 8, "eight": 8, "neun": 9, "nine": 9,
	"zehn": 10, "ten": 10, "elf": 11, "eleven": 11, "zwölf": 12, "twelve": 12,
	"fünfzehn": 15, "fifteen": 15, "achtzehn": 18, "eighteen": 18,
	"vierundzwanzig": 24, "twenty-four": 24, "sechsunddreißig": 36, "thirty-six": 36,
}

// periodRe finds "3 Jahre", "drei Jahren", "24 Monate", "2 years",
// "twelve months" (number, then the unit).
var periodRe = func() *regexp.Regexp {
	var words []string
	for w := range numberWords {
		words = append(words, regexp.QuoteMeta(w))
	}
	return regexp.MustCompile(`(?i)(?:^|[^\pL\pN-])(\d+|` + strings.Join(words, "|") + `)[\s\x{a0}-]+(jahr(?:e|en|es)?|monat(?:e|en|s)?|years?|months?)(?:[^\pL]|$)`)
}()

// placeholderRe is a template action: {{ .Retention.ProofPeriod }} states
// the configured period, whatever follows it.
var placeholderRe = regexp.MustCompile(`\{\{.*?\}\}`)

// Period is a period a content file states for keeping the proof.
type Period struct {
	File string // path of the content file
	Line int    // 1-based
	Text string // as written, e.g. "zwei Jahre"
	// Months is the period in months (years × 12).
	Months int
}

// ProofPeriods returns every period that the Markdown files under
// contentDir state, in words or digits, on a line about keeping the proof
// of consent (see proofWords and keepWords), placeholders left out.
func ProofPeriods(contentDir string) ([]Period, error) {
	var out []Period
	err := filepath.WalkDir(contentDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".md") {
			return err
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<20)
		for n := 1; sc.Scan(); n++ {
			for _, p := range periodsIn(sc.Text()) {
				p.File, p.Line = path, n
				out = append(out, p)
			}
		}
		return sc.Err()
	})
	return out, err
}

// periodsIn returns the periods one line of content states for keeping
// the proof (File and Line unset).
func periodsIn(line string) []Period {
	line = placeholderRe.ReplaceAllString(line, " ")
	low := strings.ToLower(line)
	if !containsAny(low, proofWords) && (!containsAny(low, keepWords) || containsAny(low, otherWords)) {
		return nil
	}
	var out []Period
	for _, m := range periodRe.FindAllStringSubmatch(line, -1) {
		num := strings.ToLower(m[1])
		v, err := strconv.Atoi(num)
		if err != nil {
			v = numberWords[num]
		}
		if u := strings.ToLower(m[2]); strings.HasPrefix(u, "jahr") || strings.HasPrefix(u, "year") {
			v *= 12
		}
		out = append(out, Period{Text: m[1] + " " + m[2], Months: v})
	}
	return out
}

func containsAny(s string, words []string) bool {
	for _, w := range words {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}

// CheckProofPeriods warns where content states a period for keeping the
// proof of consent that differs from retention.proof_years (the notice
// would promise what the collector does not do), naming file:line, the
// text and the config value.
func CheckProofPeriods(contentDir string, proofYears int) Result {
	r := Result{Check: "notice periods"}
	ps, err := ProofPeriods(contentDir)
	if errors.Is(err, fs.ErrNotExist) {
		r.Detail = "no " + contentDir + ": no notice to compare with retention.proof_years"
		return r
	}
	if err != nil {
		r.Status, r.Detail = Warn, "read content: "+err.Error()
		r.Fix = "make the content folder readable for doctor"
		return r
	}
	var bad []string
	for _, p := range ps {
		if p.Months != proofYears*12 {
			bad = append(bad, fmt.Sprintf("%s:%d: %q", p.File, p.Line, p.Text))
		}
	}
	if len(bad) == 0 {
		r.Detail = fmt.Sprintf("the content states no period for the proof other than retention.proof_years = %d", proofYears)
		return r
	}
	r.Status = Warn
	r.Detail = fmt.Sprintf("%s: the content says the proof is kept for a period other than retention.proof_years = %d", strings.Join(bad, "; "), proofYears)
	r.Fix = "write {{ .Retention.ProofPeriod }} there instead, so the notice states what the collector does (or set retention.proof_years in config.toml)"
	return r
}
