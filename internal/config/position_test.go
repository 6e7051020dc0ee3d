package config

import (
	"errors"
	"fmt"
	"testing"

	"github.com/BurntSushi/toml"
)

// These tests pin the behaviour of the BurntSushi/toml version in go.mod
// that position.go relies on. If one fails after a library update, adapt
// position.go (and the expectations here) instead of deleting the test:
// config errors would otherwise name the wrong line.

// TestLibraryTypeErrorWording: a value of the wrong type is a plain error
// whose text tomlTypeErrRe reads (line of the key's last occurrence, key,
// the TOML type, the Go type).
func TestLibraryTypeErrorWording(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		text                       string
		dst                        any
		line, key, tomlT, goT      string
		wantKind, wantWant, wantIs string
	}{
		{"a = 1\n\nx = 2\n", &struct {
			A int
			X string `toml:"x"`
		}{}, "3", "x", "int64", "string", "integer", "text in quotes", "a whole number"},
		{"[t]\ny = [1]\n", &struct {
			T struct {
				Y bool `toml:"y"`
			} `toml:"t"`
		}{}, "2", "t.y", "[]any", "boolean", "array", "true or false", "a list ([…])"},
		{"[[p]]\nid = \"a\"\n[[p]]\nid = 3.5\n", &struct {
			P []struct {
				ID string `toml:"id"`
			} `toml:"p"`
		}{}, "4", "p.id", "float64", "string", "float", "text in quotes", "a decimal number"},
	} {
		_, err := toml.Decode(tc.text, tc.dst)
		if err == nil {
			t.Fatalf("%q: no error", tc.text)
		}
		var perr toml.ParseError
		if errors.As(err, &perr) {
			t.Errorf("%q: the type error is a toml.ParseError now (%+v): position.go can use its Position", tc.text, perr)
			continue
		}
		m := tomlTypeErrRe.FindStringSubmatch(err.Error())
		if m == nil {
			t.Errorf("%q: tomlTypeErrRe does not match the library's type error %q", tc.text, err)
			continue
		}
		if m[1] != tc.line || m[2] != tc.key || len(m[3]) < len(tc.tomlT) || m[3][:len(tc.tomlT)] != tc.tomlT || m[4] != tc.goT {
			t.Errorf("%q: read line %s key %s types %s/%s, want %s %s %s/%s", tc.text, m[1], m[2], m[3], m[4], tc.line, tc.key, tc.tomlT, tc.goT)
		}
		if got := valueKindOf(m[3]); got != tc.wantKind {
			t.Errorf("%q: valueKindOf(%s) = %q, want %q", tc.text, m[3], got, tc.wantKind)
		}
		if got := tomlKind(m[4]); got != tc.wantWant {
			t.Errorf("%q: tomlKind(%s) = %q, want %q", tc.text, m[4], got, tc.wantWant)
		}
		if got := tomlKind(m[3]); got != tc.wantIs {
			t.Errorf("%q: tomlKind(%s) = %q, want %q", tc.text, m[3], got, tc.wantIs)
		}
	}
}

// TestLibrarySyntaxPosition: a syntax error is a toml.ParseError with the
// exact line.
func TestLibrarySyntaxPosition(t *testing.T) {
	t.Parallel()
	var v map[string]any
	_, err := toml.Decode("a = 1\nb = \"ok\"\nc = = 3\n", &v)
	var perr toml.ParseError
	if !errors.As(err, &perr) || perr.Position.Line != 3 {
		t.Errorf("err = %v (%+v), want a ParseError on line 3", err, perr)
	}
}

// TestLibraryUnmarshalerError: an error of our UnmarshalTOML comes back as
// a toml.ParseError naming the key (LastKey), positioned at the key's last
// occurrence, which keyLine corrects to the offending one.
func TestLibraryUnmarshalerError(t *testing.T) {
	t.Parallel()
	text := "[[p]]\ntitle = { de = 1 }\n[[p]]\ntitle = \"fine\"\n"
	var f struct {
		P []struct {
			Title localizedField `toml:"title"`
		} `toml:"p"`
	}
	_, err := toml.Decode(text, &f)
	var perr toml.ParseError
	if !errors.As(err, &perr) || perr.LastKey != "p.title" {
		t.Fatalf("err = %v (%+v), want a ParseError with LastKey p.title", err, perr)
	}
	if got := keyLine([]byte(text), perr.LastKey, perr.Position.Line, ""); got != 2 {
		t.Errorf("keyLine = %d (library said %d), want 2", got, perr.Position.Line)
	}
	if got := fmt.Sprint(decodeError("c.toml", []byte(text), err)); got != `c.toml:2: invalid configuration: p.title: language "de": want text in quotes, not a whole number` {
		t.Errorf("decodeError = %s", got)
	}
}
