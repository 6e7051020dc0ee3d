package generator

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"unsafe"
)

// CacheFile returns the default render cache of the site in cfgDir: a file
// in the user's cache folder (e.g. ~/.cache/chatconsent/), named after the
// site's folder. It returns "" when there is no user cache folder.
func CacheFile(cfgDir string) string {
	dir, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	sum := sha256.Sum256([]byte(cfgDir))
	return filepath.Join(dir, "chatconsent", hex.EncodeToString(sum[:8])+".render-cache")
}

// cacheMagic starts a render cache file; the format: magic, then entries
// of a 32-byte key, a uvarint length and the rendered HTML.
const cacheMagic = "chatconsent render cache v1\n"

// renderCache keeps rendered Markdown between runs, keyed by the SHA-256
// of the converter's identity and the Markdown bytes (after the template
// ran), so a hit is exactly what converting again would give. A missing or
// damaged file is an empty cache; the cache never makes a build fail.
type renderCache struct {
	path string
	salt []byte // identifies the converter: this binary, unsafe_html

	mu    sync.Mutex
	old   map[[32]byte][]byte // loaded from path
	used  map[[32]byte][]byte // looked up or added during this build
	added bool
}

// openRenderCache loads path ("" gives a cache that keeps nothing).
func openRenderCache(path string, unsafe bool) *renderCache {
	c := &renderCache{path: path, old: map[[32]byte][]byte{}, used: map[[32]byte][]byte{}}
	// The executable's size and time stand for its code: a new binary
	// (another goldmark, another heading-id rule) starts a new cache.
	exe := "unknown"
	if p, err := os.Executable(); err == nil {
		if st, err := os.Stat(p); err == nil {
			exe = fmt.Sprintf("%s %d %d", p, st.Size(), st.ModTime().UnixNano())
		}
	}
	c.salt = fmt.Appendf(nil, "%s%s unsafe=%v\x00", cacheMagic, exe, unsafe)
	if path == "" {
		return c
	}
	b, err := os.ReadFile(path)
	if err != nil || !bytes.HasPrefix(b, []byte(cacheMagic)) {
		return c
	}
	b = b[len(cacheMagic):]
	for len(b) > 0 {
		if len(b) < 32 {
			return c
		}
		var k [32]byte
		copy(k[:], b)
		n, w := binary.Uvarint(b[32:])
		if w <= 0 || uint64(len(b)-32-w) < n {
			return c // torn or damaged: keep what was read
		}
		c.old[k] = b[32+w : 32+w+int(n)]
		b = b[32+w+int(n):]
	}
	return c
}

// bytesToString shares b's memory with the string, without a copy. The
// cache's buffers are never written after they are filled, which is what
// makes this safe; it halves the memory a build holds for rendered pages.
func bytesToString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

func (c *renderCache) key(lang string, md []byte) [32]byte {
	h := sha256.New()
	h.Write(c.salt)
	h.Write([]byte(lang + "\x00"))
	h.Write(md)
	var k [32]byte
	h.Sum(k[:0])
	return k
}

func (c *renderCache) get(k [32]byte) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if v, ok := c.used[k]; ok {
		return v, true
	}
	v, ok := c.old[k]
	if ok {
		c.used[k] = v
	}
	return v, ok
}

func (c *renderCache) put(k [32]byte, v []byte) {
	c.mu.Lock()
	c.used[k], c.added = v, true
	c.mu.Unlock()
}

// save writes the entries used by this build (entries of removed or
// changed pages go) if anything changed. It is a cache: no fsync.
func (c *renderCache) save() error {
	if c.path == "" || (!c.added && len(c.used) == len(c.old)) {
		c.old, c.used, c.added = c.used, map[[32]byte][]byte{}, false
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(c.path), 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(c.path), ".render-cache-")
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<16)
	w.WriteString(cacheMagic)
	var n [binary.MaxVarintLen64]byte
	for k, v := range c.used {
		w.Write(k[:])
		w.Write(n[:binary.PutUvarint(n[:], uint64(len(v)))])
		w.Write(v)
	}
	err = errors.Join(w.Flush(), f.Close())
	if err == nil {
		err = os.Rename(f.Name(), c.path)
	}
	if err != nil {
		os.Remove(f.Name())
	}
	c.old, c.used, c.added = c.used, map[[32]byte][]byte{}, false
	return err
}
