package translog

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/transparency-dev/tessera/api/layout"
)

// Kind is the kind of a published log resource.
type Kind int

// The resources tlog-tiles names.
const (
	KindCheckpoint Kind = iota + 1 // "checkpoint"
	KindTile                       // "tile/<L>/<N>[.p/<W>]"
	KindEntries                    // "tile/entries/<N>[.p/<W>]"
)

// Resource is one file of a published log.
type Resource struct {
	Kind  Kind
	Level uint64 // tile level, 0–63 (KindTile only)
	Index uint64 // tile or bundle index N
	Width uint8  // 1–255 for a partial tile or bundle, 0 for a full one
}

// ErrBadPath is wrapped by [ParsePath] for names that are not a tlog-tiles
// resource.
var ErrBadPath = errors.New("not a tlog-tiles resource name")

// Path returns the resource's name relative to the log's prefix, exactly as
// tlog-tiles spells it.
func (r Resource) Path() string {
	switch r.Kind {
	case KindCheckpoint:
		return layout.CheckpointPath
	case KindTile:
		return layout.TilePath(r.Level, r.Index, r.Width)
	case KindEntries:
		return layout.EntriesPath(r.Index, r.Width)
	}
	return ""
}

// ParsePath parses a resource name relative to the log's prefix
// ("checkpoint", "tile/0/x001/067.p/12", "tile/entries/000"). It accepts
// only the canonical spelling: no leading zeros in levels and widths,
// three-digit index elements, "x" on all but the last.
func ParsePath(p string) (Resource, error) {
	bad := func(why string) (Resource, error) {
		return Resource{}, fmt.Errorf("%q: %s: %w", short(p), why, ErrBadPath)
	}
	if p == layout.CheckpointPath {
		return Resource{Kind: KindCheckpoint}, nil
	}
	rest, ok := strings.CutPrefix(p, "tile/")
	if !ok {
		return bad("expected checkpoint or tile/...")
	}
	level, rest, ok := strings.Cut(rest, "/")
	if !ok {
		return bad("expected tile/<L>/<N>")
	}
	r := Resource{Kind: KindTile}
	if level == "entries" {
		r.Kind = KindEntries
	} else {
		l, err := strconv.ParseUint(level, 10, 8)
		if err != nil || l > 63 || strconv.FormatUint(l, 10) != level {
			return bad("tile level must be 0 to 63 without leading zeros")
		}
		r.Level = l
	}
	if n, w, ok := strings.Cut(rest, ".p/"); ok {
		wi, err := strconv.ParseUint(w, 10, 8)
		if err != nil || wi < 1 || wi > 255 || strconv.FormatUint(wi, 10) != w {
			return bad("partial width must be 1 to 255 without leading zeros")
		}
		r.Width = uint8(wi)
		rest = n
	}
	elems := strings.Split(rest, "/")
	var idx uint64
	for i, e := range elems {
		if i < len(elems)-1 {
			var ok bool
			if e, ok = strings.CutPrefix(e, "x"); !ok {
				return bad("index elements but the last must start with x")
			}
		}
		if len(e) != 3 || strings.Trim(e, "0123456789") != "" {
			return bad("index elements must be three digits")
		}
		d, _ := strconv.ParseUint(e, 10, 64)
		if idx > (1<<64-1-d)/1000 {
			return bad("index too large")
		}
		idx = idx*1000 + d
	}
	r.Index = idx
	if r.Path() != p {
		return bad("not the canonical spelling (leading zero elements?)")
	}
	return r, nil
}
