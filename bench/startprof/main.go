// Command startprof opens a collector on a data folder (as collect does,
// without listening) and writes a CPU and a heap profile of the start:
// where bench/startmem.sh's time and memory go.
//
//	go run ./bench/startprof -config config.toml -data DIR -cpu cpu.out -heap heap.out
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"time"

	"github.com/chatconsent/chatconsent/collector"
	"github.com/chatconsent/chatconsent/internal/config"
)

func main() {
	cfgPath := flag.String("config", "config.toml", "site configuration `file`")
	data := flag.String("data", "", "data `folder`")
	cpu := flag.String("cpu", "", "CPU profile `file`")
	heap := flag.String("heap", "", "heap profile `file` (after start, after a GC)")
	flag.Parse()
	debug.SetGCPercent(50)
	cfg, err := config.Load(*cfgPath)
	if err != nil {
		log.Fatal(err)
	}
	if *cpu != "" {
		f, err := os.Create(*cpu)
		if err != nil {
			log.Fatal(err)
		}
		pprof.StartCPUProfile(f)
	}
	t0 := time.Now()
	s, info, err := collector.Open(cfg, collector.Setup{DataDir: *data})
	if err != nil {
		log.Fatal(err)
	}
	el := time.Since(t0)
	if *cpu != "" {
		pprof.StopCPUProfile()
	}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fmt.Printf("open: %v, records %d, trusted %d; heap in use after GC %.1f MiB, sys %.1f MiB\n", el, info.Records, info.Trusted, float64(ms.HeapInuse)/(1<<20), float64(ms.Sys)/(1<<20))
	if *heap != "" {
		f, err := os.Create(*heap)
		if err != nil {
			log.Fatal(err)
		}
		pprof.WriteHeapProfile(f)
		f.Close()
	}
	s.Close()
}
