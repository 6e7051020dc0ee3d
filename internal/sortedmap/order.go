package sortedmap

import (
	"iter"
	"slices"
)

// Order finds the items of a caller's slice by a key each item holds: the
// items' positions (int32) sorted by their keys, plus a small Go map of
// the positions added since they were last merged. It costs 4 bytes per
// item where a [Map] from the key would cost the key's size again (the
// private store's records hold their 16-byte ids themselves). Every
// method takes key, which returns the key of the item at a position: the
// Order keeps no reference to the slice, which its owner may grow or
// replace. It is not safe for concurrent use.
type Order[K comparable] struct {
	cmp    func(a, b K) int
	pos    []int32     // sorted by key(pos[i]), no two keys equal
	recent map[K]int32 // added since the last merge, not in pos
}

// NewOrder returns an empty Order by cmp (as for [New]).
func NewOrder[K comparable](cmp func(a, b K) int) *Order[K] {
	return &Order[K]{cmp: cmp, recent: map[K]int32{}}
}

// Load replaces the Order's positions by pos, which it keeps: their keys
// must be strictly increasing (else [ErrOrder], and the Order is left
// empty).
func (o *Order[K]) Load(pos []int32, key func(int32) K) error {
	o.pos, o.recent = nil, map[K]int32{}
	for i := 1; i < len(pos); i++ {
		if o.cmp(key(pos[i-1]), key(pos[i])) >= 0 {
			return ErrOrder
		}
	}
	o.pos = pos
	return nil
}

// Len returns the number of positions.
func (o *Order[K]) Len() int { return len(o.pos) + len(o.recent) }

func (o *Order[K]) find(k K, key func(int32) K) (int, bool) {
	return slices.BinarySearchFunc(o.pos, k, func(p int32, k K) int { return o.cmp(key(p), k) })
}

// Get returns the position of the item with key k.
func (o *Order[K]) Get(k K, key func(int32) K) (int32, bool) {
	if p, ok := o.recent[k]; ok {
		return p, true
	}
	if i, ok := o.find(k, key); ok {
		return o.pos[i], true
	}
	return 0, false
}

// Set makes k's position p (the item at p must have key k).
func (o *Order[K]) Set(k K, p int32, key func(int32) K) {
	if i, ok := o.find(k, key); ok {
		o.pos[i] = p
		return
	}
	o.recent[k] = p
	if len(o.recent) > max(1024, len(o.pos)/8) {
		o.merge(key)
	}
}

// All returns the positions in key order.
func (o *Order[K]) All(key func(int32) K) iter.Seq[int32] {
	o.merge(key)
	return slices.Values(o.pos)
}

// merge moves recent into pos (mergeIn, as [Map]'s).
func (o *Order[K]) merge(key func(int32) K) {
	if len(o.recent) == 0 {
		return
	}
	add := make([]int32, 0, len(o.recent))
	for _, p := range o.recent {
		add = append(add, p)
	}
	o.pos = mergeIn(o.pos, add, func(a, b int32) int { return o.cmp(key(a), key(b)) })
	o.recent = map[K]int32{}
}
