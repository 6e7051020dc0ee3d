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

// ApplyRetention erases everyone due at now (reason "retention") and
// returns the erasures. A failure stops it; what was erased stays erased.
func (s *Server) ApplyRetention(ctx context.Context, now time.Time) ([]Erasure, error) {
	if s.o.Private == nil {
		return nil, nil
	}
	due, err := s.RetentionDue(now)
	if err != nil {
		return nil, fmt.Errorf("retention: %w", err)
	}
	var done []Erasure
	for _, d := range due {
		e, err := s.Erase(ctx, d.Person.Phone, "retention")
		if err != nil {
			return done, fmt.Errorf("retention: %w", err)
		}
		done = append(done, e)
	}
	return done, nil
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
