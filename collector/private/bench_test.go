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
