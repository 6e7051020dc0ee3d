package collector

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"time"

	"github.com/chatconsent/chatconsent/internal/records"
)

// RetentionDue returns everyone whose personal data are due for erasure
// at now under the config's retention.proof_years (all with a due date if
// now is zero), read from the log and the private store.
func (s *Server) RetentionDue(now time.Time) ([]records.Due, error) {
	book, err := records.Read(s.log.Store(), s.o.Paths.Log, s.o.Signer.Public().(ed25519.PublicKey), s.o.Private, s.o.Config.PurposeIDs(), false)
	if err != nil {
		return nil, err
	}
	return book.Retention(s.o.Config.Retention.ProofYears, now), nil
}

// retentionBatch is how many people [Server.ApplyRetention] erases in one
// pass: one rewrite of the private store each, and decisions wait
// meanwhile, so a long list is cut into passes of this size.
const retentionBatch = 1000

// ApplyRetention erases everyone due at now (reason "retention"), up to
// [retentionBatch] people in one pass, and returns the erasures. A failure
// stops it; what was erased stays erased.
func (s *Server) ApplyRetention(ctx context.Context, now time.Time) ([]Erasure, error) {
	if s.o.Private == nil {
		return nil, nil
	}
	due, err := s.RetentionDue(now)
	if err != nil {
		return nil, fmt.Errorf("retention: %w", err)
	}
	var done []Erasure
	for len(due) > 0 {
		n := min(len(due), retentionBatch)
		phones := make([]string, n)
		for i, d := range due[:n] {
			phones[i] = d.Person.Phone
		}
		due = due[n:]
		es, err := s.eraseAll(ctx, phones, "retention")
		done = append(done, es...)
		if err != nil {
			return done, fmt.Errorf("retention: %w", err)
		}
	}
	return done, nil
}

// OwnerRetention asks the collector to apply retention now (POST
// /owner/v1/retention): everyone due at the collector's clock is erased.
// It has no fields; the body is {}.
type OwnerRetention struct{}

// OwnerRetained is what [Server.RetentionNow] did: one erasure per
// person, the earliest due first.
type OwnerRetained struct {
	Erased []OwnerErased `json:"erased"`
}

// RetentionNow is [Server.ApplyRetention] at the server's clock, for the
// owner (chatconsent retention --apply). On an error, what was erased
// before it stays erased and is not in the answer.
func (s *Server) RetentionNow(ctx context.Context, _ OwnerRetention) (*OwnerRetained, error) {
	done, err := s.ApplyRetention(ctx, s.o.Now())
	if err != nil {
		return nil, err
	}
	res := &OwnerRetained{Erased: []OwnerErased{}}
	for _, e := range done {
		res.Erased = append(res.Erased, OwnerErased{ID: e.Record.ID, Time: e.Record.Time, Phone: e.Phone, Records: e.Records, Files: len(e.Files)})
	}
	return res, nil
}

// RunRetention applies retention (see [Server.ApplyRetention]) after first
// and then every every, with the server's clock, until ctx ends. Each
// erasure is logged by [Server.Erase] (ids only, no personal data).
func (s *Server) RunRetention(ctx context.Context, first, every time.Duration) {
	t := time.NewTimer(first)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		done, err := s.ApplyRetention(ctx, s.o.Now())
		if err != nil {
			s.o.Logger.Error("retention", "err", err)
		} else {
			s.o.Logger.Info("retention applied", "erased", len(done), "proof_years", s.o.Config.Retention.ProofYears)
		}
		t.Reset(every)
	}
}
