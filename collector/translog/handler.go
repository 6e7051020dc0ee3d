package translog

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
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
	return serve(func(_ *http.Request, name string, _ Resource) ([]byte, error) {
		return os.ReadFile(filepath.Join(dir, filepath.FromSlash(name)))
	})
}

// SourceHandler serves a log through its [Source] as [Handler] serves a
// folder (used for a log in a bucket: [Log.Source] with [AWSOptions]).
// There is no time-stamp token: "checkpoint.tsr" is 404. A resource the
// storage does not have is 404; a storage that does not answer is 503.
func SourceHandler(src Source) http.Handler {
	return serve(func(r *http.Request, name string, res Resource) ([]byte, error) {
		var b []byte
		var err error
		switch res.Kind {
		case KindCheckpoint:
			b, err = src.ReadCheckpoint(r.Context())
		case KindTile:
			b, err = src.ReadTile(r.Context(), res.Level, res.Index, res.Width)
		case KindEntries:
			b, err = src.ReadEntryBundle(r.Context(), res.Index, res.Width)
		default:
			return nil, fs.ErrNotExist
		}
		var nsk *s3types.NoSuchKey
		if errors.As(err, &nsk) || errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%s: %w", name, fs.ErrNotExist)
		}
		if err != nil {
			return nil, errUnavailable
		}
		return b, nil
	})
}

var errUnavailable = errors.New("log storage unavailable")

func serve(read func(r *http.Request, name string, res Resource) ([]byte, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed: the log is read-only", http.StatusMethodNotAllowed)
			return
		}
		name := strings.TrimPrefix(r.URL.Path, "/")
		ctype, cache := "application/octet-stream", "public, max-age=31536000, immutable"
		var res Resource
		if tsType, tsCache, ok := timestampResource(name); ok {
			ctype, cache = tsType, tsCache
		} else {
			var err error
			res, err = ParsePath(name)
			if err != nil {
				http.NotFound(w, r)
				return
			}
			if res.Kind == KindCheckpoint {
				ctype, cache = "text/plain; charset=utf-8", "no-cache"
			}
		}
		b, err := read(r, name, res)
		if errors.Is(err, fs.ErrNotExist) {
			http.NotFound(w, r)
			return
		}
		if errors.Is(err, errUnavailable) {
			http.Error(w, "the log's storage does not answer; try again shortly", http.StatusServiceUnavailable)
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
