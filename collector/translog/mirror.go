package translog

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"

	"github.com/transparency-dev/tessera/api/layout"
	"golang.org/x/mod/sumdb/note"
)

// MirrorReport says what [Mirror] did.
type MirrorReport struct {
	Checkpoint *Checkpoint
	Written    int // files written
	Kept       int // full tiles and bundles already there (immutable)
}

// Mirror copies the published log src at its current checkpoint into dir,
// laid out exactly as tlog-tiles names the files, so any static web server
// can serve it. Full tiles and bundles already in dir are kept (they never
// change); the checkpoint is written last, so a reader of dir never sees a
// checkpoint whose tiles are missing. The checkpoint must verify with logV.
// It then verifies the copy ([VerifyLog]) and returns an error if that
// fails.
func Mirror(ctx context.Context, src Source, logV note.Verifier, dir string) (*MirrorReport, error) {
	// The newest time-stamp first (it is of a published checkpoint, so the
	// checkpoint read next is at least as large); copied after the tiles.
	tsSize, tsCP, tsTSR, tsErr := ReadTimestamp(ctx, src)
	if tsErr != nil && !errors.Is(tsErr, fs.ErrNotExist) {
		return nil, fmt.Errorf("time-stamp: %w", tsErr)
	}
	raw, err := src.ReadCheckpoint(ctx)
	if err != nil {
		return nil, fmt.Errorf("read checkpoint: %w", err)
	}
	cp, err := OpenCheckpoint(raw, logV, nil, 0)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("mirror: %w", err)
	}
	if prev, err := os.ReadFile(filepath.Join(dir, layout.CheckpointPath)); err == nil {
		if _, err := openOlder([][]byte{prev}, logV, cp); err != nil {
			return nil, fmt.Errorf("%s holds a checkpoint the log does not extend; not overwriting it: %w", dir, err)
		}
	}
	rep := &MirrorReport{Checkpoint: cp}
	copyRes := func(r Resource, read func() ([]byte, error)) error {
		p := filepath.Join(dir, filepath.FromSlash(r.Path()))
		if r.Width == 0 {
			if _, err := os.Stat(p); err == nil {
				rep.Kept++
				return nil
			}
		}
		b, err := read()
		if err != nil {
			return fmt.Errorf("read %s: %w", r.Path(), err)
		}
		if err := writeFileAtomic(p, b, 0o644); err != nil {
			return err
		}
		rep.Written++
		return nil
	}
	size := cp.Size
	nb := (size + layout.EntryBundleWidth - 1) / layout.EntryBundleWidth
	for bi := uint64(0); bi < nb; bi++ {
		w := layout.PartialTileSize(0, bi, size)
		if err := copyRes(Resource{Kind: KindEntries, Index: bi, Width: w}, func() ([]byte, error) {
			return src.ReadEntryBundle(ctx, bi, w)
		}); err != nil {
			return nil, err
		}
	}
	for _, r := range Tiles(size) {
		if err := copyRes(r, func() ([]byte, error) {
			return src.ReadTile(ctx, r.Level, r.Index, r.Width)
		}); err != nil {
			return nil, err
		}
	}
	if tsErr == nil && tsSize <= size {
		cpName, tsrName := TimestampPaths(tsSize)
		for _, f := range []struct {
			name string
			data []byte
		}{{tsrName, tsTSR}, {cpName, tsCP}, {TimestampLatest, []byte(strconv.FormatUint(tsSize, 10) + "\n")}} {
			if err := writeFileAtomic(filepath.Join(dir, filepath.FromSlash(f.name)), f.data, 0o644); err != nil {
				return nil, err
			}
			rep.Written++
		}
	}
	if _, err := VerifyLog(ctx, stagedSource{DirSource(dir), raw}, logV, VerifyOptions{}); err != nil {
		return nil, fmt.Errorf("the copy in %s does not verify (the checkpoint was not written): %w", dir, err)
	}
	if err := writeFileAtomic(filepath.Join(dir, layout.CheckpointPath), raw, 0o644); err != nil {
		return nil, err
	}
	rep.Written++
	return rep, nil
}

// stagedSource reads a folder but a given checkpoint.
type stagedSource struct {
	Source
	cp []byte
}

func (s stagedSource) ReadCheckpoint(context.Context) ([]byte, error) { return s.cp, nil }

// Tiles lists every tile of a tree of size: all full tiles and the partial
// ones of that size, level by level.
func Tiles(size uint64) []Resource {
	var out []Resource
	for level, n := uint64(0), size; n > 0; level, n = level+1, n/layout.TileWidth {
		full := n / layout.TileWidth
		for i := uint64(0); i < full; i++ {
			out = append(out, Resource{Kind: KindTile, Level: level, Index: i})
		}
		if w := n % layout.TileWidth; w > 0 {
			out = append(out, Resource{Kind: KindTile, Level: level, Index: full, Width: uint8(w)})
		}
	}
	return out
}
