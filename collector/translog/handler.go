package translog

import (
	"bytes"
	"errors"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Handler serves the log folder dir read-only, exactly as tlog-tiles names
// its files: "checkpoint" (text/plain; charset=utf-8, not cached), and
// "tile/<L>/<N>[.p/<W>]", "tile/entries/<N>[.p/<W>]"
// (application/octet-stream, immutable, cached for a year), plus the
// checkpoint time-stamps ([TimestampDir]: "timestamp/<N>.tsr",
// application/timestamp-reply, and "timestamp/<N>.checkpoint", both
// immutable; "timestamp/latest", not cached) if there are any.
// Mount it with http.StripPrefix so that request paths are relative to the
// log's prefix. Any other name (Tessera's .state folder, temporary files) is
// 404; methods other than GET and HEAD are 405.
func Handler(dir string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed: the log is read-only", http.StatusMethodNotAllowed)
			return
		}
		name := strings.TrimPrefix(r.URL.Path, "/")
		ctype, cache := "application/octet-stream", "public, max-age=31536000, immutable"
		if tsType, tsCache, ok := timestampResource(name); ok {
			ctype, cache = tsType, tsCache
		} else {
			res, err := ParsePath(name)
			if err != nil {
				http.NotFound(w, r)
				return
			}
			if res.Kind == KindCheckpoint {
				ctype, cache = "text/plain; charset=utf-8", "no-cache"
			}
		}
		b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(name)))
		if errors.Is(err, fs.ErrNotExist) {
			http.NotFound(w, r)
			return
		}
		if err != nil {
			http.Error(w, "cannot read the log", http.StatusInternalServerError)
			return
		}
		h := w.Header()
		h.Set("Content-Type", ctype)
		h.Set("Cache-Control", cache)
		h.Set("Access-Control-Allow-Origin", "*")
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(b))
	})
}

// timestampResource says whether name is one of the time-stamp files and
// how it is served.
func timestampResource(name string) (ctype, cache string, ok bool) {
	if name == TimestampLatest {
		return "text/plain; charset=utf-8", "no-cache", true
	}
	rest, ok := strings.CutPrefix(name, TimestampDir+"/")
	if !ok {
		return "", "", false
	}
	for ext, ct := range map[string]string{".tsr": "application/timestamp-reply", ".checkpoint": "text/plain; charset=utf-8"} {
		if n, ok := strings.CutSuffix(rest, ext); ok {
			if _, err := ParseLatest([]byte(n + "\n")); err == nil {
				return ct, "public, max-age=31536000, immutable", true
			}
		}
	}
	return "", "", false
}
