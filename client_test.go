package entraweb_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/entraweb/entraweb"
	"github.com/entraweb/entraweb/entratest"
)

// clientApp is an app whose pages call the emulator's Graph through
// auth.Client; lastErr holds the error the page's call returned.
type clientApp struct {
	*app
	lastErr atomic.Pointer[error]
}

func newClientApp(t *testing.T, srv *entratest.Server) *clientApp {
	a := &clientApp{app: newApp(t, srv, graphConfig(srv))}
	me := srv.GraphURL() + "/v1.0/me"
	page := func(scope string) http.Handler {
		return a.auth.RequireLogin(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			resp, err := a.auth.Client(r, scope).Get(me)
			a.lastErr.Store(&err)
			if a.auth.Challenge(w, r, err) {
				return
			}
			defer resp.Body.Close()
			var v struct{ DisplayName string }
			json.NewDecoder(resp.Body).Decode(&v)
			fmt.Fprintf(w, "graph %d %s", resp.StatusCode, v.DisplayName)
		}))
	}
	mux := http.NewServeMux()
	mux.Handle("/auth/", a.auth.Routes())
	mux.Handle("/profile", page("User.Read"))
	mux.Handle("/mail", page("Mail.Read"))
	// One client shared by concurrent calls.
	mux.Handle("/many", a.auth.RequireLogin(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := a.auth.Client(r, "User.Read")
		var ok atomic.Int64
		var wg sync.WaitGroup
		for range 16 {
			wg.Go(func() {
				req, _ := http.NewRequestWithContext(r.Context(), "GET", me, nil)
				resp, err := c.Do(req)
				if err != nil {
					return
				}
				var v struct{ DisplayName string }
				json.NewDecoder(resp.Body).Decode(&v)
				resp.Body.Close()
				if resp.StatusCode == 200 && v.DisplayName == entraweb.UserFrom(r.Context()).Name {
					ok.Add(1)
				}
			})
		}
		wg.Wait()
		fmt.Fprintf(w, "%d of 16", ok.Load())
	})))
	hs := httptest.NewServer(mux)
	t.Cleanup(hs.Close)
	a.url = hs.URL
	return a
}

func (a *clientApp) err() error {
	if p := a.lastErr.Load(); p != nil {
		return *p
	}
	return nil
}

// pageLoad is a browser's GET of u, not following redirects.
func pageLoad(t *testing.T, b *entratest.Browser, u string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest("GET", u, nil)
	req.Header.Set("Accept", "text/html")
	resp, err := noFollow(b.AppClient().Jar).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

func TestClientCallsGraphAsUser(t *testing.T) {
	srv := entratest.NewServer(t, nil)
	a := newClientApp(t, srv)
	ctx := context.Background()
	b := srv.Browser()
	if _, body, err := b.Visit(ctx, a.url+"/profile", alice, entratest.DemoPassword); err != nil || body != "graph 200 Alice Admin" {
		t.Fatalf("profile: %v %q", err, body)
	}
	// Each call gets its token from the cache: no token endpoint call.
	before := srv.Calls(entratest.EndpointToken)
	for range 3 {
		if _, body, _ := b.Visit(ctx, a.url+"/profile", "", ""); body != "graph 200 Alice Admin" {
			t.Fatalf("profile again: %q", body)
		}
	}
	if _, body, _ := b.Visit(ctx, a.url+"/many", "", ""); body != "16 of 16" {
		t.Errorf("concurrent calls with one client: %q", body)
	}
	if got := srv.Calls(entratest.EndpointToken); got != before {
		t.Errorf("%d token endpoint calls, want none (cached tokens)", got-before)
	}
}

func TestClientErrorsReachChallenge(t *testing.T) {
	srv := entratest.NewServer(t, nil)
	a := newClientApp(t, srv)

	// Nobody signed in: nothing is sent, and Challenge sends to sign-in.
	graphCalls := srv.Calls(entratest.EndpointGraph)
	r := httptest.NewRequest("GET", a.url+"/report", nil)
	r.Header.Set("Accept", "text/html")
	resp, err := a.auth.Client(r, "User.Read").Get(srv.GraphURL() + "/v1.0/me")
	var ue *url.Error
	if resp != nil || !errors.As(err, &ue) || !errors.Is(err, entraweb.ErrNotSignedIn) {
		t.Fatalf("anonymous call: %v %v", resp, err)
	}
	if srv.Calls(entratest.EndpointGraph) != graphCalls {
		t.Error("a request without a token reached Graph")
	}
	if _, err := a.auth.Client(nil, "User.Read").Get(srv.GraphURL() + "/v1.0/me"); err == nil || !strings.Contains(err.Error(), "AppClient") {
		t.Errorf("no incoming request: %v", err)
	}
	rec := httptest.NewRecorder()
	if !a.auth.Challenge(rec, r, err) || rec.Code != http.StatusFound || !strings.Contains(rec.Header().Get("Location"), "/auth/login") {
		t.Errorf("Challenge of the client's error: %d %q", rec.Code, rec.Header().Get("Location"))
	}

	// Consent missing (bob never granted Mail.Read): the page's call fails
	// with the InteractionRequiredError inside a *url.Error, and Challenge
	// sends bob to a sign-in that asks for Mail.Read.
	b := srv.Browser()
	if _, body, err := b.Visit(context.Background(), a.url+"/profile", "bob@contoso.onmicrosoft.com", entratest.DemoPassword); err != nil || body != "graph 200 Bob Writer" {
		t.Fatalf("sign-in: %v %q", err, body)
	}
	page := pageLoad(t, b, a.url+"/mail")
	var ire *entraweb.InteractionRequiredError
	if err := a.err(); !errors.As(err, &ue) || !errors.As(err, &ire) || len(ire.Scopes) != 1 || ire.Scopes[0] != "Mail.Read" {
		t.Fatalf("the page's error: %v", err)
	}
	if loc := page.Header.Get("Location"); page.StatusCode != http.StatusFound || !strings.Contains(loc, "/auth/login") || !strings.Contains(loc, "req=") {
		t.Errorf("consent needed: %d %q", page.StatusCode, loc)
	}
}

// Graph asks for an authentication context: the client's error makes
// Challenge sign the user in again with Graph's claims, and the page then
// works.
func TestClientClaimsChallenge(t *testing.T) {
	srv := entratest.NewServer(t, nil)
	a := newClientApp(t, srv)
	ctx := context.Background()
	b := srv.Browser()
	if _, body, err := b.Visit(ctx, a.url+"/profile", alice, entratest.DemoPassword); err != nil || body != "graph 200 Alice Admin" {
		t.Fatalf("first visit: %v %q", err, body)
	}
	srv.RequireAuthContext("c1")
	page := pageLoad(t, b, a.url+"/profile")
	var ire *entraweb.InteractionRequiredError
	if err := a.err(); !errors.As(err, &ire) || !strings.Contains(ire.Claims, `"acrs"`) || !strings.Contains(ire.Claims, `"c1"`) {
		t.Fatalf("the page's error: %v", err)
	}
	login := page.Header.Get("Location")
	if page.StatusCode != http.StatusFound || !strings.Contains(login, "/auth/login") {
		t.Fatalf("claims challenge: %d %q", page.StatusCode, login)
	}
	authorize, err := url.Parse(pageLoad(t, b, login).Header.Get("Location"))
	if err != nil || !strings.Contains(authorize.Query().Get("claims"), `"c1"`) {
		t.Fatalf("the sign-in does not carry the claims: %v", authorize)
	}
	resp, body, err := b.Visit(ctx, a.url+"/profile", "", "")
	if err != nil || body != "graph 200 Alice Admin" || resp.Request.URL.Path != "/profile" {
		t.Fatalf("after the claims challenge: %v %q at %s", err, body, resp.Request.URL)
	}
}

// downstream is a plain-http API on loopback that records what it gets.
type downstream struct {
	*httptest.Server
	mu    sync.Mutex
	auths map[string]string // path → Authorization header
	body  string
}

func newDownstream(t *testing.T) *downstream {
	d := &downstream{auths: map[string]string{}}
	d.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		d.mu.Lock()
		d.auths[r.URL.Path] = r.Header.Get("Authorization")
		if r.Method == "POST" {
			d.body = string(b)
		}
		d.mu.Unlock()
		switch r.URL.Path {
		case "/away": // the same server under another name
			http.Redirect(w, r, strings.Replace(d.URL, "127.0.0.1", "localhost", 1)+"/landed", http.StatusFound)
		case "/here":
			http.Redirect(w, r, "/landed", http.StatusFound)
		case "/unauthorized":
			w.Header().Set("WWW-Authenticate", `Bearer realm="", error="invalid_token"`)
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"error":"the token is revoked"}`)
		case "/claims":
			w.Header().Set("WWW-Authenticate", `Bearer realm="", error="insufficient_claims", claims="`+
				base64.StdEncoding.EncodeToString([]byte(`{"access_token":{"nbf":{"essential":true,"value":"1700000000"}}}`))+`"`)
			w.WriteHeader(http.StatusUnauthorized)
		default:
			io.WriteString(w, "ok")
		}
	}))
	t.Cleanup(d.Close)
	return d
}

func (d *downstream) auth(path string) (string, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	v, ok := d.auths[path]
	return v, ok
}

// aliceRequest signs alice in and returns a request of her browser.
func aliceRequest(t *testing.T, srv *entratest.Server, a *app) *http.Request {
	t.Helper()
	b := srv.Browser()
	if _, body, err := b.Visit(context.Background(), a.url+"/", alice, entratest.DemoPassword); err != nil || !strings.HasPrefix(body, "hello Alice Admin") {
		t.Fatalf("sign-in: %v %q", err, body)
	}
	return requestAs(t, b, a.url)
}

func TestClientSendsTheTokenOnlyToItsOrigin(t *testing.T) {
	srv := entratest.NewServer(t, nil)
	a := newApp(t, srv, graphConfig(srv))
	r := aliceRequest(t, srv, a)
	d := newDownstream(t)
	c := a.auth.Client(r, "User.Read")

	// A redirect to another host: followed, without the token.
	resp, err := c.Get(d.URL + "/away")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if tok, _ := d.auth("/away"); oidOf(strings.TrimPrefix(tok, "Bearer ")) != entratest.StableID("user:"+alice) {
		t.Errorf("the API itself got %q, want alice's token", tok)
	}
	if tok, ok := d.auth("/landed"); !ok || tok != "" {
		t.Errorf("the other host got Authorization %q (reached: %v)", tok, ok)
	}
	if resp.Request.Header.Get("Authorization") != "" {
		t.Error("the response's request shows the token")
	}

	// A redirect on the same origin keeps it.
	resp, err = c.Get(d.URL + "/here")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if tok, _ := d.auth("/landed"); !strings.HasPrefix(tok, "Bearer ey") {
		t.Errorf("same-origin redirect: Authorization %q", tok)
	}
	if resp.Request.Header.Get("Authorization") != "" || resp.Request.Response.Request.Header.Get("Authorization") != "" {
		t.Error("the response's requests show the token")
	}
}

// closeRecorder is a request body that records its closing.
type closeRecorder struct {
	io.Reader
	closed atomic.Bool
}

func (c *closeRecorder) Close() error { c.closed.Store(true); return nil }

func TestClientRefusesPlainHTTP(t *testing.T) {
	srv := entratest.NewServer(t, nil)
	a := newApp(t, srv, graphConfig(srv))
	r := aliceRequest(t, srv, a)
	body := &closeRecorder{Reader: strings.NewReader("x")}
	// 192.0.2.1 is a documentation address: nothing is dialled.
	resp, err := a.auth.Client(r, "User.Read").Post("http://192.0.2.1/api", "text/plain", body)
	var ue *url.Error
	if resp != nil || !errors.As(err, &ue) || !strings.Contains(err.Error(), "plain http") {
		t.Fatalf("plain http: %v %v", resp, err)
	}
	if !body.closed.Load() {
		t.Error("the refused request's body was left open")
	}
	if _, err := a.auth.AppClient("https://graph.microsoft.com/.default").Get("http://192.0.2.1/api"); err == nil || !strings.Contains(err.Error(), "plain http") {
		t.Errorf("app client, plain http: %v", err)
	}
}

func TestClientLeavesTheRequestAlone(t *testing.T) {
	srv := entratest.NewServer(t, nil)
	a := newApp(t, srv, graphConfig(srv))
	r := aliceRequest(t, srv, a)
	d := newDownstream(t)
	req, _ := http.NewRequest("POST", d.URL+"/echo", strings.NewReader(`{"n":1}`))
	req.Header.Set("X-Caller", "mine")
	resp, err := a.auth.Client(r, "User.Read").Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if req.Header.Get("Authorization") != "" || req.Header.Get("X-Caller") != "mine" || len(req.Header) != 1 {
		t.Errorf("the caller's request changed: %v", req.Header)
	}
	if tok, _ := d.auth("/echo"); !strings.HasPrefix(tok, "Bearer ey") || d.body != `{"n":1}` {
		t.Errorf("the API got %q with body %q", tok, d.body)
	}
}

func TestClient401(t *testing.T) {
	srv := entratest.NewServer(t, nil)
	a := newApp(t, srv, graphConfig(srv))
	r := aliceRequest(t, srv, a)
	d := newDownstream(t)

	// Without a claims challenge, a 401 is an answer like any other.
	resp, err := a.auth.Client(r, "User.Read").Get(d.URL + "/unauthorized")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || string(b) != `{"error":"the token is revoked"}` {
		t.Errorf("plain 401: %d %q", resp.StatusCode, b)
	}

	// With one, it is an error for Challenge.
	resp, err = a.auth.Client(r, "User.Read").Get(d.URL + "/claims")
	var ire *entraweb.InteractionRequiredError
	if resp != nil || !errors.As(err, &ire) || ire.Claims != `{"access_token":{"nbf":{"essential":true,"value":"1700000000"}}}` || ire.Scopes[0] != "User.Read" {
		t.Fatalf("claims challenge: %v %v", resp, err)
	}
	r.Header.Set("Accept", "text/html")
	rec := httptest.NewRecorder()
	a.auth.Challenge(rec, r, err)
	if rec.Code != http.StatusFound || !strings.Contains(rec.Header().Get("Location"), "req=") {
		t.Errorf("Challenge: %d %q", rec.Code, rec.Header().Get("Location"))
	}

	// The app's client cannot answer a claims challenge: the 401 is its answer.
	resp, err = a.auth.AppClient("https://graph.microsoft.com/.default").Get(d.URL + "/claims")
	if err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("app client, claims challenge: %v %v", resp, err)
	}
	resp.Body.Close()
}

func TestAppClient(t *testing.T) {
	srv := entratest.NewServer(t, nil)
	a := newApp(t, srv, graphConfig(srv))
	c := a.auth.AppClient("https://graph.microsoft.com/.default")

	// Graph takes the app's token (401 without one), and /me wants a user.
	resp, err := c.Get(srv.GraphURL() + "/v1.0/me")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(b), "delegated") {
		t.Errorf("app token at /me: %d %s", resp.StatusCode, b)
	}

	// One client, many concurrent calls, an app-only token on each.
	d := newDownstream(t)
	var wg sync.WaitGroup
	var failed atomic.Int64
	for i := range 16 {
		wg.Go(func() {
			resp, err := c.Get(fmt.Sprintf("%s/call%d", d.URL, i))
			if err != nil {
				failed.Add(1)
				return
			}
			resp.Body.Close()
		})
	}
	wg.Wait()
	for i := range 16 {
		tok, _ := d.auth(fmt.Sprintf("/call%d", i))
		if failed.Load() != 0 || !strings.Contains(claimsJSON(t, strings.TrimPrefix(tok, "Bearer ")), `"idtyp":"app"`) {
			t.Fatalf("call %d: %d failures, Authorization %q", i, failed.Load(), tok)
		}
	}

	// The provider's refusal comes out of Do.
	_, err = a.auth.AppClient("User.Read").Get(d.URL + "/x")
	var ae *entraweb.AADSTSError
	if !errors.As(err, &ae) || ae.Code != 1002012 {
		t.Errorf("client credentials without .default: %v", err)
	}
}

// The token is fetched under both contexts: either ending stops it, and
// no token comes of it.
func TestClientContexts(t *testing.T) {
	srv := entratest.NewServer(t, nil)
	a := newApp(t, srv, graphConfig(srv))
	r := aliceRequest(t, srv, a)
	d := newDownstream(t)
	api := "api://" + entratest.DemoClientID + "/access_as_user" // not cached: needs the token endpoint

	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	req, _ := http.NewRequestWithContext(cancelled, "GET", d.URL+"/x", nil)
	if _, err := a.auth.Client(r, api).Do(req); err == nil {
		t.Error("a call with a cancelled context succeeded")
	}
	if _, err := a.auth.Client(r.WithContext(cancelled), api).Get(d.URL + "/x"); err == nil {
		t.Error("a call for a request whose context ended succeeded")
	}
	if _, reached := d.auth("/x"); reached {
		t.Error("a call under an ended context reached the API")
	}
	// Had either fetched the token, it would be cached now: with the
	// provider down, it is not there.
	srv.SetOutage(entratest.Outage503)
	if _, err := a.auth.AccessToken(r, api); err == nil {
		t.Error("a token was fetched under an ended context")
	}
	srv.SetOutage(entratest.OutageNone)
	resp, err := a.auth.Client(r, api).Get(d.URL + "/x")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
}

// countingTransport counts the requests it passes on.
type countingTransport struct {
	n    atomic.Int64
	next http.RoundTripper
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.next.RoundTrip(r)
}

func TestTransportsOnYourOwnBase(t *testing.T) {
	srv := entratest.NewServer(t, nil)
	a := newApp(t, srv, graphConfig(srv))
	r := aliceRequest(t, srv, a)
	d := newDownstream(t)
	base := &countingTransport{next: http.DefaultTransport}
	user := &http.Client{Transport: a.auth.Transport(base, r, "User.Read")}
	app := &http.Client{Transport: a.auth.AppTransport(base, "https://graph.microsoft.com/.default")}
	for path, c := range map[string]*http.Client{"/user": user, "/app": app} {
		resp, err := c.Get(d.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if tok, _ := d.auth(path); !strings.HasPrefix(tok, "Bearer ey") {
			t.Errorf("%s: Authorization %q", path, tok)
		}
	}
	if base.n.Load() != 2 {
		t.Errorf("the base transport carried %d requests, want 2", base.n.Load())
	}
	// The client keeps its own copy of the scopes.
	scopes := []string{"User.Read"}
	c := a.auth.Client(r, scopes...)
	scopes[0] = "openid"
	if resp, err := c.Get(d.URL + "/copy"); err != nil {
		t.Errorf("the client took the caller's slice: %v", err)
	} else {
		resp.Body.Close()
	}
	c1, c2 := a.auth.Client(r, "User.Read"), a.auth.Client(r, "User.Read")
	if c1 == c2 || c1.Timeout != 30*time.Second || a.auth.AppClient("x/.default").Timeout != 30*time.Second {
		t.Errorf("clients: shared %v, timeouts %v", c1 == c2, c1.Timeout)
	}
}

// One Challenge for every error of a call: a call that had its token but
// could not reach the API is a 502, logged without the URL's query; a
// call without a token is a token failure.
func TestChallengeOfFailedCalls(t *testing.T) {
	srv := entratest.NewServer(t, nil)
	cfg := graphConfig(srv)
	var logs strings.Builder
	var mu sync.Mutex
	cfg.Logger = slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return logs.Write(p)
	}), nil))
	a := newApp(t, srv, cfg)
	r := aliceRequest(t, srv, a)
	r.Header.Set("Accept", "application/json")
	gone := httptest.NewServer(http.NotFoundHandler())
	gone.Close()

	code := func(err error) (int, string) {
		rec := httptest.NewRecorder()
		a.auth.Challenge(rec, r, err)
		var j struct{ Error string }
		json.Unmarshal(rec.Body.Bytes(), &j)
		return rec.Code, j.Error
	}
	_, err := a.auth.Client(r, "User.Read").Get(gone.URL + "/v1/orders?secret=s3cr3t")
	if status, c := code(err); status != http.StatusBadGateway || c != "api_unavailable" {
		t.Errorf("unreachable API: %d %q", status, c)
	}
	_, err = a.auth.AppClient("User.Read").Get(gone.URL + "/v1/orders?secret=s3cr3t")
	if status, c := code(err); status == http.StatusBadGateway || c == "api_unavailable" {
		t.Errorf("no token: %d %q", status, c)
	}
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(logs.String(), "/v1/orders") || strings.Contains(logs.String(), "s3cr3t") {
		t.Errorf("the log:\n%s", logs.String())
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// fakeAPI answers every request itself: a redirect to the URL in the
// "to" query parameter, or 200. It records the Authorization of each URL.
type fakeAPI struct {
	mu    sync.Mutex
	auths map[string]string
}

func (f *fakeAPI) RoundTrip(r *http.Request) (*http.Response, error) {
	f.mu.Lock()
	f.auths[r.URL.String()] = r.Header.Get("Authorization")
	f.mu.Unlock()
	resp := &http.Response{StatusCode: 200, Header: http.Header{}, Body: http.NoBody, Request: r}
	if to := r.URL.Query().Get("to"); to != "" {
		resp.StatusCode = http.StatusFound
		resp.Header.Set("Location", to)
	}
	return resp, nil
}

func TestClientRedirectOrigins(t *testing.T) {
	srv := entratest.NewServer(t, nil)
	a := newApp(t, srv, graphConfig(srv))
	r := aliceRequest(t, srv, a)
	tests := []struct {
		to    string
		token bool
	}{
		{"https://api.example.com/same", true},
		{"https://API.Example.com:443/default-port", true},
		{"http://api.example.com/downgrade", false},
		{"https://api.example.com:8443/other-port", false},
		{"https://sub.api.example.com/subdomain", false},
		{"https://api.example.com.evil.test/suffix", false},
		{"https://evil.test/elsewhere", false},
	}
	for _, tt := range tests {
		f := &fakeAPI{auths: map[string]string{}}
		c := &http.Client{Transport: a.auth.Transport(f, r, "User.Read")}
		start := "https://api.example.com/start?to=" + url.QueryEscape(tt.to)
		resp, err := c.Get(start)
		if err != nil {
			t.Fatalf("%s: %v", tt.to, err)
		}
		resp.Body.Close()
		if !strings.HasPrefix(f.auths[start], "Bearer ey") {
			t.Errorf("%s: the first request had no token", tt.to)
		}
		got, reached := f.auths[tt.to]
		if !reached || (got != "") != tt.token {
			t.Errorf("redirect to %s: Authorization %q (reached %v), want a token: %v", tt.to, got, reached, tt.token)
		}
	}
}

// An API whose claims challenge no sign-in satisfies (a Conditional Access
// policy the user cannot meet) gets one sign-in with its claims, then a
// page that says so: never an endless round between the app and Entra ID,
// which signs the user in again without asking anything. The page's link
// makes the same step-up once more, with the account picker. (The
// one-minute window is TestStepUpRepeated's.) A challenge too large for a
// sign-in to carry gets a page at once.
func TestRepeatedClaimsChallengeDoesNotLoop(t *testing.T) {
	srv := entratest.NewServer(t, nil)
	d := newDownstream(t)
	rec := &recorder{}
	cfg := graphConfig(srv)
	cfg.Observe = rec.observe
	auth := newApp(t, srv, cfg).auth
	mux := http.NewServeMux()
	mux.Handle("/auth/", auth.Routes())
	mux.Handle("/report", auth.RequireLogin(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		resp, err := auth.Client(r, "User.Read").Get(d.URL + "/claims")
		if auth.Challenge(w, r, err) {
			return
		}
		resp.Body.Close()
		fmt.Fprintf(w, "the API answered %d", resp.StatusCode)
	})))
	mux.Handle("/", auth.RequireLogin(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "home") })))
	mux.Handle("/huge", auth.RequireLogin(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var scopes []string
		for i := range 20 {
			scopes = append(scopes, fmt.Sprintf("api://%s/Scope%02d", entratest.DemoClientID, i))
		}
		auth.Challenge(w, r, &entraweb.InteractionRequiredError{Scopes: scopes, Cause: errors.New("consent needed")})
	})))
	hs := httptest.NewServer(mux)
	t.Cleanup(hs.Close)

	b := srv.Browser()
	if _, body, err := b.Visit(context.Background(), hs.URL+"/", alice, entratest.DemoPassword); err != nil || body != "home" {
		t.Fatalf("sign-in: %v %q", err, body)
	}
	before := srv.Calls(entratest.EndpointAuthorize)
	resp, body, err := b.Visit(context.Background(), hs.URL+"/report", "", "")
	if err != nil {
		t.Fatalf("the visit did not end (a loop?): %v", err)
	}
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "Signing in again did not help") || resp.Request.URL.Path != "/report" {
		t.Fatalf("%d at %s: %.400s", resp.StatusCode, resp.Request.URL, body)
	}
	// One sign-in with the API's claims, not more.
	if got := srv.Calls(entratest.EndpointAuthorize) - before; got != 1 {
		t.Errorf("%d authorize requests, want 1", got)
	}
	var refusals []string
	for _, e := range only(rec.take(), entraweb.EventRefused) {
		refusals = append(refusals, e.Reason)
	}
	if !slices.Contains(refusals, "step_up_repeated") {
		t.Errorf("refusals observed: %q", refusals)
	}

	// A script gets the same answer as JSON, with the way to try again.
	req, _ := http.NewRequest("GET", hs.URL+"/report", nil)
	req.Header.Set("Accept", "application/json")
	api, err := noFollow(b.AppClient().Jar).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var problem struct {
		Error    string `json:"error"`
		LoginURL string `json:"login_url"`
	}
	json.NewDecoder(api.Body).Decode(&problem)
	api.Body.Close()
	if api.StatusCode != http.StatusForbidden || problem.Error != "step_up_repeated" {
		t.Errorf("fetch: %d %+v", api.StatusCode, problem)
	}

	// The link on the page makes the same step-up again, with the
	// account picker: Entra ID is asked for the claims once more.
	retry, err := url.Parse(problem.LoginURL)
	if err != nil || retry.Query().Get("req") == "" || retry.Query().Get("prompt") != "select_account" {
		t.Fatalf("the page's sign-in link: %q", problem.LoginURL)
	}
	authorize, err := url.Parse(pageLoad(t, b, problem.LoginURL).Header.Get("Location"))
	if err != nil || !strings.Contains(authorize.Query().Get("claims"), "nbf") || authorize.Query().Get("prompt") != "select_account" {
		t.Errorf("the retried sign-in: %v", authorize)
	}

	// Scopes that a sign-in cannot carry: a page at once, no sign-in.
	before = srv.Calls(entratest.EndpointAuthorize)
	resp, body, err = b.Visit(context.Background(), hs.URL+"/huge", "", "")
	if err != nil {
		t.Errorf("too large a step-up: the visit did not end (a loop?): %v", err)
	} else if resp.StatusCode != http.StatusInternalServerError || !strings.Contains(body, "too much at once") || resp.Request.URL.Path != "/huge" {
		t.Errorf("too large a step-up: %d at %v: %.300s", resp.StatusCode, resp.Request.URL, body)
	}
	if got := srv.Calls(entratest.EndpointAuthorize) - before; got != 0 {
		t.Errorf("too large a step-up made %d authorize requests", got)
	}
}

// An app whose own configured scopes are too many for a sealed step-up
// (over 512 bytes) still recovers from a revoked refresh token: a plain
// sign-in asks for exactly those scopes, so it gets one, not an error
// page. (Found by a reviewer: the too-large page had hidden it.)
func TestManyConfiguredScopesRecoverFromRevocation(t *testing.T) {
	world := entratest.Default()
	world.AccessTokenLifetime = entratest.Duration(4 * time.Minute) // every call refreshes
	var scopes []string
	for i := range 20 {
		s := fmt.Sprintf("api://%s/Scope%02d", entratest.DemoClientID, i)
		scopes = append(scopes, s)
		world.Tenants[0].Apps[0].Scopes = append(world.Tenants[0].Apps[0].Scopes, fmt.Sprintf("Scope%02d", i))
		world.Tenants[0].Apps[0].ConsentedScopes = append(world.Tenants[0].Apps[0].ConsentedScopes, s)
	}
	srv := entratest.NewServer(t, &entratest.Options{Config: world})
	cfg := testConfig(srv)
	cfg.Scopes = scopes
	auth := newApp(t, srv, cfg).auth
	mux := http.NewServeMux()
	mux.Handle("/auth/", auth.Routes())
	mux.Handle("/big", auth.RequireLogin(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, err := auth.AccessToken(r, cfg.Scopes...)
		if auth.Challenge(w, r, err) {
			return
		}
		io.WriteString(w, "token ok")
	})))
	mux.Handle("/", auth.RequireLogin(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "home") })))
	hs := httptest.NewServer(mux)
	t.Cleanup(hs.Close)
	b := srv.Browser()
	if _, body, err := b.Visit(context.Background(), hs.URL+"/", alice, entratest.DemoPassword); err != nil || body != "home" {
		t.Fatalf("sign-in: %v %q", err, body)
	}
	srv.RevokeUser(alice)
	before := srv.Calls(entratest.EndpointAuthorize)
	resp, body, err := b.Visit(context.Background(), hs.URL+"/big", alice, entratest.DemoPassword)
	if err != nil {
		t.Fatalf("after revocation: %v", err)
	}
	if body != "token ok" || resp.Request.URL.Path != "/big" {
		t.Errorf("after revocation: %d at %s: %.300s", resp.StatusCode, resp.Request.URL, body)
	}
	if srv.Calls(entratest.EndpointAuthorize) == before {
		t.Error("no sign-in after revocation")
	}
}
