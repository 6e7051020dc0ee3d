package collector

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/chatconsent/chatconsent/internal/config"
	"github.com/chatconsent/chatconsent/internal/textarchive"
)

// BenchmarkDecide is the whole decision path in process, as bench/load.sh
// drives it over HTTP: a JSON post (a new number each time, as post.lua)
// through the server's handler, validation, sealing, the private store,
// signing, the JSONL group commit with fdatasync and, in "tlog", the
// transparency log fed behind it. 64 goroutines post at once (the load
// test's clients). Besides wall time per decision it reports the process's
// CPU time per decision (cpu-µs/op, user+system from getrusage: what
// bench/load.sh's "collector CPU µs/decision" measures, without net/http's
// connection handling and wrk), which is steadier than wall time on a
// shared machine.
func BenchmarkDecide(b *testing.B) {
	for _, mode := range []struct {
		name   string
		noTlog bool
	}{{"tlog", false}, {"jsonl", true}} {
		b.Run(mode.name, func(b *testing.B) {
			cfg, err := config.Load(filepath.Join("..", "config.toml"))
			if err != nil {
				b.Fatal(err)
			}
			cfg.Collector.RatePerMinute = 0
			arch := filepath.Join("..", "archive")
			m, err := textarchive.ReadManifest(arch)
			if err != nil {
				b.Fatal(err)
			}
			version := ""
			for v, info := range m.Versions {
				if info.Lang == "de" {
					version = v
				}
			}
			srv, _, err := Open(cfg, Setup{DataDir: b.TempDir(), ArchiveDir: arch, NoTlog: mode.noTlog,
				Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
			if err != nil {
				b.Fatal(err)
			}
			defer srv.Close()
			h := srv.Handler()
			var n atomic.Uint64
			var failed atomic.Int64
			b.ReportAllocs()
			b.SetParallelism(32) // 64 goroutines on 2 cores, as load.sh's clients
			before := cpuTime()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := n.Add(1)
					body := fmt.Sprintf(`{"decision":"granted","name":"Jürgen Weiß","phone":"0170 %07d","email":"juergen@example.org","purpose":["orders","documents"],"lang":"de","text_version":%q}`, i%10_000_000, version)
					r := httptest.NewRequest("POST", "/v1/consent", strings.NewReader(body))
					r.RemoteAddr = "192.0.2.7:4711"
					r.Header.Set("Content-Type", ctJSON)
					w := httptest.NewRecorder()
					h.ServeHTTP(w, r)
					if w.Code != http.StatusCreated {
						failed.Add(1)
					}
				}
			})
			b.StopTimer()
			cpu := cpuTime() - before
			if f := failed.Load(); f > 0 {
				b.Fatalf("%d of %d decisions not acknowledged", f, n.Load())
			}
			b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/op")
			recs, syncs := srv.LogStats()
			if syncs > 0 {
				b.ReportMetric(float64(recs)/float64(syncs), "records/fsync")
			}
		})
	}
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestCreatedJSONBytes: the 201 answer is written as it was when it was a
// map (sorted keys, HTML-escaped URL).
func TestCreatedJSONBytes(t *testing.T) {
	t.Parallel()
	for _, dropped := range []bool{false, true} {
		m := map[string]any{"id": "0123456789abcdef0123456789abcdef", "receipt_url": "https://c.example/v1/receipts/x.pdf?e=1&k=a<b>"}
		if dropped {
			m["email_dropped"] = true
		}
		want, _ := json.Marshal(m)
		got, _ := json.Marshal(createdJSON(m["id"].(string), m["receipt_url"].(string), dropped))
		if string(got) != string(want) {
			t.Errorf("created = %s, want %s", got, want)
		}
	}
}
