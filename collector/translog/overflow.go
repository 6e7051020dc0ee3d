package translog

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"

	"github.com/chatconsent/chatconsent/internal/durable"
)

// overflow holds fed entries beyond [Options].MaxPendingBytes, in order, in
// a file without a name: each entry is its length (uvarint) and its bytes.
// Entries are written at w and read back from r; when all are read the
// file is emptied. It is derived data (the JSONL file has every entry), so
// it is never fsynced. Used under [Log]'s mutex.
type overflow struct {
	dir  string // "" : os.TempDir()
	f    *os.File
	r, w int64 // next byte to read back, next to write
	n    int   // entries written and not yet read back
	buf  []byte
}

// write appends entries; on an error the file is as before.
func (o *overflow) write(entries [][]byte) error {
	if o.f == nil {
		f, err := durable.Nameless(o.dir, ".tlog-overflow-*")
		if err != nil {
			return fmt.Errorf("overflow file for the transparency log: %w", err)
		}
		o.f = f
	}
	b := o.buf[:0]
	for _, e := range entries {
		b = binary.AppendUvarint(b, uint64(len(e)))
		b = append(b, e...)
	}
	if cap(b) <= 1<<20 {
		o.buf = b[:0]
	}
	if _, err := o.f.WriteAt(b, o.w); err != nil {
		return fmt.Errorf("overflow file for the transparency log: %w", err)
	}
	o.w += int64(len(b))
	o.n += len(entries)
	return nil
}

// readChunk is how much read takes from the file at a time: more than the
// largest entry (65,535 bytes and its length).
const readChunk = 1 << 20

// read returns up to max of the oldest entries (at least one if any).
func (o *overflow) read(max int) ([][]byte, error) {
	var out [][]byte
	for len(out) < max && o.n > 0 {
		size := min(o.w-o.r, readChunk)
		b := make([]byte, size)
		if _, err := o.f.ReadAt(b, o.r); err != nil {
			return nil, err
		}
		took := 0
		for len(out) < max && o.n > 0 {
			l, k := binary.Uvarint(b[took:])
			if k <= 0 || uint64(len(b)-took-k) < l {
				break // the rest of this entry is in the next chunk
			}
			out = append(out, b[took+k:took+k+int(l)])
			took += k + int(l)
			o.n--
		}
		if took == 0 {
			return nil, errors.New("overflow file holds no whole entry where one should start")
		}
		o.r += int64(took)
	}
	if o.n == 0 && o.f.Truncate(0) == nil {
		o.r, o.w = 0, 0
	}
	return out, nil
}

// close closes the file (it has no name: its blocks are freed).
func (o *overflow) close() {
	if o.f != nil {
		o.f.Close()
		o.f = nil
		o.r, o.w, o.n = 0, 0, 0
	}
}
