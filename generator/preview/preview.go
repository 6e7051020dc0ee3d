// Package preview serves a site built in memory by a [generator.Builder],
// for "chatconsent serve": the owner edits, saves, and the open page reloads
// itself.
//
// # Live reload
//
// Every HTML page gets a small inline script, injected here and nowhere
// else (never in "chatconsent build" output), that listens to server-sent
// events on [EventsPath] (the WHATWG HTML standard's EventSource) and
// reloads the page when the build generation differs from the one the page
// was served with. The script is allowed by a Content-Security-Policy hash
// for that exact script; everything else keeps the collector's strict
// policy.
//
// # Broken builds
//
// [Server.Fail] keeps serving the last good build, with the error (which
// names file:line) shown in a banner at the top of every page; the next
// [Server.Update] removes it. Both reload the open pages.
package preview

import (
	"context"
	"fmt"
	"html/template"
	"mime"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/chatconsent/chatconsent/generator"
	"github.com/chatconsent/chatconsent/internal/httpsec"
	"github.com/chatconsent/chatconsent/internal/textarchive"
)

// EventsPath is the server-sent events stream the reload script listens to.
const EventsPath = "/_chatconsent/events"

// Server is an http.Handler for a site in memory. Safe for concurrent use.
type Server struct {
	ctx        context.Context
	basePath   string
	archiveDir string

	mu      sync.RWMutex
	site    *generator.Site // last good build; nil before the first
	err     error           // last build's error; nil if it succeeded
	gen     uint64          // bumped by every Update and Fail
	changed chan struct{}   // closed and replaced on every Update and Fail
}

// New returns a server for a site whose pages live below basePath (the
// path of site.base_url, "/" usually) and whose text archive is archiveDir
// (served under basePath + "archive/"). Event streams end when ctx ends, so
// that an http.Server can shut down.
func New(ctx context.Context, basePath, archiveDir string) *Server {
	if !strings.HasSuffix(basePath, "/") {
		basePath += "/"
	}
	return &Server{ctx: ctx, basePath: basePath, archiveDir: archiveDir, changed: make(chan struct{})}
}

// Update makes site the one served and reloads open pages.
func (s *Server) Update(site *generator.Site) {
	s.mu.Lock()
	s.site, s.err = site, nil
	s.bump()
	s.mu.Unlock()
}

// Fail records a failed build: pages keep coming from the last good build,
// with err shown on them, and open pages reload to show it.
func (s *Server) Fail(err error) {
	s.mu.Lock()
	s.err = err
	s.bump()
	s.mu.Unlock()
}

func (s *Server) bump() {
	s.gen++
	close(s.changed)
	s.changed = make(chan struct{})
}

// ServeHTTP serves the events stream, the archive and the site's files,
// with the collector's security headers ([httpsec.Handler]); a page's CSP
// also allows its reload script by hash.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	httpsec.Handler(http.HandlerFunc(s.serve)).ServeHTTP(w, r)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == EventsPath {
		s.events(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	rel, ok := strings.CutPrefix(r.URL.Path, s.basePath)
	if !ok {
		rel = strings.TrimPrefix(r.URL.Path, "/")
	}
	if name, ok := strings.CutPrefix(rel, "archive/"); ok {
		s.archive(w, r, name)
		return
	}
	s.mu.RLock()
	site, buildErr, gen := s.site, s.err, s.gen
	s.mu.RUnlock()
	if site == nil {
		s.page(w, http.StatusInternalServerError, []byte("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>chatconsent serve</title></head><body></body></html>"), buildErr, gen)
		return
	}
	name := path.Clean("/" + rel)[1:]
	if name == "" || strings.HasSuffix(rel, "/") {
		name = path.Join(name, "index.html")
	}
	b, ok := site.Files[name]
	if !ok {
		if _, dir := site.Files[path.Join(name, "index.html")]; dir {
			http.Redirect(w, r, r.URL.Path+"/", http.StatusMovedPermanently)
			return
		}
		s.page(w, http.StatusNotFound, site.Files[generator.NotFoundFile], buildErr, gen)
		return
	}
	if strings.HasSuffix(name, ".html") {
		s.page(w, http.StatusOK, b, buildErr, gen)
		return
	}
	ct := mime.TypeByExtension(path.Ext(name))
	if ct == "" {
		ct = "application/octet-stream"
	}
	w.Header().Set("Content-Type", ct)
	w.Write(b)
}

// page writes an HTML page with the reload script and, after a failed
// build, the error banner.
func (s *Server) page(w http.ResponseWriter, status int, b []byte, buildErr error, gen uint64) {
	script := Script(gen)
	w.Header().Set("Content-Security-Policy", httpsec.CSPWithScript(script))
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	doc := string(b)
	if buildErr != nil {
		doc = insertAfterBody(doc, Banner(buildErr))
		if status == http.StatusOK {
			status = http.StatusInternalServerError
		}
	}
	if i := strings.LastIndex(doc, "</body>"); i >= 0 {
		doc = doc[:i] + "<script>" + script + "</script>\n" + doc[i:]
	} else {
		doc += "<script>" + script + "</script>\n"
	}
	w.WriteHeader(status)
	w.Write([]byte(doc))
}

func insertAfterBody(doc, s string) string {
	i := strings.Index(doc, "<body")
	if i < 0 {
		return s + doc
	}
	j := strings.IndexByte(doc[i:], '>')
	if j < 0 {
		return s + doc
	}
	k := i + j + 1
	return doc[:k] + "\n" + s + doc[k:]
}

// Script is the live-reload script for a page served at build generation
// gen: it reloads when the server announces another generation.
func Script(gen uint64) string {
	return `(function(){var g="` + strconv.FormatUint(gen, 10) + `";new EventSource("` + EventsPath + `").onmessage=function(e){if(e.data!==g)location.reload()}})();`
}

// bannerTpl is the error box shown on pages after a failed build; the
// error text is escaped by html/template.
var bannerTpl = template.Must(template.New("banner").Parse(`<div role="alert" id="chatconsent-build-error" style="position:sticky;top:0;z-index:9;margin:0 0 1rem;padding:.75rem 1rem;background:#fff0f0;border:3px solid #a4161a;color:#1a1a1a;font:14px/1.4 system-ui,sans-serif">` +
	`<strong>chatconsent serve: the last build failed.</strong> Showing the last good build. Fix the file and save; this page reloads by itself.` +
	`<pre style="white-space:pre-wrap;overflow-wrap:anywhere;margin:.5rem 0 0;font:13px/1.4 ui-monospace,monospace">{{.}}</pre></div>`))

// Banner is the error box shown on pages after a failed build, with err's
// text.
func Banner(err error) string {
	var b strings.Builder
	_ = bannerTpl.Execute(&b, err.Error()) // a fixed template into a strings.Builder cannot fail
	return b.String()
}

// events streams the build generation: once on connect, then on every
// Update and Fail.
func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	rc := http.NewResponseController(w)
	// The collector's http.Server has a write timeout; a stream lives longer.
	rc.SetWriteDeadline(time.Time{})
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	ping := time.NewTicker(25 * time.Second)
	defer ping.Stop()
	for {
		s.mu.RLock()
		gen, changed := s.gen, s.changed
		s.mu.RUnlock()
		if _, err := fmt.Fprintf(w, "data: %d\n\n", gen); err != nil {
			return
		}
		if rc.Flush() != nil {
			return
		}
		for waiting := true; waiting; {
			select {
			case <-changed:
				waiting = false
			case <-ping.C:
				if _, err := w.Write([]byte(": ping\n\n")); err != nil || rc.Flush() != nil {
					return
				}
			case <-r.Context().Done():
				return
			case <-s.ctx.Done():
				return
			}
		}
	}
}

// archive serves ARCHIVE/VERSION.html and the manifest, nothing else.
func (s *Server) archive(w http.ResponseWriter, r *http.Request, name string) {
	v, ok := strings.CutSuffix(name, ".html")
	if name != textarchive.ManifestFile && (!ok || !textarchive.ValidVersion(v)) {
		http.NotFound(w, r)
		return
	}
	b, err := os.ReadFile(filepath.Join(s.archiveDir, name))
	if err != nil {
		http.NotFound(w, r)
		return
	}
	if name == textarchive.ManifestFile {
		w.Header().Set("Content-Type", "application/json")
	} else {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
	}
	w.Write(b)
}
