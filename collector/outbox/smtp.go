package outbox

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"time"

	"github.com/wneessen/go-mail"
)

// SMTPConfig says how to reach the mail server.
type SMTPConfig struct {
	Host string
	Port int
	// Security is "starttls" (STARTTLS required, RFC 3207), "tls"
	// (implicit TLS, RFC 8314) or "none" (plain, for a loopback relay).
	Security string
	// User and Password authenticate (SMTP AUTH: the best mechanism the
	// server offers over TLS, PLAIN with "none"); no authentication if
	// User is "".
	User, Password string
	// Timeout bounds connecting and each command; default 30 s.
	Timeout time.Duration
	// TLSConfig, if not nil, replaces the default (verify the server's
	// certificate for Host).
	TLSConfig *tls.Config
}

// SMTP sends mails with github.com/wneessen/go-mail, one connection per
// mail. It implements [Sender].
type SMTP struct {
	c SMTPConfig
}

// NewSMTP checks c and returns a sender. It does not connect.
func NewSMTP(c SMTPConfig) (*SMTP, error) {
	switch c.Security {
	case "starttls", "tls", "none":
	default:
		return nil, fmt.Errorf("outbox: smtp security %q: want starttls, tls or none", c.Security)
	}
	if c.Host == "" || c.Port <= 0 {
		return nil, fmt.Errorf("outbox: smtp host and port are required")
	}
	if c.Timeout <= 0 {
		c.Timeout = 30 * time.Second
	}
	return &SMTP{c: c}, nil
}

// Send delivers m. A 5xx reply is wrapped in [ErrPermanent]; everything
// else (no connection, TLS failure, 4xx) is temporary.
func (s *SMTP) Send(ctx context.Context, m *Mail) error {
	msg, err := Message(m)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrPermanent, err)
	}
	opts := []mail.Option{mail.WithPort(s.c.Port), mail.WithTimeout(s.c.Timeout)}
	switch s.c.Security {
	case "starttls":
		opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory))
	case "tls":
		opts = append(opts, mail.WithSSL())
	case "none":
		opts = append(opts, mail.WithTLSPolicy(mail.NoTLS))
	}
	if s.c.TLSConfig != nil {
		opts = append(opts, mail.WithTLSConfig(s.c.TLSConfig))
	}
	if s.c.User != "" {
		// Over TLS the best mechanism the server offers; go-mail offers
		// only challenge-response ones without TLS, so on a plain
		// loopback connection (the only place "none" is allowed) PLAIN.
		auth := mail.SMTPAuthAutoDiscover
		if s.c.Security == "none" {
			auth = mail.SMTPAuthPlainNoEnc
		}
		opts = append(opts, mail.WithSMTPAuth(auth), mail.WithUsername(s.c.User), mail.WithPassword(s.c.Password))
	}
	client, err := mail.NewClient(s.c.Host, opts...)
	if err != nil {
		return fmt.Errorf("smtp client: %w", err)
	}
	if err := client.DialAndSendWithContext(ctx, msg); err != nil {
		var se *mail.SendError
		if errors.As(err, &se) && se.ErrorCode() >= 500 && se.ErrorCode() < 600 {
			return fmt.Errorf("%w: %v", ErrPermanent, err)
		}
		return fmt.Errorf("smtp %s:%d: %w", s.c.Host, s.c.Port, err)
	}
	return nil
}

// Message builds the go-mail message for m: the same headers on every
// call (Message-ID, Date), a plain-text UTF-8 body and the attachment.
func Message(m *Mail) (*mail.Msg, error) {
	msg := mail.NewMsg()
	if err := msg.From(m.From); err != nil {
		return nil, fmt.Errorf("from %q: %w", m.From, err)
	}
	if err := msg.To(m.To...); err != nil {
		return nil, fmt.Errorf("to %q: %w", m.To, err)
	}
	msg.Subject(m.Subject)
	msg.SetMessageIDWithValue(m.MessageID)
	msg.SetDateWithValue(m.Date)
	msg.SetBodyString(mail.TypeTextPlain, m.Text)
	if len(m.Attachment) > 0 {
		if err := msg.AttachReader(m.AttachmentName, bytes.NewReader(m.Attachment)); err != nil {
			return nil, fmt.Errorf("attach %s: %w", m.AttachmentName, err)
		}
	}
	return msg, nil
}
