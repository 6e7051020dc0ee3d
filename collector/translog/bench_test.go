package translog

import (
	"bytes"
	"context"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"
)

// BenchmarkProofLatency feeds 50 entries/s for 10 s with the default
// options and measures, per entry, the time from Feed until its inclusion
// proof in a published checkpoint is ready (what a receipt waits for).
// Run: go test -run XXX -bench ProofLatency -benchtime 1x ./collector/translog/
func BenchmarkProofLatency(b *testing.B) {
	const rate, secs = 50, 10
	for b.Loop() {
		dir := b.TempDir()
		k := testKey(b, dir)
		l, err := Open(context.Background(), Options{Dir: filepath.Join(dir, "log"), Key: k})
		if err != nil {
			b.Fatal(err)
		}
		var mu sync.Mutex
		var lat []time.Duration
		var wg sync.WaitGroup
		tick := time.NewTicker(time.Second / rate)
		for i := uint64(0); i < rate*secs; i++ {
			<-tick.C
			start := time.Now()
			if err := l.Feed(i, entry(i)); err != nil {
				b.Fatal(err)
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				if _, err := l.Prove(ctx, i); err != nil {
					b.Error(err)
					return
				}
				mu.Lock()
				lat = append(lat, time.Since(start))
				mu.Unlock()
			}()
		}
		tick.Stop()
		wg.Wait()
		closeTest(b, l)
		sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
		b.ReportMetric(float64(lat[len(lat)/2].Milliseconds()), "p50-ms")
		b.ReportMetric(float64(lat[len(lat)*99/100].Milliseconds()), "p99-ms")
		b.ReportMetric(float64(lat[len(lat)-1].Milliseconds()), "max-ms")
	}
}

// BenchmarkVerifyLog verifies a log of 100,000 entries of 300 bytes (the
// size of a v2 line) from its folder: bundles, tiles, root; entries/s
// reported. The per-entry signature check of `chatconsent verify` comes on
// top (Ed25519, about 20,000/s per core).
func BenchmarkVerifyLog(b *testing.B) {
	dir := b.TempDir()
	k := testKey(b, dir)
	l := openTest(b, dir, k)
	const n = 100000
	pad := bytes.Repeat([]byte("x"), 240)
	for i := uint64(0); i < n; i++ {
		if err := l.Feed(i, append(entry(i), pad...)); err != nil {
			b.Fatal(err)
		}
	}
	if err := l.Flush(context.Background()); err != nil {
		b.Fatal(err)
	}
	closeTest(b, l)
	src := DirSource(filepath.Join(dir, "log"))
	b.ResetTimer()
	for b.Loop() {
		if _, err := VerifyLog(context.Background(), src, k.Verifier, VerifyOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "entries/s")
}

// BenchmarkAppend measures how many entries/s each storage driver takes:
// one op feeds 1,000 entries of 300 bytes (a v2 line) and waits until
// Tessera has them all (POSIX: integrated into the tree files; AWS:
// sequenced in the database, integrated into the bucket shortly after).
// After the last op it waits (untimed) for a checkpoint covering
// everything, so a run fails if publication breaks. The aws case starts MariaDB
// and gofakes3 on loopback as TestDrivers does (both on this machine: it
// measures the driver's work, not a network).
// Run: go test -run XXX -bench Append -benchtime 20x ./collector/translog/
func BenchmarkAppend(b *testing.B) {
	const per = 1000
	pad := bytes.Repeat([]byte("x"), 240)
	for _, d := range drivers {
		b.Run(d.name, func(b *testing.B) {
			o, _ := d.open(b)
			o.Key = testKey(b, b.TempDir())
			l, err := Open(context.Background(), o)
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			b.ReportAllocs()
			var i uint64
			for b.Loop() {
				for range per {
					if err := l.Feed(i, append(entry(i), pad...)); err != nil {
						b.Fatal(err)
					}
					i++
				}
				if err := l.Flush(ctx); err != nil {
					b.Fatal(err)
				}
			}
			if _, err := l.AwaitCheckpoint(ctx, i-1); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(i)/b.Elapsed().Seconds(), "entries/s")
			closeTest(b, l)
		})
	}
}
