package main

import (
	"io"
	"slices"
	"testing"
)

func TestParseInterspersedFlags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args     []string
		max      int
		wantData string
		wantArgs []string
		wantErr  string
	}{
		{[]string{"+491701234567", "--data", "d"}, 1, "d", []string{"+491701234567"}, ""},
		{[]string{"--data", "d", "+491701234567"}, 1, "d", []string{"+491701234567"}, ""},
		{[]string{"a", "--data", "d", "b"}, -1, "d", []string{"a", "b"}, ""},
		{[]string{"--", "--data"}, 1, "", []string{"--data"}, ""},
		{[]string{"a", "b"}, 1, "", nil, `status: unexpected argument "b"`},
		{[]string{"--dta", "d"}, 1, "", nil, "status: flag provided but not defined: -dta"},
	}
	for _, tt := range tests {
		fs := newFlags("status", io.Discard)
		data := fs.String("data", "", "")
		err := parse(fs, tt.args, tt.max)
		if tt.wantErr != "" {
			if err == nil || err.Error() != tt.wantErr {
				t.Errorf("parse(%q) err = %v, want %s", tt.args, err, tt.wantErr)
			}
			continue
		}
		if err != nil || *data != tt.wantData || !slices.Equal(fs.Args(), tt.wantArgs) {
			t.Errorf("parse(%q) = data %q args %q err %v; want %q %q", tt.args, *data, fs.Args(), err, tt.wantData, tt.wantArgs)
		}
	}
}
