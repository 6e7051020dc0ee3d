package translog

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/transparency-dev/tessera/client"
)

// Source reads a published log: its folder, a copy of it, or its URL.
// The methods follow Tessera's fetchers; p is a partial width or 0.
type Source interface {
	ReadCheckpoint(ctx context.Context) ([]byte, error)
	ReadTile(ctx context.Context, level, index uint64, p uint8) ([]byte, error)
	ReadEntryBundle(ctx context.Context, index uint64, p uint8) ([]byte, error)
}

// DirSource reads a log folder (the data folder's log/, or a mirror). It
// is a [FileSource].
func DirSource(dir string) Source { return dirSource{client.FileFetcher{Root: dir}} }

type dirSource struct{ client.FileFetcher }

func (d dirSource) ReadFile(_ context.Context, name string) ([]byte, error) {
	if !fs.ValidPath(name) {
		return nil, fmt.Errorf("%q: not a file of the log: %w", short(name), fs.ErrNotExist)
	}
	return os.ReadFile(filepath.Join(d.Root, filepath.FromSlash(name)))
}

// httpSource reads a log's URL; it is a [FileSource].
type httpSource struct {
	*client.HTTPFetcher
	base *url.URL
	hc   *http.Client
}

func (h httpSource) ReadFile(ctx context.Context, name string) ([]byte, error) {
	u, err := h.base.Parse(name)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	resp, err := h.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusNotFound:
		return nil, fmt.Errorf("get %s: %w", u, fs.ErrNotExist)
	default:
		return nil, fmt.Errorf("get %s: %s", u, resp.Status)
	}
	return io.ReadAll(io.LimitReader(resp.Body, 1<<20))
}

// OpenSource opens loc: an http(s) URL of the log's prefix (".../log/"),
// a log folder, or a data folder holding one in "log".
func OpenSource(loc string, hc *http.Client) (Source, error) {
	if strings.HasPrefix(loc, "http://") || strings.HasPrefix(loc, "https://") {
		u, err := url.Parse(loc)
		if err != nil {
			return nil, fmt.Errorf("log URL %q: %w", loc, err)
		}
		if !strings.HasSuffix(u.Path, "/") {
			u.Path += "/"
		}
		if hc == nil {
			hc = http.DefaultClient
		}
		f, err := client.NewHTTPFetcher(u, hc)
		if err != nil {
			return nil, err
		}
		return httpSource{f, u, hc}, nil
	}
	for _, d := range []string{loc, filepath.Join(loc, "log")} {
		if _, err := os.Stat(filepath.Join(d, "checkpoint")); err == nil {
			return DirSource(d), nil
		}
	}
	return nil, fmt.Errorf("%s: no transparency log here (no checkpoint file in it or in its log folder)", loc)
}

// ErrBadBundle is wrapped for entry bundles that do not parse.
var ErrBadBundle = errors.New("bad entry bundle")

// ParseBundle splits a tlog-tiles entry bundle (big-endian uint16
// length-prefixed entries) that must hold exactly want entries.
func ParseBundle(b []byte, want int) ([][]byte, error) {
	out := make([][]byte, 0, want)
	for len(b) > 0 {
		if len(b) < 2 {
			return nil, fmt.Errorf("%w: entry %d: a length needs 2 bytes, %d left", ErrBadBundle, len(out), len(b))
		}
		n := int(binary.BigEndian.Uint16(b))
		if n == 0 || len(b)-2 < n {
			return nil, fmt.Errorf("%w: entry %d: length %d, %d bytes left", ErrBadBundle, len(out), n, len(b)-2)
		}
		out = append(out, b[2:2+n])
		b = b[2+n:]
	}
	if len(out) != want {
		return nil, fmt.Errorf("%w: %d entries, want %d", ErrBadBundle, len(out), want)
	}
	return out, nil
}
