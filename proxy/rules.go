package proxy

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/entraweb/entraweb"
)

// rule is a Rule prepared for matching.
type rule struct {
	prefix string // cleaned, lower-case, no trailing slash
	role   string
	group  string // lower-case
	// deny answers a request that does not meet the rule: entraweb's own
	// 403 page, which names the role or group.
	deny http.Handler
}

// covers reports whether the rule applies to a cleaned path.
func (r *rule) covers(p string) bool { return under(p, r.prefix) }

// isAPI reports whether a clean path lies under one of ApiPaths.
func (s *settings) isAPI(clean string) bool {
	for _, p := range s.api {
		if under(clean, p) {
			return true
		}
	}
	return false
}

// met reports whether u meets the rule.
func (r *rule) met(u *entraweb.User) bool {
	if r.role != "" {
		return u.HasRole(r.role)
	}
	for _, g := range u.Groups {
		if strings.EqualFold(g, r.group) {
			return true
		}
	}
	return false
}

// under reports whether p is prefix or lies below it, on a segment
// boundary: /admin covers /admin and /admin/x, not /administrator.
func under(p, prefix string) bool {
	if prefix == "/" {
		return true
	}
	return strings.HasPrefix(p, prefix) && (len(p) == len(prefix) || p[len(prefix)] == '/')
}

// cleanPath is the path that rules are matched against: the request's
// path read as generously as any upstream might read it, so that no
// spelling of a protected path escapes its rule. Backslashes count as
// slashes (IIS, some Windows servers), ";parameters" are dropped from each
// segment (Tomcat and other Java servers), "." and ".." segments are
// resolved (also as %2e, in case an upstream decodes twice), empty
// segments are dropped (servers that merge slashes), and the result is
// lower-case (case-insensitive servers). There is no trailing slash
// except for "/".
func cleanPath(p string) string {
	if q, ok := plainPath(p); ok {
		return q
	}
	p = strings.ReplaceAll(p, "\\", "/")
	segs := strings.Split(p, "/")
	out := make([]string, 0, len(segs))
	for _, seg := range segs {
		if i := strings.IndexByte(seg, ';'); i >= 0 {
			seg = seg[:i]
		}
		switch asciiLower(seg) {
		case "", ".", "%2e":
		case "..", ".%2e", "%2e.", "%2e%2e":
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
		default:
			out = append(out, seg)
		}
	}
	return asciiLower("/" + strings.Join(out, "/"))
}

// asciiLower lower-cases A to Z only: bytes that are not valid UTF-8 stay
// as they are (strings.ToLower would turn them into U+FFFD, and then two
// different paths into one).
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + ('a' - 'A')
		}
	}
	return string(b)
}

// plainPath is cleanPath without allocating, for the paths every
// well-behaved request has; ok is false when the path needs the full
// treatment.
func plainPath(p string) (clean string, ok bool) {
	if p == "/" {
		return p, true
	}
	if p == "" || p[0] != '/' {
		return "", false
	}
	for i := 0; i < len(p); i++ {
		switch c := p[i]; {
		case 'A' <= c && c <= 'Z', c == '\\', c == ';', c == '%':
			return "", false
		case c == '/' && i+1 < len(p) && (p[i+1] == '/' || p[i+1] == '.'):
			return "", false
		}
	}
	return strings.TrimSuffix(p, "/"), true
}

// isCleanPath reports whether a path is one that no server reads in two
// ways: no dot segments, doubled slashes, backslashes, ";" or "%" (in the
// decoded path a "%" means the client encoded twice) and no control
// characters. Only such paths can be public.
func isCleanPath(p string) bool {
	if p == "" || p[0] != '/' {
		return false
	}
	for i := 0; i < len(p); i++ {
		switch c := p[i]; {
		case c < 0x20 || c == 0x7f || c == '\\' || c == ';' || c == '%':
			return false
		case c == '/' && i+1 < len(p) && p[i+1] == '/':
			return false
		}
	}
	start := 1
	for i := 1; i <= len(p); i++ {
		if i == len(p) || p[i] == '/' {
			if seg := p[start:i]; seg == "." || seg == ".." {
				return false
			}
			start = i + 1
		}
	}
	return true
}

// reserved reports whether a cleaned path lies in the proxy's own
// namespace, which is never passed to the upstream.
func reserved(clean string) bool {
	return under(clean, strings.TrimSuffix(RoutePrefix, "/"))
}

// isPublic reports whether a request's path is one of the public paths.
func (s *settings) isPublic(r *http.Request) bool { return s.isPublicURL(r.URL) }

// isPublicURL reports whether a URL's path is one of the public paths:
// only a clean path, spelled as it is decoded (no RawPath), can be.
func (s *settings) isPublicURL(u *url.URL) bool {
	if len(s.public) == 0 {
		return false
	}
	p := u.Path
	if u.RawPath != "" || !isCleanPath(p) {
		return false
	}
	for _, pub := range s.public {
		if strings.HasSuffix(pub, "/") {
			if strings.HasPrefix(p, pub) {
				return true
			}
		} else if p == pub || strings.HasPrefix(p, pub) && p[len(pub)] == '/' {
			return true
		}
	}
	return false
}
