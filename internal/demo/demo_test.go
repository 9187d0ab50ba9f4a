package demo_test

import (
	"context"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/entraweb/entraweb/entratest"
)

// These tests drive the demo over HTTP with the emulator's scripted
// browser; browser_test.go does the same in Chromium.

func TestEveryUserSeesTheirPages(t *testing.T) {
	st := startStack(t)
	ctx := context.Background()
	for _, u := range demoUsers {
		t.Run(u.name, func(t *testing.T) {
			b := st.emu.Browser()
			resp, body, err := b.Visit(ctx, st.url+"/", "", "")
			if err != nil || resp.StatusCode != 200 || !strings.Contains(body, `id="sign-in"`) {
				t.Fatalf("signed-out home: %v %v\n%.400s", err, resp, body)
			}
			resp, body, err = b.Visit(ctx, st.url+"/auth/login?return=%2F", u.username(), entratest.DemoPassword)
			if err != nil || resp.StatusCode != 200 {
				t.Fatalf("sign-in: %v %v", err, resp)
			}
			for _, want := range []string{u.display, u.username(), "MSAL Go"} {
				if !strings.Contains(body, want) {
					t.Errorf("home page lacks %q", want)
				}
			}
			for _, r := range u.roles {
				if !strings.Contains(body, r) {
					t.Errorf("home page lacks the role %s", r)
				}
			}
			if !strings.Contains(body, `name="csrf"`) {
				t.Errorf("home page's sign-out is not a one-click POST")
			}
			for path, role := range rolePaths {
				resp, body, err := b.Visit(ctx, st.url+path, "", "")
				if err != nil {
					t.Fatal(err)
				}
				if slices.Contains(u.opens, path) {
					if resp.StatusCode != 200 || !strings.Contains(body, `id="page-title"`) {
						t.Errorf("%s: %d, want the page", path, resp.StatusCode)
					}
				} else if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "You need the role "+role) {
					t.Errorf("%s: %d, want the 403 page naming %s:\n%.300s", path, resp.StatusCode, role, body)
				}
			}
			resp, body, err = b.Visit(ctx, st.url+"/profile", "", "")
			if err != nil || resp.StatusCode != 200 || !strings.Contains(body, u.display) || !strings.Contains(body, u.username()) {
				t.Errorf("profile: %v %v\n%.400s", err, resp, body)
			}
			resp, body, err = b.Visit(ctx, st.url+"/dash/", "", "")
			if err != nil || resp.StatusCode != 200 || !strings.Contains(body, `id="navbar-user" title="`+u.username()+`">`+u.display) {
				t.Errorf("dashboard: %v %v\n%.400s", err, resp, body)
			}
		})
	}
}

func TestDashboardDataNeedsASession(t *testing.T) {
	st := startStack(t)
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(path string, h map[string]string) *http.Response {
		req, _ := http.NewRequest("GET", st.url+path, nil)
		for k, v := range h {
			req.Header.Set(k, v)
		}
		resp, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	fetch := map[string]string{"Accept": "application/json", "Sec-Fetch-Mode": "cors"}
	resp := get("/dash/api/data", fetch)
	var body struct {
		Error    string
		LoginURL string `json:"login_url"`
	}
	json.NewDecoder(resp.Body).Decode(&body)
	if resp.StatusCode != 401 || body.LoginURL == "" {
		t.Fatalf("data without a session: %d %+v, want 401 JSON with a login_url", resp.StatusCode, body)
	}
	if lu, _ := url.Parse(body.LoginURL); lu.Path != "/auth/login" {
		t.Errorf("login_url = %s", body.LoginURL)
	}
	// Every path under /dash/ is protected, the assets too.
	for _, p := range []string{"/dash/", "/dash/assets/dash.js", "/dash/anything"} {
		resp := get(p, map[string]string{"Accept": "text/html", "Sec-Fetch-Mode": "navigate"})
		if loc, _ := url.Parse(resp.Header.Get("Location")); resp.StatusCode != 302 || loc.Path != "/auth/login" {
			t.Errorf("%s without a session: %d to %s, want a redirect to sign in", p, resp.StatusCode, loc)
		}
	}
	// The app's own assets are public.
	if resp := get("/static/app.css", nil); resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/css") {
		t.Errorf("app.css: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if resp := get("/static/", nil); resp.StatusCode != 404 {
		t.Errorf("/static/ lists files: %d", resp.StatusCode)
	}

	b := st.emu.Browser()
	if _, _, err := b.Visit(context.Background(), st.url+"/dash/", "alice@"+entratest.DemoTenantDomain, entratest.DemoPassword); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", st.url+"/dash/api/data", nil)
	req.Header.Set("Accept", "application/json")
	r2, err := b.AppClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer r2.Body.Close()
	var data dashAnswer
	if err := json.NewDecoder(r2.Body).Decode(&data); err != nil || r2.StatusCode != 200 || data.User != "Alice Admin" || len(data.Months) != 12 || len(data.Series) != 4 {
		t.Errorf("data signed in: %d %v %+v", r2.StatusCode, err, data)
	}
	// Bad filters get a 400 in JSON, not a page.
	req, _ = http.NewRequest("GET", st.url+"/dash/api/data?group=country", nil)
	req.Header.Set("Accept", "application/json")
	r3, err := b.AppClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer r3.Body.Close()
	var refusal dashAnswer
	if err := json.NewDecoder(r3.Body).Decode(&refusal); err != nil || r3.StatusCode != 400 || refusal.Error != "invalid_parameters" {
		t.Errorf("bad filters: %d %v %+v", r3.StatusCode, err, refusal)
	}
}

var (
	inlineScriptRE = regexp.MustCompile(`<script(?:\s[^>]*)?>`)
	styleAttrRE    = regexp.MustCompile(`\sstyle=`)
	handlerAttrRE  = regexp.MustCompile(`\son[a-z]+=`)
)

// TestPagesNeedNoInlineCode: the Content-Security-Policy forbids inline
// script and style, so no page may carry any.
func TestPagesNeedNoInlineCode(t *testing.T) {
	st := startStack(t)
	b := st.emu.Browser()
	ctx := context.Background()
	if _, _, err := b.Visit(ctx, st.url+"/", "", ""); err != nil {
		t.Fatal(err)
	}
	if _, _, err := b.Visit(ctx, st.url+"/auth/login", "alice@"+entratest.DemoTenantDomain, entratest.DemoPassword); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/", "/read", "/write", "/admin", "/profile", "/dash/", "/nowhere"} {
		resp, body, err := b.Visit(ctx, st.url+p, "", "")
		if err != nil {
			t.Fatal(err)
		}
		csp := resp.Header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") {
			t.Errorf("%s: Content-Security-Policy %q", p, csp)
		}
		for _, tag := range inlineScriptRE.FindAllString(body, -1) {
			if !strings.Contains(tag, " src=") {
				t.Errorf("%s: inline script %s", p, tag)
			}
		}
		if styleAttrRE.MatchString(body) || handlerAttrRE.MatchString(body) || strings.Contains(body, "<style") {
			t.Errorf("%s: inline style or event handler", p)
		}
		if strings.Contains(body, "https://cdn") || strings.Contains(body, "//fonts.") {
			t.Errorf("%s loads something from the internet", p)
		}
	}
}

func TestSignOutIsOneClick(t *testing.T) {
	st := startStack(t)
	b := st.emu.Browser()
	ctx := context.Background()
	_, body, err := b.Visit(ctx, st.url+"/auth/login", "bob@"+entratest.DemoTenantDomain, entratest.DemoPassword)
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no sign-out token on the home page:\n%s", body)
	}
	resp, err := b.AppClient().PostForm(st.url+"/auth/logout", url.Values{"csrf": {m[1]}})
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	// The demo registers a front-channel logout URL, so the emulator's
	// signed-out page loads it in a frame, then refreshes to the app: a
	// browser goes on by itself, this client follows the refresh.
	if !strings.HasPrefix(resp.Request.URL.String(), st.emu.BrowserURL()+"/") || !strings.Contains(string(page), `src="`+st.url+"/auth/frontchannel-logout?") {
		t.Fatalf("sign-out ended at %s, want the emulator's signed-out page with the demo's front-channel frame:\n%s", resp.Request.URL, page)
	}
	refresh := regexp.MustCompile(`<meta http-equiv="refresh" content="\d+; url=([^"]+)">`).FindSubmatch(page)
	if refresh == nil || html.UnescapeString(string(refresh[1])) != st.url+"/" {
		t.Errorf("the signed-out page does not return to the app's home: %q", refresh)
	}
	_, body, err = b.Visit(ctx, st.url+"/", "", "")
	if err != nil || !strings.Contains(body, `id="sign-in"`) {
		t.Fatalf("after sign-out, home is not the signed-out page: %v %s", err, body)
	}
	// Signed out at the emulator too: the next sign-in shows its page.
	req, _ := http.NewRequest("GET", st.url+"/read", nil)
	req.Header.Set("Accept", "text/html")
	resp, err = b.AppClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Request.URL.Host != strings.TrimPrefix(st.emu.BrowserURL(), "http://") {
		t.Errorf("the sign-in after sign-out was silent: ended at %v", resp.Request.URL)
	}
}
