package binform

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
)

// readers are the two ways of reading b: from memory, and as a stream
// (one byte per Read, the worst a file section can do).
func readers(b []byte) map[string]*Reader {
	return map[string]*Reader{
		"bytes":  NewReader(b, errTest),
		"stream": NewStreamReader(iotest.OneByteReader(bytes.NewReader(b)), int64(len(b)), errTest),
	}
}

var errTest = errors.New("not a test form")

// TestRoundTrip: what Writer writes, Reader reads back, to the last byte.
func TestRoundTrip(t *testing.T) {
	big := strings.Repeat("x", 200<<10) // beyond a stream's buffer
	write := func(w *Writer) {
		w.Uint(0)
		w.Uint(1 << 62)
		w.Varint(-5)
		w.String("Jürgen")
		w.Strings([]string{"a", "", "bc"})
		w.Strings(nil)
		w.Raw([]byte{1, 2, 3})
		w.String(big)
		w.Raw([]byte{4, 5})
		w.String("tail")
	}
	w := &Writer{}
	write(w)
	for name, r := range readers(w.B) {
		t.Run(name, func(t *testing.T) { roundTrip(t, r, big) })
	}
	// A stream Writer writes the same bytes, never holding much more
	// than 64 KiB (the long string passes through in one append).
	var out bytes.Buffer
	sw := NewStreamWriter(&out)
	write(sw)
	if len(sw.B) > flushAt {
		t.Errorf("a stream Writer holds %d bytes", len(sw.B))
	}
	if err := sw.Flush(); err != nil || !bytes.Equal(out.Bytes(), w.B) || len(sw.B) != 0 {
		t.Errorf("stream Writer: %v, %d bytes written, want %d", err, out.Len(), len(w.B))
	}
	// Its first write error stays, and nothing is written after it.
	fw := NewStreamWriter(failWriter{})
	write(fw)
	if err := fw.Flush(); !errors.Is(err, errTest) {
		t.Errorf("stream Writer to a failing writer: %v", err)
	}
}

// failWriter fails every write.
type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errTest }

func roundTrip(t *testing.T, r *Reader, big string) {
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
	if s := r.String(); s != big {
		t.Errorf("String of %d bytes: %d bytes back", len(big), len(s))
	}
	if b := r.Raw(2); !slices.Equal(b, []byte{4, 5}) {
		t.Errorf("Raw after a long string = %v", b)
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
		for form, r := range readers(tc.b) {
			tc.read(r)
			if !errors.Is(r.Err(), errTest) {
				t.Errorf("%s, %s: Err = %v, want errTest", name, form, r.Err())
			}
			first := r.Err()
			if v := r.Uint(); v != 0 || r.Err() != first || r.Len() != 0 {
				t.Errorf("%s, %s: after the failure Uint = %d, Err %v, %d left", name, form, v, r.Err(), r.Len())
			}
		}
	}
	// A stream shorter than it was said to be fails, with the file's error.
	r := NewStreamReader(bytes.NewReader([]byte{3, 'a'}), 4, errTest)
	if s := r.String(); s != "" || !errors.Is(r.Err(), errTest) {
		t.Errorf("short stream: String = %q, Err = %v", s, r.Err())
	}
}

// FuzzReader: no bytes make a Reader panic, and a stream reads exactly
// what the same bytes in memory read.
func FuzzReader(f *testing.F) {
	f.Add([]byte{2, 1, 'a', 0x80})
	f.Fuzz(func(t *testing.T, b []byte) {
		rs := readers(b)
		m, s := rs["bytes"], rs["stream"]
		for m.Err() == nil && m.Len() > 0 {
			op, sop := m.Uint(), s.Uint()
			var a, c any
			switch op % 6 {
			case 0:
				a, c = m.Varint(), s.Varint()
			case 1:
				a, c = m.String(), s.String()
			case 2:
				a, c = strings.Join(m.Strings(), "\x00"), strings.Join(s.Strings(), "\x00")
			case 3:
				n, sn := m.Uint(), s.Uint()
				a, c = string(m.Raw(int(n%32))), string(s.Raw(int(sn%32)))
			case 4:
				n, sn := m.Uint(), s.Uint()
				a, c = m.Count(int(n%8)+1), s.Count(int(sn%8)+1)
			case 5:
				a, c = string(m.Bytes()), string(s.Bytes())
			}
			if op != sop || a != c || (m.Err() == nil) != (s.Err() == nil) || m.Len() != s.Len() {
				t.Fatalf("op %d: memory %v (%v, %d left), stream %v (%v, %d left)", op, a, m.Err(), m.Len(), c, s.Err(), s.Len())
			}
		}
	})
}
