package private

import (
	"fmt"
	"os"
	"testing"

	"github.com/chatconsent/chatconsent/collector/ledger"
)

// BenchmarkSealAndPut measures what format version 2 adds per decision:
// the commitments (ledger.Seal: 3 salts and SHA-256s) and the private
// store's encryption and append, in batches of 64 (group commit), fsync
// off (Sync replaced), each decision a new person (a new key): the worst
// case.
func BenchmarkSealAndPut(b *testing.B) {
	s, err := Open(b.TempDir(), Options{Sync: func(*os.File) error { return nil }})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		batch := make([]ledger.Entry, 64)
		for i := range batch {
			n++
			rec := ledger.Record{Type: ledger.TypeDecision, ID: fmt.Sprintf("%032x", n), Decision: ledger.Granted,
				Subject: &ledger.Subject{Name: "Jürgen Weiß", Phone: fmt.Sprintf("+4917%09d", n), Email: "juergen@example.org"}}
			sealed, ds, err := ledger.Seal(rec)
			if err != nil {
				b.Fatal(err)
			}
			rec.SD = sealed.SD
			batch[i] = ledger.Entry{Record: rec, Disclosures: ds}
		}
		if err := s.Put(batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/decision")
}

// BenchmarkEraseDue measures retention's erasure of 100 people due in a
// store of 50,000 (fsync on): one at a time ([Store.Erase], what
// retention did before) against all in one pass ([Store.EraseAll]). Each
// iteration erases 100 people not yet erased.
func BenchmarkEraseDue(b *testing.B) {
	const people, due = 50_000, 100
	for _, mode := range []string{"one-at-a-time", "together"} {
		b.Run(mode, func(b *testing.B) {
			s, err := Open(b.TempDir(), Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			for n := 0; n < people; n += 1000 {
				batch := make([]ledger.Entry, 1000)
				for i := range batch {
					batch[i] = entry(b, id(n+i+1), "Jürgen Weiß", fmt.Sprintf("+4917%09d", n+i+1))
				}
				if err := s.Put(batch); err != nil {
					b.Fatal(err)
				}
			}
			next := 0
			for b.Loop() {
				var es []Erasure
				for range due {
					next++
					if next > people {
						b.Fatal("more iterations than people")
					}
					es = append(es, Erasure{ID: id(10_000_000 + next), Records: []string{id(next)}})
				}
				if mode == "together" {
					if _, err := s.EraseAll(es); err != nil {
						b.Fatal(err)
					}
					continue
				}
				for _, e := range es {
					if _, err := s.Erase(e.Records, e.ID); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/100-people")
		})
	}
}
