// Package sortedmap is a map kept as two sorted slices of keys and values
// (binary search), with a small Go map for what was set since they were
// last merged: about the size of its keys and values per entry, where a
// Go map takes about twice that or more (its slots' padding, control
// bytes and spare room).
//
// The collector keeps an entry per decision and per person for its whole
// life, and every contact is a new number (issue 13: memory at 500,000
// decisions), which is what this is for. Lookups cost a binary search
// (about 20 comparisons at 500,000 entries) instead of a hash.
package sortedmap

import (
	"errors"
	"iter"
	"slices"
)

// Map maps K to V. Its zero value is not usable: see [New]. It is not
// safe for concurrent use.
type Map[K comparable, V any] struct {
	cmp    func(a, b K) int
	sorted []Entry[K, V] // by key, no two equal
	gone   []uint64
	ngone  int     // bits set in gone: keys deleted since the last merge
	recent map[K]V // set since the last merge, and not in sorted
}

// Entry is one key and its value, as [Map.Load] takes them.
type Entry[K, V any] struct {
	Key   K
	Value V
}

// New returns an empty map ordered by cmp (negative, zero or positive as
// a is less than, equal to or greater than b; equal means the same key).
func New[K comparable, V any](cmp func(a, b K) int) *Map[K, V] {
	return &Map[K, V]{cmp: cmp, recent: map[K]V{}}
}

// ErrOrder is returned by [Map.Load] for keys that are not in strictly
// increasing order.
var ErrOrder = errors.New("sortedmap: keys not in increasing order")

// Load replaces the map's entries by es, which it keeps (the caller must
// not use it after): their keys must be strictly increasing by the map's
// order (else [ErrOrder], and the map is left empty). It is how a map is
// read back from its sorted form without the cost of inserting one by
// one, or a second copy.
func (m *Map[K, V]) Load(es []Entry[K, V]) error {
	m.Clear()
	for i := 1; i < len(es); i++ {
		if m.cmp(es[i-1].Key, es[i].Key) >= 0 {
			return ErrOrder
		}
	}
	m.sorted = es
	m.gone = make([]uint64, (len(es)+63)/64)
	return nil
}

// Clear removes every entry.
func (m *Map[K, V]) Clear() {
	m.sorted, m.gone, m.ngone = nil, nil, 0
	m.recent = map[K]V{}
}

// Len returns the number of entries.
func (m *Map[K, V]) Len() int { return len(m.sorted) - m.ngone + len(m.recent) }

// find returns k's position in sorted, if there and not deleted.
func (m *Map[K, V]) find(k K) (int, bool) {
	i, ok := slices.BinarySearchFunc(m.sorted, k, func(e Entry[K, V], k K) int { return m.cmp(e.Key, k) })
	if !ok || m.gone[i/64]&(1<<(i%64)) != 0 {
		return i, false
	}
	return i, true
}

// Get returns k's value, and whether k is in the map.
func (m *Map[K, V]) Get(k K) (V, bool) {
	if v, ok := m.recent[k]; ok {
		return v, true
	}
	if i, ok := m.find(k); ok {
		return m.sorted[i].Value, true
	}
	var zero V
	return zero, false
}

// Set sets k's value to v.
func (m *Map[K, V]) Set(k K, v V) {
	if i, ok := m.find(k); ok {
		m.sorted[i].Value = v
		return
	}
	m.recent[k] = v
	if len(m.recent) > max(1024, len(m.sorted)/8) {
		m.merge()
	}
}

// Delete removes k, if it is there.
func (m *Map[K, V]) Delete(k K) {
	if _, ok := m.recent[k]; ok {
		delete(m.recent, k)
		return
	}
	if i, ok := m.find(k); ok {
		m.gone[i/64] |= 1 << (i % 64)
		m.ngone++
		var zero V
		m.sorted[i].Value = zero // whatever it points to may go
	}
}

// All returns the entries in key order.
func (m *Map[K, V]) All() iter.Seq2[K, V] {
	m.merge()
	return func(yield func(K, V) bool) {
		for _, e := range m.sorted {
			if !yield(e.Key, e.Value) {
				return
			}
		}
	}
}

// merge moves recent into sorted and drops deleted keys.
func (m *Map[K, V]) merge() {
	if len(m.recent) == 0 && m.ngone == 0 {
		return
	}
	if m.ngone > 0 { // drop the deleted ones
		j := 0
		for i := range m.sorted {
			if m.gone[i/64]&(1<<(i%64)) == 0 {
				m.sorted[j] = m.sorted[i]
				j++
			}
		}
		clear(m.sorted[j:]) // let go of what the dropped ones point to
		m.sorted = m.sorted[:j]
	}
	add := make([]Entry[K, V], 0, len(m.recent))
	for k, v := range m.recent {
		add = append(add, Entry[K, V]{Key: k, Value: v})
	}
	m.sorted = mergeIn(m.sorted, add, func(a, b Entry[K, V]) int { return m.cmp(a.Key, b.Key) })
	m.recent = map[K]V{}
	m.gone, m.ngone = make([]uint64, (len(m.sorted)+63)/64), 0
}

// mergeIn sorts add and merges it into sorted (both by cmp, no key in
// both), in place where sorted's capacity allows: from the back, the
// larger of the two going last, so no second copy is needed. Map and
// Order share it.
func mergeIn[T any](sorted, add []T, cmp func(a, b T) int) []T {
	slices.SortFunc(add, cmp)
	n, r := len(sorted), len(add)
	sorted = slices.Grow(sorted, r)[:n+r]
	i, j := n-1, r-1
	for w := n + r - 1; j >= 0; w-- {
		if i >= 0 && cmp(sorted[i], add[j]) > 0 {
			sorted[w] = sorted[i]
			i--
		} else {
			sorted[w] = add[j]
			j--
		}
	}
	return sorted
}
