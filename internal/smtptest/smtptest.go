// Package smtptest runs a real SMTP server (github.com/emersion/go-smtp)
// on loopback for tests, and keeps what it receives. Only tests import it:
// go-smtp is not part of the chatconsent binary.
package smtptest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"io"
	"math/big"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Message is one message as the server received it.
type Message struct {
	From string   // envelope sender (MAIL FROM)
	To   []string // envelope recipients (RCPT TO)
	Data []byte   // the message as sent (RFC 5322)
	User string   // the authenticated user, if any
}

// Server is an SMTP server on 127.0.0.1.
type Server struct {
	Addr string // host:port it listens on

	mu     sync.Mutex
	msgs   []Message
	reject map[string]bool
	users  map[string]string
	srv    *smtp.Server
}

// Start serves SMTP on addr ("127.0.0.1:0" for any free port) until the
// test ends. If the address is still taken by an earlier listener, it
// retries for a second.
func Start(t testing.TB, addr string) *Server {
	t.Helper()
	return start(t, addr, nil, false)
}

// StartTLS is Start with a fresh self-signed certificate for 127.0.0.1 and
// localhost: with implicit false the server offers STARTTLS (RFC 3207),
// with implicit true it speaks TLS from the first byte (RFC 8314). AUTH is
// offered only over TLS. roots trusts the certificate.
func StartTLS(t testing.TB, addr string, implicit bool) (s *Server, roots *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "chatconsent test SMTP"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	roots = x509.NewCertPool()
	roots.AddCert(cert)
	cfg := &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}, MinVersion: tls.VersionTLS12}
	return start(t, addr, cfg, implicit), roots
}

func start(t testing.TB, addr string, tlsConfig *tls.Config, implicit bool) *Server {
	t.Helper()
	s := &Server{reject: map[string]bool{}, users: map[string]string{}}
	s.srv = smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &session{s: s}, nil }))
	s.srv.Domain = "localhost"
	s.srv.AllowInsecureAuth = tlsConfig == nil // plain: loopback only
	s.srv.TLSConfig = tlsConfig
	s.srv.ReadTimeout = 10 * time.Second
	s.srv.WriteTimeout = 10 * time.Second
	var ln net.Listener
	var err error
	for range 50 {
		if ln, err = net.Listen("tcp", addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	s.Addr = ln.Addr().String()
	if implicit {
		ln = tls.NewListener(ln, tlsConfig)
	}
	go s.srv.Serve(ln)
	t.Cleanup(func() { s.srv.Close() })
	return s
}

// Reject makes the server refuse rcpt with 550.
func (s *Server) Reject(rcpt string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reject[rcpt] = true
}

// RequireAuth makes the server accept mail only after AUTH PLAIN with
// user and password.
func (s *Server) RequireAuth(user, password string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users[user] = password
}

// Messages returns what the server received so far.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.msgs)
}

type session struct {
	s    *Server
	user string
	from string
	to   []string
}

func (ss *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (ss *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		ss.s.mu.Lock()
		defer ss.s.mu.Unlock()
		if want, ok := ss.s.users[user]; !ok || want != pass {
			return errors.New("invalid credentials")
		}
		ss.user = user
		return nil
	}), nil
}

func (ss *session) Reset()        { ss.from, ss.to = "", nil }
func (ss *session) Logout() error { return nil }

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	ss.s.mu.Lock()
	needAuth := len(ss.s.users) > 0
	ss.s.mu.Unlock()
	if needAuth && ss.user == "" {
		return smtp.ErrAuthRequired
	}
	ss.from = from
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.s.mu.Lock()
	defer ss.s.mu.Unlock()
	if ss.s.reject[to] {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
	}
	ss.to = append(ss.to, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	ss.s.mu.Lock()
	ss.s.msgs = append(ss.s.msgs, Message{From: ss.from, To: slices.Clone(ss.to), Data: b, User: ss.user})
	ss.s.mu.Unlock()
	return nil
}

// Parsed is a received message taken apart.
type Parsed struct {
	Header         mail.Header
	Subject        string // decoded (RFC 2047)
	Text           string // the text/plain part, decoded
	AttachmentName string
	Attachment     []byte // decoded
}

// Parse takes a received multipart message apart: headers, the decoded
// text part and the (one) attachment.
func Parse(data []byte) (*Parsed, error) {
	msg, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	p := &Parsed{Header: msg.Header}
	p.Subject, _ = new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		return nil, err
	}
	if mt != "multipart/mixed" {
		body, err := io.ReadAll(msg.Body)
		if err != nil {
			return nil, err
		}
		p.Text, err = decode(msg.Header.Get("Content-Transfer-Encoding"), body)
		return p, err
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			return p, nil
		}
		if err != nil {
			return nil, err
		}
		raw, err := io.ReadAll(part) // quoted-printable is decoded by NextPart
		if err != nil {
			return nil, err
		}
		body, err := decode(part.Header.Get("Content-Transfer-Encoding"), raw)
		if err != nil {
			return nil, err
		}
		if part.FileName() != "" {
			p.AttachmentName, p.Attachment = part.FileName(), []byte(body)
		} else {
			p.Text = body
		}
	}
}

func decode(cte string, b []byte) (string, error) {
	switch strings.ToLower(cte) {
	case "base64":
		out, err := base64.StdEncoding.DecodeString(string(bytes.Join(bytes.Fields(b), nil)))
		return string(out), err
	case "quoted-printable": // a single-part message (NextPart decodes a part's)
		out, err := io.ReadAll(quotedprintable.NewReader(bytes.NewReader(b)))
		return string(out), err
	}
	return string(b), nil
}
