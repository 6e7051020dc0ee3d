package ledger

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/rfc6962"
)

// Trust lets [New] (and [VerifyTrusting]) skip the Ed25519 check of the
// lines a trusted Merkle root already proves: the first Entries
// version-2 lines of the log, whose RFC 6962 tree (leaf = the line's exact
// bytes without "\n", as the transparency log holds them) must have root
// Root. The collector takes both from its own last checkpoint, signed with
// its checkpoint key and verified before (collector/translog), so one
// signature check stands for all of them (issue 13, step 7).
//
// Every line is still read, parsed, numbered and chained, and each line
// after the trusted ones has its signature checked as always: a changed
// line anywhere changes the root or fails its signature. A log with fewer
// version-2 lines than Entries, or whose first Entries hash to another
// root, fails with [ErrUntrusted]: it does not extend its own checkpoint.
type Trust struct {
	Entries uint64
	Root    []byte
}

// ErrUntrusted is wrapped when a log does not extend the checkpoint given
// as [Trust].
var ErrUntrusted = errors.New("the log does not extend its last checkpoint")

// v2LinePrefix starts every version-2 line (the ledger writes "v" first).
var v2LinePrefix = []byte(`{"rec":{"v":2,`)

// trusting is a Verifier whose every signature passes: used only for lines
// a [Trust] root proves.
type trusting struct{ Verifier }

func (trusting) Verify(msg, sig []byte) bool { return true }

// trustState folds the trusted lines into a compact range.
type trustState struct {
	t    *Trust
	v2   uint64 // version-2 lines seen
	cr   *compact.Range
	done bool
}

func newTrustState(t *Trust) *trustState {
	if t == nil {
		return nil
	}
	rf := compact.RangeFactory{Hash: rfc6962.DefaultHasher.HashChildren}
	return &trustState{t: t, cr: rf.NewEmptyRange(0), done: t.Entries == 0}
}

// mark says which of lines are trusted (in order); it advances the count
// of version-2 lines.
func (s *trustState) mark(lines [][]byte) []bool {
	if s == nil {
		return nil
	}
	out := make([]bool, len(lines))
	for i, l := range lines {
		if bytes.HasPrefix(l, v2LinePrefix) {
			if s.v2 < s.t.Entries {
				out[i] = true
			}
			s.v2++
		}
	}
	return out
}

// add folds a trusted line's leaf hash and checks the root once all
// trusted lines are in.
func (s *trustState) add(leaf []byte) error {
	if err := s.cr.Append(leaf, nil); err != nil {
		return err
	}
	if s.cr.End() == s.t.Entries {
		root, err := s.cr.GetRootHash(nil)
		if err != nil {
			return err
		}
		if !bytes.Equal(root, s.t.Root) {
			return fmt.Errorf("%w: its first %d version-2 lines hash to another root than its checkpoint's: a line up to here was changed (run chatconsent verify)", ErrUntrusted, s.t.Entries)
		}
		s.done = true
	}
	return nil
}

// finish fails if the log ended before the trusted lines did.
func (s *trustState) finish() error {
	if s == nil || s.done {
		return nil
	}
	return fmt.Errorf("%w: it has %d version-2 lines, its checkpoint %d: lines were cut from the end", ErrUntrusted, s.cr.End(), s.t.Entries)
}

func leafHash(line []byte) []byte { return rfc6962.DefaultHasher.HashLeaf(line) }
