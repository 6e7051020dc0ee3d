package collector

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chatconsent/chatconsent/collector/ledger"
)

// Receipts off the request path.
//
// Stamping a PDF takes milliseconds of CPU, far more than recording the
// decision, so the POST handler only queues the new entry; a worker stamps
// it into DATA/receipts/ID.pdf when no decision is being handled (decisions
// come first: under load the worker waits). The queue is bounded: when it
// is full, the entry is not queued. A GET for a receipt that is not yet on
// disk stamps it there and then, from the queued entry or, for one that
// was never queued or was lost in a crash, from the signed log line.

// idleWait is how long the receipt worker sleeps while decisions are in
// flight before it looks again.
const idleWait = 20 * time.Millisecond

type receiptQueue struct {
	queue   chan ledger.Entry
	pending sync.Map // id → ledger.Entry, while queued
	stop    chan struct{}
	wg      sync.WaitGroup
	// overflow is set when an entry did not fit into the queue; an idle
	// worker then finds every record without a receipt in the log.
	overflow atomic.Bool
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
					if len(q.queue) == 0 && s.inflight.Load() == 0 && q.overflow.CompareAndSwap(true, false) {
						s.sweepReceipts()
					}
				case e := <-q.queue:
					for s.inflight.Load() > 0 {
						t.Reset(idleWait)
						select {
						case <-q.stop:
							return
						case <-t.C:
						}
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

// stopReceipts stops the workers after the receipt in hand; receipts still
// queued are made on demand later.
func (s *Server) stopReceipts() {
	close(s.receipts.stop)
	s.receipts.wg.Wait()
}

// recoverReceipts queues, in the background, the receipts a crash left
// unmade (see Open). Unlike queueReceipt it waits for room in the queue.
func (s *Server) recoverReceipts(es []ledger.Entry) {
	if len(es) == 0 {
		return
	}
	q := s.receipts
	for _, e := range es {
		q.pending.Store(e.Record.ID, e)
	}
	q.wg.Go(func() {
		for _, e := range es {
			select {
			case q.queue <- e:
			case <-q.stop:
				return
			}
		}
	})
}

// queueReceipt hands e to the receipt workers, or leaves it for on demand.
func (s *Server) queueReceipt(e ledger.Entry) {
	q := s.receipts
	q.pending.Store(e.Record.ID, e)
	select {
	case q.queue <- e:
	default:
		q.pending.Delete(e.Record.ID)
		if q.overflow.CompareAndSwap(false, true) {
			s.o.Logger.Warn("receipt queue full; receipts and their mails are made from the log once the collector is idle")
		}
	}
}

// sweepEvery is how often an idle worker checks whether the queue
// overflowed.
const sweepEvery = time.Second

// sweepReceipts makes the receipts (and mails) of every recorded decision
// and withdrawal that has none: those that did not fit into the queue. It
// yields to decisions like the queue does.
func (s *Server) sweepReceipts() {
	have := map[string]bool{}
	if des, err := os.ReadDir(s.o.Paths.Receipts); err == nil {
		for _, de := range des {
			if id, ok := strings.CutSuffix(de.Name(), ".pdf"); ok {
				have[id] = true
			}
		}
	}
	var missing []ledger.Entry
	err := s.log.Scan(func(rec *ledger.Record, line []byte) error {
		if (rec.Type == ledger.TypeDecision || rec.Type == ledger.TypeWithdrawal) && !have[rec.ID] {
			if _, queued := s.receipts.pending.Load(rec.ID); !queued {
				missing = append(missing, ledger.Entry{Record: *rec, Line: bytes.Clone(line)})
			}
		}
		return nil
	})
	if err != nil {
		s.o.Logger.Error("find records without receipts", "err", err)
		return
	}
	s.o.Logger.Info("making receipts that did not fit into the queue", "count", len(missing))
	for _, e := range missing {
		for s.inflight.Load() > 0 {
			select {
			case <-s.receipts.stop:
				return
			case <-time.After(idleWait):
			}
		}
		if err := s.writeReceipt(e); err != nil {
			s.o.Logger.Error("write receipt", "id", e.Record.ID, "err", err)
		}
	}
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
		if errors.Is(err, ledger.ErrNotFound) {
			s.receiptLinkRefused(w, r, http.StatusNotFound, "receipt_invalid")
			return
		}
		if err != nil {
			s.o.Logger.Error("look up record for receipt", "id", id, "err", err)
			http.Error(w, "receipt not available, try again later", http.StatusServiceUnavailable)
			return
		}
	}
	pdf, err := s.o.Stamper.Stamp(s.ReceiptData(e))
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
