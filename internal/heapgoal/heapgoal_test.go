package heapgoal

import (
	"context"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"testing"
	"time"
)

func TestPercent(t *testing.T) {
	const mib = 1 << 20
	for _, c := range []struct {
		live, headroom uint64
		want           int
	}{
		{0, 16 * mib, 50},        // nothing measured yet
		{8 * mib, 16 * mib, 50},  // a small shop: GOGC's 50 is less than 16 MiB
		{32 * mib, 16 * mib, 50}, // exactly 50 %
		{64 * mib, 16 * mib, 25},
		{70 * mib, 16 * mib, 22}, // 500,000 people (bench/README.md)
		{160 * mib, 16 * mib, 10},
		{1 << 40, 16 * mib, 10}, // never below low
	} {
		if got := Percent(c.live, c.headroom, 10, 50); got != c.want {
			t.Errorf("Percent(%d MiB, %d MiB, 10, 50) = %d, want %d", c.live/mib, c.headroom/mib, got, c.want)
		}
	}
}

// TestKeep holds live data of 64 MiB: Keep must set 25 % for 16 MiB of
// headroom, follow the live heap when it shrinks, and stop following it
// when its context ends.
func TestKeep(t *testing.T) {
	before := debug.SetGCPercent(100)
	defer debug.SetGCPercent(before)
	live := make([]byte, 64<<20)
	for i := range live {
		live[i] = byte(i)
	}
	runtime.GC()
	ctx, cancel := context.WithCancel(context.Background())
	Keep(ctx, 16<<20, 10, 50, 10*time.Millisecond)
	if p := current(); p < 20 || p > 25 { // the rest of the test binary's heap counts too
		t.Fatalf("with 64 MiB live, GC percent %d, want 20–25", p)
	}
	runtime.KeepAlive(live) // garbage from here on
	runtime.GC()
	waitFor(t, func() bool { return current() == 50 }, "50 once the 64 MiB are garbage")
	cancel()
	time.Sleep(50 * time.Millisecond) // the goroutine's last tick
	debug.SetGCPercent(77)
	time.Sleep(50 * time.Millisecond)
	if p := current(); p != 77 {
		t.Fatalf("GC percent %d after the context ended, want 77 (set by the test, not changed back)", p)
	}
}

// current reads the GC percentage without changing it.
func current() int {
	s := []metrics.Sample{{Name: "/gc/gogc:percent"}}
	metrics.Read(s)
	return int(s[0].Value.Uint64())
}

func waitFor(t *testing.T, ok func() bool, what string) {
	t.Helper()
	for range 500 {
		if ok() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("GC percent %d, want %s", current(), what)
}
