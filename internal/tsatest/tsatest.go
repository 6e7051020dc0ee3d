// Package tsatest runs an RFC 3161 time-stamp authority on loopback for
// tests: a throw-away root CA, a TSA certificate it issued (extended key
// usage id-kp-timeStamping, critical, as RFC 3161 §2.3 demands), and an HTTP
// handler answering application/timestamp-query with a signed
// application/timestamp-reply made by github.com/digitorus/timestamp.
//
// It is for tests only: nothing of chatconsent's production code imports
// it.
package tsatest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/digitorus/timestamp"
)

// Policy is the TSA policy OID the test authority stamps under (a private
// arc: 1.3.6.1.4.1.55555 is not assigned to anyone real).
var Policy = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 55555, 1}

// TSA is a running test time-stamp authority.
type TSA struct {
	// URL is the authority's address (http://127.0.0.1:PORT/).
	URL string
	// Root is the root certificate the TSA's certificate chains to;
	// RootsPEM is it PEM-encoded, RootsFile a file holding RootsPEM.
	Root      *x509.Certificate
	RootsPEM  []byte
	RootsFile string

	cert *x509.Certificate
	key  crypto.Signer
	srv  *httptest.Server

	// Down makes the authority answer 503 while set.
	Down atomic.Bool
	// Requests counts the requests answered with a token.
	Requests atomic.Int64

	mu sync.Mutex
	// Now is the time stamped (default time.Now).
	now func() time.Time
}

// Start runs a TSA on 127.0.0.1 until the test ends.
func Start(t testing.TB) *TSA {
	t.Helper()
	a := New(t)
	a.srv = httptest.NewServer(http.HandlerFunc(a.serve))
	a.URL = a.srv.URL + "/"
	t.Cleanup(a.srv.Close)
	return a
}

// New makes the authority's keys and certificates without serving it.
func New(t testing.TB) *TSA {
	t.Helper()
	rootKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	rootTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "chatconsent test TSA root"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	rootDER, err := x509.CreateCertificate(rand.Reader, rootTmpl, rootTmpl, rootKey.Public(), rootKey)
	if err != nil {
		t.Fatal(err)
	}
	root, _ := x509.ParseCertificate(rootDER)
	tsaKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tsaTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "chatconsent test TSA"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageTimeStamping},
	}
	tsaDER, err := x509.CreateCertificate(rand.Reader, tsaTmpl, root, tsaKey.Public(), rootKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(tsaDER)
	// Go marks the extended key usage non-critical; RFC 3161 wants it
	// critical, but verifiers (ours too) accept either.
	a := &TSA{Root: root, cert: cert, key: tsaKey, now: time.Now}
	a.RootsPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: rootDER})
	a.RootsFile = filepath.Join(t.TempDir(), "tsa-roots.pem")
	if err := os.WriteFile(a.RootsFile, a.RootsPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	return a
}

// SetNow fixes the time the authority stamps.
func (a *TSA) SetNow(f func() time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.now = f
}

func (a *TSA) serve(w http.ResponseWriter, r *http.Request) {
	if a.Down.Load() {
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	}
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/timestamp-query" {
		http.Error(w, "POST application/timestamp-query", http.StatusBadRequest)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<16))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	req, err := timestamp.ParseRequest(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	resp, err := a.Respond(req.HashAlgorithm, req.HashedMessage, req.Nonce)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	a.Requests.Add(1)
	w.Header().Set("Content-Type", "application/timestamp-reply")
	w.Write(resp)
}

// Respond makes a granted TimeStampResp (DER) over the digest, with the
// TSA's certificate in it.
func (a *TSA) Respond(h crypto.Hash, digest []byte, nonce *big.Int) ([]byte, error) {
	a.mu.Lock()
	now := a.now()
	a.mu.Unlock()
	ts := timestamp.Timestamp{
		HashAlgorithm:     h,
		HashedMessage:     digest,
		Time:              now.UTC().Truncate(time.Second),
		Accuracy:          time.Second,
		Policy:            Policy,
		Nonce:             nonce,
		AddTSACertificate: true,
	}
	return ts.CreateResponseWithOpts(a.cert, a.key, crypto.SHA256)
}

// Stamp makes a token over data (SHA-256), as the authority would answer
// a request for it.
func (a *TSA) Stamp(data []byte) ([]byte, error) {
	sum := crypto.SHA256.New()
	sum.Write(data)
	return a.Respond(crypto.SHA256, sum.Sum(nil), nil)
}
