package config

// Positions of errors in config.toml.
//
// BurntSushi/toml (kept: the design card names it) reports exact positions
// only for syntax errors (toml.ParseError.Position). For the errors of the
// typed decode it reports the line of a key's *last* occurrence (in an
// array of tables a key occurs once per element), and a wrong value type
// is a plain error whose text carries line and key; its MetaData has no
// key positions. Everything that works around that is in this file, and
// position_test.go pins the library behaviour it relies on (the wording
// of the type error, the positions reported), so that a new library
// version that changes them fails a test instead of misplacing errors.

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
)

// decodeError turns an error of toml.Decode of text into "name:LINE:
// invalid configuration: …", with the line of the value at fault.
func decodeError(name string, text []byte, err error) error {
	// A syntax error: the parser's position is exact. Errors of the
	// typed decode carry the line of the key's last occurrence instead.
	var syntax map[string]any
	if _, serr := toml.Decode(string(text), &syntax); serr != nil {
		err = serr
		var perr toml.ParseError
		if errors.As(err, &perr) {
			return fmt.Errorf("%s:%d: %w: %s", name, perr.Position.Line, ErrInvalid, perr.Message)
		}
		return fmt.Errorf("%s: %w: %v", name, ErrInvalid, err)
	}
	var perr toml.ParseError
	if errors.As(err, &perr) {
		if perr.LastKey == "" {
			return fmt.Errorf("%s:%d: %w: %s", name, perr.Position.Line, ErrInvalid, perr.Message)
		}
		// A value our own UnmarshalTOML or the decoder refused; the
		// reported line is that of the key's last occurrence.
		line := keyLine(text, perr.LastKey, perr.Position.Line, "")
		return fmt.Errorf("%s:%d: %w: %s: %s", name, line, ErrInvalid, perr.LastKey, perr.Message)
	}
	if m := tomlTypeErrRe.FindStringSubmatch(err.Error()); m != nil {
		// BurntSushi/toml reports a wrong type as a plain error, with
		// the line of the key's last occurrence.
		reported, _ := strconv.Atoi(m[1])
		line := keyLine(text, m[2], reported, valueKindOf(m[3]))
		return fmt.Errorf("%s:%d: %w: %s: want %s, not %s", name, line, ErrInvalid, m[2], tomlKind(m[4]), tomlKind(m[3]))
	}
	return fmt.Errorf("%s: %w: %v", name, ErrInvalid, err)
}

// tomlTypeErrRe matches BurntSushi/toml's error for a value of the wrong
// type: line, key, the TOML type, the Go kind wanted.
var tomlTypeErrRe = regexp.MustCompile(`^toml: line (\d+) \(last key "([^"]+)"\): incompatible types: TOML value has type (\S+); destination has type (\S+)$`)

// tomlKind names a TOML type or Go type the way config.toml is written.
func tomlKind(k string) string {
	switch k {
	case "string":
		return "text in quotes"
	case "slice", "array", "[]interface {}", "[]any":
		return "a list ([…])"
	case "int", "int64", "integer", "uint", "uint64":
		return "a whole number"
	case "float", "float64":
		return "a decimal number"
	case "bool", "boolean":
		return "true or false"
	case "struct", "map", "map[string]interface {}", "map[string]any":
		return "a table ({…})"
	case "time.Time", "datetime":
		return "a date"
	}
	return k
}

// valueKindOf maps the Go type BurntSushi/toml names for a TOML value to
// the kind [valueKind] gives its text.
func valueKindOf(goType string) string {
	switch goType {
	case "string":
		return "string"
	case "int64":
		return "integer"
	case "float64":
		return "float"
	case "bool":
		return "bool"
	case "time.Time":
		return "datetime"
	case "[]interface {}", "[]any":
		return "array"
	case "map[string]interface {}", "map[string]any":
		return "table"
	}
	return ""
}

// tableHeaderRe matches a [table] or [[array of tables]] header line.
var tableHeaderRe = regexp.MustCompile(`^\[\[?\s*[A-Za-z0-9_."-]+(\s*\.\s*[A-Za-z0-9_."-]+)*\s*\]\]?\s*(#.*)?$`)

// nonTextInTable finds a value that is not text in an inline table.
var nonTextInTable = regexp.MustCompile(`=\s*[^"'\s]`)

var dateRe = regexp.MustCompile(`^\d{4}-\d\d-\d\d`)

// valueKind tells the TOML type of a value from its first characters.
func valueKind(v string) string {
	v = strings.TrimSpace(v)
	switch {
	case v == "":
		return ""
	case v[0] == '"' || v[0] == '\'':
		return "string"
	case v[0] == '[':
		return "array"
	case v[0] == '{':
		return "table"
	case strings.HasPrefix(v, "true") || strings.HasPrefix(v, "false"):
		return "bool"
	case dateRe.MatchString(v):
		return "datetime"
	case strings.ContainsAny(strings.Fields(v)[0], ".eE") && !strings.HasPrefix(v, "0x"):
		return "float"
	}
	return "integer"
}

// keyLine returns the line of key (dotted, as BurntSushi/toml names it)
// whose value is of kind (any kind if ""): in an array of tables the key
// occurs once per element, and the decoder reports the last one. It
// returns reported when the text does not settle it.
func keyLine(text []byte, key string, reported int, kind string) int {
	table, last := "", key
	if i := strings.LastIndexByte(key, '.'); i >= 0 {
		table, last = key[:i], key[i+1:]
	}
	var cands []int
	var kinds, values []string
	in := table == ""
	for i, l := range strings.Split(string(text), "\n") {
		t := strings.TrimSpace(l)
		if tableHeaderRe.MatchString(t) { // not a line of a multi-line array
			in = t == "["+table+"]" || t == "[["+table+"]]"
			continue
		}
		if k, v, ok := strings.Cut(t, "="); in && ok && strings.Trim(strings.TrimSpace(k), `"`) == last {
			cands, kinds, values = append(cands, i+1), append(kinds, valueKind(v)), append(values, v)
		}
	}
	if len(cands) == 1 && (kind == "" || kinds[0] == kind) {
		return cands[0]
	}
	if kind != "" {
		for i, k := range kinds {
			if k == kind {
				return cands[i]
			}
		}
	}
	// Our own UnmarshalTOML refuses what is neither text nor a table of
	// texts.
	if kind == "" {
		for i, k := range kinds {
			if k != "string" && (k != "table" || nonTextInTable.MatchString(values[i])) {
				return cands[i]
			}
		}
	}
	return reported
}

// lineOf returns ":N" for the first line that defines the last component of
// the dotted key ("purposes[1].id" → "id = …" after the second [[purposes]]),
// or "" when it cannot tell. The TOML decoder reports positions only for
// syntax errors, so this is a best effort for messages, never for logic.
func lineOf(text []byte, key string) string {
	parts := strings.Split(key, ".")
	last := parts[len(parts)-1]
	nth := 0
	if len(parts) > 1 { // the table: all but the last part ("receipt.fields[1]")
		parts = []string{strings.Join(parts[:len(parts)-1], "."), last}
	}
	if i := strings.IndexByte(parts[0], '['); i > 0 {
		fmt.Sscanf(parts[0][i:], "[%d]", &nth)
		parts[0] = parts[0][:i]
	}
	lines := strings.Split(string(text), "\n")
	start, seen := 0, -1
	if len(parts) > 1 {
		for i, l := range lines {
			t := strings.TrimSpace(l)
			if t == "["+parts[0]+"]" || t == "[["+parts[0]+"]]" {
				seen++
				if seen == nth {
					start = i + 1
					break
				}
			}
		}
		if seen < nth {
			return ""
		}
	}
	for i := start; i < len(lines); i++ {
		t := strings.TrimSpace(lines[i])
		if len(parts) > 1 && i > start && strings.HasPrefix(t, "[") {
			break
		}
		if k, _, ok := strings.Cut(t, "="); ok && strings.Trim(strings.TrimSpace(k), `"`) == last {
			return fmt.Sprintf(":%d", i+1)
		}
		if len(parts) == 1 && (t == "["+last+"]" || t == "[["+last+"]]") {
			return fmt.Sprintf(":%d", i+1)
		}
	}
	return ""
}
