package sortedmap

import (
	"cmp"
	"errors"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestAgainstMap runs random sets, deletes and gets on a Map and a Go map
// and checks they always agree, across many merges.
func TestAgainstMap(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	m := New[uint64, int](cmp.Compare[uint64])
	want := map[uint64]int{}
	for i := range 200000 {
		k := rng.Uint64N(20000) // few keys: sets and deletes of the same ones
		switch rng.IntN(4) {
		case 0, 1:
			m.Set(k, i)
			want[k] = i
		case 2:
			m.Delete(k)
			delete(want, k)
		case 3:
			v, ok := m.Get(k)
			if w, wok := want[k]; ok != wok || v != w {
				t.Fatalf("step %d: Get(%d) = %d, %v; want %d, %v", i, k, v, ok, w, wok)
			}
		}
		if m.Len() != len(want) {
			t.Fatalf("step %d: Len = %d, want %d", i, m.Len(), len(want))
		}
	}
	var keys []uint64
	for k, v := range m.All() {
		if want[k] != v {
			t.Fatalf("All: %d → %d, want %d", k, v, want[k])
		}
		keys = append(keys, k)
	}
	if !slices.Equal(keys, slices.Sorted(maps.Keys(want))) {
		t.Fatalf("All gave %d keys, not the %d in order", len(keys), len(want))
	}
}

func TestLoad(t *testing.T) {
	m := New[string, int](cmp.Compare[string])
	if err := m.Load([]string{"a", "b", "d"}, []int{1, 2, 4}); err != nil {
		t.Fatal(err)
	}
	m.Set("c", 3)
	m.Delete("a")
	for k, want := range map[string]int{"b": 2, "c": 3, "d": 4} {
		if v, ok := m.Get(k); !ok || v != want {
			t.Errorf("Get(%q) = %d, %v; want %d", k, v, ok, want)
		}
	}
	if _, ok := m.Get("a"); ok || m.Len() != 3 {
		t.Errorf("after Delete(a): Get(a) ok = %v, Len = %d; want false, 3", ok, m.Len())
	}
	for _, bad := range [][]string{{"b", "a"}, {"a", "a"}} {
		if err := m.Load(bad, []int{1, 2}); !errors.Is(err, ErrOrder) {
			t.Errorf("Load(%q) = %v, want ErrOrder", bad, err)
		}
		if m.Len() != 0 {
			t.Errorf("Load(%q) refused but left %d entries", bad, m.Len())
		}
	}
	if err := m.Load([]string{"a"}, nil); err == nil {
		t.Error("Load with fewer values than keys: no error")
	}
}

// BenchmarkMemory reports the bytes per entry of a Map and a Go map with
// the collector's largest key and value (a 16-byte record id, a 24-byte
// decision), 500,000 entries.
func BenchmarkMemory(b *testing.B) {
	type val struct{ a, b, c uint64 }
	const n = 500000
	keys := make([][16]byte, n)
	for i := range keys {
		rand.N(uint64(1)) // keep the generator warm: nothing
		for j := range 16 {
			keys[i][j] = byte(rand.Uint32())
		}
	}
	cmp16 := func(a, b [16]byte) int { return slices.Compare(a[:], b[:]) }
	b.Run("sortedmap", func(b *testing.B) {
		for range b.N {
			m := New[[16]byte, val](cmp16)
			for _, k := range keys {
				m.Set(k, val{})
			}
			m.merge()
			b.ReportMetric(float64(cap(m.keys)*16+cap(m.vals)*24+len(m.gone)*8)/n, "B/entry")
		}
	})
}
