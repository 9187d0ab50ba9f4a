package entraweb_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/entraweb/entraweb"
	"github.com/entraweb/entraweb/entratest"
	"github.com/entraweb/entraweb/internal/redistest"

	_ "github.com/entraweb/entraweb/session/redisstore"
)

// sharedKey is the Entraweb:Session:Key every instance of a deployment
// shares.
const sharedKey = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="

// cluster is three instances of one app (A, B, C) on one Redis, behind a
// load balancer whose routing the test sets. The browser only ever talks
// to the balancer, whose URL is every instance's PublicBaseURL, so all
// three register the same redirect URI.
type cluster struct {
	url   string // the balancer
	inst  [3]*instance
	route atomic.Pointer[func(*http.Request) int]
}

type instance struct {
	name string
	auth *entraweb.Auth
	url  string
	hits atomic.Int64
}

func redisConfig(srv *entratest.Server, redisURL, publicBase string) entraweb.Config {
	cfg := testConfig(srv)
	cfg.Scopes = []string{"User.Read"}
	cfg.PublicBaseURL = publicBase
	cfg.Session = entraweb.SessionConfig{Store: "redis", RedisURL: entraweb.Secret(redisURL), Key: sharedKey}
	return cfg
}

func newCluster(t *testing.T, srv *entratest.Server, rs *redistest.Server) *cluster {
	t.Helper()
	return newClusterOn(t, srv, rs.URL())
}

// newClusterOn is newCluster on the Redis that redisURL names (a Cluster
// or a Sentinel setup, say).
func newClusterOn(t *testing.T, srv *entratest.Server, redisURL string) *cluster {
	t.Helper()
	c := &cluster{}
	c.routeAll(0)
	proxy := &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
		in := c.inst[(*c.route.Load())(pr.In)]
		in.hits.Add(1)
		u, _ := url.Parse(in.url)
		pr.SetURL(u)
	}}
	front := httptest.NewServer(proxy)
	t.Cleanup(front.Close)
	c.url = front.URL
	for i, name := range []string{"A", "B", "C"} {
		auth, err := entraweb.New(context.Background(), redisConfig(srv, redisURL, front.URL))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { auth.Close() })
		mux := http.NewServeMux()
		mux.Handle("/auth/", auth.Routes())
		mux.Handle("/", auth.RequireLogin(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			u := entraweb.UserFrom(r.Context())
			fmt.Fprintf(w, "hello %s from %s", u.Name, name)
		})))
		mux.Handle("/token", auth.RequireLogin(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			tok, err := auth.AccessToken(r, "User.Read")
			if auth.Challenge(w, r, err) {
				return
			}
			fmt.Fprintf(w, "token of %d bytes from %s", len(tok), name)
		})))
		hs := httptest.NewServer(mux)
		t.Cleanup(hs.Close)
		c.inst[i] = &instance{name: name, auth: auth, url: hs.URL}
	}
	return c
}

// routeAll sends every request to instance i.
func (c *cluster) routeAll(i int) {
	f := func(*http.Request) int { return i }
	c.route.Store(&f)
}

// routeSignIn sends the start of a sign-in to A, the callback to B and
// everything else to C.
func (c *cluster) routeSignIn() {
	f := func(r *http.Request) int {
		switch r.URL.Path {
		case "/auth/login":
			return 0
		case "/auth/callback":
			return 1
		}
		return 2
	}
	c.route.Store(&f)
}

func (c *cluster) resetHits() {
	for _, in := range c.inst {
		in.hits.Store(0)
	}
}

// get requests path through the balancer with the browser's cookies,
// as a page load (HTML) or an API call (JSON).
func get(t *testing.T, b *entratest.Browser, u string, page bool) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", u, nil)
	if page {
		req.Header.Set("Accept", "text/html")
		req.Header.Set("Sec-Fetch-Mode", "navigate")
	} else {
		req.Header.Set("Accept", "application/json")
	}
	c := noFollow(b.AppClient().Jar)
	c.Timeout = 10 * time.Second
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(body)
}

func signInThroughCluster(t *testing.T, srv *entratest.Server, c *cluster) *entratest.Browser {
	t.Helper()
	c.routeSignIn()
	c.resetHits()
	b := srv.Browser()
	resp, body, err := b.Visit(context.Background(), c.url+"/reports", alice, entratest.DemoPassword)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || body != "hello Alice Admin from C" {
		t.Fatalf("landed on %s: %d %q", resp.Request.URL, resp.StatusCode, body)
	}
	// C sent the browser to sign in (the first visit), A started it, B
	// finished it, C served the page.
	if a, bb, cc := c.inst[0].hits.Load(), c.inst[1].hits.Load(), c.inst[2].hits.Load(); a != 1 || bb != 1 || cc != 2 {
		t.Fatalf("requests served: A %d, B %d, C %d; want 1, 1, 2", a, bb, cc)
	}
	return b
}

// TestSignInAcrossInstances: no sticky sessions. A sign-in started on A
// is finished by B, C serves the pages and the user's tokens, and signing
// out on C ends the session on A and B too.
func TestSignInAcrossInstances(t *testing.T) {
	rs := redistest.Start(t, redistest.Options{})
	srv := entratest.NewServer(t, nil)
	c := newCluster(t, srv, rs)
	b := signInThroughCluster(t, srv, c)
	old := sessionCookieOf(b, c.url)
	if old == nil {
		t.Fatal("no session cookie")
	}

	for i, in := range c.inst {
		c.routeAll(i)
		if resp, body := get(t, b, c.url+"/", true); resp.StatusCode != 200 || body != "hello Alice Admin from "+in.name {
			t.Errorf("instance %s: %d %q", in.name, resp.StatusCode, body)
		}
		// B stored the token cache at the callback; any instance serves
		// the token from Redis.
		if resp, body := get(t, b, c.url+"/token", true); resp.StatusCode != 200 || !strings.HasSuffix(body, "from "+in.name) {
			t.Errorf("instance %s, /token: %d %q", in.name, resp.StatusCode, body)
		}
	}

	// Sign out on C.
	c.routeAll(2)
	_, page := get(t, b, c.url+"/auth/logout", true)
	csrf := between(page, `name="csrf" value="`, `"`)
	if csrf == "" {
		t.Fatalf("no sign-out form: %.300s", page)
	}
	if resp := navigate(t, noFollow(b.AppClient().Jar), "POST", c.url+"/auth/logout", url.Values{"csrf": {csrf}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-out on C: %d", resp.StatusCode)
	}
	if n, err := rs.Do("DBSIZE"); err != nil || n != "0" {
		t.Errorf("after sign-out Redis holds %s keys (%v); want none: the session and the token cache go", n, err)
	}
	// Even a copy of the old cookie opens nothing on A or B now.
	for _, i := range []int{0, 1} {
		req, _ := http.NewRequest("GET", c.inst[i].url+"/auth/me", nil)
		req.AddCookie(old)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("instance %s after sign-out on C: %d, want 401", c.inst[i].name, resp.StatusCode)
		}
	}
}

// sessionCookieOf returns the browser's session cookie for u.
func sessionCookieOf(b *entratest.Browser, u string) *http.Cookie {
	return sessionCookie(b.AppClient().Jar, u)
}

// TestRedisOutage restarts Redis under the three instances: during the
// outage requests get a 503 page (or JSON) at once, nobody is signed
// out, and afterwards the same session works on every instance.
func TestRedisOutage(t *testing.T) {
	rs := redistest.Start(t, redistest.Options{})
	srv := entratest.NewServer(t, nil)
	c := newCluster(t, srv, rs)
	b := signInThroughCluster(t, srv, c)
	cookie := sessionCookieOf(b, c.url)
	if cookie == nil {
		t.Fatal("no session cookie")
	}

	rs.Stop()
	for i, in := range c.inst {
		c.routeAll(i)
		for _, page := range []bool{true, false} {
			start := time.Now()
			resp, body := get(t, b, c.url+"/", page)
			// Fails at once rather than waiting on timeouts: a bound
			// far from both (the time is not a speed claim).
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("instance %s: a request during the outage took %v", in.name, d)
			}
			if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
				t.Errorf("instance %s (page %v) during the outage: %d, want 503 with Retry-After", in.name, page, resp.StatusCode)
			}
			if page && !strings.Contains(body, "Your session is not lost") {
				t.Errorf("instance %s: the 503 page does not say the session is kept: %.300s", in.name, body)
			}
			if !page {
				var e map[string]string
				if json.Unmarshal([]byte(body), &e) != nil || e["error"] != "session_store_unavailable" {
					t.Errorf("instance %s: 503 JSON = %q", in.name, body)
				}
			}
			for _, sc := range resp.Cookies() {
				if sc.Name == cookie.Name {
					t.Errorf("instance %s touched the session cookie during the outage: %v", in.name, sc)
				}
			}
		}
		// A token needs the store too: 503, not a sign-in or a 500.
		if resp, _ := get(t, b, c.url+"/token", false); resp.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("instance %s, /token during the outage: %d, want 503", in.name, resp.StatusCode)
		}
		// Starting a sign-in needs no store: it still works.
		if resp, _ := get(t, b, c.url+"/auth/login?return=/", true); resp.StatusCode != http.StatusFound {
			t.Errorf("instance %s, /auth/login during the outage: %d, want 302", in.name, resp.StatusCode)
		}
	}

	rs.Restart()
	for i, in := range c.inst {
		c.routeAll(i)
		deadline := time.Now().Add(5 * time.Second)
		for {
			resp, body := get(t, b, c.url+"/", true)
			if resp.StatusCode == 200 {
				if body != "hello Alice Admin from "+in.name {
					t.Errorf("instance %s after the outage: %q", in.name, body)
				}
				break
			}
			if resp.StatusCode != http.StatusServiceUnavailable || time.Now().After(deadline) {
				t.Fatalf("instance %s after Redis came back: %d %.200s", in.name, resp.StatusCode, body)
			}
			time.Sleep(50 * time.Millisecond)
		}
		if resp, _ := get(t, b, c.url+"/token", true); resp.StatusCode != 200 {
			t.Errorf("instance %s, /token after the outage: %d", in.name, resp.StatusCode)
		}
	}
	if now := sessionCookieOf(b, c.url); now == nil || now.Value != cookie.Value {
		t.Error("the session cookie changed across the outage")
	}
}

// TestRedisStoreNeedsASharedKey: with a per-process random key, a session
// or sign-in started on one instance would fail on the others, so New
// refuses a redis store without a configured key.
func TestRedisStoreNeedsASharedKey(t *testing.T) {
	srv := entratest.NewServer(t, nil)
	cfg := redisConfig(srv, "redis://:pw-in-url@127.0.0.1:1/0", "")
	cfg.Session.Key = ""
	_, err := entraweb.New(context.Background(), cfg)
	if err == nil || !strings.Contains(err.Error(), "Entraweb:Session:Key") || !strings.Contains(err.Error(), "same key") {
		t.Errorf("New without a key: %v", err)
	}
	cfg.Session.Key = sharedKey
	cfg.Session.RedisURL = "redis://:pw-in-url@127.0.0.1:1/0?colour=red"
	_, err = entraweb.New(context.Background(), cfg)
	if err == nil || !strings.Contains(err.Error(), "colour") || strings.Contains(err.Error(), "pw-in-url") {
		t.Errorf("New with a bad Redis URL: %v (it must name the problem and hide the password)", err)
	}
}
