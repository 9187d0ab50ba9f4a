package proxy_test

import (
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/entraweb/entraweb/proxy"
)

// headerVariants spells a header name as clients may: as documented,
// lower and upper case, and with underscores, which CGI-style upstreams
// read as the same header.
func headerVariants(name string) []string {
	lower := strings.ToLower(name)
	mixed := []byte(strings.ReplaceAll(name, "-", "_"))
	for i := range mixed {
		if i%2 == 0 {
			mixed[i] = strings.ToLower(string(mixed[i]))[0]
		}
	}
	return []string{name, lower, strings.ToUpper(name), strings.ReplaceAll(lower, "-", "_"), strings.ReplaceAll(strings.ToUpper(name), "-", "_"), string(mixed)}
}

var identityHeaderNames = []string{
	"X-MS-CLIENT-PRINCIPAL", "X-MS-CLIENT-PRINCIPAL-ID", "X-MS-CLIENT-PRINCIPAL-NAME", "X-MS-CLIENT-PRINCIPAL-IDP",
	"X-MS-TOKEN-AAD-ACCESS-TOKEN", "X-MS-TOKEN-AAD-EXPIRES-ON", "X-MS-TOKEN-AAD-ID-TOKEN", "X-MS-TOKEN-AAD-REFRESH-TOKEN",
	"X-Forwarded-User", "X-Forwarded-Email", "X-Forwarded-Preferred-Username", "X-Forwarded-Groups", "X-Forwarded-Roles",
	"X-Forwarded-Access-Token", "X-Auth-Request-User", "X-Auth-Request-Email", "X-Auth-Request-Preferred-Username",
	"X-Auth-Request-Groups", "X-Auth-Request-Access-Token", "X-Entraweb-Assertion",
}

var forwardingHeaderNames = []string{
	"X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto", "X-Forwarded-Prefix", "X-Forwarded-Port",
	"X-Forwarded-Uri", "X-Original-URL", "X-Original-URI", "X-Real-IP", "Forwarded",
}

// spoofedArrived lists the headers of the upstream's echo that carry a
// value the client made up.
func spoofedArrived(h http.Header) []string {
	var bad []string
	for k, vs := range h {
		for _, v := range vs {
			if strings.Contains(v, "spoofed") || strings.Contains(v, "6.6.6.6") {
				bad = append(bad, k+": "+v)
			}
		}
	}
	slices.Sort(bad)
	return bad
}

func TestSpoofedIdentityHeadersNeverArrive(t *testing.T) {
	e := newEnv(t, func(c *proxy.Config) {
		c.PublicPaths = []string{"/public/"}
		c.Headers = []string{proxy.HeadersEasyAuth, proxy.HeadersOAuth2Proxy}
	})
	b := e.signIn(t, alice)
	for _, who := range []string{"anonymous on a public path", "alice"} {
		for v := range 6 {
			t.Run(who+"/variant "+string(rune('a'+v)), func(t *testing.T) {
				path, c := "/public/page", client(nil)
				if who == "alice" {
					path, c = "/private", client(b)
				}
				req, _ := http.NewRequest("GET", e.url+path, nil)
				for _, name := range identityHeaderNames {
					req.Header[headerVariants(name)[v]] = []string{"spoofed-" + name}
				}
				for _, name := range forwardingHeaderNames {
					req.Header[headerVariants(name)[v]] = []string{"6.6.6.6 spoofed"}
				}
				resp, err := c.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				h := echoed(t, resp, body).Header
				if bad := spoofedArrived(h); len(bad) > 0 {
					t.Errorf("client-made headers reached the upstream:\n%s", strings.Join(bad, "\n"))
				}
				if got := h.Get("X-Forwarded-For"); got != "127.0.0.1" {
					t.Errorf("X-Forwarded-For = %q, want the peer only", got)
				}
				if got := h.Get("X-Forwarded-Host"); got != strings.TrimPrefix(e.url, "http://") {
					t.Errorf("X-Forwarded-Host = %q", got)
				}
				if who == "alice" {
					if h.Get("X-Ms-Client-Principal-Name") != alice || h.Get("X-Forwarded-Preferred-Username") != alice || principal(t, h).AuthTyp != "aad" {
						t.Errorf("alice's own identity headers are missing: %v", h)
					}
				} else if len(h.Values("X-Ms-Client-Principal")) > 0 || len(h.Values("X-Forwarded-User")) > 0 {
					t.Errorf("an anonymous request arrived with identity headers")
				}
			})
		}
	}
}

func TestForwardedHeadersFromTrustedProxy(t *testing.T) {
	e := newEnv(t, func(c *proxy.Config) {
		c.PublicPaths = []string{"/public/"}
		c.Entra.TrustedProxies = []string{"127.0.0.1"}
	})
	resp, body := do(t, client(nil), "GET", e.url+"/public/x",
		"X-Forwarded-For", "203.0.113.9", "X-Forwarded-Host", "app.example", "X-Forwarded-Proto", "https",
		"X_Forwarded_Host", "evil.example", "X-Ms-Client-Principal-Name", "spoofed", "X-Original-URL", "/public/x")
	h := echoed(t, resp, body).Header
	if got := h.Get("X-Forwarded-For"); got != "203.0.113.9, 127.0.0.1" {
		t.Errorf("X-Forwarded-For = %q, want the trusted chain and the peer", got)
	}
	if h.Get("X-Forwarded-Host") != "app.example" || h.Get("X-Forwarded-Proto") != "https" || h.Get("X-Original-Url") != "/public/x" {
		t.Errorf("the trusted proxy's forwarding headers were not kept: %v", h)
	}
	for k := range h {
		if strings.Contains(k, "_") || strings.EqualFold(k, "X-Ms-Client-Principal-Name") {
			t.Errorf("%s reached the upstream from a trusted proxy", k)
		}
	}
	// A prefix that entraweb did not take as the app's never reaches the
	// upstream as if it had: an invalid one, or any beside Forwarded
	// (which alone decides then). A valid one is the upstream's too.
	for _, tt := range []struct {
		name    string
		headers []string
		want    string
	}{
		{"invalid prefix", []string{"X-Forwarded-Prefix", "/a/../b"}, ""},
		{"prefix beside Forwarded", []string{"Forwarded", "host=app.example;proto=https", "X-Forwarded-Prefix", "/dash"}, ""},
		{"valid prefix", []string{"X-Forwarded-Prefix", "/dash"}, "/dash"},
	} {
		resp, body := do(t, client(nil), "GET", e.url+"/public/x", tt.headers...)
		if got := echoed(t, resp, body).Header.Get("X-Forwarded-Prefix"); got != tt.want {
			t.Errorf("%s: X-Forwarded-Prefix at the upstream %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestOwnCookiesNotForwarded(t *testing.T) {
	e := newEnv(t, nil)
	b := e.signIn(t, alice)
	resp, body := do(t, client(b), "GET", e.url+"/x", "Cookie", "theme=dark")
	h := echoed(t, resp, body).Header
	// The jar also holds the emulator's cookies: it runs on 127.0.0.1 too,
	// and cookies ignore ports.
	if got := strings.Join(h.Values("Cookie"), "; "); !strings.HasPrefix(got, "theme=dark") || strings.Contains(got, "entraweb") {
		t.Errorf("Cookie at the upstream = %q, want the app's own and none of entraweb's", got)
	}
	// Nor may the upstream set them.
	resp, _ = do(t, client(b), "GET", e.url+"/set-cookies")
	if got := resp.Header.Values("Set-Cookie"); len(got) != 1 || !strings.HasPrefix(got[0], "theme=dark") {
		t.Errorf("Set-Cookie from the upstream: %q, want only theme", got)
	}
	if resp, _ := do(t, client(b), "GET", e.url+"/.auth/me"); resp.StatusCode != 200 {
		t.Errorf("the user was signed out: %d", resp.StatusCode)
	}
}
