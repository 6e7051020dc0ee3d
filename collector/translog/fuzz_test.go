package translog

import (
	"bytes"
	"testing"

	"golang.org/x/mod/sumdb/note"
)

func FuzzParsePath(f *testing.F) {
	for _, s := range []string{"checkpoint", "tile/0/000", "tile/1/x001/234.p/5", "tile/entries/x999/000.p/255", "tile/0/x000/000"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		r, err := ParsePath(p)
		if err != nil {
			return
		}
		if r.Path() != p {
			t.Fatalf("ParsePath(%q) = %+v, whose path is %q", p, r, r.Path())
		}
	})
}

func FuzzParseProof(f *testing.F) {
	f.Add([]byte("c2sp.org/tlog-proof@v1\nindex 3\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\nc.example.org/log\n4\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n— c.example.org/log abcd\n"))
	f.Add([]byte("c2sp.org/tlog-proof@v1\nextra AAAA\nindex 0\n\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParseProof(b)
		if err != nil {
			return
		}
		if !bytes.Equal(p.Marshal(), b) {
			t.Fatalf("ParseProof(%q) does not marshal back: %q", b, p.Marshal())
		}
	})
}

func FuzzOpenCheckpoint(f *testing.F) {
	skey, vkey, _ := note.GenerateKey(nil, "c.example.org/log")
	s, _ := note.NewSigner(skey)
	v, _ := note.NewVerifier(vkey)
	good, _ := note.Sign(&note.Note{Text: "c.example.org/log\n5\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n"}, s)
	f.Add(good)
	f.Add([]byte("c.example.org/log\n5\nAAAA\n\n— c.example.org/log AAAA\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		cp, err := OpenCheckpoint(b, v, nil, 0)
		if err == nil && (len(cp.Hash) != 32 || cp.Origin != "c.example.org/log") {
			t.Fatalf("accepted %q as %+v", b, cp)
		}
	})
}

func FuzzParseBundle(f *testing.F) {
	f.Add([]byte{0, 1, 'a', 0, 2, 'b', 'c'}, 2)
	f.Add([]byte{0, 0}, 1)
	f.Fuzz(func(t *testing.T, b []byte, n int) {
		if n < 0 || n > 256 {
			return
		}
		es, err := ParseBundle(b, n)
		if err != nil {
			return
		}
		var out []byte
		for _, e := range es {
			out = append(out, byte(len(e)>>8), byte(len(e)))
			out = append(out, e...)
		}
		if !bytes.Equal(out, b) || len(es) != n {
			t.Fatalf("ParseBundle(%x, %d) = %q", b, n, es)
		}
	})
}
