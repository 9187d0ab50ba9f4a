// Package origin works out what a browser sees of a request behind any
// proxies: the app's external base URL (believing X-Forwarded-* and
// Forwarded only from trusted proxies) and whether it is https, and it
// checks the return paths that sign-in sends a browser back to.
package origin

import (
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
)

// Trust says whose word about the external URL is believed.
type Trust struct {
	// PublicBase, when set, is the external URL, whatever the request
	// says. Its Path has no trailing slash.
	PublicBase *url.URL
	// Proxies are the peers whose forwarded headers are believed.
	Proxies []netip.Prefix
}

// BaseURL is the app's external URL as the browser sees it (scheme, host
// and any path prefix a proxy strips), without a trailing slash.
//
// A configured PublicBaseURL wins. Otherwise the standard Forwarded
// header, or else X-Forwarded-Proto, -Host and -Prefix, are believed only
// when the request comes straight from a configured trusted proxy; from
// anyone else they are ignored, since a client can send them too. One
// source decides: when Forwarded is present the X-Forwarded-* headers are
// ignored, so a proxy that sets Forwarded but passes a client's
// X-Forwarded-Host through cannot be played against itself. Where a header
// holds a list, the last entry is the one the trusted proxy added.
func (s *Trust) BaseURL(r *http.Request) *url.URL {
	if s.PublicBase != nil {
		u := *s.PublicBase
		return &u
	}
	u := &url.URL{Scheme: "http", Host: r.Host}
	if r.TLS != nil {
		u.Scheme = "https"
	}
	if !s.FromTrustedProxy(r) {
		return u
	}
	var proto, host, prefix string
	if f := r.Header.Values("Forwarded"); len(f) > 0 {
		proto, host = parseForwarded(f)
	} else {
		proto = lastListValue(r.Header.Values("X-Forwarded-Proto"))
		host = lastListValue(r.Header.Values("X-Forwarded-Host"))
		prefix = lastListValue(r.Header.Values("X-Forwarded-Prefix"))
	}
	if p := strings.ToLower(proto); p == "http" || p == "https" {
		u.Scheme = p
	}
	if ValidHost(host) {
		u.Host = host
	}
	if validPrefix(prefix) {
		u.Path = strings.TrimSuffix(prefix, "/")
	}
	return u
}

// HostTrustedAsIs reports whether the base URL comes from the request's
// own Host header: nothing configured says what it should be.
func (s *Trust) HostTrustedAsIs() bool { return s.PublicBase == nil && len(s.Proxies) == 0 }

// ValidRequestHost reports whether the Host header that BaseURL may use
// is a valid host[:port]. With a PublicBase it is never used.
func (s *Trust) ValidRequestHost(r *http.Request) bool {
	return s.PublicBase != nil || ValidHost(r.Host)
}

// Secure reports whether the browser reached the app over https. It is
// asked on every request, so it reads only the scheme.
func (s *Trust) Secure(r *http.Request) bool {
	if s.PublicBase != nil {
		return s.PublicBase.Scheme == "https"
	}
	if s.FromTrustedProxy(r) {
		return s.BaseURL(r).Scheme == "https"
	}
	return r.TLS != nil
}

// FromTrustedProxy reports whether the request's peer is a trusted proxy.
func (s *Trust) FromTrustedProxy(r *http.Request) bool {
	if len(s.Proxies) == 0 {
		return false
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return false
	}
	a = a.Unmap()
	for _, p := range s.Proxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

func lastListValue(vals []string) string {
	if len(vals) == 0 {
		return ""
	}
	parts := strings.Split(vals[len(vals)-1], ",")
	return strings.TrimSpace(parts[len(parts)-1])
}

// parseForwarded reads proto and host from the last element of an RFC
// 7239 Forwarded header.
func parseForwarded(vals []string) (proto, host string) {
	elems := strings.Split(vals[len(vals)-1], ",")
	for _, pair := range strings.Split(elems[len(elems)-1], ";") {
		k, v, ok := strings.Cut(strings.TrimSpace(pair), "=")
		if !ok {
			continue
		}
		v = strings.Trim(strings.TrimSpace(v), `"`)
		switch strings.ToLower(k) {
		case "proto":
			proto = v
		case "host":
			host = v
		}
	}
	return proto, host
}

// ValidHost accepts host or host:port with a DNS name or an IP literal.
func ValidHost(h string) bool {
	if h == "" || len(h) > 255 {
		return false
	}
	host, port, err := net.SplitHostPort(h)
	if err != nil {
		host, port = h, ""
	}
	if port != "" {
		for _, c := range port {
			if c < '0' || c > '9' {
				return false
			}
		}
		if len(port) > 5 {
			return false
		}
	}
	if strings.HasPrefix(host, "[") && strings.HasSuffix(host, "]") {
		_, err := netip.ParseAddr(host[1 : len(host)-1])
		return err == nil
	}
	if _, err := netip.ParseAddr(host); err == nil {
		return true
	}
	if host == "" {
		return false
	}
	for _, label := range strings.Split(host, ".") {
		if label == "" || len(label) > 63 {
			return false
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

// validPrefix accepts a clean absolute path such as /app.
func validPrefix(p string) bool {
	if p == "" || p == "/" || !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || len(p) > 512 {
		return false
	}
	for _, c := range p {
		if c < 0x21 || c > 0x7e || c == '\\' || c == '?' || c == '#' || c == '%' {
			return false
		}
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == "." || seg == ".." {
			return false
		}
	}
	return true
}
