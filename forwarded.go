package entraweb

import (
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
)

// baseURL is the app's external URL as the browser sees it (scheme, host
// and any path prefix a proxy strips), without a trailing slash.
//
// A configured PublicBaseURL wins. Otherwise X-Forwarded-Proto, -Host and
// -Prefix, or the standard Forwarded header, are believed only when the
// request comes straight from a configured trusted proxy; from anyone else
// they are ignored, since a client can send them too. Where a header holds
// a list, the last entry is the one the trusted proxy added.
func (s *settings) baseURL(r *http.Request) *url.URL {
	if s.publicBase != nil {
		u := *s.publicBase
		return &u
	}
	u := &url.URL{Scheme: "http", Host: r.Host}
	if r.TLS != nil {
		u.Scheme = "https"
	}
	if !s.fromTrustedProxy(r) {
		return u
	}
	proto, host, prefix := "", "", ""
	if f := r.Header.Values("Forwarded"); len(f) > 0 {
		proto, host = parseForwarded(f)
	}
	if v := lastListValue(r.Header.Values("X-Forwarded-Proto")); v != "" {
		proto = v
	}
	if v := lastListValue(r.Header.Values("X-Forwarded-Host")); v != "" {
		host = v
	}
	prefix = lastListValue(r.Header.Values("X-Forwarded-Prefix"))
	if p := strings.ToLower(proto); p == "http" || p == "https" {
		u.Scheme = p
	}
	if validHost(host) {
		u.Host = host
	}
	if validPrefix(prefix) {
		u.Path = strings.TrimSuffix(prefix, "/")
	}
	return u
}

// secure reports whether the browser reached the app over https. It is
// asked on every request, so it reads only the scheme.
func (s *settings) secure(r *http.Request) bool {
	if s.publicBase != nil {
		return s.publicBase.Scheme == "https"
	}
	if s.fromTrustedProxy(r) {
		return s.baseURL(r).Scheme == "https"
	}
	return r.TLS != nil
}

func (s *settings) fromTrustedProxy(r *http.Request) bool {
	if len(s.proxies) == 0 {
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
	for _, p := range s.proxies {
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

// validHost accepts host or host:port with a DNS name or an IP literal.
func validHost(h string) bool {
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
