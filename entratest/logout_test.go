package entratest_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/entraweb/entraweb/entratest"
)

func TestLogout(t *testing.T) {
	clock := newEmuClock()
	e := newEmu(t, &entratest.Options{Now: clock.Now})

	t.Run("clears the SSO session", func(t *testing.T) {
		b := e.srv.Browser()
		e.signIn(t, b, e.authURL("", nil), emuAlice)
		emuWantRedirect(t, b.HTTPClient(), e.authURL("", nil), emuCallback) // silent while signed in
		resp, body := emuGet(t, b.HTTPClient(), e.srv.Authority()+"/oauth2/v2.0/logout")
		if resp.StatusCode != 200 || !strings.Contains(body, "You signed out") {
			t.Fatalf("logout: HTTP %d %.300s", resp.StatusCode, body)
		}
		resp, body = emuGet(t, b.HTTPClient(), e.authURL("", nil))
		if resp.StatusCode != 200 || !strings.Contains(body, `name="password"`) {
			t.Errorf("after logout: HTTP %d, want the sign-in page", resp.StatusCode)
		}
		emuWantAppError(t, emuWantRedirect(t, b.HTTPClient(), e.authURL("", url.Values{"prompt": {"none"}, "state": {"s"}}), emuCallback), "s", "login_required", "50058")
	})

	idt := e.signInTokens(t, emuBob)["id_token"].(string)
	// A hint that is not the emulator's: the payload of a real one under a
	// changed signature.
	forged := idt[:strings.LastIndexByte(idt, '.')+1] + "AAAA"
	unsigned := idt[:strings.LastIndexByte(idt, '.')+1]
	tests := []struct {
		name   string
		params url.Values
		want   string // the redirect, or "" for the signed-out page
	}{
		{"registered post-logout URI", url.Values{"client_id": {entratest.DemoClientID}, "post_logout_redirect_uri": {"http://localhost/"}, "state": {"lo1"}}, "http://localhost/?state=lo1"},
		{"redirect URI also allowed", url.Values{"client_id": {entratest.DemoClientID}, "post_logout_redirect_uri": {emuCallback}}, emuCallback},
		{"loopback, any port", url.Values{"client_id": {entratest.DemoClientID}, "post_logout_redirect_uri": {"http://localhost:3000/"}}, "http://localhost:3000/"},
		{"https registered", url.Values{"client_id": {entratest.DemoClientID}, "post_logout_redirect_uri": {"https://localhost/"}, "state": {"a b"}}, "https://localhost/?state=a+b"},
		{"id_token_hint names the app", url.Values{"id_token_hint": {idt}, "post_logout_redirect_uri": {"http://localhost/"}}, "http://localhost/"},
		{"unregistered URI", url.Values{"client_id": {entratest.DemoClientID}, "post_logout_redirect_uri": {"https://evil.example/"}}, ""},
		{"near miss", url.Values{"client_id": {entratest.DemoClientID}, "post_logout_redirect_uri": {"http://localhost:3000/x"}}, ""},
		{"no client named", url.Values{"post_logout_redirect_uri": {"http://localhost/"}}, ""},
		{"unknown client", url.Values{"client_id": {entratest.StableID("nobody")}, "post_logout_redirect_uri": {"http://localhost/"}}, ""},
		{"forged id_token_hint", url.Values{"id_token_hint": {forged}, "post_logout_redirect_uri": {"http://localhost/"}}, ""},
		{"unsigned id_token_hint", url.Values{"id_token_hint": {unsigned}, "post_logout_redirect_uri": {"http://localhost/"}}, ""},
		{"no post-logout URI", url.Values{"client_id": {entratest.DemoClientID}, "state": {"x"}}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := emuGet(t, e.noFollow, e.srv.Authority()+"/oauth2/v2.0/logout?"+tc.params.Encode())
			loc := resp.Header.Get("Location")
			if tc.want == "" {
				if loc != "" || resp.StatusCode != 200 || !strings.Contains(body, "You signed out") {
					t.Errorf("HTTP %d Location %q, want the signed-out page and no redirect", resp.StatusCode, loc)
				}
				return
			}
			if resp.StatusCode != http.StatusFound || loc != tc.want {
				t.Errorf("HTTP %d Location %q, want %s", resp.StatusCode, loc, tc.want)
			}
		})
	}
	t.Run("expired id_token_hint still names the app", func(t *testing.T) {
		clock.Add(48 * time.Hour)
		resp, _ := emuGet(t, e.noFollow, e.srv.Authority()+"/oauth2/v2.0/logout?"+url.Values{"id_token_hint": {idt}, "post_logout_redirect_uri": {"http://localhost/"}}.Encode())
		if resp.Header.Get("Location") != "http://localhost/" {
			t.Errorf("HTTP %d Location %q", resp.StatusCode, resp.Header.Get("Location"))
		}
	})
}
