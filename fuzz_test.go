package entraweb_test

import (
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/entraweb/entraweb/entratest"
)

// FuzzCallback sends arbitrary callback parameters and pending-sign-in
// cookies: whatever arrives, the answer is never a server error, never a
// session, and never a redirect off the app.
func FuzzCallback(f *testing.F) {
	srv := entratest.NewServer(f, nil)
	a := newApp(f, srv, testConfig(srv))
	// A real pending sign-in, so the fuzzer can reach the code redemption.
	jar, _ := cookiejar.New(nil)
	authURL := startLogin(f, jar, a.url, "/x")
	au, _ := url.Parse(authURL)
	state := au.Query().Get("state")
	appu, _ := url.Parse(a.url)
	var pending string
	for _, c := range jar.Cookies(appu) {
		pending = c.Value
	}
	f.Add("code=abc&state="+state, pending)
	f.Add("error=access_denied&error_description=AADSTS50105:+x&state="+state, pending)
	f.Add("state="+state, pending)
	f.Add("code=&state=", "")
	f.Add("error=%00&state=%ff", "not-base64!")
	handler := a.auth.Routes()
	f.Fuzz(func(t *testing.T, query, cookie string) {
		r := httptest.NewRequest("GET", "http://127.0.0.1/auth/callback", nil)
		r.URL.RawQuery = query
		r.Header.Set("Accept", "text/html")
		r.Header["Cookie"] = []string{"entraweb_signin=" + cookie}
		w := httptest.NewRecorder()
		handler.ServeHTTP(w, r)
		if w.Code >= 500 && w.Code != http.StatusBadGateway {
			t.Fatalf("status %d for %q", w.Code, query)
		}
		if w.Code == http.StatusSeeOther {
			t.Fatalf("a made-up callback signed someone in: %q", query)
		}
		for _, sc := range w.Result().Cookies() {
			if strings.HasSuffix(sc.Name, "entraweb_session") && sc.Value != "" {
				t.Fatalf("a session cookie was set for %q", query)
			}
		}
		if loc := w.Header().Get("Location"); loc != "" {
			u, err := url.Parse(loc)
			if err != nil || (u.Host != "" && u.Host != "127.0.0.1") {
				t.Fatalf("redirect off the app: %q", loc)
			}
		}
	})
}
