package entraweb_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/entraweb/entraweb/entratest"
)

var iframeSrcRE = regexp.MustCompile(`<iframe[^>]*src="([^"]+)"`)

// TestFrontChannelLogout: alice is signed in to the app in two browsers;
// she signs out at Entra ID in one of them, whose logout page loads the
// app's front-channel logout URL with the session's sid. That browser's
// session ends; the other browser (another Entra session) stays signed in.
func TestFrontChannelLogout(t *testing.T) {
	t.Run("sid in the ID token", func(t *testing.T) { testFrontChannelLogout(t, entratest.FaultNone) })
	// A tenant that issues sid only as an optional claim: the callback's
	// session_state, which carries the same value, indexes the session.
	t.Run("sid from session_state", func(t *testing.T) { testFrontChannelLogout(t, entratest.FaultMissingSID) })
}

func testFrontChannelLogout(t *testing.T, fault entratest.TokenFault) {
	srv := entratest.NewServer(t, nil)
	a := newApp(t, srv, testConfig(srv))
	frontChannel := a.url + "/auth/frontchannel-logout"
	if err := srv.Update(func(c *entratest.Config) { c.Tenants[0].Apps[0].FrontChannelLogoutURL = frontChannel }); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	laptop, phone := srv.Browser(), srv.Browser()
	for _, b := range []*entratest.Browser{laptop, phone} {
		srv.FaultNextIDTokens(fault, 1)
		if resp, _, err := b.Visit(ctx, a.url+"/", alice, entratest.DemoPassword); err != nil || resp.StatusCode != 200 {
			t.Fatalf("sign-in: %v", err)
		}
	}
	// Sign out at Entra ID in the laptop's browser (as another app of the
	// same Entra session would send it there).
	resp, body, err := laptop.Visit(ctx, srv.BrowserURL()+"/"+entratest.DemoTenantID+"/oauth2/v2.0/logout", "", "")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("logout page: %v %d", err, resp.StatusCode)
	}
	m := iframeSrcRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("the logout page loads no front-channel URL: %.600s", body)
	}
	src := html.UnescapeString(m[1])
	if !strings.HasPrefix(src, frontChannel+"?") {
		t.Fatalf("iframe src %s", src)
	}
	// The iframe's request, as the browser makes it: the provider's page
	// frames the app's page, with the app's cookies.
	req, _ := http.NewRequest("GET", src, nil)
	req.Header.Set("Sec-Fetch-Dest", "iframe")
	fr, err := laptop.AppClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	fr.Body.Close()
	csp := fr.Header.Get("Content-Security-Policy")
	if fr.StatusCode != 200 || fr.Header.Get("Cache-Control") != "no-store" || !strings.Contains(csp, "frame-ancestors "+srv.URL) {
		t.Errorf("front-channel answer %d, Cache-Control %q, CSP %q", fr.StatusCode, fr.Header.Get("Cache-Control"), csp)
	}
	status := func(b *entratest.Browser) int {
		resp, err := b.AppClient().Get(a.url + "/auth/me")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := status(laptop); got != http.StatusUnauthorized {
		t.Errorf("the signed-out browser's session: %d, want 401", got)
	}
	if got := status(phone); got != http.StatusOK {
		t.Errorf("the other browser's session: %d, want 200", got)
	}
}

func TestFrontChannelLogoutRefusesBadRequests(t *testing.T) {
	srv := entratest.NewServer(t, nil)
	a := newApp(t, srv, testConfig(srv))
	for name, q := range map[string]url.Values{
		"no sid":       {},
		"foreign iss":  {"sid": {"abc"}, "iss": {"https://evil.example/" + entratest.DemoTenantID + "/v2.0"}},
		"sid too long": {"sid": {strings.Repeat("a", 200)}},
	} {
		resp, err := http.Get(a.url + "/auth/frontchannel-logout?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: %d", name, resp.StatusCode)
		}
	}
	// An unknown sid is fine: nothing to end.
	resp, err := http.Get(a.url + "/auth/frontchannel-logout?" + url.Values{"sid": {"unknown"}, "iss": {srv.Issuer(entratest.DemoTenantID)}}.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("unknown sid: %d", resp.StatusCode)
	}
}
