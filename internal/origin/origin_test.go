package origin

import (
	"crypto/tls"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"testing"
)

func TestBaseURL(t *testing.T) {
	s := &Trust{Proxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")}}
	tests := []struct {
		name    string
		remote  string
		tls     bool
		headers map[string]string
		want    string
	}{
		{"direct http", "192.0.2.1:5000", false, nil, "http://app.example"},
		{"direct https", "192.0.2.1:5000", true, nil, "https://app.example"},
		{"untrusted peer's headers ignored", "192.0.2.1:5000", false, map[string]string{"X-Forwarded-Proto": "https", "X-Forwarded-Host": "evil.example", "X-Forwarded-Prefix": "/x"}, "http://app.example"},
		{"untrusted Forwarded ignored", "192.0.2.1:5000", false, map[string]string{"Forwarded": "proto=https;host=evil.example"}, "http://app.example"},
		{"trusted proxy", "10.1.2.3:443", false, map[string]string{"X-Forwarded-Proto": "https", "X-Forwarded-Host": "public.example", "X-Forwarded-Prefix": "/dash/"}, "https://public.example/dash"},
		{"trusted ipv6 proxy", "[::1]:443", false, map[string]string{"X-Forwarded-Proto": "https"}, "https://app.example"},
		{"last of a list is the trusted proxy's", "10.1.2.3:443", false, map[string]string{"X-Forwarded-Host": "evil.example, public.example", "X-Forwarded-Proto": "http, https"}, "https://public.example"},
		{"Forwarded header", "10.1.2.3:443", false, map[string]string{"Forwarded": `for=192.0.2.9;proto=https;host="public.example:8443"`}, "https://public.example:8443"},
		{"Forwarded alone decides", "10.1.2.3:443", false, map[string]string{"Forwarded": "host=app.example;proto=https", "X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "http", "X-Forwarded-Prefix": "/evil"}, "https://app.example"},
		{"bad proto ignored", "10.1.2.3:443", false, map[string]string{"X-Forwarded-Proto": "javascript"}, "http://app.example"},
		{"bad host ignored", "10.1.2.3:443", false, map[string]string{"X-Forwarded-Host": "evil.example/path@x"}, "http://app.example"},
		{"bad prefix ignored", "10.1.2.3:443", false, map[string]string{"X-Forwarded-Prefix": "//evil.example"}, "http://app.example"},
		{"dot-dot prefix ignored", "10.1.2.3:443", false, map[string]string{"X-Forwarded-Prefix": "/a/../b"}, "http://app.example"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "http://app.example/x", nil)
			r.RemoteAddr = tt.remote
			if tt.tls {
				r.TLS = &tls.ConnectionState{}
			}
			for k, v := range tt.headers {
				r.Header.Set(k, v)
			}
			if got := s.BaseURL(r).String(); got != tt.want {
				t.Errorf("baseURL = %s, want %s", got, tt.want)
			}
		})
	}
	s.PublicBase, _ = url.Parse("https://configured.example/app")
	r := httptest.NewRequest("GET", "http://app.example/x", nil)
	r.RemoteAddr = "10.0.0.1:1"
	r.Header.Set("X-Forwarded-Host", "other.example")
	if got := s.BaseURL(r).String(); got != "https://configured.example/app" {
		t.Errorf("PublicBaseURL did not win: %s", got)
	}
}

func FuzzForwardedHeaders(f *testing.F) {
	f.Add("https", "public.example", "/p", `for=1.2.3.4;proto=https;host=h`)
	f.Add("http, https", "a, b:80", "//x", `proto="https"`)
	s := &Trust{Proxies: []netip.Prefix{netip.MustParsePrefix("0.0.0.0/0")}}
	f.Fuzz(func(t *testing.T, proto, host, prefix, fwd string) {
		r := httptest.NewRequest("GET", "http://app.example/x", nil)
		r.RemoteAddr = "10.0.0.1:1"
		r.Header["X-Forwarded-Proto"] = []string{proto}
		r.Header["X-Forwarded-Host"] = []string{host}
		r.Header["X-Forwarded-Prefix"] = []string{prefix}
		r.Header["Forwarded"] = []string{fwd}
		u := s.BaseURL(r)
		if u.Scheme != "http" && u.Scheme != "https" {
			t.Fatalf("scheme %q", u.Scheme)
		}
		if !ValidHost(u.Host) && u.Host != "app.example" {
			t.Fatalf("host %q", u.Host)
		}
		if u.Path != "" && !validPrefix(u.Path) {
			t.Fatalf("prefix %q", u.Path)
		}
		// The base must parse back to itself: nothing in it can reshape a URL.
		if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
			t.Fatalf("base URL %s", u)
		}
	})
}
