package proxy

import (
	"net/url"
	"strings"
	"testing"
)

func TestCleanPath(t *testing.T) {
	tests := []struct{ in, want string }{
		{"/", "/"},
		{"/admin", "/admin"},
		{"/admin/", "/admin"},
		{"/Admin/X", "/admin/x"},
		{"//admin//x", "/admin/x"},
		{"/a/./b/../admin", "/a/admin"},
		{"/../../admin", "/admin"},
		{"/x/%2e%2e/admin", "/admin"},
		{"/x/%2E./admin", "/admin"},
		{"/public/..;/admin", "/admin"},
		{"/admin;jsessionid=1/x", "/admin/x"},
		{`/admin\x`, "/admin/x"},
		{`\admin`, "/admin"},
		{"/.auth/me", "/.auth/me"},
		{"/a/.", "/a"},
		{"/a/..", "/"},
	}
	for _, tt := range tests {
		if got := cleanPath(tt.in); got != tt.want {
			t.Errorf("cleanPath(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestPublicPathsMatchOnlyCleanPaths(t *testing.T) {
	s := &settings{public: []string{"/static/", "/healthz", "/favicon.ico"}}
	tests := []struct {
		raw  string
		want bool
	}{
		{"/static/app.js", true},
		{"/static/", true},
		{"/static/a%20b.png", true},
		{"/healthz", true},
		{"/healthz/deep", true},
		{"/favicon.ico", true},
		{"/static", false},
		{"/healthzz", false},
		{"/Static/app.js", false},
		{"/static/../admin", false},
		{"/static/%2e%2e/admin", false},
		{"/static/..%2fadmin", false},
		{"/static/a%2Fb", false},
		{"/static//x", false},
		{"/static/x;y", false},
		{"/static/%252e%252e/admin", false},
		{"/static/%5c..%5cadmin", false},
		{"/static/.", false},
		{"/favicon.ico/..", false},
	}
	for _, tt := range tests {
		u, err := url.Parse(tt.raw)
		if err != nil {
			t.Fatal(err)
		}
		if got := s.isPublicURL(u); got != tt.want {
			t.Errorf("isPublic(%q) = %v, want %v", tt.raw, got, tt.want)
		}
	}
}

// FuzzCleanPath checks that the path rules are matched against has no
// spelling left that a server could read as another path.
func FuzzCleanPath(f *testing.F) {
	for _, s := range []string{"/", "/admin", "//a/../b", `/a\..\b`, "/a;x/b", "/%2e%2e/x", "/A/B/", "/.auth/me"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		c := cleanPath(p)
		if !strings.HasPrefix(c, "/") || strings.Contains(c, "//") || strings.ContainsAny(c, `\;`) || c != asciiLower(c) {
			t.Fatalf("cleanPath(%q) = %q", p, c)
		}
		if c != "/" && strings.HasSuffix(c, "/") {
			t.Fatalf("cleanPath(%q) = %q ends with /", p, c)
		}
		for _, seg := range strings.Split(c[1:], "/") {
			switch strings.ToLower(seg) {
			case ".", "..", "%2e", "%2e%2e", ".%2e", "%2e.":
				t.Fatalf("cleanPath(%q) = %q keeps a dot segment", p, c)
			}
		}
		if again := cleanPath(c); again != c {
			t.Fatalf("cleanPath is not idempotent: %q -> %q -> %q", p, c, again)
		}
		if isCleanPath(p) && asciiLower(strings.TrimSuffix(p, "/")) != c && p != "/" {
			t.Fatalf("isCleanPath(%q), yet cleanPath changes more than case and the final slash: %q", p, c)
		}
	})
}
