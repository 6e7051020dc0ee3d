package records

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"testing/iotest"
	"time"

	"github.com/chatconsent/chatconsent/collector/ledger"
	"github.com/chatconsent/chatconsent/internal/binform"
)

// randomIndex folds a random history (decisions, withdrawals, invites,
// erasures, non-canonical ids, more than 64 purposes) and returns the
// index and the ids it holds.
func randomIndex(t testing.TB, seed uint64) (*Index, []string, []string) {
	rng := rand.New(rand.NewPCG(seed, 7))
	phones := []string{"+491701234567", "+48512345678", "+4915112345678", "0170 1234567", "+4917012345670"}
	var pids []string
	pids = append(pids, purposes...)
	for i := range 70 {
		pids = append(pids, fmt.Sprintf("old-%02d", i))
	}
	x := NewIndex(purposes)
	if seed%3 == 0 { // every third: its decisions in a spill file from the start
		if err := x.spillTo(t.TempDir(), 1); err != nil {
			t.Fatal(err)
		}
	}
	// Odd seeds: version-2 decisions, whose names the index reads from
	// the private store.
	store := testOpener{}
	if seed%2 == 1 {
		x.UseOpener(store)
	}
	var decisions, withdrawals []string
	for n := range 300 {
		rec := ledger.Record{ID: fmt.Sprintf("%032x", seed*1000+uint64(n)), Time: t0.Add(time.Duration(n)*time.Second + time.Duration(n)), Lang: "de", TextVersion: v1}
		if n%17 == 0 {
			rec.ID = fmt.Sprintf("other-%d", n) // not canonical: kept whole
		}
		switch k := rng.IntN(10); {
		case k == 0:
			rec.Type, rec.Subject = ledger.TypeInvite, &ledger.Subject{Phone: phones[0]}
		case k == 1 && len(decisions) > 0:
			rec.Type, rec.Erased = ledger.TypeErasure, []string{decisions[rng.IntN(len(decisions))]}
		case k < 5 && len(decisions) > 0:
			rec.Type, rec.Decision, rec.Ref = ledger.TypeWithdrawal, ledger.Withdrawn, decisions[rng.IntN(len(decisions))]
			rec.Purposes = []string{pids[rng.IntN(len(pids))]}
			withdrawals = append(withdrawals, rec.ID)
		default:
			rec.Type, rec.Decision = ledger.TypeDecision, ledger.Granted
			if rng.IntN(4) == 0 {
				rec.Decision = ledger.Refused
			}
			for _, p := range pids {
				if rng.IntN(20) == 0 {
					rec.Purposes = append(rec.Purposes, p)
				}
			}
			rec.Subject = &ledger.Subject{Name: "Jürgen", Email: "j@example.org", Phone: phones[rng.IntN(len(phones))]}
			if rng.IntN(5) == 0 {
				rec.Lang, rec.TextVersion = "en", v2
			}
			if rng.IntN(6) == 0 {
				rec.Invite = fmt.Sprintf("inv-%d", n)
			}
			if x.open != nil {
				store.seal(t, &rec)
			}
			decisions = append(decisions, rec.ID)
		}
		if err := x.Add(&rec, nil); err != nil {
			t.Fatal(err)
		}
	}
	return x, decisions, withdrawals
}

// TestIndexBinaryRoundTrip: an index decoded from its binary form answers
// every question as the original does, and encodes to the same bytes.
func TestIndexBinaryRoundTrip(t *testing.T) {
	t.Parallel()
	for seed := range uint64(5) {
		x, decisions, withdrawals := randomIndex(t, seed)
		b, err := x.AppendBinary(nil)
		if err != nil {
			t.Fatal(err)
		}
		y, err := DecodeIndex(b)
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		y.UseOpener(x.open)
		// Read as a stream (one byte per Read), it is the same index.
		z, err := ReadIndex(iotest.OneByteReader(bytes.NewReader(b)), int64(len(b)), t.TempDir())
		if err != nil {
			t.Fatalf("seed %d: ReadIndex: %v", seed, err)
		}
		if bz, _ := z.AppendBinary(nil); !bytes.Equal(bz, b) {
			t.Fatalf("seed %d: ReadIndex gives another index than DecodeIndex", seed)
		}
		// Written as a stream, the same bytes.
		var out bytes.Buffer
		if err := x.WriteBinary(&out); err != nil || !bytes.Equal(out.Bytes(), b) {
			t.Fatalf("seed %d: WriteBinary (%v) differs from AppendBinary", seed, err)
		}
		// Spilled with every row in the file, the same index.
		sp, err := decodeIndex(binform.NewReader(b, errIndexFormat), t.TempDir(), 1)
		if err != nil || !sp.vals.Spilled() {
			t.Fatalf("seed %d: decode spilled: %v", seed, err)
		}
		if bs, _ := sp.AppendBinary(nil); !bytes.Equal(bs, b) {
			t.Fatalf("seed %d: a spilled index encodes to other bytes", seed)
		}
		if x.open != nil && len(x.named) >= x.compact.Len()/2 {
			t.Fatalf("seed %d: %d of %d sealed decisions kept whole", seed, len(x.named), x.compact.Len())
		}
		b2, err := y.AppendBinary(nil)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(b, b2) {
			t.Fatalf("seed %d: decoded index encodes to other bytes", seed)
		}
		for _, id := range decisions {
			got, want := y.Decision(id), x.Decision(id)
			if g, w := jsonOf(t, got), jsonOf(t, want); g != w {
				t.Fatalf("seed %d: Decision(%s) = %+v, want %+v", seed, id, got, want)
			}
			if got, want := y.Withdrawable(id), x.Withdrawable(id); !slices.Equal(got, want) {
				t.Fatalf("seed %d: Withdrawable(%s) = %v, want %v", seed, id, got, want)
			}
		}
		for _, id := range withdrawals {
			g, gok := y.WithdrawalRef(id)
			w, wok := x.WithdrawalRef(id)
			if g != w || gok != wok {
				t.Fatalf("seed %d: WithdrawalRef(%s) = %q %v, want %q %v", seed, id, g, gok, w, wok)
			}
		}
		for n := range 300 {
			inv := fmt.Sprintf("inv-%d", n)
			g, gok := y.InviteUsed(inv)
			w, wok := x.InviteUsed(inv)
			if g != w || gok != wok {
				t.Fatalf("seed %d: InviteUsed(%s) = %q, want %q", seed, inv, g, w)
			}
		}
		// Both go on folding the same way.
		rec := ledger.Record{Type: ledger.TypeDecision, ID: fmt.Sprintf("%032x", 999999), Time: t0, Decision: ledger.Granted, Purposes: []string{"orders", "old-69"}, Subject: &ledger.Subject{Phone: "+491701234567"}, Lang: "de", TextVersion: v3}
		x.Add(&rec, nil)
		y.Add(&rec, nil)
		if got, want := y.Withdrawable(rec.ID), x.Withdrawable(rec.ID); !slices.Equal(got, want) || len(want) == 0 {
			t.Fatalf("seed %d: after a new decision Withdrawable = %v, want %v", seed, got, want)
		}
	}
}

// TestDecodeIndexTruncated: cuts of a valid form are an error (every
// 61st and the last 200; all of them take seconds).
func TestDecodeIndexTruncated(t *testing.T) {
	t.Parallel()
	x, _, _ := randomIndex(t, 1)
	b, err := x.AppendBinary(nil)
	if err != nil {
		t.Fatal(err)
	}
	for n := 0; n < len(b); n++ {
		if n%61 != 0 && n < len(b)-200 {
			continue
		}
		if _, err := DecodeIndex(b[:n]); err == nil {
			t.Fatalf("%d of %d bytes decoded", n, len(b))
		}
	}
	if _, err := DecodeIndex(append(b, 0)); err == nil {
		t.Fatal("a trailing byte decoded")
	}
}

func FuzzDecodeIndex(f *testing.F) {
	x, _, _ := randomIndex(f, 2)
	b, err := x.AppendBinary(nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte{1})
	e, _ := NewIndex(purposes).AppendBinary(nil)
	f.Add(e)
	f.Fuzz(func(t *testing.T, b []byte) {
		x, err := DecodeIndex(b)
		if err != nil {
			return
		}
		// What decodes encodes to a form that decodes and encodes to
		// itself (varints have more than one form), and answers without
		// panicking.
		b2, err := x.AppendBinary(nil)
		if err != nil {
			t.Fatal(err)
		}
		y, err := DecodeIndex(b2)
		if err != nil {
			t.Fatalf("re-encoded form does not decode: %v", err)
		}
		if b3, _ := y.AppendBinary(nil); !bytes.Equal(b2, b3) {
			t.Fatalf("re-encoded form %x encodes to %x", b2, b3)
		}
		for k := range x.compact.All() {
			x.Withdrawable(fmt.Sprintf("%x", k))
		}
	})
}

func jsonOf(t testing.TB, v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestIndexSpillFailure: when the spill file cannot be read (here: its
// rows gone), a lookup answers "no such decision", Err says why, and the
// index's form is not written (no snapshot of a wrong index).
func TestIndexSpillFailure(t *testing.T) {
	x := NewIndex(purposes)
	if err := x.spillTo(t.TempDir(), 1); err != nil {
		t.Fatal(err)
	}
	for _, r := range history() {
		if err := x.Add(&r, nil); err != nil {
			t.Fatal(err)
		}
	}
	if x.Decision(id(1)) == nil || x.Err() != nil {
		t.Fatalf("before: %v, %v", x.Decision(id(1)), x.Err())
	}
	x.vals.Close() // as if the disk failed under it
	if d := x.Decision(id(1)); d != nil {
		t.Errorf("a decision from a failed spill file: %+v", d)
	}
	if x.Err() == nil {
		t.Error("Err is nil after a failed read")
	}
	if _, err := x.AppendBinary(nil); err == nil {
		t.Error("AppendBinary of an index whose rows cannot be read: no error")
	}
}
