package session

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strings"
)

// DefaultCookieName is the cookie name used when Manager.CookieName is
// empty. On secure requests it carries the "__Host-" prefix.
const DefaultCookieName = "entraweb_session"

// hostPrefix makes browsers refuse the cookie unless it is Secure, has
// Path=/ and no Domain, so a sibling subdomain or a plain-http page cannot
// plant or overwrite it.
const hostPrefix = "__Host-"

// idLen is the length of a session id in the cookie: 32 random bytes in
// unpadded base64url.
const idLen = 43

// id is a session id: 256 random bits, far beyond guessing.
type id [32]byte

// idEncoding rejects encodings whose unused trailing bits are set, so each
// id has exactly one valid cookie spelling.
var idEncoding = base64.RawURLEncoding.Strict()

func newID() id {
	var v id
	rand.Read(v[:]) // never fails: crypto/rand crashes the program instead
	return v
}

func (v *id) String() string { return base64.RawURLEncoding.EncodeToString(v[:]) }

// parseID accepts exactly 43 base64url characters and nothing else, so
// garbage from a Cookie header never reaches the store.
func parseID(s string) (v id, ok bool) {
	if len(s) != idLen {
		return v, false
	}
	var buf [idLen]byte
	for i := range len(s) {
		c := s[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return v, false
		}
		buf[i] = c
	}
	n, err := idEncoding.Decode(v[:], buf[:])
	return v, err == nil && n == len(v)
}

// storeKey names a session in the Store. It is a hash of the id rather
// than the id itself, so a copy of the store yields no cookie that works.
// A plain hash is enough: the id has 256 bits of entropy, so there is
// nothing to brute-force.
func (v *id) storeKey() string {
	sum := sha256.Sum256(v[:])
	var buf [2 + idLen]byte
	buf[0], buf[1] = 's', ':'
	base64.RawURLEncoding.Encode(buf[2:], sum[:])
	return string(buf[:])
}

// cookieName returns the cookie name for a request of the given security.
func (m *Manager) cookieName(secure bool) string {
	switch {
	case m.CookieName == "" && secure:
		return hostPrefix + DefaultCookieName // constant: no allocation per request
	case m.CookieName == "":
		return DefaultCookieName
	case secure:
		return hostPrefix + m.CookieName
	default:
		return m.CookieName
	}
}

func (m *Manager) secure(r *http.Request) bool {
	if m.IsSecure != nil {
		return m.IsSecure(r)
	}
	return r.TLS != nil
}

// requestID returns the session id in r's cookie, if well formed. Only the
// cookie name matching r's security counts: a plain-http cookie is never
// honoured on https, where an attacker on the network could have set it.
func (m *Manager) requestID(r *http.Request) (id, bool) {
	v, ok := cookieValue(r.Header["Cookie"], m.cookieName(m.secure(r)))
	if !ok {
		return id{}, false
	}
	return parseID(v)
}

// cookieValue finds the first valid cookie called name in Cookie
// headers, by net/http's rules (a part with an invalid name or value is
// skipped; a part without "=" is a cookie with an empty value; quotes
// around a value are dropped), without building every cookie of the
// request as r.Cookie does: this runs on every request.
func cookieValue(headers []string, name string) (string, bool) {
	for _, h := range headers {
		for h != "" {
			var part string
			part, h, _ = strings.Cut(h, ";")
			part = strings.Trim(part, " \t\r\n")
			if part == "" {
				continue
			}
			k, v, _ := strings.Cut(part, "=")
			if k != name || !isToken(k) {
				continue
			}
			if len(v) > 1 && v[0] == '"' && v[len(v)-1] == '"' {
				v = v[1 : len(v)-1]
			}
			if !validCookieValue(v) {
				continue
			}
			return v, true
		}
	}
	return "", false
}

func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

func validCookieValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < 0x20 || c >= 0x7f || c == '"' || c == ';' || c == '\\' {
			return false
		}
	}
	return true
}

// setCookie sets the session cookie, or expires it when value is empty.
// The cookie has no Max-Age while live: the server-side idle and absolute
// timeouts decide how long a session lasts, and a browser-session cookie
// keeps the header short.
func (m *Manager) setCookie(w http.ResponseWriter, r *http.Request, value string) {
	secure := m.secure(r)
	c := &http.Cookie{
		Name:     m.cookieName(secure),
		Value:    value,
		Path:     "/",
		Secure:   secure,
		HttpOnly: true,
		SameSite: http.SameSiteLaxMode,
	}
	if value == "" {
		c.MaxAge = -1
	}
	http.SetCookie(w, c)
}
