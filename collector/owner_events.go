package collector

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"

	"github.com/chatconsent/chatconsent/collector/ledger"
	"github.com/chatconsent/chatconsent/collector/owners"
)

// Owners of the console (GDPR Art. 5(2), accountability): who may act as
// owner changes only through the collector, which signs each change into
// the log as a [ledger.TypeOwner] record before it takes effect in
// DATA/owners.json (package collector/owners). The CLI asks a running
// collector through the owner socket (POST /owner/v1/owner), or opens it
// in its own process like withdraw and erase.

// OwnerChange is a change of the console's owners, asked for on the owner
// socket.
type OwnerChange struct {
	// Action is "add" or "remove".
	Action string `json:"action"`
	// Name is the owner added or removed; By who asks (see
	// [ValidOwnerName]).
	Name string `json:"name"`
	By   string `json:"by"`
}

// OwnerChanged is what [Server.ChangeOwner] did.
type OwnerChanged struct {
	// ID is the owner record's id ("" on a version-1 log, which has no
	// owner records).
	ID string `json:"id"`
	// Secret is, for "add", the enrolment link's secret.
	Secret string `json:"secret,omitempty"`
}

// ChangeOwner adds (c.Action "add": a new enrolment link, see
// owners.Store.Add) or removes an owner of the console, after appending
// the signed owner record ("added" or "removed") that names the owner and
// c.By. Errors: [ErrBadOwner], owners.ErrOwnerExists,
// owners.ErrNoSuchOwner (then nothing is written), or the log's or the
// file's. A crash between the record and the file leaves a record of a
// change that did not happen: the log may say too much, never too little.
func (s *Server) ChangeOwner(ctx context.Context, c OwnerChange) (*OwnerChanged, error) {
	if !ValidOwnerName(c.Name) || !ValidOwnerName(c.By) {
		return nil, fmt.Errorf("%w: %q, by %q (1 to 64 letters, digits, . _ @ -)", ErrBadOwner, c.Name, c.By)
	}
	store := owners.OpenStore(s.o.Paths.Owners)
	list, err := store.Owners()
	if err != nil {
		return nil, err
	}
	i := slices.IndexFunc(list, func(o owners.Owner) bool { return o.Name == c.Name })
	var action string
	switch c.Action {
	case "add":
		if i >= 0 && len(list[i].Credentials) > 0 {
			return nil, fmt.Errorf("%w: %q", owners.ErrOwnerExists, c.Name)
		}
		action = "added"
	case "remove":
		if i < 0 {
			return nil, fmt.Errorf("%w: %q", owners.ErrNoSuchOwner, c.Name)
		}
		action = "removed"
	default:
		return nil, fmt.Errorf("owner change: action %q is not add or remove", c.Action)
	}
	id, err := s.ownerRecord(ctx, action, c.Name, c.By, "")
	if err != nil {
		return nil, err
	}
	res := &OwnerChanged{ID: id}
	if c.Action == "add" {
		res.Secret, err = store.Add(c.Name, s.o.Now())
	} else {
		err = store.Remove(c.Name)
	}
	if err != nil {
		return nil, err
	}
	return res, nil
}

// OwnerEnrolled appends the owner record of name's new passkey (action
// "enrolled", by name): the console calls it when an enrolment link was
// used.
func (s *Server) OwnerEnrolled(ctx context.Context, name string) error {
	_, err := s.ownerRecord(ctx, "enrolled", name, name, "")
	return err
}

// OwnerInvited appends the owner record of a personal invite link the
// owner name made in the console (action "invited"): it names the
// invite's id, never the number, which the invite's opening record
// commits to.
func (s *Server) OwnerInvited(ctx context.Context, name, inviteID string) error {
	_, err := s.ownerRecord(ctx, "invited", name, name, inviteID)
	return err
}

// ownerRecord appends a [ledger.TypeOwner] record and returns its id; a
// version-1 log has none ("" and no error, the journal says so).
func (s *Server) ownerRecord(ctx context.Context, action, name, by, inviteID string) (string, error) {
	if s.o.Private == nil {
		s.o.Logger.Warn("owner change not in the log: a version-1 log has no owner records", "action", action)
		return "", nil
	}
	rec := ledger.Record{Type: ledger.TypeOwner, ID: newID(), Time: s.o.Now().UTC(), Action: action, Owner: name, By: by, Invite: inviteID}
	es, err := s.log.Append(ctx, rec)
	if err != nil {
		return "", fmt.Errorf("append the owner record to the log: %w", err)
	}
	// The index has nothing of an owner record; the snapshot's watermark
	// passes it.
	s.proc.mu.Lock()
	s.markFolded(es...)
	s.proc.mu.Unlock()
	s.o.Logger.Info("owner record", "id", es[0].Record.ID, "seq", es[0].Record.Seq, "action", action)
	return es[0].Record.ID, nil
}

// ownerRoutes adds POST /owner/v1/owner (an [OwnerChange]; 201 an
// [OwnerChanged]; 400 bad_owner, 409 owner_exists, 404 no_such_owner) to
// the owner socket's mux.
func (s *Server) ownerRoutes(mux *http.ServeMux) {
	mux.HandleFunc("POST /owner/v1/owner", func(w http.ResponseWriter, r *http.Request) {
		var req OwnerChange
		dec := json.NewDecoder(io.LimitReader(r.Body, 16<<10))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]any{"error": "malformed request: " + err.Error(), "code": "bad_request"})
			return
		}
		res, err := s.ChangeOwner(r.Context(), req)
		for _, e := range ownerChangeErrors {
			if errors.Is(err, e.err) {
				writeJSON(w, e.status, map[string]any{"error": err.Error(), "code": e.code})
				return
			}
		}
		if err != nil {
			s.o.Logger.Error("owner change", "err", err)
			writeJSON(w, http.StatusServiceUnavailable, map[string]any{"error": err.Error(), "code": "unavailable"})
			return
		}
		writeJSON(w, http.StatusCreated, res)
	})
}

var ownerChangeErrors = []struct {
	err    error
	code   string
	status int
}{
	{ErrBadOwner, "bad_owner", http.StatusBadRequest},
	{owners.ErrOwnerExists, "owner_exists", http.StatusConflict},
	{owners.ErrNoSuchOwner, "no_such_owner", http.StatusNotFound},
}

// ChangeOwner asks the collector for c (see [Server.ChangeOwner]); a
// refusal comes back wrapping the same error.
func (c *OwnerClient) ChangeOwner(ctx context.Context, ch OwnerChange) (*OwnerChanged, error) {
	b, _ := json.Marshal(ch)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://collector/owner/v1/owner", bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("ask the collector: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("ask the collector: %w", err)
	}
	if resp.StatusCode == http.StatusCreated {
		var res OwnerChanged
		if err := json.Unmarshal(body, &res); err != nil {
			return nil, fmt.Errorf("the collector's answer: %w", err)
		}
		return &res, nil
	}
	var ans struct{ Error, Code string }
	if err := json.Unmarshal(body, &ans); err != nil {
		return nil, fmt.Errorf("the collector answered %s", resp.Status)
	}
	for _, e := range ownerChangeErrors {
		if ans.Code == e.code {
			return nil, fmt.Errorf("%w (%s)", e.err, ans.Error)
		}
	}
	return nil, fmt.Errorf("the collector: %s", ans.Error)
}
