package translog

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"runtime"
	"sort"
	"sync"

	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/rfc6962"
	"github.com/transparency-dev/tessera/api/layout"
	"golang.org/x/mod/sumdb/note"
)

// ErrInconsistent is wrapped when an older checkpoint is not a prefix of
// the log: history was cut or rewritten, or the key signed a fork.
var ErrInconsistent = errors.New("the log does not extend an older checkpoint")

// ErrTampered is wrapped when tiles or entries do not match the checkpoint.
var ErrTampered = errors.New("the log's files do not match its checkpoint")

// VerifyOptions configure [VerifyLog].
type VerifyOptions struct {
	// Older are checkpoints seen before (kept by the owner, in receipts,
	// from a witness): the log must extend each.
	Older [][]byte
	// Witnesses and Quorum: the current checkpoint must carry valid
	// cosignatures of at least Quorum of Witnesses.
	Witnesses []note.Verifier
	Quorum    int
	// Entry, if set, is called for every entry (e.g. to check its own
	// signature). Calls run concurrently, not in index order.
	Entry func(index uint64, entry []byte) error
	// Workers fetch and check bundles in parallel (0: the number of CPUs).
	Workers int
	// TimestampRoots, if set, demands the log's newest time-stamped
	// checkpoint ([ReadTimestamp]): its RFC 3161 token must verify against
	// these roots and be over exactly that checkpoint, which the log must
	// extend. The log's source must be a [FileSource].
	TimestampRoots *x509.CertPool
}

// Report says what [VerifyLog] checked.
type Report struct {
	Checkpoint *Checkpoint
	Entries    uint64
	Tiles      int // tile files compared
	Bundles    int
	Older      []uint64 // sizes of the older checkpoints proven extended
	// Timestamp is the verified time-stamp of the newest time-stamped
	// checkpoint (with VerifyOptions.TimestampRoots).
	Timestamp *Stamp
}

// VerifyLog checks a published log completely, from its files alone: the
// checkpoint's signature (and cosignatures); every entry bundle parses and
// holds the number of entries the tree size needs; every tile (full, and
// partial at the checkpoint's size) is byte for byte the one recomputed
// from the entries; the recomputed root is the checkpoint's; each older
// checkpoint's root is the root of that prefix. Any single changed byte of
// a tile, bundle or checkpoint fails.
func VerifyLog(ctx context.Context, src Source, logV note.Verifier, o VerifyOptions) (*Report, error) {
	// The time-stamp first: it is of a published checkpoint, so a
	// checkpoint read after it is at least as large.
	var stamp *Stamp
	if o.TimestampRoots != nil {
		st, stamped, err := verifyStamped(ctx, src, logV, o.TimestampRoots)
		if err != nil {
			return nil, err
		}
		stamp = st
		o.Older = append(o.Older[:len(o.Older):len(o.Older)], stamped)
	}
	raw, err := src.ReadCheckpoint(ctx)
	if err != nil {
		return nil, fmt.Errorf("read checkpoint: %w", err)
	}
	cp, err := OpenCheckpoint(raw, logV, o.Witnesses, o.Quorum)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	older, err := openOlder(o.Older, logV, cp)
	if err != nil {
		return nil, err
	}
	rep := &Report{Checkpoint: cp, Timestamp: stamp}
	size := cp.Size
	workers := o.Workers
	if workers <= 0 {
		workers = runtime.NumCPU()
	}
	nb := (size + layout.EntryBundleWidth - 1) / layout.EntryBundleWidth

	type result struct {
		leaves [][]byte
		err    error
	}
	// Fetch and check bundles in parallel; fold them into the tree in order.
	results := make([]chan result, 0, nb)
	jobs := make(chan uint64)
	var slots []chan result
	for i := uint64(0); i < nb; i++ {
		slots = append(slots, make(chan result, 1))
	}
	results = slots
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for bi := range jobs {
				leaves, err := checkBundle(ctx, src, bi, size, o.Entry)
				results[bi] <- result{leaves, err}
			}
		}()
	}
	go func() {
		defer close(jobs)
		for bi := uint64(0); bi < nb; bi++ {
			select {
			case jobs <- bi:
			case <-ctx.Done():
				return
			}
		}
	}()
	defer wg.Wait()

	rf := compact.RangeFactory{Hash: rfc6962.DefaultHasher.HashChildren}
	cr := rf.NewEmptyRange(0)
	oi := 0
	checkOlder := func() error {
		for oi < len(older) && older[oi].Size == cr.End() {
			root, err := cr.GetRootHash(nil)
			if err != nil {
				return err
			}
			if !bytes.Equal(root, older[oi].Hash) {
				return fmt.Errorf("the first %d entries of the log (now %d) are not those of the older checkpoint of size %d: history was rewritten (or the key signed a fork): %w",
					older[oi].Size, size, older[oi].Size, ErrInconsistent)
			}
			rep.Older = append(rep.Older, older[oi].Size)
			oi++
		}
		return nil
	}
	if err := checkOlder(); err != nil {
		return nil, err
	}
	tb := newTileBuilder(src, size)
	for bi := uint64(0); bi < nb; bi++ {
		var r result
		select {
		case r = <-results[bi]:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if r.err != nil {
			return nil, r.err
		}
		rep.Bundles++
		for _, h := range r.leaves {
			if err := cr.Append(h, nil); err != nil {
				return nil, err
			}
			if err := checkOlder(); err != nil {
				return nil, err
			}
		}
		rep.Entries += uint64(len(r.leaves))
		if err := tb.addLevel0(ctx, bi, r.leaves); err != nil {
			return nil, err
		}
	}
	if err := tb.finish(ctx); err != nil {
		return nil, err
	}
	rep.Tiles = tb.compared
	root, err := cr.GetRootHash(nil)
	if err != nil {
		return nil, err
	}
	if size == 0 {
		root = rfc6962.DefaultHasher.EmptyRoot()
	}
	if !bytes.Equal(root, cp.Hash) {
		return nil, fmt.Errorf("the %d entries hash to another root than the checkpoint's: %w", size, ErrTampered)
	}
	return rep, nil
}

// verifyStamped reads and checks the newest time-stamped checkpoint of src.
func verifyStamped(ctx context.Context, src Source, logV note.Verifier, roots *x509.CertPool) (*Stamp, []byte, error) {
	size, raw, tsr, err := ReadTimestamp(ctx, src)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil, fmt.Errorf("time-stamp roots given, but the log has no time-stamped checkpoint: %w", err)
		}
		return nil, nil, err
	}
	cpName, tsrName := TimestampPaths(size)
	c, err := OpenCheckpoint(raw, logV, nil, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", cpName, err)
	}
	if c.Size != size {
		return nil, nil, fmt.Errorf("%s holds a checkpoint of size %d: %w", cpName, c.Size, ErrBadTimestamp)
	}
	st, err := VerifyTimestamp(tsr, raw, roots)
	if err != nil {
		return nil, nil, fmt.Errorf("time-stamp token of the checkpoint of size %d (%s): %w", size, tsrName, err)
	}
	st.Size = size
	return st, raw, nil
}

// openOlder verifies older checkpoints and sorts them by size; one larger
// than cur means the log was cut, two of one size with different roots are
// a fork.
func openOlder(raws [][]byte, logV note.Verifier, cur *Checkpoint) ([]*Checkpoint, error) {
	var out []*Checkpoint
	for i, raw := range raws {
		c, err := OpenCheckpoint(raw, logV, nil, 0)
		if err != nil {
			return nil, fmt.Errorf("older checkpoint %d: %w", i+1, err)
		}
		if c.Size > cur.Size {
			return nil, fmt.Errorf("the log has %d entries, an older checkpoint has %d: entries were cut from the end (or the key signed a fork): %w", cur.Size, c.Size, ErrInconsistent)
		}
		out = append(out, c)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Size < out[j].Size })
	for i := 1; i < len(out); i++ {
		if out[i].Size == out[i-1].Size && !bytes.Equal(out[i].Hash, out[i-1].Hash) {
			return nil, fmt.Errorf("two checkpoints of size %d with different roots, both signed by %s: the key signed a fork: %w", out[i].Size, logV.Name(), ErrInconsistent)
		}
	}
	for _, c := range out {
		if c.Size == cur.Size && !bytes.Equal(c.Hash, cur.Hash) {
			return nil, fmt.Errorf("the log (size %d) and an older checkpoint of size %d have different roots: history was rewritten (or the key signed a fork): %w", cur.Size, c.Size, ErrInconsistent)
		}
	}
	return out, nil
}

// checkBundle reads entry bundle bi of a tree of size, checks its shape and
// level-0 tile, calls fn for each entry, and returns the leaf hashes.
func checkBundle(ctx context.Context, src Source, bi, size uint64, fn func(uint64, []byte) error) ([][]byte, error) {
	w := layout.PartialTileSize(0, bi, size)
	n := int(w)
	if n == 0 {
		n = layout.EntryBundleWidth
	}
	path := layout.EntriesPath(bi, w)
	b, err := src.ReadEntryBundle(ctx, bi, w)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	entries, err := ParseBundle(b, n)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	leaves := make([][]byte, n)
	for i, e := range entries {
		idx := bi*layout.EntryBundleWidth + uint64(i)
		if fn != nil {
			if err := fn(idx, e); err != nil {
				return nil, fmt.Errorf("entry %d (%s): %w", idx, path, err)
			}
		}
		leaves[i] = rfc6962.DefaultHasher.HashLeaf(e)
	}
	return leaves, nil
}

// tileBuilder recomputes the tiles of a tree from its leaf hashes, in
// order, and compares each with the stored one.
type tileBuilder struct {
	src      Source
	size     uint64
	levels   [][][]byte // hashes of the current, unfinished tile per level
	index    []uint64   // index of that tile per level
	compared int
}

func newTileBuilder(src Source, size uint64) *tileBuilder {
	return &tileBuilder{src: src, size: size}
}

func (t *tileBuilder) addLevel0(ctx context.Context, bi uint64, leaves [][]byte) error {
	if len(leaves) < layout.TileWidth {
		return t.compare(ctx, 0, bi, leaves) // the partial level-0 tile
	}
	return t.full(ctx, 0, bi, leaves)
}

// full compares a full tile at level and carries its root one level up.
func (t *tileBuilder) full(ctx context.Context, level, index uint64, hashes [][]byte) error {
	if err := t.compare(ctx, level, index, hashes); err != nil {
		return err
	}
	root := subtreeRoot(hashes)
	up := level + 1
	for uint64(len(t.levels)) <= up {
		t.levels = append(t.levels, nil)
		t.index = append(t.index, 0)
	}
	if len(t.levels[up]) == 0 {
		t.index[up] = index / layout.TileWidth
	}
	t.levels[up] = append(t.levels[up], root)
	if len(t.levels[up]) == layout.TileWidth {
		h := t.levels[up]
		t.levels[up] = nil
		return t.full(ctx, up, t.index[up], h)
	}
	return nil
}

// finish compares the partial tiles above level 0.
func (t *tileBuilder) finish(ctx context.Context) error {
	for l := 1; l < len(t.levels); l++ {
		if len(t.levels[l]) > 0 {
			if err := t.compare(ctx, uint64(l), t.index[l], t.levels[l]); err != nil {
				return err
			}
		}
	}
	return nil
}

func (t *tileBuilder) compare(ctx context.Context, level, index uint64, hashes [][]byte) error {
	w := uint8(len(hashes) % layout.TileWidth)
	if want := layout.PartialTileSize(level, index, t.size); want != w {
		return fmt.Errorf("tile %s: logic error: %d hashes for width %d", layout.TilePath(level, index, want), len(hashes), want)
	}
	path := layout.TilePath(level, index, w)
	got, err := t.src.ReadTile(ctx, level, index, w)
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	want := bytes.Join(hashes, nil)
	if !bytes.Equal(got, want) {
		return fmt.Errorf("%s differs from the tile recomputed from the entries: %w", path, ErrTampered)
	}
	t.compared++
	return nil
}

// subtreeRoot is the Merkle tree hash over 256 node hashes (a full tile).
func subtreeRoot(hs [][]byte) []byte {
	cur := hs
	for len(cur) > 1 {
		next := make([][]byte, len(cur)/2)
		for i := range next {
			next[i] = rfc6962.DefaultHasher.HashChildren(cur[2*i], cur[2*i+1])
		}
		cur = next
	}
	return cur[0]
}
