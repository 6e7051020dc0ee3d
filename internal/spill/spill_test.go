package spill

import (
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"os"
	"testing"
)

// row is 12 bytes: 341 to a block, so rows end short of a block's end.
type row struct {
	a uint64
	b uint32
}

var codec = Codec[row]{
	Size: 12,
	Put: func(b []byte, v row) {
		binary.LittleEndian.PutUint64(b, v.a)
		binary.LittleEndian.PutUint32(b[8:], v.b)
	},
	Get: func(b []byte) row { return row{binary.LittleEndian.Uint64(b), binary.LittleEndian.Uint32(b[8:])} },
}

// TestRowsLikeASlice: appends, sets and reads, spilled part-way, give what
// a slice gives, across blocks, the cache's slots and the memory tail.
func TestRowsLikeASlice(t *testing.T) {
	for _, spillAt := range []int{-1, 0, 5, 3000, 20000, -2} {
		rng := rand.New(rand.NewPCG(1, uint64(spillAt+3)))
		r := New(codec)
		if spillAt == -2 { // every row to the file at once
			r.SetTail(1)
			spillAt = 0
		}
		var want []row
		for step := range 60000 {
			if step == spillAt {
				if err := r.SpillTo(t.TempDir()); err != nil {
					t.Fatal(err)
				}
			}
			switch op := rng.IntN(10); {
			case op < 5 || len(want) == 0:
				v := row{rng.Uint64(), rng.Uint32()}
				want = append(want, v)
				r.Append(v)
			case op < 7:
				i := rng.IntN(len(want))
				v := row{rng.Uint64(), rng.Uint32()}
				want[i] = v
				if err := r.Set(i, v); err != nil {
					t.Fatal(err)
				}
			default:
				i := rng.IntN(len(want))
				if got, err := r.At(i); err != nil || got != want[i] {
					t.Fatalf("spilled at %d, step %d: At(%d) = %v, %v; want %v", spillAt, step, i, got, err, want[i])
				}
			}
		}
		if r.Len() != len(want) || r.Spilled() != (spillAt >= 0) {
			t.Fatalf("spilled at %d: Len %d want %d, Spilled %v", spillAt, r.Len(), len(want), r.Spilled())
		}
		n := 0
		if err := r.Each(func(i int, v row) bool {
			if v != want[i] || i != n {
				t.Fatalf("spilled at %d: Each row %d (%d) = %v, want %v", spillAt, i, n, v, want[i])
			}
			n++
			return true
		}); err != nil || n != len(want) {
			t.Fatalf("Each: %d rows, %v", n, err)
		}
		if err := r.Close(); err != nil || r.Len() != 0 || r.Spilled() {
			t.Fatalf("Close: %v, Len %d", err, r.Len())
		}
	}
}

// TestRowsFile: the file has no name (nothing left in the folder), holds
// the rows beyond the tail, and a failing read is an error, not a panic.
func TestRowsFile(t *testing.T) {
	dir := t.TempDir()
	r := New(codec)
	for i := range 5000 {
		r.Append(row{uint64(i), 0})
	}
	if err := r.SpillTo(dir); err != nil {
		t.Fatal(err)
	}
	if des, _ := os.ReadDir(dir); len(des) != 0 {
		t.Errorf("the folder holds %v", des)
	}
	if st, err := r.f.Stat(); err != nil || st.Size() < 5000*12 {
		t.Fatalf("file: %v, %v", st, err)
	}
	if cap(r.tail) > 2*tailRows {
		t.Errorf("the tail keeps %d rows' room after the spill", cap(r.tail))
	}
	if _, err := r.At(5000); !errors.Is(err, ErrRange) {
		t.Errorf("At(Len) = %v, want ErrRange", err)
	}
	if err := r.Set(-1, row{}); !errors.Is(err, ErrRange) {
		t.Errorf("Set(-1) = %v, want ErrRange", err)
	}
	// A file that cannot be written (a full disk): appended rows stay in
	// memory and are read back.
	full := New(codec)
	full.SetTail(2)
	if err := full.SpillTo(dir); err != nil {
		t.Fatal(err)
	}
	full.f.Close()
	for i := range 10 {
		full.Append(row{uint64(i), 1})
	}
	for i := range 10 {
		if v, err := full.At(i); err != nil || v != (row{uint64(i), 1}) {
			t.Fatalf("row %d after failed writes: %v, %v", i, v, err)
		}
	}
	r.f.Close() // the disk fails under it
	if _, err := r.At(4000); err == nil {
		t.Error("At on a closed file: no error")
	}
	if err := r.Set(4000, row{}); err == nil {
		t.Error("Set on a closed file: no error")
	}
	if err := New(codec).SpillTo(dir + "/missing"); err == nil {
		t.Error("SpillTo a missing folder: no error")
	}
}
