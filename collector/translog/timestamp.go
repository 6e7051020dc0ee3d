package translog

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/big"
	"net/http"
	"os"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/digitorus/pkcs7"
	"github.com/digitorus/timestamp"
)

// Time-stamp files in the log folder (and under PUBLIC_URL/log/), for each
// checkpoint of size N that got an RFC 3161 time-stamp token:
//
//	timestamp/<N>.checkpoint  the checkpoint, verbatim (the signed note)
//	timestamp/<N>.tsr         the authority's TimeStampResp (DER), over
//	                          SHA-256 of exactly those bytes
//	timestamp/latest          "<N>\n": the newest N, written last
//
// N is decimal without leading zeros. The pair of one size is written once
// and never changed; "openssl ts -verify -in timestamp/N.tsr -data
// timestamp/N.checkpoint -CAfile roots.pem" checks it too.
const (
	TimestampDir    = "timestamp"
	TimestampLatest = TimestampDir + "/latest"
)

// TimestampPaths returns the names of the checkpoint and the token of size
// n, relative to the log's prefix.
func TimestampPaths(n uint64) (checkpoint, token string) {
	s := strconv.FormatUint(n, 10)
	return path.Join(TimestampDir, s+".checkpoint"), path.Join(TimestampDir, s+".tsr")
}

// TimestampAttachment is the receipt PDF's attachment holding the RFC 3161
// token (TimeStampResp, DER) over the checkpoint in the receipt's
// inclusion proof (translog.ProofAttachment).
const TimestampAttachment = "checkpoint.tsr"

// ErrBadTimestamp is wrapped by [VerifyTimestamp] errors.
var ErrBadTimestamp = errors.New("bad time-stamp token")

// Stamp is a verified RFC 3161 time-stamp token.
type Stamp struct {
	// Time is the authority's genTime: the data existed then.
	Time time.Time
	// Accuracy is the token's accuracy (0: not given).
	Accuracy time.Duration
	// TSA is the subject of the authority's certificate.
	TSA string
	// Policy is the authority's policy OID (dotted).
	Policy string
	// Qualified: the token says it is qualified (RFC 3739 qcStatements).
	Qualified bool
	// Size is the stamped checkpoint's size (set by [VerifyLog]).
	Size uint64
}

// ReadRoots reads a PEM file of root certificates (log.timestamp_roots).
func ReadRoots(file string) (*x509.CertPool, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("time-stamp roots: %w", err)
	}
	return ParseRoots(b, file)
}

// ParseRoots reads PEM CERTIFICATE blocks; name is for errors.
func ParseRoots(b []byte, name string) (*x509.CertPool, error) {
	pool := x509.NewCertPool()
	n := 0
	for {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			break
		}
		if blk.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%s: certificate %d: %v", name, n+1, err)
		}
		pool.AddCert(c)
		n++
	}
	if n == 0 {
		return nil, fmt.Errorf("%s: no PEM CERTIFICATE in it", name)
	}
	return pool, nil
}

// VerifyTimestamp checks an RFC 3161 TimeStampResp (as a TSA answers and
// "<N>.tsr" holds) offline: granted, its signature verifies with the
// certificate it carries, that certificate chains to one of roots at the
// stamped time and may stamp (extended key usage id-kp-timeStamping), and
// its message imprint is the hash of exactly data. Errors wrap
// [ErrBadTimestamp].
func VerifyTimestamp(tsr, data []byte, roots *x509.CertPool) (*Stamp, error) {
	if len(tsr) > 1<<20 {
		return nil, fmt.Errorf("%w: %d bytes, more than a token can be", ErrBadTimestamp, len(tsr))
	}
	ts, err := parseResponse(tsr)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadTimestamp, err)
	}
	var h crypto.Hash
	switch ts.HashAlgorithm {
	case crypto.SHA256, crypto.SHA384, crypto.SHA512:
		h = ts.HashAlgorithm
	default:
		return nil, fmt.Errorf("%w: message imprint uses %v; SHA-256, -384 or -512 wanted", ErrBadTimestamp, ts.HashAlgorithm)
	}
	d := h.New()
	d.Write(data)
	if !bytes.Equal(d.Sum(nil), ts.HashedMessage) {
		return nil, fmt.Errorf("%w: it is over other bytes than the checkpoint's", ErrBadTimestamp)
	}
	p7, err := parsePKCS7(ts.RawToken)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadTimestamp, err)
	}
	signer := p7.GetOnlySigner()
	if signer == nil {
		return nil, fmt.Errorf("%w: the token names no single signer certificate (ask the authority to include it: certReq)", ErrBadTimestamp)
	}
	inter := x509.NewCertPool()
	for _, c := range p7.Certificates {
		inter.AddCert(c)
	}
	if err := p7.VerifyWithOpts(x509.VerifyOptions{
		Roots: roots, Intermediates: inter, CurrentTime: ts.Time,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageTimeStamping},
	}); err != nil {
		return nil, fmt.Errorf("%w: %s is not a time-stamp authority of the roots given: %v", ErrBadTimestamp, signer.Subject, err)
	}
	return &Stamp{Time: ts.Time, Accuracy: ts.Accuracy, TSA: signer.Subject.String(),
		Policy: ts.Policy.String(), Qualified: ts.Qualified}, nil
}

// pkcs7Mu serializes parsing: github.com/digitorus/pkcs7's BER reader
// (ber.go) counts its nesting in a package variable, a data race between
// concurrent parses (harmless, but -race rightly reports it).
var pkcs7Mu sync.Mutex

// parseResponse parses a TimeStampResp without letting a malformed one
// panic in the libraries below.
func parseResponse(b []byte) (ts *timestamp.Timestamp, err error) {
	pkcs7Mu.Lock()
	defer pkcs7Mu.Unlock()
	defer func() {
		if r := recover(); r != nil {
			ts, err = nil, fmt.Errorf("malformed TimeStampResp (%v)", r)
		}
	}()
	return timestamp.ParseResponse(b)
}

// RequestTimestamp asks the RFC 3161 authority at url (HTTP POST,
// application/timestamp-query, RFC 3161 §3.4) for a token over SHA-256 of
// data, with a fresh nonce and its certificate in the answer, and checks
// the answer against roots ([VerifyTimestamp]) and the nonce. It returns the
// TimeStampResp as received (DER).
func RequestTimestamp(ctx context.Context, hc *http.Client, url string, data []byte, roots *x509.CertPool) ([]byte, *Stamp, error) {
	nonce, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 64))
	if err != nil {
		return nil, nil, err
	}
	sum := sha256.Sum256(data)
	req := &timestamp.Request{HashAlgorithm: crypto.SHA256, HashedMessage: sum[:], Certificates: true, Nonce: nonce}
	body, err := req.Marshal()
	if err != nil {
		return nil, nil, fmt.Errorf("time-stamp request: %w", err)
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, nil, fmt.Errorf("time-stamp request: %w", err)
	}
	hr.Header.Set("Content-Type", "application/timestamp-query")
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(hr)
	if err != nil {
		return nil, nil, fmt.Errorf("time-stamp authority: %w", err)
	}
	defer resp.Body.Close()
	tsr, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, nil, fmt.Errorf("time-stamp authority: read answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, nil, fmt.Errorf("time-stamp authority answered %s", resp.Status)
	}
	st, err := VerifyTimestamp(tsr, data, roots)
	if err != nil {
		return nil, nil, fmt.Errorf("time-stamp authority's answer: %w", err)
	}
	ts, _ := parseResponse(tsr)
	if ts.Nonce == nil || ts.Nonce.Cmp(nonce) != 0 {
		return nil, nil, fmt.Errorf("time-stamp authority's answer: %w: not the nonce asked with (a replayed answer?)", ErrBadTimestamp)
	}
	return tsr, st, nil
}

// ParseLatest reads "timestamp/latest": a decimal size without leading
// zeros and a newline.
func ParseLatest(b []byte) (uint64, error) {
	s, ok := strings.CutSuffix(string(b), "\n")
	n, err := strconv.ParseUint(s, 10, 64)
	if !ok || err != nil || strconv.FormatUint(n, 10) != s {
		return 0, fmt.Errorf("%s: want a checkpoint size (decimal, no leading zeros) and a newline, got %q", TimestampLatest, short(string(b)))
	}
	return n, nil
}

// FileSource is a [Source] that also reads the log's other published files
// (the time-stamp files) by their name relative to the log's prefix. A
// missing file is an error wrapping fs.ErrNotExist.
type FileSource interface {
	Source
	ReadFile(ctx context.Context, name string) ([]byte, error)
}

// ReadTimestamp reads the newest time-stamped checkpoint of src and its
// token. It returns fs.ErrNotExist (wrapped) if the log has none.
func ReadTimestamp(ctx context.Context, src Source) (size uint64, checkpoint, tsr []byte, err error) {
	fsrc, ok := src.(FileSource)
	if !ok {
		return 0, nil, nil, fmt.Errorf("this log source cannot read %s: %w", TimestampLatest, fs.ErrNotExist)
	}
	b, err := fsrc.ReadFile(ctx, TimestampLatest)
	if err != nil {
		return 0, nil, nil, fmt.Errorf("read %s: %w", TimestampLatest, err)
	}
	if size, err = ParseLatest(b); err != nil {
		return 0, nil, nil, err
	}
	cpName, tsrName := TimestampPaths(size)
	if checkpoint, err = fsrc.ReadFile(ctx, cpName); err != nil {
		return size, nil, nil, fmt.Errorf("read %s: %w", cpName, err)
	}
	if tsr, err = fsrc.ReadFile(ctx, tsrName); err != nil {
		return size, nil, nil, fmt.Errorf("read %s: %w", tsrName, err)
	}
	return size, checkpoint, tsr, nil
}

func parsePKCS7(b []byte) (p7 *pkcs7.PKCS7, err error) {
	pkcs7Mu.Lock()
	defer pkcs7Mu.Unlock()
	defer func() {
		if r := recover(); r != nil {
			p7, err = nil, fmt.Errorf("malformed token (%v)", r)
		}
	}()
	return pkcs7.Parse(b)
}
