package origin

import (
	"net/url"
	"strings"
)

// SafeReturnPath accepts a place to come back to after sign-in only if it
// is a path on this app: it must start with a single "/", and nothing in
// it may make a browser leave the origin ("//host", "/\host", a scheme,
// control characters, or their percent-encoded forms).
func SafeReturnPath(p string) (string, bool) {
	if p == "" || len(p) > 2048 || p[0] != '/' {
		return "", false
	}
	if len(p) > 1 && (p[1] == '/' || p[1] == '\\') {
		return "", false
	}
	for i := 0; i < len(p); i++ {
		if c := p[i]; c < 0x20 || c == 0x7f || c == '\\' {
			return "", false
		}
	}
	// The decoded path must pass the same test: browsers and proxies
	// decode %2F and %5C in places.
	if dec, err := url.PathUnescape(p); err != nil {
		return "", false
	} else if dec != p {
		if len(dec) > 1 && (dec[1] == '/' || dec[1] == '\\') || strings.ContainsAny(dec, "\\\x00\r\n\t") {
			return "", false
		}
	}
	u, err := url.Parse(p)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return "", false
	}
	return p, true
}
