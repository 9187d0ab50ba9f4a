package proxy

import (
	"net/http"
	"strings"
)

// Header names are compared as upstreams compare them: case-insensitively,
// and with "_" read as "-", since CGI, WSGI, Rack and PHP turn both into
// "_" (HTTP_X_FORWARDED_USER). A client's X_Forwarded_User would
// otherwise pass a filter looking for X-Forwarded-User and still reach the
// app as that header (oauth2-proxy's CVE-2025-64484).

// identityPrefixes and identityNames are the headers that say who the user
// is. A client's copies are always removed: only the proxy sets them.
// Lower-case, with "-".
var (
	identityPrefixes = []string{
		"x-ms-client-principal", // -id, -name, -idp
		"x-ms-token-",
		"x-auth-request-",
		"x-entraweb-", // the signed assertion, and anything the proxy adds later
	}
	identityNames = []string{
		"x-forwarded-user", "x-forwarded-email", "x-forwarded-preferred-username",
		"x-forwarded-groups", "x-forwarded-roles", "x-forwarded-access-token",
	}
)

// forwardingPrefixes and forwardingNames say where a request came from and
// which URL it was for. They are believed only from trusted proxies;
// from anyone else they are removed before the proxy adds its own.
var (
	forwardingPrefixes = []string{"x-forwarded-", "x-original-"} // x-original-url, -uri, -host, -forwarded-for
	forwardingNames    = []string{"forwarded", "x-real-ip", "x-rewrite-url", "x-client-ip", "true-client-ip"}
)

// foldDash lower-cases an ASCII letter and reads "_" as "-".
func foldDash(c byte) byte {
	switch {
	case 'A' <= c && c <= 'Z':
		return c + ('a' - 'A')
	case c == '_':
		return '-'
	}
	return c
}

// hasPrefixFold reports whether name starts with prefix (lower-case,
// with "-") under foldDash.
func hasPrefixFold(name, prefix string) bool {
	if len(name) < len(prefix) {
		return false
	}
	for i := 0; i < len(prefix); i++ {
		if foldDash(name[i]) != prefix[i] {
			return false
		}
	}
	return true
}

func equalFold(name, lower string) bool {
	return len(name) == len(lower) && hasPrefixFold(name, lower)
}

func matchesAny(name string, prefixes, names []string) bool {
	for _, p := range prefixes {
		if hasPrefixFold(name, p) {
			return true
		}
	}
	for _, n := range names {
		if equalFold(name, n) {
			return true
		}
	}
	return false
}

// isIdentityHeader reports whether a header carries identity.
func isIdentityHeader(name string) bool {
	// Every such name starts with x or X; most headers do not.
	if name == "" || name[0]|0x20 != 'x' {
		return false
	}
	return matchesAny(name, identityPrefixes, identityNames)
}

// isForwardingHeader reports whether a header tells where a request came
// from or which URL it was for.
func isForwardingHeader(name string) bool {
	if name == "" {
		return false
	}
	switch name[0] | 0x20 {
	case 'x', 'f', 't':
		return matchesAny(name, forwardingPrefixes, forwardingNames)
	}
	return false
}

// keepClientHeader reports whether a header of the client's request may
// go on to the upstream: no identity header, and a forwarding header only
// from a trusted proxy. From a trusted proxy, forwarding headers spelled
// with "_" stay behind too: no proxy writes them so, and an app that reads
// both spellings as one would take the client's.
func keepClientHeader(name string, trusted bool) bool {
	switch {
	case isIdentityHeader(name):
		return false
	case isForwardingHeader(name) && (!trusted || strings.IndexByte(name, '_') >= 0):
		return false
	}
	return true
}

// ownCookie reports whether a cookie is entraweb's (the session, the
// pending sign-in, the proxy's own), with or without the __Host- prefix.
func ownCookie(name string) bool {
	name = strings.TrimPrefix(name, "__Host-")
	return strings.HasPrefix(name, "entraweb_")
}

// stripOwnCookies removes entraweb's cookies from the Cookie headers sent
// upstream: the session cookie is a credential, and the upstream has no
// use for it.
func stripOwnCookies(h http.Header) {
	vals := h["Cookie"]
	if len(vals) == 0 {
		return
	}
	found := false
	for _, v := range vals {
		if strings.Contains(v, "entraweb_") {
			found = true
			break
		}
	}
	if !found {
		return
	}
	var b strings.Builder
	for _, v := range vals {
		for part := range strings.SplitSeq(v, ";") {
			part = strings.TrimSpace(part)
			name, _, _ := strings.Cut(part, "=")
			if part == "" || ownCookie(strings.TrimSpace(name)) {
				continue
			}
			if b.Len() > 0 {
				b.WriteString("; ")
			}
			b.WriteString(part)
		}
	}
	if b.Len() == 0 {
		delete(h, "Cookie")
		return
	}
	h["Cookie"] = []string{b.String()}
}

// headerValue is a header to set, with its value slice made once and
// shared by every request that sets it (nothing downstream changes it).
type headerValue struct {
	name string // canonical
	vals []string
}

func setAll(h http.Header, hv []headerValue) {
	for _, v := range hv {
		h[v.name] = v.vals
	}
}

// headerSafe drops the bytes a header value may not hold (control
// characters), so a strange display name can never fail a request.
func headerSafe(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 && c != '\t' || c == 0x7f {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 && r != '\t' || r == 0x7f {
			return -1
		}
		return r
	}, s)
}
