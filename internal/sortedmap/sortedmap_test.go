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
	type e = Entry[string, int]
	if err := m.Load([]e{{"a", 1}, {"b", 2}, {"d", 4}}); err != nil {
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
	for _, bad := range [][]e{{{"b", 1}, {"a", 2}}, {{"a", 1}, {"a", 2}}} {
		if err := m.Load(bad); !errors.Is(err, ErrOrder) {
			t.Errorf("Load(%v) = %v, want ErrOrder", bad, err)
		}
		if m.Len() != 0 {
			t.Errorf("Load(%v) refused but left %d entries", bad, m.Len())
		}
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
			b.ReportMetric(float64(cap(m.sorted)*40+len(m.gone)*8)/n, "B/entry")
		}
	})
}

// TestOrder: an Order of a growing slice finds every item by its key,
// across merges, and lists them in key order; Load refuses keys out of
// order.
func TestOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var items []uint64 // the caller's slice: item i has key items[i]
	key := func(p int32) uint64 { return items[p] }
	o := NewOrder[uint64](cmp.Compare[uint64])
	want := map[uint64]int32{}
	for range 30000 {
		k := rng.Uint64N(1 << 40)
		if _, dup := want[k]; dup {
			continue
		}
		items = append(items, k)
		o.Set(k, int32(len(items)-1), key)
		want[k] = int32(len(items) - 1)
		probe := rng.Uint64N(1 << 40)
		if p, ok := o.Get(probe, key); ok {
			if w, set := want[probe]; !set || w != p {
				t.Fatalf("Get(%d) = %d for a key never set", probe, p)
			}
		}
	}
	for k, p := range want {
		if got, ok := o.Get(k, key); !ok || got != p {
			t.Fatalf("Get(%d) = %d, %v; want %d", k, got, ok, p)
		}
	}
	if o.Len() != len(want) {
		t.Fatalf("Len = %d, want %d", o.Len(), len(want))
	}
	var keys []uint64
	for p := range o.All(key) {
		keys = append(keys, items[p])
	}
	if !slices.Equal(keys, slices.Sorted(maps.Keys(want))) {
		t.Fatal("All is not every position in key order")
	}
	items = []uint64{5, 3, 9}
	if err := o.Load([]int32{1, 0, 2}, key); err != nil || o.Len() != 3 {
		t.Fatalf("Load in order: %v, Len %d", err, o.Len())
	}
	if p, ok := o.Get(9, key); !ok || p != 2 {
		t.Errorf("after Load: Get(9) = %d, %v", p, ok)
	}
	if err := o.Load([]int32{0, 1, 2}, key); !errors.Is(err, ErrOrder) || o.Len() != 0 {
		t.Errorf("Load out of order: %v, Len %d", err, o.Len())
	}
}
