// Command disk measures the raw limit of a disk for an append-only log:
// how many write+fdatasync(2) rounds of one ~300-byte line per second it
// sustains, one after another (no batching). It is the physical ceiling of
// a one-fsync-per-decision log and the yardstick for group commit.
//
//	go run ./bench/disk [-dir DIR] [-seconds 5] [-line 300]
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"syscall"
	"time"
)

func main() {
	dir := flag.String("dir", os.TempDir(), "folder on the disk to measure")
	seconds := flag.Float64("seconds", 5, "how long to measure")
	size := flag.Int("line", 300, "bytes per line, newline included")
	flag.Parse()
	if err := run(*dir, time.Duration(*seconds*float64(time.Second)), *size); err != nil {
		fmt.Fprintf(os.Stderr, "disk: error: %v\n", err)
		os.Exit(1)
	}
}

func run(dir string, d time.Duration, size int) error {
	f, err := os.CreateTemp(dir, "fsync-bench-*.jsonl")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	line := append(bytes.Repeat([]byte("x"), size-1), '\n')
	var lat []time.Duration
	start := time.Now()
	for time.Since(start) < d {
		t := time.Now()
		if _, err := f.Write(line); err != nil {
			return err
		}
		if err := syscall.Fdatasync(int(f.Fd())); err != nil {
			return err
		}
		lat = append(lat, time.Since(t))
	}
	el := time.Since(start)
	slices.Sort(lat)
	// The slowest and how many took over 10 ms: a disk that stalls now
	// and then stalls a group commit, every client's request at once.
	slow := len(lat) - sort.Search(len(lat), func(i int) bool { return lat[i] > 10*time.Millisecond })
	fmt.Printf("disk %s: %d write+fdatasync of %d bytes in %.1f s: %.0f/s, p50 %.2f ms, p99 %.2f ms, max %.1f ms, %d over 10 ms\n",
		filepath.Clean(dir), len(lat), size, el.Seconds(), float64(len(lat))/el.Seconds(),
		ms(lat[len(lat)/2]), ms(lat[len(lat)*99/100]), ms(lat[len(lat)-1]), slow)
	return nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
