package collector

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// The owner socket.
//
// The log has one writer, the collector (it holds the log's flock). The
// owner's CLI on the same machine reaches it through a Unix socket in the
// data directory, DATA/owner.sock (mode 0600 in a 0700 folder): whoever
// may open it may read and write the data folder anyway (the collector's
// user, root), so the file's permissions are the authentication and
// nothing listens on the network. It speaks HTTP:
//
//	POST /owner/v1/withdraw   an [OwnerWithdrawal] as JSON
//	  201 an [OwnerWithdrawn]
//	  4xx {"error": "...", "code": "...", "detail": "...", "in_force": [...]}
//	POST /owner/v1/erase      an [OwnerErasure] as JSON (GDPR Art. 17)
//	  201 an [OwnerErased]
//	  4xx {"error": "...", "code": "bad_number"|"bad_reason"|"nothing_to_erase"}

// OwnerSocket is the owner socket's name inside the data directory.
const OwnerSocket = "owner.sock"

// ErrNoCollector is returned by [DialOwner] when no collector answers on
// the data directory's owner socket.
var ErrNoCollector = errors.New("no collector answers on the owner socket")

// ListenOwner creates DATA/owner.sock for [Server.OwnerHandler]. Call it
// only after [Open] succeeded: the collector then holds the log's lock,
// so a socket file left there is a dead collector's and is replaced.
func ListenOwner(dataDir string) (net.Listener, error) {
	path := filepath.Join(dataDir, OwnerSocket)
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("owner socket: %w", err)
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("owner socket: %w", err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(true)
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("owner socket: %w", err)
	}
	return ln, nil
}

// OwnerHandler returns the owner socket's routes. Never serve it on a
// network address: it trusts whoever can connect.
func (s *Server) OwnerHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /owner/v1/withdraw", func(w http.ResponseWriter, r *http.Request) {
		var req OwnerWithdrawal
		dec := json.NewDecoder(io.LimitReader(r.Body, 16<<10))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]any{"error": "malformed request: " + err.Error(), "code": "bad_request"})
			return
		}
		res, err := s.RecordWithdrawal(r.Context(), req)
		var we *WithdrawalError
		switch {
		case errors.As(err, &we):
			status := http.StatusBadRequest
			if errors.Is(err, ErrNoSuchNumber) {
				status = http.StatusNotFound
			} else if errors.Is(err, ErrNothingInForce) || errors.Is(err, ErrNotInForce) {
				status = http.StatusConflict
			}
			writeJSON(w, status, map[string]any{"error": we.Err.Error(), "code": ownerErrorCode(err), "detail": we.Detail, "in_force": we.InForce})
		case err != nil:
			s.o.Logger.Error("owner withdrawal", "err", err)
			writeJSON(w, http.StatusServiceUnavailable, map[string]any{"error": err.Error(), "code": "unavailable"})
		default:
			writeJSON(w, http.StatusCreated, res)
		}
	})
	mux.HandleFunc("POST /owner/v1/erase", func(w http.ResponseWriter, r *http.Request) {
		var req OwnerErasure
		dec := json.NewDecoder(io.LimitReader(r.Body, 16<<10))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]any{"error": "malformed request: " + err.Error(), "code": "bad_request"})
			return
		}
		res, err := s.EraseNumber(r.Context(), req)
		switch {
		case errors.Is(err, ErrBadNumber):
			writeJSON(w, http.StatusBadRequest, map[string]any{"error": err.Error(), "code": "bad_number"})
		case errors.Is(err, ErrBadReason):
			writeJSON(w, http.StatusBadRequest, map[string]any{"error": err.Error(), "code": "bad_reason"})
		case errors.Is(err, ErrNothingToErase):
			writeJSON(w, http.StatusNotFound, map[string]any{"error": err.Error(), "code": "nothing_to_erase"})
		case err != nil:
			s.o.Logger.Error("owner erasure", "err", err)
			writeJSON(w, http.StatusServiceUnavailable, map[string]any{"error": err.Error(), "code": "unavailable"})
		default:
			writeJSON(w, http.StatusCreated, res)
		}
	})
	s.ownerRoutes(mux) // POST /owner/v1/owner (owner_events.go)
	return mux
}

// OwnerClient talks to a running collector through its owner socket.
type OwnerClient struct {
	c *http.Client
}

// DialOwner connects to the collector of dataDir. It returns
// [ErrNoCollector] when there is no socket or nobody listens on it (the
// collector is not running, or is older than the owner socket).
func DialOwner(dataDir string) (*OwnerClient, error) {
	path := filepath.Join(dataDir, OwnerSocket)
	conn, err := net.DialTimeout("unix", path, 2*time.Second)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ENOENT) {
			return nil, ErrNoCollector
		}
		return nil, fmt.Errorf("owner socket %s: %w", path, err)
	}
	conn.Close()
	tr := &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", path)
	}}
	return &OwnerClient{c: &http.Client{Transport: tr, Timeout: 2 * time.Minute}}, nil
}

// Withdraw asks the collector to record w (see [Server.RecordWithdrawal]);
// a refusal comes back as the same [*WithdrawalError].
func (c *OwnerClient) Withdraw(ctx context.Context, w OwnerWithdrawal) (*OwnerWithdrawn, error) {
	b, _ := json.Marshal(w)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://collector/owner/v1/withdraw", bytes.NewReader(b))
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
		var res OwnerWithdrawn
		if err := json.Unmarshal(body, &res); err != nil {
			return nil, fmt.Errorf("the collector's answer: %w", err)
		}
		return &res, nil
	}
	var e struct {
		Error, Code, Detail string
		InForce             []string `json:"in_force"`
	}
	if err := json.Unmarshal(body, &e); err != nil {
		return nil, fmt.Errorf("the collector answered %s", resp.Status)
	}
	if sentinel, ok := ownerErrors[e.Code]; ok {
		return nil, &WithdrawalError{Err: sentinel, Detail: e.Detail, InForce: e.InForce}
	}
	return nil, fmt.Errorf("the collector: %s", e.Error)
}

// Close releases the client's connections.
func (c *OwnerClient) Close() { c.c.CloseIdleConnections() }

// Erase asks the collector to erase a number (see [Server.EraseNumber]);
// a refusal comes back wrapping the same sentinel error.
func (c *OwnerClient) Erase(ctx context.Context, e OwnerErasure) (*OwnerErased, error) {
	b, _ := json.Marshal(e)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://collector/owner/v1/erase", bytes.NewReader(b))
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
		var res OwnerErased
		if err := json.Unmarshal(body, &res); err != nil {
			return nil, fmt.Errorf("the collector's answer: %w", err)
		}
		return &res, nil
	}
	var ans struct{ Error, Code string }
	if err := json.Unmarshal(body, &ans); err != nil {
		return nil, fmt.Errorf("the collector answered %s", resp.Status)
	}
	for code, sentinel := range map[string]error{"bad_number": ErrBadNumber, "bad_reason": ErrBadReason, "nothing_to_erase": ErrNothingToErase} {
		if ans.Code == code {
			return nil, fmt.Errorf("%w (%s)", sentinel, ans.Error)
		}
	}
	return nil, fmt.Errorf("the collector: %s", ans.Error)
}
