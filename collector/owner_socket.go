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
// nothing listens on the network. It speaks HTTP, one route per owner
// operation, each a method of [Server] that a console can call as well:
//
//	POST /owner/v1/withdraw   an [OwnerWithdrawal] → 201 an [OwnerWithdrawn]  ([Server.RecordWithdrawal])
//	POST /owner/v1/erase      an [OwnerErasure]    → 201 an [OwnerErased]     ([Server.EraseNumber], GDPR Art. 17)
//	POST /owner/v1/resend     an [OwnerResend]     → 201 an [OwnerResent]     ([Server.ResendReceipt])
//	POST /owner/v1/retention  an [OwnerRetention]  → 201 an [OwnerRetained]   ([Server.RetentionNow], GDPR Art. 5(1)(e))
//
// A refusal is 4xx {"error": "...", "code": "...", "detail": "...",
// "in_force": [...]} (detail and in_force for a withdrawal), with the
// codes of [ownerRefusals]; anything else 503 {"error", "code":
// "unavailable"}. [OwnerClient] turns a refusal back into the same
// sentinel error.

// OwnerSocket is the owner socket's name inside the data directory.
const OwnerSocket = "owner.sock"

// ErrNoCollector is returned by [DialOwner] when no collector answers on
// the data directory's owner socket.
var ErrNoCollector = errors.New("no collector answers on the owner socket")

// ownerRefusals are the refusals of the owner operations: the wire code
// and HTTP status of each sentinel error.
var ownerRefusals = []struct {
	code   string
	err    error
	status int
}{
	{"no_such_number", ErrNoSuchNumber, http.StatusNotFound},
	{"nothing_in_force", ErrNothingInForce, http.StatusConflict},
	{"not_in_force", ErrNotInForce, http.StatusConflict},
	{"unknown_purpose", ErrUnknownPurpose, http.StatusBadRequest},
	{"purpose_missing", ErrPurposeMissing, http.StatusBadRequest},
	{"bad_channel", ErrBadChannel, http.StatusBadRequest},
	{"bad_number", ErrBadNumber, http.StatusBadRequest},
	{"bad_owner", ErrBadOwner, http.StatusBadRequest},
	{"bad_note", ErrBadNote, http.StatusBadRequest},
	{"bad_reason", ErrBadReason, http.StatusBadRequest},
	{"nothing_to_erase", ErrNothingToErase, http.StatusNotFound},
	{"bad_record_id", ErrBadRecordID, http.StatusBadRequest},
	{"no_such_record", ErrNoSuchRecord, http.StatusNotFound},
	{"no_receipt", ErrNoReceipt, http.StatusConflict},
	{"erased", ErrErased, http.StatusGone},
}

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
	mux.Handle("POST /owner/v1/withdraw", ownerRoute(s, "owner withdrawal", s.RecordWithdrawal))
	mux.Handle("POST /owner/v1/erase", ownerRoute(s, "owner erasure", s.EraseNumber))
	mux.Handle("POST /owner/v1/resend", ownerRoute(s, "owner receipt resend", s.ResendReceipt))
	mux.Handle("POST /owner/v1/retention", ownerRoute(s, "owner retention", s.RetentionNow))
	s.ownerRoutes(mux) // POST /owner/v1/owner (owner_events.go)
	return mux
}

// ownerRoute is the one handler of every owner operation: the request as
// strict JSON (16 KiB at most), op, then 201 with its result or the
// refusal (see [ownerRefusals]). what names the operation in the
// collector's log, which gets the error only (no request data).
func ownerRoute[Req, Res any](s *Server, what string, op func(context.Context, Req) (*Res, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req Req
		dec := json.NewDecoder(io.LimitReader(r.Body, 16<<10))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]any{"error": "malformed request: " + err.Error(), "code": "bad_request"})
			return
		}
		res, err := op(r.Context(), req)
		if err == nil {
			writeJSON(w, http.StatusCreated, res)
			return
		}
		body := map[string]any{"error": err.Error(), "code": "unavailable"}
		status := http.StatusServiceUnavailable
		for _, rf := range ownerRefusals {
			if errors.Is(err, rf.err) {
				body["code"], status = rf.code, rf.status
				break
			}
		}
		var we *WithdrawalError
		if errors.As(err, &we) {
			body["error"], body["detail"], body["in_force"] = we.Err.Error(), we.Detail, we.InForce
		}
		if status == http.StatusServiceUnavailable {
			s.o.Logger.Error(what, "err", err)
		}
		writeJSON(w, status, body)
	})
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

// Close releases the client's connections.
func (c *OwnerClient) Close() { c.c.CloseIdleConnections() }

// Withdraw asks the collector to record w (see [Server.RecordWithdrawal]);
// a refusal comes back as the same [*WithdrawalError].
func (c *OwnerClient) Withdraw(ctx context.Context, w OwnerWithdrawal) (*OwnerWithdrawn, error) {
	var res OwnerWithdrawn
	err := c.call(ctx, "withdraw", w, &res)
	var re *ownerRefusal
	if errors.As(err, &re) {
		return nil, &WithdrawalError{Err: re.sentinel, Detail: re.Detail, InForce: re.InForce}
	}
	if err != nil {
		return nil, err
	}
	return &res, nil
}

// Erase asks the collector to erase a number (see [Server.EraseNumber]);
// a refusal comes back wrapping the same sentinel error.
func (c *OwnerClient) Erase(ctx context.Context, e OwnerErasure) (*OwnerErased, error) {
	var res OwnerErased
	if err := c.call(ctx, "erase", e, &res); err != nil {
		return nil, err
	}
	return &res, nil
}

// Retention asks the collector to erase everyone due now (see
// [Server.RetentionNow]).
func (c *OwnerClient) Retention(ctx context.Context, r OwnerRetention) (*OwnerRetained, error) {
	var res OwnerRetained
	if err := c.call(ctx, "retention", r, &res); err != nil {
		return nil, err
	}
	return &res, nil
}

// ResendReceipt asks the collector to send a receipt again (see
// [Server.ResendReceipt]); a refusal comes back wrapping the same
// sentinel error.
func (c *OwnerClient) ResendReceipt(ctx context.Context, r OwnerResend) (*OwnerResent, error) {
	var res OwnerResent
	if err := c.call(ctx, "resend", r, &res); err != nil {
		return nil, err
	}
	return &res, nil
}

// ownerRefusal is a refusal that came back over the owner socket: the
// collector's message, wrapping the sentinel error its code names.
type ownerRefusal struct {
	Msg      string   `json:"error"`
	Code     string   `json:"code"`
	Detail   string   `json:"detail"`
	InForce  []string `json:"in_force"`
	sentinel error
}

func (e *ownerRefusal) Error() string { return e.Msg }
func (e *ownerRefusal) Unwrap() error { return e.sentinel }

// call posts req as JSON to /owner/v1/OP and decodes a 201's body into
// res; a refusal is an [*ownerRefusal], anything else an error saying
// what the collector answered.
func (c *OwnerClient) call(ctx context.Context, op string, req, res any) error {
	b, err := json.Marshal(req)
	if err != nil {
		return err
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://collector/owner/v1/"+op, bytes.NewReader(b))
	if err != nil {
		return err
	}
	hr.Header.Set("Content-Type", "application/json")
	resp, err := c.c.Do(hr)
	if err != nil {
		return fmt.Errorf("ask the collector: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("ask the collector: %w", err)
	}
	if resp.StatusCode == http.StatusCreated {
		if err := json.Unmarshal(body, res); err != nil {
			return fmt.Errorf("the collector's answer: %w", err)
		}
		return nil
	}
	var re ownerRefusal
	if err := json.Unmarshal(body, &re); err != nil {
		return fmt.Errorf("the collector answered %s", resp.Status)
	}
	for _, rf := range ownerRefusals {
		if rf.code == re.Code {
			re.sentinel = rf.err
			return &re
		}
	}
	return fmt.Errorf("the collector: %s", re.Msg)
}
