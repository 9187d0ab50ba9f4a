package entratest_test

import (
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

var (
	emuCtxRE      = regexp.MustCompile(`name="ctx" value="([^"]+)"`)
	emuUsernameRE = regexp.MustCompile(`<input id="username"[^>]* value="([^"]*)"`)
)

// TestSignInPageKeepsUsername: when the emulator refuses a typed sign-in,
// the page it shows again keeps what the person typed as the username,
// escaped, so only the password has to be typed again; the password is
// never echoed.
func TestSignInPageKeepsUsername(t *testing.T) {
	e := newEmu(t, nil)
	tests := []struct {
		name, typed, password string
		hint                  string // the authorization request's login_hint
		wantUsername          string
		wantAlert             string
	}{
		{"wrong password", " " + emuAlice + " ", "not-Passw0rd!", "", emuAlice, "AADSTS50126:"},
		{"wrong password, login_hint of another user", emuAlice, "not-Passw0rd!", emuBob, emuAlice, "AADSTS50126:"},
		{"unknown user, markup in the name", `o'brien"><b>x</b>&@contoso.onmicrosoft.com`, "not-Passw0rd!", "", `o'brien"><b>x</b>&@contoso.onmicrosoft.com`, "AADSTS50034:"},
		{"no username keeps the login_hint", "", "not-Passw0rd!", emuCarol, emuCarol, "Enter a valid email address"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, page := emuGet(t, e.noFollow, e.authURL("", url.Values{"login_hint": {tt.hint}}))
			ctx := emuCtxRE.FindStringSubmatch(page)
			if ctx == nil {
				t.Fatalf("no sign-in form: %.300s", page)
			}
			form := url.Values{"ctx": {html.UnescapeString(ctx[1])}, "username": {tt.typed}, "password": {tt.password}}
			resp, err := e.noFollow.PostForm(e.srv.Authority()+"/login", form)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			raw, _ := io.ReadAll(resp.Body)
			body := string(raw)
			if resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("HTTP %d, want 401", resp.StatusCode)
			}
			alert := emuAlertRE.FindStringSubmatch(body)
			if alert == nil || !strings.HasPrefix(html.UnescapeString(alert[1]), tt.wantAlert) {
				t.Errorf("the error shown is %q, want one starting %q", alert, tt.wantAlert)
			}
			got := emuUsernameRE.FindStringSubmatch(body)
			if got == nil {
				t.Fatalf("no username field with a value: %.2000s", body)
			}
			if html.UnescapeString(got[1]) != tt.wantUsername {
				t.Errorf("the username field holds %q, want %q", html.UnescapeString(got[1]), tt.wantUsername)
			}
			if strings.Contains(body, "<b>x</b>") || strings.Contains(body, `"><b>`) {
				t.Error("the typed username reached the page unescaped")
			}
			if strings.Contains(body, tt.password) {
				t.Error("the page echoes the password")
			}
		})
	}
}
