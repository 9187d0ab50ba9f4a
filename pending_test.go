package entraweb

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/entraweb/entraweb/entratest"
	"github.com/entraweb/entraweb/session"
)

func testJar(t testing.TB, now func() time.Time) *pendingJar {
	box, err := session.NewBox(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	return &pendingJar{box: box, now: now}
}

func roundTrip(j *pendingJar, list []pendingSignIn, secure bool) []pendingSignIn {
	w := httptest.NewRecorder()
	j.write(w, list, secure)
	r := httptest.NewRequest("GET", "/", nil)
	for _, c := range w.Result().Cookies() {
		r.AddCookie(c)
	}
	return j.read(r, secure)
}

func TestPendingJar(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	j := testJar(t, func() time.Time { return now })
	var list []pendingSignIn
	for i := range 6 {
		list = append(list, pendingSignIn{State: string(rune('a' + i)), Created: now.Unix()})
	}
	got := roundTrip(j, list, false)
	if len(got) != maxPending || got[0].State != "c" || got[3].State != "f" {
		t.Fatalf("kept %v, want the newest %d", got, maxPending)
	}
	p, rest, ok := take(got, "d")
	if !ok || p.State != "d" || len(rest) != 3 || slices.ContainsFunc(rest, func(x pendingSignIn) bool { return x.State == "d" }) {
		t.Errorf("take: %v %v %v", p, rest, ok)
	}
	if _, _, ok := take(got, "zz"); ok {
		t.Error("took an unknown state")
	}
	// Expired entries are dropped on read.
	now = now.Add(pendingMaxAge + time.Second)
	if got := roundTrip(j, list[:2], false); len(got) != 0 {
		t.Errorf("expired entries survived: %v", got)
	}
	// The https cookie is __Host- prefixed, Secure, HttpOnly, Lax.
	w := httptest.NewRecorder()
	j.write(w, list[:1], true)
	c := w.Result().Cookies()[0]
	if c.Name != "__Host-entraweb_signin" || !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" {
		t.Errorf("cookie %+v", c)
	}
}

// The pending cookie stays under what browsers keep (4,096 bytes of name
// and value) whatever the return paths and step-ups, and keeps the newest
// sign-ins: the one just started must always complete.
func TestPendingCookieSize(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	j := testJar(t, func() time.Time { return now })
	entry := func(ret string) pendingSignIn {
		return pendingSignIn{
			State: randomToken(), Nonce: randomToken(), Verifier: randomToken() + randomToken()[:11],
			Return: ret, RedirectURI: "https://app.example.com/auth/callback", Created: now.Unix(),
		}
	}
	long := "/reports?q=" + strings.Repeat("x", 989) // 1,000 characters
	atCap := "/search?a=1&b=" + strings.Repeat("<&>", 166)
	// The largest step-up that must fit: claims of 1,024 bytes (quotes,
	// which JSON escapes, at every fifth byte) and 512 bytes of scopes,
	// with a 512-byte redirect URI and a return path at the cap.
	bound := entry(atCap)
	bound.RedirectURI = "https://" + strings.Repeat("a", 482) + ".example/auth/callback"
	bound.Claims = `{"access_token":{"acrs":{"essential":true,"values":[` + strings.Repeat(`"c1",`, 192) + `"c1"]}}}`
	for len(strings.Join(bound.Scopes, " ")) < 512-64 {
		bound.Scopes = append(bound.Scopes, "api://00000000-0000-0000-0000-000000000000/Files.ReadWrite.All")
	}
	tests := []struct {
		name         string
		list         []pendingSignIn
		minKept      int
		newestReturn string
	}{
		{"four 1,000-character return paths", []pendingSignIn{entry(long), entry(long), entry(long), entry(long)}, 4, "/"},
		{"four return paths at the cap", []pendingSignIn{entry(atCap), entry(atCap), entry(atCap), entry(atCap)}, 3, atCap},
		{"the largest step-up after long return paths", []pendingSignIn{entry(long), entry(atCap), entry(atCap), bound}, 1, "/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			written := slices.Clone(tt.list)
			w := httptest.NewRecorder()
			j.write(w, tt.list, true)
			if !slices.EqualFunc(tt.list, written, func(a, b pendingSignIn) bool { return a.Return == b.Return }) {
				t.Error("write changed the caller's list")
			}
			c := w.Result().Cookies()[0]
			if len(c.Value) >= 3800 {
				t.Errorf("the cookie value is %d bytes, want under 3,800", len(c.Value))
			}
			r := httptest.NewRequest("GET", "/", nil)
			r.AddCookie(c)
			got := j.read(r, true)
			if len(got) < tt.minKept {
				t.Fatalf("kept %d of %d sign-ins, want at least %d", len(got), len(tt.list), tt.minKept)
			}
			// The oldest go first; what is kept is intact but for a
			// return path over the cap.
			for i, p := range got {
				want := tt.list[len(tt.list)-len(got)+i]
				if p.State != want.State || p.Nonce != want.Nonce || p.Verifier != want.Verifier ||
					p.Claims != want.Claims || !slices.Equal(p.Scopes, want.Scopes) {
					t.Errorf("entry %d of %d is not the sign-in written in its place", i, len(got))
				}
				if p.Return != want.Return && p.Return != "/" {
					t.Errorf("entry %d returns to %.40q…", i, p.Return)
				}
			}
			if ret := got[len(got)-1].Return; ret != tt.newestReturn {
				t.Errorf("the newest sign-in returns to %.40q…, want %.40q…", ret, tt.newestReturn)
			}
		})
	}
}

// Sign-ins started in one browser with long return paths keep the pending
// cookie under what a browser accepts, and the newest ones complete: the
// one over the return-path cap lands on "/", the one under it on its page.
func TestPendingSignInsWithLongReturnPaths(t *testing.T) {
	srv := entratest.NewServer(t, nil)
	auth, err := New(t.Context(), Config{
		Instance: srv.URL + "/", TenantID: entratest.DemoTenantID,
		ClientID: entratest.DemoClientID, ClientSecret: entratest.DemoClientSecret,
		HTTPClient: srv.Client(), GraphURL: srv.GraphURL(),
		Session: SessionConfig{Store: "memory"},
		Logger:  slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { auth.Close() })
	mux := http.NewServeMux()
	mux.Handle("/auth/", auth.Routes())
	mux.Handle("/", auth.RequireLogin(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "at %s", r.URL.RequestURI())
	})))
	hs := httptest.NewServer(mux)
	t.Cleanup(hs.Close)
	appURL, _ := url.Parse(hs.URL)

	b := srv.Browser()
	app := b.AppClient()
	// Starting a sign-in without following the emulator's page, as a
	// tab left open on it.
	start := &http.Client{Jar: app.Jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	kept := "/kept?q=" + strings.Repeat("y", 400) + "&r=1"
	var authURLs []string
	for i := range 6 {
		ret := fmt.Sprintf("/long/%d?q=%s", i, strings.Repeat("x", 990))
		if i == 5 {
			ret = kept
		}
		resp, err := start.Get(hs.URL + "/auth/login?return=" + url.QueryEscape(ret))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusFound {
			t.Fatalf("sign-in %d: %d", i+1, resp.StatusCode)
		}
		authURLs = append(authURLs, resp.Header.Get("Location"))
		for _, c := range app.Jar.Cookies(appURL) {
			if c.Name == pendingCookie && len(c.Value) >= 3800 {
				t.Errorf("after sign-in %d the pending cookie is %d bytes, want under 3,800", i+1, len(c.Value))
			}
		}
	}
	alice := "alice@" + entratest.DemoTenantDomain
	for _, tc := range []struct{ authURL, want string }{{authURLs[5], kept}, {authURLs[4], "/"}} {
		cb, err := b.SignIn(t.Context(), tc.authURL, alice, entratest.DemoPassword)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := app.Get(cb.URL.String() + "?" + cb.Params.Encode())
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || string(body) != "at "+tc.want {
			t.Errorf("callback: %d %.80q, want 200 at %.40q…", resp.StatusCode, body, tc.want)
		}
	}
}

func FuzzPendingCookie(f *testing.F) {
	j := testJar(f, time.Now)
	w := httptest.NewRecorder()
	j.write(w, []pendingSignIn{{State: "s", Created: time.Now().Unix()}}, false)
	f.Add(w.Result().Cookies()[0].Value)
	f.Add("")
	f.Add("!!!")
	f.Fuzz(func(t *testing.T, v string) {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Cookie", pendingCookie+"="+v)
		for _, p := range j.read(r, false) {
			if p.State == "" && v != w.Result().Cookies()[0].Value {
				t.Fatalf("a forged cookie opened: %q", v)
			}
		}
	})
}

func TestRoleHierarchy(t *testing.T) {
	def, _ := newRoleSet(nil, "")
	custom, err := newRoleSet([]string{"Viewer", "Editor", "Owner"}, "Viewer")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		rs   *roleSet
		held []string
		want []string
	}{
		{def, []string{"DemoApp.Admin"}, []string{"DemoApp.Admin", "DemoApp.Read", "DemoApp.Write"}},
		{def, []string{"DemoApp.Write"}, []string{"DemoApp.Read", "DemoApp.Write"}},
		{def, []string{"Admin"}, []string{"Admin", "Read", "Write"}},
		{def, []string{"Other.Reader"}, []string{"Other.Reader"}},
		{def, nil, []string{}},
		{custom, []string{"Owner"}, []string{"Editor", "Owner", "Viewer"}},
		{custom, []string{"Editor", "Unlisted"}, []string{"Editor", "Unlisted", "Viewer"}},
	}
	for _, tt := range tests {
		got := tt.rs.expand(tt.held)
		if len(got) == 0 && len(tt.want) == 0 {
			continue
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("expand(%v) = %v, want %v", tt.held, got, tt.want)
		}
	}
	if _, err := newRoleSet([]string{"A"}, "B"); err == nil {
		t.Error("a minimum role outside the hierarchy was accepted")
	}
}
