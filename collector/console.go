package collector

import (
	"crypto/ed25519"
	"log/slog"
	"net/http"
	"time"

	"github.com/chatconsent/chatconsent/collector/ledger"
	"github.com/chatconsent/chatconsent/internal/config"
	"github.com/chatconsent/chatconsent/internal/records"
	"github.com/chatconsent/chatconsent/internal/textarchive"
	"github.com/chatconsent/chatconsent/themes"
)

// What the owner console (package collector/console) reads of the
// collector; its state-changing actions are the owner operations
// ([Server.RecordWithdrawal], [Server.EraseNumber]) the owner socket
// calls too.

// mount is a handler added with [Server.Mount].
type mount struct {
	pattern string
	h       http.Handler
}

// Mount adds h under pattern (a net/http.ServeMux pattern, e.g.
// "/owner/") to the routes of [Server.Handler], inside its security
// headers and cross-origin check. Call it before Handler.
func (s *Server) Mount(pattern string, h http.Handler) {
	s.mounts = append(s.mounts, mount{pattern, h})
}

// Config is the configuration the collector runs with.
func (s *Server) Config() *config.Config { return s.o.Config }

// Paths are the collector's files.
func (s *Server) Paths() config.Paths { return s.o.Paths }

// Theme renders the collector's pages and holds their strings.
func (s *Server) Theme() *themes.Theme { return s.o.Theme }

// PublicURL is the collector's URL as browsers see it, ending in "/".
func (s *Server) PublicURL() string { return s.o.PublicURL }

// Logger is the collector's log (no personal data in it).
func (s *Server) Logger() *slog.Logger { return s.o.Logger }

// Now is the collector's clock.
func (s *Server) Now() time.Time { return s.o.Now() }

// ClientAddr is the address r came from, as the rate limits see it
// (collector.trusted_proxies' forwarded address, else the TCP peer).
func (s *Server) ClientAddr(r *http.Request) string {
	return clientAddr(r, s.o.Config.Collector.TrustedProxies).String()
}

// OwnerBook reads the whole log, opened from the private store, into a
// full [records.Book] (the collector's own book is an index without
// people), and the text archive's manifest: what `chatconsent status` and
// `list` show, for the console.
func (s *Server) OwnerBook() (*records.Book, *textarchive.Manifest, error) {
	var opener records.Opener
	if s.o.Private != nil {
		opener = s.o.Private
	}
	pub := s.o.Signer.Public().(ed25519.PublicKey)
	book, err := records.Read(ledger.FileSource(s.o.Paths.Log), s.o.Paths.Log, pub, opener, s.o.Config.PurposeIDs(), false)
	if err != nil {
		return nil, nil, err
	}
	m, err := textarchive.Open(s.o.Paths.Archive)
	if err != nil {
		return nil, nil, err
	}
	return book, m, nil
}
