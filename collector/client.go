package collector

import (
	"math"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/text/language"
	"golang.org/x/time/rate"

	"github.com/chatconsent/chatconsent/internal/config"
)

// clientAddr returns the address of the client that made r: the TCP peer,
// or, when the peer is one of the trusted proxies, the right-most address
// in X-Forwarded-For that is not itself a trusted proxy (entries left of
// it could be forged by the client). An unparsable header is ignored.
func clientAddr(r *http.Request, trusted []netip.Prefix) netip.Addr {
	peer, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		// httptest and unix sockets: best effort.
		h, _, _ := net.SplitHostPort(r.RemoteAddr)
		a, _ := netip.ParseAddr(h)
		return a.Unmap()
	}
	addr := peer.Addr().Unmap()
	isTrusted := func(a netip.Addr) bool {
		return slices.ContainsFunc(trusted, func(p netip.Prefix) bool { return p.Contains(a) })
	}
	if !isTrusted(addr) {
		return addr
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			return addr // a malformed hop: believe nothing left of it
		}
		addr = a.Unmap()
		if !isTrusted(addr) {
			return addr
		}
	}
	return addr
}

// storedIP returns what the record keeps of addr under mode (see
// config.StoreIP…): "", the network ("203.0.113.0/24", "2001:db8:1::/48")
// or the whole address.
func storedIP(addr netip.Addr, mode string) string {
	if !addr.IsValid() {
		return ""
	}
	switch mode {
	case config.StoreIPFull:
		return addr.String()
	case config.StoreIPTruncated:
		bits := 48
		if addr.Is4() {
			bits = 24
		}
		p, _ := addr.Prefix(bits)
		return p.String()
	}
	return ""
}

// maxUserAgent bounds a stored User-Agent header, in runes.
const maxUserAgent = 256

// cleanUserAgent makes a User-Agent header safe to store: valid UTF-8,
// control and bidi characters replaced by "?", at most [maxUserAgent] runes.
func cleanUserAgent(s string) string {
	s = strings.ToValidUTF8(s, "?")
	var b strings.Builder
	n := 0
	for _, r := range s {
		if n == maxUserAgent {
			break
		}
		if unsafeRune(r) {
			r = '?'
		}
		b.WriteRune(r)
		n++
	}
	return b.String()
}

// clientLang picks the language for an answer: the request's lang field
// if the site has it, else the best match in Accept-Language, else the
// site's default.
func (s *Server) clientLang(r *http.Request, req *Request) string {
	langs := s.o.Config.Site.Languages
	if req != nil && slices.Contains(langs, req.Lang) {
		return req.Lang
	}
	tags, _, _ := language.ParseAcceptLanguage(r.Header.Get("Accept-Language"))
	for _, t := range tags {
		base, _ := t.Base()
		if slices.Contains(langs, base.String()) {
			return base.String()
		}
	}
	return s.o.Config.Site.DefaultLanguage
}

// maxClients bounds the rate limiter's table. When a sweep cannot bring it
// under the bound (a flood from very many addresses), the table is reset:
// memory stays bounded, at the price of fresh bursts for everyone.
const maxClients = 1 << 16

// clientLimiter is a token bucket per client address (golang.org/x/time/rate).
// IPv6 clients are keyed by their /64, the block a single host usually has.
type clientLimiter struct {
	limit rate.Limit
	burst int

	mu        sync.Mutex
	clients   map[netip.Addr]*rate.Limiter
	lastSweep time.Time
}

// newClientLimiter returns nil (no limit) when perMinute is 0.
func newClientLimiter(perMinute, burst int) *clientLimiter {
	if perMinute <= 0 {
		return nil
	}
	return &clientLimiter{
		limit: rate.Limit(float64(perMinute) / 60), burst: max(burst, 1),
		clients: map[netip.Addr]*rate.Limiter{},
	}
}

// allow takes one token for addr at now. If none is left it returns false
// and how long until one is.
func (c *clientLimiter) allow(addr netip.Addr, now time.Time) (bool, time.Duration) {
	if c == nil {
		return true, 0
	}
	if addr.Is6() {
		p, _ := addr.Prefix(64)
		addr = p.Addr()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if now.Sub(c.lastSweep) > time.Minute || len(c.clients) >= maxClients {
		c.sweep(now)
	}
	l, ok := c.clients[addr]
	if !ok {
		l = rate.NewLimiter(c.limit, c.burst)
		c.clients[addr] = l
	}
	res := l.ReserveN(now, 1)
	if d := res.DelayFrom(now); d > 0 {
		res.CancelAt(now)
		return false, d
	}
	return true, 0
}

// sweep forgets clients whose bucket has refilled: they are no different
// from a client never seen.
func (c *clientLimiter) sweep(now time.Time) {
	c.lastSweep = now
	for a, l := range c.clients {
		if l.TokensAt(now) >= float64(c.burst) {
			delete(c.clients, a)
		}
	}
	if len(c.clients) >= maxClients {
		clear(c.clients)
	}
}

// retryAfter formats d as whole seconds, rounded up (RFC 9110 §10.2.3).
func retryAfter(d time.Duration) string {
	return strconv.Itoa(int(math.Ceil(d.Seconds())))
}
