// Command latency measures save-to-rebuilt in "chatconsent serve": it
// starts serve on a site, listens to the live-reload events, saves a
// content file the way editors do (write a temporary file, rename it over
// the target) and times each save until serve announces the rebuilt site.
// Each rebuilt page is then fetched to check that it holds the edit.
//
//	go run ./bench/latency -bin chatconsent -config SITE/config.toml -file SITE/content/de/policy.md -url /de/datenschutz/
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"
)

func main() {
	bin := flag.String("bin", "chatconsent", "the chatconsent binary")
	cfg := flag.String("config", "config.toml", "site configuration")
	file := flag.String("file", "", "content file to edit")
	page := flag.String("url", "/", "path of the page built from -file")
	n := flag.Int("n", 30, "number of saves")
	flag.Parse()
	log.SetFlags(0)

	data, err := os.MkdirTemp("", "latency-data-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(data)
	cmd := exec.Command(*bin, "serve", "--config", *cfg, "--addr", "127.0.0.1:0", "--data", data)
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		log.Fatal(err)
	}
	defer cmd.Process.Kill()
	base := ""
	sc := bufio.NewScanner(stdout)
	re := regexp.MustCompile(`listening on (http://\S+)/`)
	for sc.Scan() {
		if m := re.FindStringSubmatch(sc.Text()); m != nil {
			base = m[1]
			break
		}
	}
	if base == "" {
		log.Fatal("serve did not start")
	}
	go io.Copy(io.Discard, stdout)

	resp, err := http.Get(base + "/_chatconsent/events")
	if err != nil {
		log.Fatal(err)
	}
	events := make(chan string, 64)
	go func() {
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			if d, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				events <- d
			}
		}
	}()
	<-events

	orig, err := os.ReadFile(*file)
	if err != nil {
		log.Fatal(err)
	}
	defer os.WriteFile(*file, orig, 0o644)
	var took []time.Duration
	for i := range *n {
		marker := fmt.Sprintf("Messpunkt %d %d", i, time.Now().UnixNano())
		tmp := filepath.Join(filepath.Dir(*file), "."+filepath.Base(*file)+".tmp")
		if err := os.WriteFile(tmp, append(slices.Clone(orig), "\n\n"+marker+"\n"...), 0o644); err != nil {
			log.Fatal(err)
		}
		for len(events) > 0 { // a late event of the previous save
			<-events
		}
		start := time.Now()
		if err := os.Rename(tmp, *file); err != nil {
			log.Fatal(err)
		}
		select {
		case <-events:
		case <-time.After(10 * time.Second):
			log.Fatal("no rebuild within 10 s")
		}
		took = append(took, time.Since(start))
		r, err := http.Get(base + *page)
		if err != nil {
			log.Fatal(err)
		}
		b, _ := io.ReadAll(r.Body)
		r.Body.Close()
		if !strings.Contains(string(b), marker) {
			log.Fatalf("save %d: %s does not show the edit (status %d)", i, *page, r.StatusCode)
		}
		time.Sleep(150 * time.Millisecond) // let the next save be a batch of its own
	}
	slices.Sort(took)
	q := func(p float64) time.Duration { return took[int(p*float64(len(took)-1))] }
	fmt.Printf("save-to-rebuilt over %d saves: median %s, p90 %s, min %s, max %s\n",
		len(took), q(0.5).Round(100*time.Microsecond), q(0.9).Round(100*time.Microsecond),
		took[0].Round(100*time.Microsecond), took[len(took)-1].Round(100*time.Microsecond))
}
