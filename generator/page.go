package generator

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"
)

// FrontMatter is the TOML block between "+++" lines at the top of a page.
type FrontMatter struct {
	// Title is the page's heading and <title>.
	Title string `toml:"title"`
	// Layout is the theme layout: "policy" or "consent" (both part of the
	// text version), "withdrawal" (the withdrawal form) or "page" (any
	// other page).
	Layout string `toml:"layout"`
	// Slug is the last URL path segment: /LANG/SLUG/.
	Slug string `toml:"slug"`
	// Description is an optional one-sentence summary.
	Description string `toml:"description"`
	// MaterialChange marks this edit as a material change of what people
	// consent to: the text version it produces is recorded as such in the
	// archive, and consents given on earlier versions of the language show
	// "renewal needed". Remove it again after the build that published it.
	MaterialChange bool `toml:"material_change"`
}

// ErrFrontMatter is wrapped by every front-matter error of [ParsePage].
var ErrFrontMatter = errors.New("bad front matter")

// contentLayouts are the layouts a content file may use.
var contentLayouts = []string{"policy", "consent", "withdrawal", "page"}

var slugRe = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,79}$`)

// ParsePage splits a content file into front matter and Markdown body.
// name is used in errors, which have the form "NAME:LINE: …". bodyLine is the
// 1-based line number on which the body starts, for error positions.
func ParsePage(name string, src []byte) (fm FrontMatter, body []byte, bodyLine int, err error) {
	src = bytes.TrimPrefix(src, []byte("\xef\xbb\xbf")) // UTF-8 BOM from Windows editors
	first, rest, _ := bytes.Cut(src, []byte("\n"))
	if strings.TrimRight(string(first), "\r \t") != "+++" {
		return fm, nil, 0, fmt.Errorf("%s:1: %w: the file must start with a line \"+++\"", name, ErrFrontMatter)
	}
	var tomlText []byte
	line := 2
	closed := false
	for len(rest) > 0 {
		var l []byte
		l, rest, _ = bytes.Cut(rest, []byte("\n"))
		if strings.TrimRight(string(l), "\r \t") == "+++" {
			closed = true
			break
		}
		tomlText = append(tomlText, l...)
		tomlText = append(tomlText, '\n')
		line++
	}
	if !closed {
		return fm, nil, 0, fmt.Errorf("%s:1: %w: no closing \"+++\" line", name, ErrFrontMatter)
	}
	md, err := toml.Decode(string(tomlText), &fm)
	if err != nil {
		var perr toml.ParseError
		if errors.As(err, &perr) {
			return fm, nil, 0, fmt.Errorf("%s:%d: %w: %s", name, perr.Position.Line+1, ErrFrontMatter, perr.Message)
		}
		return fm, nil, 0, fmt.Errorf("%s:2: %w: %v", name, ErrFrontMatter, err)
	}
	keyLine := func(key string) int {
		for i, l := range strings.Split(string(tomlText), "\n") {
			if k, _, ok := strings.Cut(l, "="); ok && strings.TrimSpace(k) == key {
				return i + 2
			}
		}
		return 1
	}
	for _, k := range md.Undecoded() {
		return fm, nil, 0, fmt.Errorf("%s:%d: %w: unknown key %s (allowed: title, layout, slug, description, material_change)", name, keyLine(k.String()), ErrFrontMatter, k)
	}
	switch {
	case strings.TrimSpace(fm.Title) == "":
		return fm, nil, 0, fmt.Errorf("%s:1: %w: missing key title", name, ErrFrontMatter)
	case fm.Layout == "":
		return fm, nil, 0, fmt.Errorf("%s:1: %w: missing key layout", name, ErrFrontMatter)
	case !slices.Contains(contentLayouts, fm.Layout):
		return fm, nil, 0, fmt.Errorf("%s:%d: %w: layout %q: want \"policy\", \"consent\", \"withdrawal\" or \"page\"", name, keyLine("layout"), ErrFrontMatter, fm.Layout)
	case fm.Slug == "":
		return fm, nil, 0, fmt.Errorf("%s:1: %w: missing key slug", name, ErrFrontMatter)
	case !slugRe.MatchString(fm.Slug):
		return fm, nil, 0, fmt.Errorf("%s:%d: %w: slug %q: use lower-case letters, digits and '-'", name, keyLine("slug"), ErrFrontMatter, fm.Slug)
	}
	return fm, rest, line + 1, nil
}
