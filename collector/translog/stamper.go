package translog

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"
)

// TimestampOptions configure the RFC 3161 time-stamping of checkpoints
// ([Options].Timestamp).
type TimestampOptions struct {
	// URL is the authority (log.timestamp_url); "" turns stamping off.
	URL string
	// Roots are the authority's root certificates (log.timestamp_roots):
	// an answer that does not verify against them is not kept.
	Roots *x509.CertPool
	// Timeout bounds one request (0: [DefaultTimestampTimeout]).
	Timeout time.Duration
	// Retry is how long after a failed request the authority counts as
	// down: receipts do not wait for it, and the next try is with the next
	// checkpoint or after Retry (0: [DefaultTimestampRetry]).
	Retry time.Duration
}

// Defaults of [TimestampOptions].
const (
	DefaultTimestampTimeout = 10 * time.Second
	DefaultTimestampRetry   = time.Minute
)

// ErrNoTimestamp is returned by [Log.Timestamp] when stamping is off or the
// authority is down.
var ErrNoTimestamp = errors.New("no time-stamp token")

// stamper asks the authority for a token over each new checkpoint, keeps
// the tokens (the files [TimestampDir] names) and gives receipts the token
// of their proof's checkpoint.
type stamper struct {
	ctx    context.Context // ends when the log closes
	o      TimestampOptions
	dir    string
	hc     *http.Client
	logger *slog.Logger

	mu        sync.Mutex
	byCP      map[string]*stampCall // by exact checkpoint bytes
	downUntil time.Time
	down      bool
	latest    uint64 // size in timestamp/latest
	fileMu    sync.Mutex
}

type stampCall struct {
	done chan struct{}
	tsr  []byte
	err  error
}

func newStamper(ctx context.Context, o TimestampOptions, dir string, hc *http.Client, logger *slog.Logger) *stamper {
	if o.Timeout == 0 {
		o.Timeout = DefaultTimestampTimeout
	}
	if o.Retry == 0 {
		o.Retry = DefaultTimestampRetry
	}
	if hc == nil {
		hc = http.DefaultClient
	}
	if logger == nil {
		logger = slog.Default()
	}
	s := &stamper{ctx: ctx, o: o, dir: dir, hc: hc, logger: logger, byCP: map[string]*stampCall{}}
	if b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(TimestampLatest))); err == nil {
		if n, err := ParseLatest(b); err == nil {
			s.latest = n
		}
	}
	return s
}

// get returns the token over checkpoint raw (of size), asking the
// authority once for it; wait=false returns at once while the authority is
// down.
func (s *stamper) get(ctx context.Context, raw []byte, size uint64, wait bool) ([]byte, error) {
	s.mu.Lock()
	c := s.byCP[string(raw)]
	if c == nil {
		if !wait && time.Now().Before(s.downUntil) {
			s.mu.Unlock()
			return nil, fmt.Errorf("%w: the time-stamp authority is down", ErrNoTimestamp)
		}
		if len(s.byCP) > 64 {
			for k, old := range s.byCP {
				select {
				case <-old.done:
					delete(s.byCP, k)
				default:
				}
			}
		}
		c = &stampCall{done: make(chan struct{})}
		s.byCP[string(raw)] = c
		go s.run(c, raw, size)
	}
	s.mu.Unlock()
	select {
	case <-c.done:
		return c.tsr, c.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (s *stamper) run(c *stampCall, raw []byte, size uint64) {
	defer close(c.done)
	ctx, cancel := context.WithTimeout(s.ctx, s.o.Timeout)
	defer cancel()
	tsr, _, err := RequestTimestamp(ctx, s.hc, s.o.URL, raw, s.o.Roots)
	if err == nil {
		err = s.keep(size, raw, tsr)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		c.err = err
		delete(s.byCP, string(raw)) // the next ask tries again
		if s.ctx.Err() != nil {
			return // the log closed: not the authority's fault
		}
		s.downUntil = time.Now().Add(s.o.Retry)
		if !s.down {
			s.down = true
			// No personal data: the log holds none, and neither do sizes or
			// the authority's answer.
			s.logger.Warn("transparency log: no time-stamp token for the checkpoint; retrying with the next one", "size", size, "err", err)
		}
		return
	}
	c.tsr = tsr
	s.downUntil = time.Time{}
	if s.down {
		s.down = false
		s.logger.Info("transparency log: time-stamp authority answers again", "size", size)
	}
}

// keep writes the pair of size (once) and moves timestamp/latest forward.
func (s *stamper) keep(size uint64, raw, tsr []byte) error {
	s.fileMu.Lock()
	defer s.fileMu.Unlock()
	cpName, tsrName := TimestampPaths(size)
	cpPath := filepath.Join(s.dir, filepath.FromSlash(cpName))
	if _, err := os.Stat(cpPath); errors.Is(err, fs.ErrNotExist) {
		// The token first: a checkpoint file without its token is never
		// named by latest.
		if err := writeFileAtomic(filepath.Join(s.dir, filepath.FromSlash(tsrName)), tsr, 0o644); err != nil {
			return err
		}
		if err := writeFileAtomic(cpPath, raw, 0o644); err != nil {
			return err
		}
	} else {
		return nil // this size was stamped before (same tree, other cosignatures)
	}
	if size > s.latest {
		if err := writeFileAtomic(filepath.Join(s.dir, filepath.FromSlash(TimestampLatest)), []byte(strconv.FormatUint(size, 10)+"\n"), 0o644); err != nil {
			return err
		}
		s.latest = size
	}
	return nil
}

// loop stamps each new published checkpoint, one request at a time (so a
// burst of checkpoints gets the newest stamped next), and retries a failed
// one after Retry if no newer checkpoint comes.
func (l *Log) stampLoop(ctx context.Context) {
	var stamped uint64 = l.ts.latest
	for {
		l.cpMu.Lock()
		raw, size, wake := l.cpRaw, l.cpSize, l.cpWake
		l.cpMu.Unlock()
		retry := l.ts.o.Retry
		if raw != nil && size > stamped {
			if _, err := l.ts.get(ctx, raw, size, true); err == nil {
				stamped = size
				continue
			}
		} else {
			retry = 24 * time.Hour
		}
		select {
		case <-ctx.Done():
			return
		case <-wake:
		case <-time.After(retry):
		}
	}
}

// Timestamp returns the RFC 3161 token (TimeStampResp, DER) over the
// published checkpoint raw, asking the authority for it if it was not
// stamped yet and waiting up to ctx. It returns [ErrNoTimestamp] at once
// when stamping is off or the authority is down (a receipt is then made
// without a token).
func (l *Log) Timestamp(ctx context.Context, raw []byte) ([]byte, error) {
	if l.ts == nil {
		return nil, fmt.Errorf("%w: time-stamping is off", ErrNoTimestamp)
	}
	cp, err := OpenCheckpoint(raw, l.verif, nil, 0)
	if err != nil {
		return nil, err
	}
	return l.ts.get(ctx, raw, cp.Size, false)
}
