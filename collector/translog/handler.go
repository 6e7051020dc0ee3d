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
// checkpoint's RFC 3161 time-stamp token "checkpoint.tsr" if there is one.
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
		if name == TimestampFile {
			ctype, cache = "application/timestamp-reply", "no-cache"
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

// TimestampFile is the name, beside "checkpoint", of the RFC 3161
// time-stamp token over the checkpoint (if time-stamping is configured).
const TimestampFile = "checkpoint.tsr"
