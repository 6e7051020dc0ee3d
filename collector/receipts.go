package collector

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chatconsent/chatconsent/collector/ledger"
	"github.com/chatconsent/chatconsent/internal/records"
)

// Receipts off the request path.
//
// Stamping a PDF takes milliseconds of CPU, far more than recording the
// decision, so the POST handler only queues the new entry; a worker stamps
// it into DATA/receipts/ID.pdf when no decision is being handled (decisions
// come first: under load the worker waits). The queue is bounded: when it
// is full, the entry is not queued but left to the backlog (below). A GET
// for a receipt that is not yet on disk stamps it there and then, from the
// queued entry or, for one that was never queued or was lost in a crash,
// from the signed log line.

// idleWait is how long the receipt worker sleeps while decisions are in
// flight before it looks again.
const idleWait = 20 * time.Millisecond

// The backlog: records whose receipts are missing (a crash or a stop left
// them unmade, or they did not fit into the queue) are not held in memory.
// The queue keeps only a cursor, the log position before the first record
// that may lack its receipt; an idle worker walks the log from there, one
// line at a time, and makes each missing receipt. Memory does not grow with
// the backlog, and a stop leaves the rest to the next start, which finds
// the cursor again while it verifies the log.
type receiptQueue struct {
	queue   chan ledger.Entry
	pending sync.Map // id → ledger.Entry, while queued
	stop    chan struct{}
	wg      sync.WaitGroup

	mu      sync.Mutex
	backlog *ledger.Head // nil: no record known to lack its receipt

	// For the snapshot (see settled): sweeps running, and a sweep that
	// ended before the log's end (stopped, or an error).
	sweeping   atomic.Int32
	unfinished atomic.Bool
}

// settled reports whether every recorded decision's receipt is made, as
// far as the queue knows: nothing queued, no backlog, no sweep running or
// cut short. Only then is a snapshot written (writeSnapshot): a start from
// it does not look for missing receipts, so a stop with receipts still to
// make leaves the next start to read the whole log and count them.
func (q *receiptQueue) settled() bool {
	q.mu.Lock()
	b := q.backlog
	q.mu.Unlock()
	if b != nil || len(q.queue) > 0 || q.sweeping.Load() > 0 || q.unfinished.Load() {
		return false
	}
	empty := true
	q.pending.Range(func(_, _ any) bool { empty = false; return false })
	return empty
}

// markBacklog moves the cursor back to at if it is earlier; it reports
// whether there was no backlog before.
func (q *receiptQueue) markBacklog(at ledger.Head) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	was := q.backlog == nil
	if was || at.Size < q.backlog.Size {
		q.backlog = &at
	}
	return was
}

// takeBacklog returns and clears the cursor.
func (q *receiptQueue) takeBacklog() (ledger.Head, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	b := q.backlog
	q.backlog = nil
	if b == nil {
		return ledger.Head{}, false
	}
	return *b, true
}

func (q *receiptQueue) stopped() bool {
	select {
	case <-q.stop:
		return true
	default:
		return false
	}
}

func (s *Server) startReceipts(workers, size int) {
	q := &receiptQueue{queue: make(chan ledger.Entry, size), stop: make(chan struct{})}
	for range workers {
		q.wg.Go(func() {
			t := time.NewTimer(0)
			defer t.Stop()
			sweep := time.NewTicker(sweepEvery)
			defer sweep.Stop()
			for {
				select {
				case <-q.stop:
					return
				case <-sweep.C:
					if len(q.queue) == 0 && s.inflight.Load() == 0 {
						if from, ok := q.takeBacklog(); ok {
							s.sweepReceipts(from)
						}
					}
				case e := <-q.queue:
					// select picks among ready cases at random: a stop
					// must not wait for a full queue to drain.
					if q.stopped() {
						return
					}
					if !s.waitIdle() {
						return
					}
					// A link opened early may have stamped it on demand
					// already; it is mailed here either way, once.
					if pdf, err := os.ReadFile(s.receiptPath(e.Record.ID)); err == nil {
						if err := s.deliver(s.ReceiptData(e), pdf); err != nil {
							s.o.Logger.Error("mail receipt", "id", e.Record.ID, "err", err)
						}
					} else if err := s.writeReceipt(e); err != nil {
						s.o.Logger.Error("write receipt", "id", e.Record.ID, "err", err)
					}
					q.pending.Delete(e.Record.ID)
				}
			}
		})
	}
	s.receipts = q
}

// waitIdle waits until no decision is in flight; false if the receipts
// are stopped meanwhile.
func (s *Server) waitIdle() bool {
	if s.inflight.Load() == 0 {
		return !s.receipts.stopped()
	}
	t := time.NewTimer(idleWait)
	defer t.Stop()
	for s.inflight.Load() > 0 {
		t.Reset(idleWait)
		select {
		case <-s.receipts.stop:
			return false
		case <-t.C:
		}
	}
	return true
}

// stopReceipts stops the workers after the receipt in hand (milliseconds):
// receipts still queued or in the backlog are made on demand, or after the
// next start.
func (s *Server) stopReceipts() {
	close(s.receipts.stop)
	s.receipts.wg.Wait()
}

// queueReceipt hands e to the receipt workers, or leaves it to the backlog.
func (s *Server) queueReceipt(e ledger.Entry) {
	q := s.receipts
	q.pending.Store(e.Record.ID, e)
	select {
	case q.queue <- e:
	default:
		q.pending.Delete(e.Record.ID)
		if q.markBacklog(e.At) {
			s.o.Logger.Warn("receipt queue full; receipts and their mails are made from the log once the collector is idle")
		}
	}
}

// sweepEvery is how often an idle worker looks at the backlog.
const sweepEvery = time.Second

// errStopped ends a sweep when the receipts stop.
var errStopped = errors.New("receipts stopped")

// sweepReceipts makes the receipts (and mails) of every recorded decision
// and withdrawal from position from on that has none, reading the log one
// line at a time. It yields to decisions like the queue does and ends at
// once when the receipts stop.
func (s *Server) sweepReceipts(from ledger.Head) {
	s.o.Logger.Info("making missing receipts from the log", "from_record", from.Count+1)
	s.receipts.sweeping.Add(1)
	defer s.receipts.sweeping.Add(-1)
	made := 0
	err := s.log.ScanFrom(from, func(e ledger.Entry) error {
		rec := &e.Record
		if rec.Type != ledger.TypeDecision && rec.Type != ledger.TypeWithdrawal {
			return nil
		}
		if _, queued := s.receipts.pending.Load(rec.ID); queued {
			return nil
		}
		ds, err := openRecord(s.o.Private, rec)
		if err != nil {
			return err
		}
		if !receiptable(rec) {
			return nil
		}
		e.Disclosures = ds
		if _, err := os.Stat(s.receiptPath(rec.ID)); err == nil {
			return nil
		}
		if !s.waitIdle() {
			return errStopped
		}
		if err := s.writeReceipt(e); err != nil {
			s.o.Logger.Error("write receipt", "id", rec.ID, "err", err)
			return nil
		}
		made++
		return nil
	})
	switch {
	case errors.Is(err, errStopped):
		s.receipts.unfinished.Store(true)
		s.o.Logger.Info("stopped making missing receipts; the rest are made after the next start", "made", made)
	case err != nil:
		s.receipts.unfinished.Store(true)
		s.o.Logger.Error("find records without receipts", "err", err)
	default:
		s.o.Logger.Info("made missing receipts", "count", made)
	}
}

// receiptable reports whether a receipt can be made for rec: not for a
// record whose person was erased (their receipts were deleted with them),
// nor for one whose openings are missing.
func receiptable(rec *ledger.Record) bool {
	return rec.Subject != nil && !records.IsErased(rec.Subject.Phone)
}

func (s *Server) receiptPath(id string) string {
	return filepath.Join(s.o.Paths.Receipts, id+".pdf")
}

// serveReceipt sends DATA/receipts/ID.pdf, stamping it first if it is not
// there yet.
func (s *Server) serveReceipt(w http.ResponseWriter, r *http.Request, id string) {
	path := s.receiptPath(id)
	f, err := os.Open(path)
	if err == nil {
		defer f.Close()
		st, err := f.Stat()
		if err == nil {
			sendPDF(w, r, id, st.ModTime(), f)
			return
		}
	}
	// Only holders of a valid link get here, but stamping costs
	// milliseconds and a look-up reads the log: it counts against the
	// client's rate.
	if ok, wait := s.limiter.allow(clientAddr(r, s.o.Config.Collector.TrustedProxies), s.o.Now()); !ok {
		w.Header().Set("Retry-After", retryAfter(wait))
		http.Error(w, "too many requests", http.StatusTooManyRequests)
		return
	}
	var e ledger.Entry
	if v, ok := s.receipts.pending.Load(id); ok {
		e = v.(ledger.Entry)
	} else {
		e, err = s.log.Lookup(id)
		if err == nil {
			e.Disclosures, err = openRecord(s.o.Private, &e.Record)
		}
		if errors.Is(err, ledger.ErrNotFound) || (err == nil && !receiptable(&e.Record)) {
			s.receiptLinkRefused(w, r, http.StatusNotFound, "receipt_invalid", "")
			return
		}
		if err != nil {
			s.o.Logger.Error("look up record for receipt", "id", id, "err", err)
			http.Error(w, "receipt not available, try again later", http.StatusServiceUnavailable)
			return
		}
	}
	if e.Disclosures != nil && s.o.Private != nil && !s.o.Private.Has(id) {
		s.receiptLinkRefused(w, r, http.StatusNotFound, "receipt_invalid", "") // erased
		return
	}
	d := s.ReceiptData(e)
	s.withProof(&d, e)
	pdf, err := s.o.Stamper.Stamp(d)
	if err != nil {
		s.o.Logger.Error("stamp receipt", "id", id, "err", err)
		http.Error(w, "receipt not available, try again later", http.StatusServiceUnavailable)
		return
	}
	// Not stored here: the worker stores it after handing it to the
	// mailer, so that a stored receipt always means its mail is queued.
	sendPDF(w, r, id, s.o.Now(), bytes.NewReader(pdf))
}

func sendPDF(w http.ResponseWriter, r *http.Request, id string, mod time.Time, content io.ReadSeeker) {
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Disposition", `attachment; filename="consent-`+id+`.pdf"`)
	http.ServeContent(w, r, "", mod, content)
}
