package origin

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

func TestSafeReturnPathResolvesDots(t *testing.T) {
	for in, want := range map[string]string{
		"/a/./b/../c?q=1": "/a/c?q=1",
		"/a/b/..":         "/a/",
		"/..":             "/",
		"/a/%2E%2e/b#f":   "/b#f",
		"/a/b/":           "/a/b/",
		"/a?x=/../y":      "/a?x=/../y",
		"/#/a/./b":        "/#/a/./b", // a fragment is not resolved
	} {
		if got, ok := SafeReturnPath(in); !ok || got != want {
			t.Errorf("SafeReturnPath(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
}

func TestSafeReturnPath(t *testing.T) {
	good := []string{"/", "/dash/", "/reports?year=2026&q=a%20b", "/a/b#frag", "/path;p=1", "/%E2%9C%93"}
	bad := []string{"", "dash", "//evil.example", "/\\evil.example", "\\\\evil.example", "https://evil.example",
		"javascript:alert(1)", "/%2Fevil.example", "/%5Cevil.example", "/%2fevil.example", "/\tevil", "/a\r\nSet-Cookie:x",
		"/%0d%0aX:1", " /x", "/x\x00", "http:/evil.example", "///evil.example", "/%", "/a%2",
		// Dot segments resolved before the check (a redirect or proxy would).
		"/x/../%2F%2Fevil.example", "/x/..%2F..%2F/evil.example", "/a/%2e%2e/%2F%2Fevil.example", "/x/.././/evil.example",
		// net/http's Redirect cleans the fragment as path: no ".." there.
		"/#/..//x", "/#/../%2F%2Fevil.example", "/app/#/../../x", "/#/%2e%2e/x", "/a?q=1#/../b",
		// ...and collapses "//" first, which changes what ".." removes.
		"/0//..%2F%2Fevil.example", "/a//..%2F%2F",
	}
	for _, p := range good {
		if _, ok := SafeReturnPath(p); !ok {
			t.Errorf("%q refused", p)
		}
	}
	for _, p := range bad {
		if _, ok := SafeReturnPath(p); ok {
			t.Errorf("%q accepted", p)
		}
	}
}

// FuzzReturnPath checks the promise that matters: whatever is accepted,
// resolved against the app's URL, stays on the app's origin, and so does
// the Location that entraweb's own redirect (net/http's Redirect, which
// cleans the path, fragment included) makes of it under a path prefix.
func FuzzReturnPath(f *testing.F) {
	for _, s := range []string{"/", "//x", "/\\x", "/%2f%2fx", "/a?b=//c", "/.%2e/x", "https://x", "/x/../%2F%2Fevil.example", "/#/../%2F%2Fx", "/a#b?c/../d"} {
		f.Add(s)
	}
	base, _ := url.Parse("https://app.example/base/")
	f.Fuzz(func(t *testing.T, p string) {
		got, ok := SafeReturnPath(p)
		if !ok {
			return
		}
		for _, prefix := range []string{"", "/base"} {
			rec := httptest.NewRecorder()
			http.Redirect(rec, httptest.NewRequest("GET", "https://app.example"+prefix+"/auth/callback", nil), prefix+got, http.StatusSeeOther)
			loc := rec.Header().Get("Location")
			// The path a browser asks for: up to the query or fragment,
			// dot segments resolved as browsers do (with %2e as ".").
			path := loc
			if i := strings.IndexAny(loc, "?#"); i >= 0 {
				path = loc[:i]
			}
			path = ResolveDots(path)
			if !strings.HasPrefix(loc, "/") || leavesOrigin(loc) || leavesOrigin(path) || prefix != "" && path != prefix && !strings.HasPrefix(path, prefix+"/") {
				t.Fatalf("%q: the redirect's Location %q leaves the app", p, loc)
			}
			// What a cleaning proxy makes of that path, decoded, stays
			// too. A browser reads any path starting "//" or "/\\" as
			// another host ("///x" too, which url.Parse does not).
			if dec, err := url.PathUnescape(path); err == nil && leavesOrigin(ResolveDots(dec)) {
				t.Fatalf("%q: the redirect's path leaves the origin once decoded and cleaned: %s", p, ResolveDots(dec))
			}
		}
		for _, cand := range []string{got, strings.ReplaceAll(got, "\\", "/")} {
			u, err := base.Parse(cand)
			if err != nil {
				continue
			}
			if u.Host != "app.example" || u.Scheme != "https" {
				t.Fatalf("%q leaves the origin: %s", p, u)
			}
		}
		if dec, err := url.PathUnescape(got); err == nil {
			if u, err := base.Parse(dec); err == nil && u.Host != "app.example" {
				t.Fatalf("%q leaves the origin once decoded: %s", p, u)
			}
		}
		// What a cleaning redirect or proxy makes of it stays too. Such a
		// proxy sees the path only: the query is not a path, and a browser
		// never sends the fragment, so both are cut off before decoding
		// ("/#/..//x" is the path "/" with a fragment, not "//x").
		pathPart := got
		if i := strings.IndexAny(got, "?#"); i >= 0 {
			pathPart = got[:i]
		}
		if dec, err := url.PathUnescape(pathPart); err == nil {
			if u, err := base.Parse(ResolveDots(dec)); err == nil && u.Host != "app.example" {
				t.Fatalf("%q leaves the origin once decoded and cleaned: %s", p, u)
			}
		}
	})
}
