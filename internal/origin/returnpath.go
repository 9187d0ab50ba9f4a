package origin

import (
	"net/url"
	"path"
	"strings"
)

// SafeReturnPath accepts a place to come back to after sign-in only if it
// is a path on this app, and returns it with its dot segments resolved.
// It must start with a single "/", and nothing in it may make a browser
// leave the origin ("//host", "/\host", a scheme, control characters, or
// their percent-encoded forms); its fragment may hold no "..". The check runs on the resolved path and on
// its decoded form resolved again, because a redirect or a proxy that
// cleans "/x/../%2F%2Fhost" would otherwise turn an accepted path into
// "//host".
func SafeReturnPath(p string) (string, bool) {
	if p == "" || len(p) > 2048 || p[0] != '/' {
		return "", false
	}
	pathPart, rest := p, ""
	if i := strings.IndexAny(p, "?#"); i >= 0 {
		pathPart, rest = p[:i], p[i:]
	}
	pathPart = ResolveDots(pathPart)
	p = pathPart + rest
	// A fragment is not path to a browser, but net/http's Redirect cleans
	// everything before the query as a path, fragment included: a ".." in
	// the fragment would climb out of it ("/#/../%2F%2Fhost" becomes
	// "/%2F%2Fhost", "/app/#/../../x" leaves the app's prefix). No
	// fragment worth coming back to holds one.
	if _, frag, ok := strings.Cut(rest, "#"); ok {
		dec, err := url.PathUnescape(frag)
		if err != nil || strings.Contains(frag, "..") || strings.Contains(dec, "..") {
			return "", false
		}
	}
	if leavesOrigin(p) {
		return "", false
	}
	for i := 0; i < len(p); i++ {
		if c := p[i]; c < 0x20 || c == 0x7f || c == '\\' {
			return "", false
		}
	}
	// The decoded path must pass the same test: browsers and proxies
	// decode %2F and %5C in places.
	dec, err := url.PathUnescape(p)
	if err != nil {
		return "", false
	}
	if strings.ContainsAny(dec, "\\\x00\r\n\t") {
		return "", false
	}
	if decPath, err := url.PathUnescape(pathPart); err != nil || leavesOrigin(ResolveDots(decPath)) || leavesOrigin(dec) {
		return "", false
	}
	// net/http's Redirect sends the path cleaned ("//" collapsed), which
	// changes what a later ".." removes: "/0//..%2F%2Fhost" goes out as
	// "/0/..%2F%2Fhost", which decodes and resolves to "//host". That
	// form must pass too.
	if cl := path.Clean(pathPart); cl != pathPart {
		if d, err := url.PathUnescape(cl); err != nil || leavesOrigin(ResolveDots(d)) {
			return "", false
		}
	}
	u, err := url.Parse(p)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return "", false
	}
	return p, true
}

// leavesOrigin reports whether a path starting with "/" would be read as
// another host ("//host" or "/\host").
func leavesOrigin(p string) bool {
	return len(p) > 1 && (p[1] == '/' || p[1] == '\\')
}

// ResolveDots removes the "." and ".." segments of an absolute path as a
// browser does (RFC 3986 section 5.2.4, with "%2e" read as "."), keeping
// empty segments and a trailing slash: it never merges "//", which is
// itself a thing to refuse.
func ResolveDots(p string) string {
	if !strings.Contains(p, ".") && !strings.Contains(p, "%2") {
		return p
	}
	segs := strings.Split(p, "/")
	out := make([]string, 0, len(segs))
	out = append(out, segs[0]) // "" before the leading slash
	trailing := false
	for _, s := range segs[1:] {
		trailing = false
		switch strings.ToLower(s) {
		case ".", "%2e":
			trailing = true
		case "..", ".%2e", "%2e.", "%2e%2e":
			if len(out) > 1 {
				out = out[:len(out)-1]
			}
			trailing = true
		default:
			out = append(out, s)
		}
	}
	r := strings.Join(out, "/")
	if trailing || r == "" {
		r += "/"
	}
	return r
}
