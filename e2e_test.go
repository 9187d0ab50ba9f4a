package entraweb_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/entraweb/entraweb"
	"github.com/entraweb/entraweb/entratest"
)

// app is a small app protected by entraweb, signing in against the
// emulator.
type app struct {
	srv  *entratest.Server
	auth *entraweb.Auth
	url  string
}

func testConfig(srv *entratest.Server) entraweb.Config {
	return entraweb.Config{
		Instance:     srv.URL + "/",
		TenantID:     entratest.DemoTenantID,
		ClientID:     entratest.DemoClientID,
		ClientSecret: entratest.DemoClientSecret,
		HTTPClient:   srv.Client(),
		Session:      entraweb.SessionConfig{Store: "memory"},
		GraphURL:     srv.GraphURL(),
		Logger:       slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
}

func newApp(t testing.TB, srv *entratest.Server, cfg entraweb.Config) *app {
	t.Helper()
	auth, err := entraweb.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { auth.Close() })
	mux := http.NewServeMux()
	mux.Handle("/auth/", auth.Routes())
	mux.Handle("/", auth.RequireLogin(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u := entraweb.UserFrom(r.Context())
		fmt.Fprintf(w, "hello %s <%s> at %s", u.Name, u.Username, r.URL.RequestURI())
	})))
	for _, role := range []string{"Read", "Write", "Admin"} {
		mux.Handle("/"+strings.ToLower(role), auth.RequireRole("DemoApp."+role, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, "%s page", role)
		})))
	}
	mux.Handle("/api/data", auth.RequireLogin(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"ok":true}`)
	})))
	hs := httptest.NewServer(mux)
	t.Cleanup(hs.Close)
	return &app{srv: srv, auth: auth, url: hs.URL}
}

func TestSignInEveryDemoUser(t *testing.T) {
	srv := entratest.NewServer(t, nil)
	a := newApp(t, srv, testConfig(srv))
	ctx := context.Background()
	tests := []struct {
		user    string
		name    string
		allowed []string // of read, write, admin
		roles   []string
	}{
		{"alice", "Alice Admin", []string{"read", "write", "admin"}, []string{"DemoApp.Admin", "DemoApp.Read", "DemoApp.Write"}},
		{"bob", "Bob Writer", []string{"read", "write"}, []string{"DemoApp.Read", "DemoApp.Write"}},
		{"carol", "Carol Reader", []string{"read"}, []string{"DemoApp.Read"}},
		{"dave", "Dave No-Role", nil, []string{}},
		{"erin", "Erin Many-Groups", []string{"read"}, []string{"DemoApp.Read"}},
	}
	for _, tt := range tests {
		t.Run(tt.user, func(t *testing.T) {
			b := srv.Browser()
			username := tt.user + "@" + entratest.DemoTenantDomain
			resp, body, err := b.Visit(ctx, a.url+"/reports?year=2026&q=a%20b", username, entratest.DemoPassword)
			if err != nil {
				t.Fatal(err)
			}
			want := fmt.Sprintf("hello %s <%s> at /reports?year=2026&q=a%%20b", tt.name, username)
			if resp.StatusCode != 200 || body != want {
				t.Fatalf("landed on %s: %d %q, want %q", resp.Request.URL, resp.StatusCode, body, want)
			}
			for _, page := range []string{"read", "write", "admin"} {
				resp, body, err := b.Visit(ctx, a.url+"/"+page, "", "")
				if err != nil {
					t.Fatal(err)
				}
				if slices.Contains(tt.allowed, page) {
					if resp.StatusCode != 200 {
						t.Errorf("%s on /%s: %d", tt.user, page, resp.StatusCode)
					}
				} else if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "DemoApp."+strings.ToUpper(page[:1])+page[1:]) {
					t.Errorf("%s on /%s: %d, want 403 naming the role; body %.200s", tt.user, page, resp.StatusCode, body)
				}
			}
			// /auth/me as JSON.
			resp, err = b.AppClient().Get(a.url + "/auth/me")
			if err != nil {
				t.Fatal(err)
			}
			var me struct {
				Name, Username, OID, TID string
				Roles                    []string
				Groups                   []string
				GroupsOverage            bool `json:"groups_overage"`
			}
			json.NewDecoder(resp.Body).Decode(&me)
			resp.Body.Close()
			if me.Name != tt.name || me.TID != entratest.DemoTenantID || !slices.Equal(me.Roles, tt.roles) {
				t.Errorf("/auth/me = %+v", me)
			}
			if tt.user == "erin" && (me.GroupsOverage || len(me.Groups) != 250) {
				t.Errorf("erin's 250 groups were not read from Graph: overage %v, %d groups", me.GroupsOverage, len(me.Groups))
			}
		})
	}
}

func TestAPIRequestsGet401NotRedirects(t *testing.T) {
	srv := entratest.NewServer(t, nil)
	a := newApp(t, srv, testConfig(srv))
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	tests := []struct {
		name    string
		method  string
		headers map[string]string
		want    int
	}{
		{"navigation", "GET", map[string]string{"Sec-Fetch-Mode": "navigate", "Accept": "text/html"}, http.StatusFound},
		{"old browser navigation", "GET", map[string]string{"Accept": "text/html,application/xhtml+xml"}, http.StatusFound},
		{"fetch", "GET", map[string]string{"Sec-Fetch-Mode": "cors", "Accept": "*/*"}, http.StatusUnauthorized},
		{"fetch asking for html", "GET", map[string]string{"Sec-Fetch-Mode": "cors", "Accept": "text/html"}, http.StatusUnauthorized},
		{"api client", "GET", map[string]string{"Accept": "application/json"}, http.StatusUnauthorized},
		{"post form", "POST", map[string]string{"Sec-Fetch-Mode": "navigate", "Accept": "text/html"}, http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, a.url+"/api/data?x=1", nil)
			for k, v := range tt.headers {
				req.Header.Set(k, v)
			}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.want)
			}
			if tt.want == http.StatusFound {
				loc, _ := url.Parse(resp.Header.Get("Location"))
				if loc.Path != "/auth/login" || loc.Query().Get("return") != "/api/data?x=1" {
					t.Errorf("redirect to %s", loc)
				}
			}
			if tt.want == http.StatusUnauthorized && tt.method == "GET" {
				var body map[string]string
				json.NewDecoder(resp.Body).Decode(&body)
				if body["error"] != "login_required" || !strings.Contains(body["login_url"], "/auth/login?return=") {
					t.Errorf("401 body = %v", body)
				}
			}
		})
	}
}

// An emulator that serves its pages over plain HTTP on loopback (as the
// demo runs it) works end to end: sign-in, pages, sign-out.
func TestSignInThroughPlainHTTPEmulatorPages(t *testing.T) {
	srv := entratest.NewServer(t, &entratest.Options{BrowserAddr: "127.0.0.1:0"})
	a := newApp(t, srv, testConfig(srv))
	ctx := context.Background()
	b := srv.Browser()
	resp, body, err := b.Visit(ctx, a.url+"/", alice, entratest.DemoPassword)
	if err != nil || resp.StatusCode != 200 || !strings.HasPrefix(body, "hello Alice Admin") {
		t.Fatalf("sign-in: %v %d %q", err, resp.StatusCode, body)
	}
	_, page, _ := b.Visit(ctx, a.url+"/auth/logout", "", "")
	csrf := between(page, `name="csrf" value="`, `"`)
	r := navigate(t, noFollow(b.AppClient().Jar), "POST", a.url+"/auth/logout", url.Values{"csrf": {csrf}})
	if loc := r.Header.Get("Location"); !strings.HasPrefix(loc, srv.BrowserURL()+"/") {
		t.Errorf("sign-out goes to %s, want the emulator's browser pages at %s", loc, srv.BrowserURL())
	}
	if csp := r.Header.Get("Content-Security-Policy"); csp != "" && !strings.Contains(csp, srv.BrowserURL()) {
		t.Errorf("CSP %q", csp)
	}
}
