package binform

import (
	"errors"
	"slices"
	"testing"
)

var errTest = errors.New("not a test form")

// TestRoundTrip: what Writer writes, Reader reads back, to the last byte.
func TestRoundTrip(t *testing.T) {
	w := &Writer{}
	w.Uint(0)
	w.Uint(1 << 62)
	w.Varint(-5)
	w.String("Jürgen")
	w.Strings([]string{"a", "", "bc"})
	w.Strings(nil)
	w.Raw([]byte{1, 2, 3})
	w.String("tail")
	r := NewReader(w.B, errTest)
	if v := r.Uint(); v != 0 {
		t.Errorf("Uint = %d", v)
	}
	if v := r.Uint(); v != 1<<62 {
		t.Errorf("Uint = %d", v)
	}
	if v := r.Varint(); v != -5 {
		t.Errorf("Varint = %d", v)
	}
	if s := r.String(); s != "Jürgen" {
		t.Errorf("String = %q", s)
	}
	if ss := r.Strings(); !slices.Equal(ss, []string{"a", "", "bc"}) {
		t.Errorf("Strings = %q", ss)
	}
	if ss := r.Strings(); ss != nil {
		t.Errorf("empty Strings = %q", ss)
	}
	if b := r.Raw(3); !slices.Equal(b, []byte{1, 2, 3}) {
		t.Errorf("Raw = %v", b)
	}
	if b := r.Bytes(); string(b) != "tail" || cap(b) != 4 {
		t.Errorf("Bytes = %q (cap %d)", b, cap(b))
	}
	if r.Err() != nil || r.Len() != 0 {
		t.Errorf("after reading all: %v, %d left", r.Err(), r.Len())
	}
}

// TestFailures: each kind of bad input fails with the file's error, the
// first failure stays, and later reads give zero values.
func TestFailures(t *testing.T) {
	for name, tc := range map[string]struct {
		b    []byte
		read func(r *Reader)
	}{
		"cut number":         {[]byte{0x80}, func(r *Reader) { r.Uint() }},
		"cut signed number":  {[]byte{0x80}, func(r *Reader) { r.Varint() }},
		"string beyond data": {[]byte{5, 'a'}, func(r *Reader) { _ = r.String() }},
		"list beyond data":   {[]byte{9, 1, 'a'}, func(r *Reader) { r.Strings() }},
		"count beyond data":  {[]byte{3, 0, 0}, func(r *Reader) { r.Count(2) }},
		"raw beyond data":    {[]byte{1}, func(r *Reader) { r.Raw(2) }},
		"explicit failure":   {[]byte{1}, func(r *Reader) { r.Fail("bad thing") }},
	} {
		r := NewReader(tc.b, errTest)
		tc.read(r)
		if !errors.Is(r.Err(), errTest) {
			t.Errorf("%s: Err = %v, want errTest", name, r.Err())
		}
		first := r.Err()
		if v := r.Uint(); v != 0 || r.Err() != first || r.Len() != 0 {
			t.Errorf("%s: after the failure Uint = %d, Err %v, %d left", name, v, r.Err(), r.Len())
		}
	}
}

// FuzzReader: no bytes make a Reader panic.
func FuzzReader(f *testing.F) {
	f.Add([]byte{2, 1, 'a', 0x80})
	f.Fuzz(func(t *testing.T, b []byte) {
		r := NewReader(b, errTest)
		for r.Err() == nil && r.Len() > 0 {
			switch r.Uint() % 6 {
			case 0:
				r.Varint()
			case 1:
				_ = r.String()
			case 2:
				r.Strings()
			case 3:
				r.Raw(int(r.Uint() % 32))
			case 4:
				r.Count(int(r.Uint()%8) + 1)
			case 5:
				r.Bytes()
			}
		}
	})
}
