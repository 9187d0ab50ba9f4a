package entratest_test

import (
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/entraweb/entraweb/entratest"
)

// logoutURL is the default tenant's logout endpoint with params.
func (e *emu) logoutURL(params url.Values) string {
	return e.srv.Authority() + "/oauth2/v2.0/logout?" + params.Encode()
}

// otherAuthURL is an authorization URL of the second app (emuOtherApp).
func (e *emu) otherAuthURL() string {
	return e.authURL("", url.Values{"client_id": {emuOtherID}, "scope": {"openid profile User.Read"}})
}

// TestLogoutWithOnlyPostLogoutURI: MSAL.js and MSAL Python send the
// post_logout_redirect_uri alone. The emulator follows it when an app
// signed in during the browser's SSO session registered it, as Entra ID
// does, and otherwise keeps the browser on its signed-out page.
func TestLogoutWithOnlyPostLogoutURI(t *testing.T) {
	clock := newEmuClock()
	e := newEmu(t, &entratest.Options{Now: clock.Now})
	other := emuOtherApp()
	other.PostLogoutRedirectURIs = []string{"https://other.example/signed-out"}
	e.addApp(t, other)
	bare := func(target string, extra ...string) string {
		v := url.Values{"post_logout_redirect_uri": {target}}
		for i := 0; i < len(extra); i += 2 {
			v.Set(extra[i], extra[i+1])
		}
		return e.logoutURL(v)
	}
	wantRedirect := func(t *testing.T, b *entratest.Browser, u, want string) {
		t.Helper()
		resp, body := emuGet(t, b.HTTPClient(), u)
		if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusFound || loc != want {
			t.Errorf("HTTP %d Location %q, want a redirect to %s\n%.300s", resp.StatusCode, loc, want, body)
		}
	}
	wantPage := func(t *testing.T, b *entratest.Browser, u string) {
		t.Helper()
		resp, body := emuGet(t, b.HTTPClient(), u)
		if loc := resp.Header.Get("Location"); loc != "" || resp.StatusCode != http.StatusOK || !strings.Contains(body, "You signed out") {
			t.Errorf("HTTP %d Location %q, want the signed-out page and no redirect", resp.StatusCode, loc)
		}
	}

	t.Run("registered by the session's app", func(t *testing.T) {
		b := e.srv.Browser()
		e.signIn(t, b, e.authURL("", nil), emuAlice)
		wantRedirect(t, b, bare("http://localhost/", "state", "st1"), "http://localhost/?state=st1")
		// The session has ended: the same request now has no app to find.
		wantPage(t, b, bare("http://localhost/"))
	})
	t.Run("a redirect URI, loopback on any port", func(t *testing.T) {
		b := e.srv.Browser()
		e.signIn(t, b, e.authURL("", nil), emuAlice)
		wantRedirect(t, b, bare("http://localhost:5173/auth/callback"), "http://localhost:5173/auth/callback")
	})
	t.Run("registered only by an app not signed in", func(t *testing.T) {
		b := e.srv.Browser()
		e.signIn(t, b, e.authURL("", nil), emuAlice)
		wantPage(t, b, bare("https://other.example/signed-out"))
	})
	t.Run("registered by the second app of the session", func(t *testing.T) {
		b := e.srv.Browser()
		e.signIn(t, b, e.authURL("", nil), emuAlice)
		e.signIn(t, b, e.otherAuthURL(), "") // silent: the same session
		wantRedirect(t, b, bare("https://other.example/signed-out"), "https://other.example/signed-out")
	})
	t.Run("registered by no one", func(t *testing.T) {
		b := e.srv.Browser()
		e.signIn(t, b, e.authURL("", nil), emuAlice)
		wantPage(t, b, bare("https://evil.example/"))
	})
	t.Run("no SSO session", func(t *testing.T) {
		wantPage(t, e.srv.Browser(), bare("http://localhost/"))
	})
	t.Run("expired SSO session", func(t *testing.T) {
		b := e.srv.Browser()
		e.signIn(t, b, e.authURL("", nil), emuAlice)
		clock.Add(25 * time.Hour) // past the 24-hour session
		wantPage(t, b, bare("http://localhost/"))
	})
	t.Run("revoked SSO session", func(t *testing.T) {
		b := e.srv.Browser()
		e.signIn(t, b, e.authURL("", nil), emuCarol)
		e.srv.RevokeUser(emuCarol)
		wantPage(t, b, bare("http://localhost/"))
	})
}

var emuFrameRE = regexp.MustCompile(`<iframe hidden title="Front-channel logout" src="([^"]*)">`)

// TestFrontChannelLogout: two apps signed in during one SSO session share
// the session's sid in their ID tokens, and the logout page loads both
// apps' front-channel logout URLs with the tenant's iss and that sid, then
// moves on to the post_logout_redirect_uri.
func TestFrontChannelLogout(t *testing.T) {
	e := newEmu(t, nil)
	const demoFC = "https://localhost/auth/frontchannel-logout"
	const otherFC = "https://other.example/logout?from=entra" // a query already: & joins
	if err := e.srv.Update(func(c *entratest.Config) { c.Tenants[0].Apps[0].FrontChannelLogoutURL = demoFC }); err != nil {
		t.Fatal(err)
	}
	other := emuOtherApp()
	other.FrontChannelLogoutURL = otherFC
	e.addApp(t, other)
	// A third app signed in without a front-channel URL gets no frame.
	third := emuOtherApp()
	third.ClientID, third.DisplayName = entratest.StableID("app:third"), "ThirdApp"
	e.addApp(t, third)

	b := e.srv.Browser()
	cbDemo := e.signIn(t, b, e.authURL("", nil), emuAlice)
	cbOther := e.signIn(t, b, e.otherAuthURL(), "")
	e.signIn(t, b, e.authURL("", url.Values{"client_id": {third.ClientID}, "scope": {"openid"}}), "")
	demoIDT := emuIDTokenClaims(t, e.tokens(t, emuRedeemForm(cbDemo.Params.Get("code"))))
	otherForm := emuRedeemForm(cbOther.Params.Get("code"))
	otherForm.Set("client_id", emuOtherID)
	otherForm.Set("client_secret", emuOtherSecret)
	otherForm.Set("scope", "openid profile User.Read")
	otherIDT := emuIDTokenClaims(t, e.tokens(t, otherForm))

	sid, _ := demoIDT["sid"].(string)
	if sid == "" || otherIDT["sid"] != sid {
		t.Fatalf("sid claims %v and %v, want one value for the one SSO session", demoIDT["sid"], otherIDT["sid"])
	}
	for _, cb := range []*entratest.Callback{cbDemo, cbOther} {
		if cb.Params.Get("session_state") != sid {
			t.Errorf("session_state %q, want the sid %q", cb.Params.Get("session_state"), sid)
		}
	}
	t.Run("signing in again as the same user keeps the session", func(t *testing.T) {
		cb := e.signIn(t, b, e.authURL("", url.Values{"prompt": {"login"}}), emuAlice)
		if got := cb.Params.Get("session_state"); got != sid {
			t.Errorf("session_state after prompt=login %q, want %q", got, sid)
		}
	})
	t.Run("another browser is another session", func(t *testing.T) {
		cb := e.signIn(t, e.srv.Browser(), e.authURL("", nil), emuAlice)
		c := emuIDTokenClaims(t, e.tokens(t, emuRedeemForm(cb.Params.Get("code"))))
		if c["sid"] == sid || c["sid"] == nil {
			t.Errorf("sid of another SSO session %v, want a value other than %s", c["sid"], sid)
		}
	})

	resp, body := emuGet(t, b.HTTPClient(), e.logoutURL(url.Values{"post_logout_redirect_uri": {"http://localhost/"}, "state": {"z"}}))
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "You signed out") {
		t.Fatalf("logout: HTTP %d Location %q, want the signed-out page with the frames", resp.StatusCode, resp.Header.Get("Location"))
	}
	var frames []string
	for _, m := range emuFrameRE.FindAllStringSubmatch(body, -1) {
		frames = append(frames, html.UnescapeString(m[1]))
	}
	iss := e.srv.Issuer(entratest.DemoTenantID)
	if demoIDT["iss"] != iss {
		t.Fatalf("ID token iss %v, want %s", demoIDT["iss"], iss)
	}
	params := "iss=" + url.QueryEscape(iss) + "&sid=" + url.QueryEscape(sid)
	want := []string{demoFC + "?" + params, otherFC + "&" + params}
	slices.Sort(frames) // in the order the apps last signed in
	if !slices.Equal(frames, want) {
		t.Errorf("front-channel frames\n%q\nwant\n%q", frames, want)
	}
	for _, f := range frames {
		if u, err := url.Parse(f); err != nil || u.Query().Get("sid") != sid || u.Query().Get("iss") != iss {
			t.Errorf("frame %q does not carry iss %s and sid %s", f, iss, sid)
		}
	}
	csp := resp.Header.Get("Content-Security-Policy")
	var frameSrc []string
	for d := range strings.SplitSeq(csp, ";") {
		if f := strings.Fields(d); len(f) > 0 && f[0] == "frame-src" {
			frameSrc = f[1:]
		}
	}
	slices.Sort(frameSrc)
	if !slices.Equal(frameSrc, []string{"https://localhost", "https://other.example"}) {
		t.Errorf("CSP %q: frame-src %q, want the two apps' origins only", csp, frameSrc)
	}
	if strings.Contains(csp, "script-src") || strings.Contains(body, "<script") {
		t.Errorf("the logout page runs a script: CSP %q", csp)
	}
	if !strings.Contains(body, `<meta http-equiv="refresh" content="1; url=http://localhost/?state=z">`) ||
		!strings.Contains(body, `href="http://localhost/?state=z"`) {
		t.Errorf("the page does not go on to the post_logout_redirect_uri:\n%s", body)
	}
	// The session is over.
	emuWantAppError(t, emuWantRedirect(t, b.HTTPClient(), e.authURL("", url.Values{"prompt": {"none"}, "state": {"s"}}), emuCallback), "s", "login_required", "50058")
	// And without a session, there is nothing to sign out.
	if _, body := emuGet(t, b.HTTPClient(), e.logoutURL(nil)); strings.Contains(body, "<iframe") {
		t.Errorf("a logout without a session loads frames:\n%s", body)
	}
}

// emuIDTokenClaims is the payload of the ID token of a token response.
func emuIDTokenClaims(t *testing.T, tok map[string]any) map[string]any {
	t.Helper()
	idt, _ := tok["id_token"].(string)
	if idt == "" {
		t.Fatalf("no id_token in %v", tok)
	}
	_, c := emuClaims(t, idt)
	return c
}

// TestFrontChannelLogoutURLConfig: the URL is an absolute http(s) URL,
// https unless on loopback, read from the JSON key frontChannelLogoutUrl.
func TestFrontChannelLogoutURLConfig(t *testing.T) {
	tests := []struct {
		url string
		ok  bool
	}{
		{"https://app.example/logout", true},
		{"https://app.example:8443/signout?tenant=contoso", true},
		{"http://localhost:3000/logout", true},
		{"http://127.0.0.1/logout", true},
		{"http://app.example/logout", false},
		{"/logout", false},
		{"app.example/logout", false},
		{"ftp://app.example/logout", false},
		{"https:///logout", false},
		{"https://app.example/logout#x", false},
		{"https://user@app.example/logout", false},
		{"https://[::1]:8443/logout", false},
		{"https://app;example/logout", false},
		{"http://localhost:99999/logout", false},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			cfg := entratest.Default()
			cfg.Tenants[0].Apps[0].FrontChannelLogoutURL = tt.url
			raw, err := json.Marshal(cfg)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(raw), `"frontChannelLogoutUrl":`) {
				t.Fatalf("JSON key frontChannelLogoutUrl missing")
			}
			_, err = entratest.ParseConfig(raw)
			if tt.ok && err != nil {
				t.Errorf("refused: %v", err)
			}
			if !tt.ok && (err == nil || !strings.Contains(err.Error(), "frontChannelLogoutUrl")) {
				t.Errorf("err = %v, want a complaint naming frontChannelLogoutUrl", err)
			}
		})
	}
}
