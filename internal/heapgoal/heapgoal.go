// Package heapgoal bounds how far the Go heap may grow above its live data,
// in bytes rather than as a fraction of it.
//
// GOGC's percentage is right for a small heap and wrong for a large one: a
// collector holding 500,000 people keeps about 70 MiB live, and GOGC=50 lets
// any burst of garbage (listing DATA/receipts at start, receipts under load)
// take the heap to 105 MiB before a collection (bench/README.md, "Start-up
// memory"). Its live data is mostly pointer-free slices, so a collection
// costs little; a fixed headroom in bytes keeps its memory near its live
// data. Go's soft memory limit (debug.SetMemoryLimit) would need a number
// chosen in advance and makes the collector run without pause once the live
// data nears it; a percentage derived from the live heap does neither.
package heapgoal

import (
	"context"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// Percent returns the GOGC percentage that lets a heap of live bytes grow by
// at most headroom bytes before the next collection, clamped to
// [low, high]: high for a small heap, where headroom is more than high per
// cent of it, low so a very large heap is never collected all the time.
// live 0 gives high.
func Percent(live, headroom uint64, low, high int) int {
	if live == 0 {
		return high
	}
	p := headroom * 100 / live
	switch {
	case p >= uint64(high):
		return high
	case p <= uint64(low):
		return low
	}
	return int(p)
}

// liveMetric is the heap the last collection marked live, in bytes.
const liveMetric = "/gc/heap/live:bytes"

// Keep sets the GC percentage from the live heap (Percent of headroom bytes,
// low, high) now and again every interval until ctx is done; the last one
// set stays. It returns at once; the work is one goroutine reading one
// runtime metric (well under a microsecond) and calling
// debug.SetGCPercent only when the percentage changes. An interval well
// below a second lets it follow a start-up that loads tens of megabytes.
func Keep(ctx context.Context, headroom uint64, low, high int, every time.Duration) {
	sample := []metrics.Sample{{Name: liveMetric}}
	set := -1
	adjust := func() {
		metrics.Read(sample)
		if sample[0].Value.Kind() != metrics.KindUint64 {
			return // a runtime without the metric: GOGC as it is
		}
		if p := Percent(sample[0].Value.Uint64(), headroom, low, high); p != set {
			debug.SetGCPercent(p)
			set = p
		}
	}
	adjust()
	go func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				adjust()
			}
		}
	}()
}
