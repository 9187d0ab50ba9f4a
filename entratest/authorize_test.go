package entratest_test

import (
	"context"
	"errors"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/entraweb/entraweb/entratest"
)

var emuAlertRE = regexp.MustCompile(`(?s)<p class="error" role="alert">(.*?)</p>`)

// wantPage asserts that GET u shows the emulator's error page with the
// AADSTS code, and does not send the browser anywhere.
func (e *emu) wantPage(t *testing.T, c *http.Client, u string, code string) {
	t.Helper()
	resp, body := emuGet(t, c, u)
	if loc := resp.Header.Get("Location"); loc != "" {
		t.Fatalf("redirected to %s; errors before the redirect URI is trusted must stay on the page", loc)
	}
	if resp.StatusCode != http.StatusBadRequest || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Errorf("HTTP %d %s, want a 400 HTML page", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	m := emuAlertRE.FindStringSubmatch(body)
	if m == nil || !strings.HasPrefix(html.UnescapeString(m[1]), "AADSTS"+code+":") {
		t.Errorf("page does not show AADSTS%s: %.400s", code, body)
	}
}

// wantRedirect asserts that GET u sends the browser back to want with the
// parameters the app gets; it returns them.
func emuWantRedirect(t *testing.T, c *http.Client, u, want string) url.Values {
	t.Helper()
	resp, body := emuGet(t, c, u)
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusFound || loc == "" {
		t.Fatalf("HTTP %d, no redirect: %.300s", resp.StatusCode, body)
	}
	lu, err := url.Parse(loc)
	if err != nil {
		t.Fatal(err)
	}
	q := lu.Query()
	lu.RawQuery = ""
	if lu.String() != want {
		t.Fatalf("redirected to %s, want %s", lu, want)
	}
	return q
}

// wantAppError checks an error the app receives at its redirect URI.
func emuWantAppError(t *testing.T, q url.Values, state, oauth string, code string) {
	t.Helper()
	if q.Get("error") != oauth {
		t.Errorf("error = %q, want %s (%s)", q.Get("error"), oauth, q.Get("error_description"))
	}
	if !strings.HasPrefix(q.Get("error_description"), "AADSTS"+code+": ") {
		t.Errorf("error_description = %q, want AADSTS%s", q.Get("error_description"), code)
	}
	if q.Get("error_uri") == "" {
		t.Error("no error_uri")
	}
	if q.Get("state") != state {
		t.Errorf("state = %q, want %q", q.Get("state"), state)
	}
	if q.Get("code") != "" {
		t.Error("an error carries a code")
	}
}

func TestAuthorizeErrorPages(t *testing.T) {
	e := newEmu(t, nil)
	noRedirectID := entratest.StableID("app:no-redirect")
	e.addApp(t, entratest.App{ClientID: noRedirectID, DisplayName: "NoRedirect", Secrets: []entratest.Secret{{Value: "no-redirect-secret"}}})
	v := func(kv ...string) url.Values {
		q := url.Values{}
		for i := 0; i < len(kv); i += 2 {
			q.Set(kv[i], kv[i+1])
		}
		return q
	}
	tests := []struct {
		name, tenant string
		set          url.Values
		raw          string // appended to the query as is
		code         string
	}{
		{"unregistered redirect uri", "", v("redirect_uri", "https://app.example/auth/callback"), "", "50011"},
		{"another path", "", v("redirect_uri", "http://localhost/auth/other"), "", "50011"},
		{"another path, any port", "", v("redirect_uri", "http://localhost:8080/auth/other"), "", "50011"},
		{"trailing slash", "", v("redirect_uri", "http://localhost/auth/callback/"), "", "50011"},
		{"extra query", "", v("redirect_uri", "http://localhost:8080/auth/callback?next=/admin"), "", "50011"},
		{"fragment", "", v("redirect_uri", "http://localhost:8080/auth/callback#x"), "", "50011"},
		{"escaped path", "", v("redirect_uri", "http://localhost:8080/auth/%63allback"), "", "50011"},
		{"encoded slash", "", v("redirect_uri", "http://localhost:8080/auth%2Fcallback"), "", "50011"},
		{"https instead of http, other port", "", v("redirect_uri", "https://localhost:8443/auth/callback"), "", "50011"},
		{"http instead of https", "", v("redirect_uri", "http://app.example/auth/callback"), "", "50011"},
		{"another host", "", v("redirect_uri", "http://127.0.0.2:8080/auth/callback"), "", "50011"},
		{"lookalike host", "", v("redirect_uri", "http://localhost.evil.example/auth/callback"), "", "50011"},
		{"user info", "", v("redirect_uri", "http://evil@localhost:8080/auth/callback"), "", "50011"},
		{"unknown client", "", v("client_id", entratest.StableID("nobody")), "", "700016"},
		{"app of another tenant", entratest.OtherTenantID, nil, "", "700016"},
		{"missing client_id", "", v("client_id", ""), "", "900144"},
		{"missing redirect_uri", "", v("redirect_uri", ""), "", "900144"},
		{"no reply address", "", v("client_id", noRedirectID), "", "500113"},
		{"common, single-tenant app", "common", nil, "", "50194"},
		{"organizations, single-tenant app", "organizations", nil, "", "50194"},
		{"unknown tenant", "nowhere.onmicrosoft.com", nil, "", "90002"},
		{"repeated parameter", "", nil, "&client_id=" + entratest.DemoClientID, "9002313"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e.wantPage(t, e.noFollow, e.authURL(tc.tenant, tc.set)+tc.raw, tc.code)
		})
	}
}

func TestAuthorizeLoopbackAnyPort(t *testing.T) {
	e := newEmu(t, nil)
	for _, ru := range []string{
		"http://localhost/auth/callback",
		"http://localhost:8080/auth/callback",
		"http://localhost:1/auth/callback",
		"http://127.0.0.1:49152/auth/callback",
		"https://localhost/auth/callback",
	} {
		t.Run(ru, func(t *testing.T) {
			q := emuWantRedirect(t, e.noFollow, e.authURL("", url.Values{"redirect_uri": {ru}, "prompt": {"none"}, "state": {"s1"}}), ru)
			emuWantAppError(t, q, "s1", "login_required", "50058")
		})
	}
}

func TestAuthorizeRedirectedErrors(t *testing.T) {
	e := newEmu(t, nil)
	tests := []struct {
		name        string
		set         url.Values
		oauth, code string
	}{
		{"no response_type", url.Values{"response_type": {""}}, "invalid_request", "900144"},
		{"response_type token", url.Values{"response_type": {"token"}}, "unsupported_response_type", "700054"},
		{"response_type id_token", url.Values{"response_type": {"id_token"}}, "unsupported_response_type", "700054"},
		{"bad prompt", url.Values{"prompt": {"always"}}, "invalid_request", "9002313"},
		{"bad response_mode", url.Values{"response_mode": {"web_message"}}, "invalid_request", "9002313"},
		{"short code_challenge", url.Values{"code_challenge": {"abc"}}, "invalid_request", "501491"},
		{"code_challenge with bad characters", url.Values{"code_challenge": {strings.Repeat("+", 43)}}, "invalid_request", "501491"},
		{"unknown challenge method", url.Values{"code_challenge_method": {"S512"}}, "invalid_request", "9002313"},
		{"method without challenge", url.Values{"code_challenge": {""}}, "invalid_request", "900144"},
		{"claims not JSON", url.Values{"claims": {"{not json"}}, "invalid_request", "9002313"},
		{"no scope", url.Values{"scope": {""}}, "invalid_request", "900144"},
		{"malformed scope", url.Values{"scope": {"openid User.Read!"}}, "invalid_scope", "70011"},
		{"two resources", url.Values{"scope": {"openid User.Read api://" + entratest.DemoClientID + "/access_as_user"}}, "invalid_scope", "70011"},
		{".default with others", url.Values{"scope": {"https://graph.microsoft.com/.default https://graph.microsoft.com/User.Read"}}, "invalid_scope", "70011"},
		{"unknown resource", url.Values{"scope": {"openid https://unknown.example/read"}}, "invalid_resource", "500011"},
		{"scope not exposed", url.Values{"scope": {"openid api://" + entratest.DemoClientID + "/not_exposed"}}, "invalid_client", "650053"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.set.Set("state", "st-"+tc.name)
			q := emuWantRedirect(t, e.noFollow, e.authURL("", tc.set), emuCallback)
			emuWantAppError(t, q, "st-"+tc.name, tc.oauth, tc.code)
		})
	}
}

func TestPromptAndSSO(t *testing.T) {
	e := newEmu(t, nil)
	b := e.srv.Browser()
	c := b.HTTPClient()
	steps := []struct {
		name string
		set  url.Values
		// want: "code" (silent success), "page" (sign-in page shown) or an
		// OAuth error sent to the app
		want, code string
	}{
		{"prompt=none, no session", url.Values{"prompt": {"none"}}, "login_required", "50058"},
		{"no session shows the page", nil, "page", ""},
		{"sign in", nil, "signin", ""},
		{"second sign-in is silent", nil, "code", ""},
		{"prompt=none with a session", url.Values{"prompt": {"none"}}, "code", ""},
		{"prompt=login shows the page", url.Values{"prompt": {"login"}}, "page", ""},
		{"prompt=select_account shows the page", url.Values{"prompt": {"select_account"}}, "page", ""},
		{"login_hint of the session's user", url.Values{"login_hint": {strings.ToUpper(emuAlice)}}, "code", ""},
		{"login_hint of another user", url.Values{"login_hint": {emuBob}}, "page", ""},
		{"prompt=none, login_hint of another user", url.Values{"prompt": {"none"}, "login_hint": {emuBob}}, "interaction_required", "16000"},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			u := e.authURL("", s.set)
			state, _ := url.Parse(u)
			st := state.Query().Get("state")
			switch s.want {
			case "signin":
				cb := e.signIn(t, b, u, emuAlice)
				if cb.Params.Get("code") == "" || cb.Params.Get("state") != st {
					t.Fatalf("callback %v", cb.Params)
				}
			case "page":
				resp, body := emuGet(t, c, u)
				if resp.StatusCode != 200 || !strings.Contains(body, `name="password"`) {
					t.Fatalf("HTTP %d, want the sign-in page: %.300s", resp.StatusCode, body)
				}
				if h := s.set.Get("login_hint"); h != "" && !strings.Contains(body, `value="`+h+`"`) {
					t.Errorf("the page does not prefill the login_hint %s", h)
				}
			case "code":
				q := emuWantRedirect(t, c, u, emuCallback)
				if q.Get("code") == "" || q.Get("state") != st || q.Get("session_state") == "" {
					t.Fatalf("callback %v, want code, state and session_state", q)
				}
				if tok := e.tokens(t, emuRedeemForm(q.Get("code"))); tok["id_token"] == nil {
					t.Fatalf("no ID token: %v", tok)
				} else if _, c := emuClaims(t, tok["id_token"].(string)); c["preferred_username"] != emuAlice {
					t.Errorf("silent sign-in as %v, want alice", c["preferred_username"])
				}
			default:
				emuWantAppError(t, emuWantRedirect(t, c, u, emuCallback), st, s.want, s.code)
			}
		})
	}
}

func TestResponseModes(t *testing.T) {
	e := newEmu(t, nil)
	b := e.srv.Browser()
	e.signIn(t, b, e.authURL("", nil), emuCarol)

	t.Run("form_post", func(t *testing.T) {
		u := e.authURL("", url.Values{"response_mode": {"form_post"}, "state": {"fp<&>\"state"}})
		resp, body := emuGet(t, b.HTTPClient(), u)
		if resp.StatusCode != 200 || resp.Header.Get("Location") != "" {
			t.Fatalf("HTTP %d Location %q, want the auto-submitting page", resp.StatusCode, resp.Header.Get("Location"))
		}
		for _, want := range []string{`action="` + emuCallback + `"`, `name="code"`, `name="state" value="fp&lt;&amp;&gt;&#34;state"`, "document.forms[0].submit()"} {
			if !strings.Contains(body, want) {
				t.Errorf("form_post page lacks %s: %s", want, body)
			}
		}
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'nonce-") {
			t.Errorf("CSP %q does not allow the page's script by nonce", csp)
		}
		cb, err := b.SignIn(context.Background(), e.authURL("", url.Values{"response_mode": {"form_post"}, "state": {"fp2"}}), "", "")
		if err != nil {
			t.Fatal(err)
		}
		if cb.Method != http.MethodPost || cb.URL.String() != emuCallback || cb.Params.Get("code") == "" || cb.Params.Get("state") != "fp2" {
			t.Fatalf("callback %s %s %v", cb.Method, cb.URL, cb.Params)
		}
		e.tokens(t, emuRedeemForm(cb.Params.Get("code")))
	})
	t.Run("fragment", func(t *testing.T) {
		resp, _ := emuGet(t, b.HTTPClient(), e.authURL("", url.Values{"response_mode": {"fragment"}, "state": {"fr"}}))
		lu, err := url.Parse(resp.Header.Get("Location"))
		if err != nil || resp.StatusCode != http.StatusFound {
			t.Fatalf("HTTP %d %v", resp.StatusCode, err)
		}
		if lu.RawQuery != "" {
			t.Errorf("fragment mode put parameters in the query: %s", lu)
		}
		f, _ := url.ParseQuery(lu.Fragment)
		if f.Get("code") == "" || f.Get("state") != "fr" {
			t.Errorf("fragment %q lacks code and state", lu.Fragment)
		}
	})
	t.Run("error in form_post", func(t *testing.T) {
		resp, body := emuGet(t, e.noFollow, e.authURL("", url.Values{"response_mode": {"form_post"}, "prompt": {"none"}, "state": {"x"}}))
		if resp.StatusCode != 200 || !strings.Contains(body, `name="error" value="login_required"`) || !strings.Contains(body, `name="state" value="x"`) {
			t.Errorf("HTTP %d: %.500s", resp.StatusCode, body)
		}
	})
}

// emuPageErr runs a sign-in that must end on an emulator page and returns
// the page's message.
func (e *emu) pageErr(t *testing.T, b *entratest.Browser, u, user, password string) *entratest.PageError {
	t.Helper()
	cb, err := b.SignIn(context.Background(), u, user, password)
	var pe *entratest.PageError
	if !errors.As(err, &pe) {
		t.Fatalf("sign-in as %s: callback %v, err %v; want an emulator page", user, cb, err)
	}
	return pe
}

func TestSignInPageErrors(t *testing.T) {
	e := newEmu(t, nil)
	if err := e.srv.Update(func(c *entratest.Config) {
		for i := range c.Tenants[0].Users {
			if c.Tenants[0].Users[i].Username == emuDave {
				c.Tenants[0].Users[i].Disabled = true
			}
		}
	}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, user, password string
		status               int
		code                 string
	}{
		{"wrong password", emuAlice, "not-the-password", 401, "50126"},
		{"unknown user", "nobody@contoso.onmicrosoft.com", entratest.DemoPassword, 401, "50034"},
		{"disabled user", emuDave, entratest.DemoPassword, 400, "50057"},
		{"user of another tenant, single-tenant app", emuFrank, entratest.DemoPassword, 400, "50020"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pe := e.pageErr(t, e.srv.Browser(), e.authURL("", nil), tc.user, tc.password)
			if pe.Status != tc.status || !strings.HasPrefix(pe.Message, "AADSTS"+tc.code+":") {
				t.Errorf("page %d %q, want %d AADSTS%s", pe.Status, pe.Message, tc.status, tc.code)
			}
		})
	}
	t.Run("disabled user is not listed", func(t *testing.T) {
		_, body := emuGet(t, e.noFollow, e.authURL("", nil))
		if strings.Contains(body, emuDave) || !strings.Contains(body, emuAlice) {
			t.Error("the account picker lists the disabled user or misses an enabled one")
		}
	})

	t.Run("assignment required", func(t *testing.T) {
		if err := e.srv.Update(func(c *entratest.Config) {
			c.Tenants[0].Apps[0].AssignmentRequired = true
			for i := range c.Tenants[0].Users {
				c.Tenants[0].Users[i].Disabled = false
			}
		}); err != nil {
			t.Fatal(err)
		}
		pe := e.pageErr(t, e.srv.Browser(), e.authURL("", nil), emuDave, entratest.DemoPassword)
		if !strings.HasPrefix(pe.Message, "AADSTS50105:") {
			t.Errorf("dave without a role: %v, want AADSTS50105", pe)
		}
		// A user holding a role still gets in.
		e.signIn(t, e.srv.Browser(), e.authURL("", nil), emuCarol)
	})
}

func TestConsent(t *testing.T) {
	e := newEmu(t, nil)
	mail := url.Values{"scope": {"openid profile offline_access Mail.Read"}}
	t.Run("consent page, accept", func(t *testing.T) {
		b := e.srv.Browser()
		// Only a first pass through the page is needed to see it: the
		// browser answers it by itself later.
		e.signIn(t, b, e.authURL("", nil), emuAlice)
		resp, body := emuGet(t, b.HTTPClient(), e.authURL("", mail))
		if resp.StatusCode != 200 || !strings.Contains(body, "Permissions requested") || !strings.Contains(body, "https://graph.microsoft.com/Mail.Read") {
			t.Fatalf("HTTP %d, want the consent page naming Mail.Read: %.500s", resp.StatusCode, body)
		}
		cb := e.signIn(t, b, e.authURL("", mail), emuAlice)
		form := emuRedeemForm(cb.Params.Get("code"))
		form.Set("scope", mail.Get("scope"))
		tok := e.tokens(t, form)
		if _, c := emuClaims(t, tok["access_token"].(string)); !strings.Contains(c["scp"].(string), "Mail.Read") {
			t.Errorf("scp = %v, want Mail.Read", c["scp"])
		}
		// Consent is remembered: prompt=none now works.
		q := emuWantRedirect(t, b.HTTPClient(), e.authURL("", url.Values{"scope": mail["scope"], "prompt": {"none"}}), emuCallback)
		if q.Get("code") == "" {
			t.Errorf("after consent, prompt=none: %v", q)
		}
		// prompt=consent asks again even so.
		resp, body = emuGet(t, b.HTTPClient(), e.authURL("", url.Values{"scope": mail["scope"], "prompt": {"consent"}}))
		if resp.StatusCode != 200 || !strings.Contains(body, "Permissions requested") {
			t.Errorf("prompt=consent: HTTP %d, want the consent page", resp.StatusCode)
		}
	})
	t.Run("consent is per user", func(t *testing.T) {
		b := e.srv.Browser()
		e.signIn(t, b, e.authURL("", nil), emuBob)
		q := emuWantRedirect(t, b.HTTPClient(), e.authURL("", url.Values{"scope": mail["scope"], "prompt": {"none"}, "state": {"pn"}}), emuCallback)
		emuWantAppError(t, q, "pn", "consent_required", "65001")
	})
	t.Run("decline", func(t *testing.T) {
		b := e.srv.Browser()
		b.DeclineConsent = true
		cb := e.signIn(t, b, e.authURL("", url.Values{"scope": mail["scope"], "state": {"dc"}}), emuCarol)
		emuWantAppError(t, cb.Params, "dc", "access_denied", "65004")
	})
	t.Run("refresh for an unconsented scope", func(t *testing.T) {
		tok := e.signInTokens(t, emuCarol)
		st, body := e.post(t, "", emuRefreshForm(tok["refresh_token"].(string), "https://graph.microsoft.com/Calendars.Read"), nil)
		emuWantErr(t, st, body, 400, "invalid_grant", 65001)
		if body["suberror"] != "consent_required" {
			t.Errorf("suberror = %v, want consent_required", body["suberror"])
		}
	})
}
