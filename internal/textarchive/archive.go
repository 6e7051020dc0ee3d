// Package textarchive reads and writes chatconsent's text archive: the exact
// texts a data subject was shown before deciding, one file per text
// version, named by the SHA-256 of its bytes (GDPR Art. 7(1); EDPB
// Guidelines 05/2020 on consent, on keeping what information was presented;
// ISO/IEC 29184 on keeping the notice version).
//
// # Format
//
//	DIR/VERSION.html    the archived document; sha256(file) == VERSION
//	DIR/manifest.json   a [Manifest]
//
// VERSION is 64 lower-case hex digits. Files are written once and never
// changed or removed: every version ever published stays provable.
package textarchive

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/chatconsent/chatconsent/internal/durable"
)

// ManifestFile is the manifest's file name inside an archive folder.
const ManifestFile = "manifest.json"

// Manifest lists every published text version.
type Manifest struct {
	// Versions maps a text version to what it holds.
	Versions map[string]Version `json:"versions"`
}

// Version describes one archived text version.
type Version struct {
	// Lang is the language of the texts ("de").
	Lang string `json:"lang"`
	// Pages are the content files whose texts it holds ("de/consent.md").
	Pages []string `json:"pages"`
	// Titles are those pages' titles, in the same order.
	Titles []string `json:"titles"`
	// FirstPublished is when a build first produced it (UTC).
	FirstPublished time.Time `json:"first_published"`
	// MaterialChange marks a version whose texts changed what a data
	// subject consents to (a page's front matter says material_change =
	// true): consents given on earlier versions of the same language need
	// renewal. Absent (false) in manifests written before it existed.
	MaterialChange bool `json:"material_change,omitempty"`
	// Purposes are the ids of the purposes on the version's consent form,
	// in its order: a purpose configured later was never asked of those
	// who decided on this version. Manifests written before it existed
	// lack it; [ReadManifest] then reads the ids from the archived
	// document (the default theme's archive layout lists them as
	// "<li><strong>Title</strong> (id): …"), and leaves it nil if it finds
	// none there.
	Purposes []string `json:"purposes,omitempty"`
}

// ErrUnknownVersion is returned by [Text] for a version not in the archive.
var ErrUnknownVersion = errors.New("unknown text version")

// ErrCorrupt is returned when an archived file does not hash to its name.
var ErrCorrupt = errors.New("archived text does not match its version")

var versionRe = regexp.MustCompile(`^[0-9a-f]{64}$`)

// ValidVersion reports whether v has the form of a text version.
func ValidVersion(v string) bool { return versionRe.MatchString(v) }

// Sum returns the text version of b.
func Sum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// ReadManifest reads DIR/manifest.json. A missing file is an empty manifest.
func ReadManifest(dir string) (*Manifest, error) {
	m := &Manifest{Versions: map[string]Version{}}
	p := filepath.Join(dir, ManifestFile)
	b, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		return m, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read archive manifest: %w", err)
	}
	if err := json.Unmarshal(b, m); err != nil {
		return nil, fmt.Errorf("read archive manifest %s: %w", p, err)
	}
	if m.Versions == nil {
		m.Versions = map[string]Version{}
	}
	for v, info := range m.Versions {
		if !ValidVersion(v) {
			return nil, fmt.Errorf("read archive manifest %s: %q is not a text version", p, v)
		}
		if info.Purposes == nil {
			if doc, err := os.ReadFile(filepath.Join(dir, v+".html")); err == nil {
				info.Purposes = PurposesIn(doc)
				m.Versions[v] = info
			}
		}
	}
	return m, nil
}

var archivedPurposeRe = regexp.MustCompile(`<li><strong>[^<]*</strong> \(([a-z0-9][a-z0-9_-]*)\):`)

// PurposesIn returns the purpose ids an archived document of the default
// theme lists on its consent form, in order; nil if it lists none.
func PurposesIn(doc []byte) []string {
	var ids []string
	for _, m := range archivedPurposeRe.FindAllSubmatch(doc, -1) {
		ids = append(ids, string(m[1]))
	}
	return ids
}

// Text returns the archived document of version, checking that its bytes
// still hash to the version ([ErrCorrupt]).
func Text(dir, version string) ([]byte, error) {
	if !ValidVersion(version) {
		return nil, fmt.Errorf("%w: %q", ErrUnknownVersion, version)
	}
	b, err := os.ReadFile(filepath.Join(dir, version+".html"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s", ErrUnknownVersion, version)
	}
	if err != nil {
		return nil, fmt.Errorf("read archived text: %w", err)
	}
	if Sum(b) != version {
		return nil, fmt.Errorf("%w: %s", ErrCorrupt, version)
	}
	return b, nil
}

// Expand returns the one text version archived in any of dirs that starts
// with prefix (6 to 63 hex digits, as status and list print versions),
// counting only files that hash to their name: a stray or damaged copy
// must not make a prefix ambiguous. No match wraps [ErrUnknownVersion];
// several are named in the error.
func Expand(dirs []string, prefix string) (string, error) {
	found := map[string]bool{}
	for _, dir := range dirs {
		entries, _ := os.ReadDir(dir) // not Glob: dir may hold [ * ?
		for _, e := range entries {
			v, ok := strings.CutSuffix(e.Name(), ".html")
			if !ok || !strings.HasPrefix(v, prefix) || !ValidVersion(v) {
				continue
			}
			if _, err := Text(dir, v); err == nil {
				found[v] = true
			}
		}
	}
	vs := slices.Sorted(maps.Keys(found))
	switch len(vs) {
	case 0:
		return "", fmt.Errorf("%w: no text version starting with %s in %s", ErrUnknownVersion, prefix, strings.Join(dirs, " or "))
	case 1:
		return vs[0], nil
	}
	return "", fmt.Errorf("%s is ambiguous: %s; give more digits", prefix, strings.Join(vs, ", "))
}

// Publish adds texts (version → document) to the archive in dir. Versions
// already present are left alone (their file must still match). It returns
// the versions that were new. Files are written durably: temp file, fsync,
// rename, fsync of the folder.
func Publish(dir string, texts map[string][]byte, info map[string]Version) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create archive: %w", err)
	}
	m, err := ReadManifest(dir)
	if err != nil {
		return nil, err
	}
	var added []string
	for v, doc := range texts {
		if Sum(doc) != v {
			return nil, fmt.Errorf("publish %s: %w", v, ErrCorrupt)
		}
		p := filepath.Join(dir, v+".html")
		if old, err := os.ReadFile(p); err == nil {
			if Sum(old) != v {
				return nil, fmt.Errorf("%s: %w", p, ErrCorrupt)
			}
		} else if err := durable.WriteFile(p, doc, 0o644); err != nil {
			return nil, err
		}
		if _, ok := m.Versions[v]; !ok {
			m.Versions[v] = info[v]
			added = append(added, v)
		}
	}
	if len(added) > 0 {
		b, err := json.MarshalIndent(m, "", "  ")
		if err != nil {
			return nil, err
		}
		if err := durable.WriteFile(filepath.Join(dir, ManifestFile), append(b, '\n'), 0o644); err != nil {
			return nil, err
		}
	}
	return added, nil
}

// ConsentPage is the consent page of one text version in machine-readable
// form, stored beside the version as DIR/VERSION.consent.json. The
// collector renders a personal invite page from it (same theme, same text)
// without the generator's Markdown pipeline. It is derived data: the proof
// stays VERSION.html, and [ReadConsentPage] accepts a page only if its
// content occurs byte for byte in that document.
type ConsentPage struct {
	Version string `json:"version"`
	Lang    string `json:"lang"`
	Title   string `json:"title"`
	// Content is the rendered Markdown body (HTML), exactly as archived.
	Content string `json:"content"`
}

// ConsentPageSuffix ends the file name of a [ConsentPage].
const ConsentPageSuffix = ".consent.json"

// ErrNoConsentPage is returned by [ReadConsentPage] for a version without
// one (archived before consent pages were stored: rebuild the site).
var ErrNoConsentPage = errors.New("no consent page stored for this text version")

// WriteConsentPage stores p once; an existing file is left alone, like the
// archived texts.
func WriteConsentPage(dir string, p ConsentPage) error {
	if !ValidVersion(p.Version) {
		return fmt.Errorf("write consent page: %w: %q", ErrUnknownVersion, p.Version)
	}
	path := filepath.Join(dir, p.Version+ConsentPageSuffix)
	if _, err := os.Stat(path); err == nil {
		return nil
	}
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return err
	}
	return durable.WriteFile(path, append(b, '\n'), 0o644)
}

// ReadConsentPage reads the consent page of version and checks that its
// title and content are part of the archived text ([ErrCorrupt] if not).
func ReadConsentPage(dir, version string) (*ConsentPage, error) {
	doc, err := Text(dir, version)
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(filepath.Join(dir, version+ConsentPageSuffix))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s", ErrNoConsentPage, version)
	}
	if err != nil {
		return nil, fmt.Errorf("read consent page: %w", err)
	}
	var p ConsentPage
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("read consent page %s: %w", version, err)
	}
	if p.Version != version || !bytes.Contains(doc, []byte(p.Content)) || p.Content == "" {
		return nil, fmt.Errorf("consent page of %s: %w", version, ErrCorrupt)
	}
	return &p, nil
}

// Latest returns the most recently first-published version of lang ("" if
// none): the text the site shows now.
func (m *Manifest) Latest(lang string) string {
	best := ""
	for v, info := range m.Versions {
		if info.Lang != lang {
			continue
		}
		if best == "" || info.FirstPublished.After(m.Versions[best].FirstPublished) ||
			(info.FirstPublished.Equal(m.Versions[best].FirstPublished) && v > best) {
			best = v
		}
	}
	return best
}
