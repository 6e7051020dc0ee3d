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
	keys   []K // sorted by cmp, no two equal
	vals   []V // vals[i] is keys[i]'s
	gone   []uint64
	ngone  int     // bits set in gone: keys deleted since the last merge
	recent map[K]V // set since the last merge, and not in keys
}

// New returns an empty map ordered by cmp (negative, zero or positive as
// a is less than, equal to or greater than b; equal means the same key).
func New[K comparable, V any](cmp func(a, b K) int) *Map[K, V] {
	return &Map[K, V]{cmp: cmp, recent: map[K]V{}}
}

// ErrOrder is returned by [Map.Load] for keys that are not in strictly
// increasing order.
var ErrOrder = errors.New("sortedmap: keys not in increasing order")

// Load replaces the map's entries by keys and vals, which it keeps (the
// caller must not use them after): keys must be strictly increasing by
// the map's order (else [ErrOrder], and the map is left empty), vals as
// long. It is how a map is read back from its sorted form without the
// cost of inserting one by one.
func (m *Map[K, V]) Load(keys []K, vals []V) error {
	m.Clear()
	if len(keys) != len(vals) {
		return errors.New("sortedmap: as many values as keys needed")
	}
	for i := 1; i < len(keys); i++ {
		if m.cmp(keys[i-1], keys[i]) >= 0 {
			return ErrOrder
		}
	}
	m.keys, m.vals = keys, vals
	m.gone = make([]uint64, (len(keys)+63)/64)
	return nil
}

// Clear removes every entry.
func (m *Map[K, V]) Clear() {
	m.keys, m.vals, m.gone, m.ngone = nil, nil, nil, 0
	m.recent = map[K]V{}
}

// Len returns the number of entries.
func (m *Map[K, V]) Len() int { return len(m.keys) - m.ngone + len(m.recent) }

// find returns k's position in keys, if there and not deleted.
func (m *Map[K, V]) find(k K) (int, bool) {
	i, ok := slices.BinarySearchFunc(m.keys, k, m.cmp)
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
		return m.vals[i], true
	}
	var zero V
	return zero, false
}

// Set sets k's value to v.
func (m *Map[K, V]) Set(k K, v V) {
	if i, ok := m.find(k); ok {
		m.vals[i] = v
		return
	}
	m.recent[k] = v
	if len(m.recent) > max(1024, len(m.keys)/8) {
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
		m.vals[i] = zero // whatever it points to may go
	}
}

// All returns the entries in key order.
func (m *Map[K, V]) All() iter.Seq2[K, V] {
	m.merge()
	return func(yield func(K, V) bool) {
		for i, k := range m.keys {
			if !yield(k, m.vals[i]) {
				return
			}
		}
	}
}

// merge moves recent into the sorted slices and drops deleted keys, in
// place where their capacity allows (from the back, so no second copy of
// the slices is needed).
func (m *Map[K, V]) merge() {
	if len(m.recent) == 0 && m.ngone == 0 {
		return
	}
	// Drop the deleted ones.
	if m.ngone > 0 {
		j := 0
		for i := range m.keys {
			if m.gone[i/64]&(1<<(i%64)) == 0 {
				m.keys[j], m.vals[j] = m.keys[i], m.vals[i]
				j++
			}
		}
		clear(m.vals[j:]) // let go of what the dropped ones point to
		m.keys, m.vals = m.keys[:j], m.vals[:j]
	}
	add := make([]K, 0, len(m.recent))
	for k := range m.recent {
		add = append(add, k)
	}
	slices.SortFunc(add, m.cmp)
	n, r := len(m.keys), len(add)
	m.keys, m.vals = slices.Grow(m.keys, r)[:n+r], slices.Grow(m.vals, r)[:n+r]
	// From the back: the largest of both goes last.
	i, j := n-1, r-1
	for w := n + r - 1; j >= 0; w-- {
		if i >= 0 && m.cmp(m.keys[i], add[j]) > 0 {
			m.keys[w], m.vals[w] = m.keys[i], m.vals[i]
			i--
		} else {
			m.keys[w], m.vals[w] = add[j], m.recent[add[j]]
			j--
		}
	}
	m.recent = map[K]V{}
	m.gone, m.ngone = make([]uint64, (n+r+63)/64), 0
}
