package config

import (
	"net/netip"
	"net/url"
	"slices"
	"strings"
)

// What the collector stores about the client's address ([Limits.StoreIP]).
const (
	// StoreIPNone keeps no address (the default: data minimisation, GDPR
	// Art. 5(1)(c)).
	StoreIPNone = "none"
	// StoreIPTruncated keeps the network part only: IPv4 /24, IPv6 /48.
	StoreIPTruncated = "truncated"
	// StoreIPFull keeps the whole address.
	StoreIPFull = "full"
)

// Limits are the collector's defences on the open internet and what it
// keeps of the client besides the decision.
type Limits struct {
	// RatePerMinute is how many decisions one client address may post per
	// minute (a token bucket, golang.org/x/time/rate); 0 switches the limit
	// off (load tests). Default 60.
	RatePerMinute int
	// RateBurst is how many posts a client may make at once before the
	// rate applies. Default 20.
	RateBurst int
	// AllowedOrigins are the web origins ("https://example.org", no path)
	// whose pages may post to the collector: the form's cross-origin POST
	// and a JSON fetch (CORS). Default: the origin of site.base_url.
	AllowedOrigins []string
	// TrustedProxies are the networks of reverse proxies (Caddy, nginx)
	// whose X-Forwarded-For header is believed. Empty: the TCP peer is the
	// client.
	TrustedProxies []netip.Prefix
	// StoreIP is [StoreIPNone], [StoreIPTruncated] or [StoreIPFull].
	StoreIP string
	// StoreUserAgent keeps the browser's User-Agent header in the record.
	StoreUserAgent bool
}

// limitsFile mirrors the keys of [Limits] in [collector]; pointers tell a
// missing key from a zero.
type limitsFile struct {
	RatePerMinute  *int     `toml:"rate_per_minute"`
	RateBurst      *int     `toml:"rate_burst"`
	AllowedOrigins []string `toml:"allowed_origins"`
	TrustedProxies []string `toml:"trusted_proxies"`
	StoreIP        string   `toml:"store_ip"`
	StoreUserAgent bool     `toml:"store_user_agent"`
}

func parseLimits(bad func(key, format string, args ...any), f limitsFile, baseURL string) Limits {
	l := Limits{RatePerMinute: 60, RateBurst: 20, StoreIP: f.StoreIP, StoreUserAgent: f.StoreUserAgent}
	if f.RatePerMinute != nil {
		l.RatePerMinute = *f.RatePerMinute
		if l.RatePerMinute < 0 {
			bad("collector.rate_per_minute", "%d is negative (0 switches the limit off)", l.RatePerMinute)
		}
	}
	if f.RateBurst != nil {
		l.RateBurst = *f.RateBurst
		if l.RateBurst < 1 {
			bad("collector.rate_burst", "must be at least 1, not %d", l.RateBurst)
		}
	}
	if f.AllowedOrigins == nil {
		if o, ok := Origin(baseURL); ok {
			l.AllowedOrigins = []string{o}
		}
	}
	for _, s := range f.AllowedOrigins {
		o, ok := Origin(s)
		if !ok || !isOrigin(s) {
			bad("collector.allowed_origins", "%q is not an origin like \"https://example.org\" (scheme and host, no path)", s)
			continue
		}
		if !slices.Contains(l.AllowedOrigins, o) {
			l.AllowedOrigins = append(l.AllowedOrigins, o)
		}
	}
	for _, s := range f.TrustedProxies {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			a, aerr := netip.ParseAddr(s)
			if aerr != nil {
				bad("collector.trusted_proxies", "%q is not an IP address or CIDR network like \"10.0.0.0/8\"", s)
				continue
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		l.TrustedProxies = append(l.TrustedProxies, p.Masked())
	}
	switch l.StoreIP {
	case "":
		l.StoreIP = StoreIPNone
	case StoreIPNone, StoreIPTruncated, StoreIPFull:
	default:
		bad("collector.store_ip", "%q must be \"none\", \"truncated\" or \"full\"", l.StoreIP)
	}
	return l
}

// Origin returns the web origin (RFC 6454) of an absolute http(s) URL in
// the form browsers send in the Origin header: "scheme://host[:port]",
// lower case, without a default port. The URL's path is ignored.
func Origin(s string) (string, bool) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" || u.User != nil {
		return "", false
	}
	host := strings.ToLower(u.Hostname())
	port := u.Port()
	if (u.Scheme == "http" && port == "80") || (u.Scheme == "https" && port == "443") {
		port = ""
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	o := u.Scheme + "://" + host
	if port != "" {
		o += ":" + port
	}
	return o, true
}

// isOrigin reports whether s is a bare origin: no path beyond "/", no
// query or fragment.
func isOrigin(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Path == "" || u.Path == "/") && u.RawQuery == "" && u.Fragment == "" && !u.ForceQuery
}
