package entratest_test

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/entraweb/entraweb/entratest"
)

// specialSecret needs URL-encoding in HTTP Basic (RFC 6749 2.3.1).
const specialSecret = "s3cret+with/odd:chars%20&=~ and space"

// tokenWorld is the default world plus what the token tests need: a
// second app, a secret that needs encoding and an expired secret.
func tokenWorld(clock *emuClock) *entratest.Options {
	cfg := entratest.Default()
	app := &cfg.Tenants[0].Apps[0]
	app.Secrets = append(app.Secrets,
		entratest.Secret{Value: specialSecret},
		entratest.Secret{Value: "expired-secret-value", Expires: clock.Now().Add(-time.Hour)},
	)
	cfg.Tenants[0].Apps = append(cfg.Tenants[0].Apps, emuOtherApp())
	return &entratest.Options{Config: cfg, Now: clock.Now}
}

func emuBasic(id, secret string) func(*http.Request) {
	return func(r *http.Request) { r.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret)) }
}

func TestTokenErrors(t *testing.T) {
	clock := newEmuClock()
	e := newEmu(t, tokenWorld(clock))
	refresh := e.signInTokens(t, emuBob)["refresh_token"].(string)
	with := func(f url.Values, kv ...string) url.Values {
		f = url.Values(cloneValues(f))
		for i := 0; i < len(kv); i += 2 {
			if kv[i+1] == "" {
				f.Del(kv[i])
			} else {
				f.Set(kv[i], kv[i+1])
			}
		}
		return f
	}
	cc := url.Values{
		"grant_type":    {"client_credentials"},
		"client_id":     {entratest.DemoClientID},
		"client_secret": {entratest.DemoClientSecret},
		"scope":         {"https://graph.microsoft.com/.default"},
	}
	rf := emuRefreshForm(refresh, emuScopes)
	code := func(t testing.TB) url.Values { return emuRedeemForm(e.code(t, emuAlice, nil)) }
	fixed := func(f url.Values) func(testing.TB) url.Values { return func(testing.TB) url.Values { return f } }
	tests := []struct {
		name   string
		tenant string
		form   func(t testing.TB) url.Values
		mod    func(*http.Request)
		status int
		oauth  string
		code   int
	}{
		{"missing grant_type", "", fixed(with(cc, "grant_type", "")), nil, 400, "invalid_request", 900144},
		{"missing client_id", "", fixed(with(cc, "client_id", "")), nil, 400, "invalid_request", 900144},
		{"missing code", "", fixed(with(emuRedeemForm("x"), "code", "")), nil, 400, "invalid_request", 900144},
		{"missing refresh_token", "", fixed(with(rf, "refresh_token", "")), nil, 400, "invalid_request", 900144},
		{"refresh without scope", "", fixed(with(rf, "scope", "")), nil, 400, "invalid_request", 900144},
		{"JSON body", "", fixed(cc), func(r *http.Request) { r.Header.Set("Content-Type", "application/json") }, 400, "invalid_request", 9002313},
		{"no content type", "", fixed(cc), func(r *http.Request) { r.Header.Del("Content-Type") }, 400, "invalid_request", 9002313},
		{"repeated parameter", "", func(testing.TB) url.Values { f := with(cc); f.Add("scope", "x"); return f }, nil, 400, "invalid_request", 9002313},
		{"unsupported grant type", "", fixed(with(cc, "grant_type", "password")), nil, 400, "unsupported_grant_type", 70003},
		{"unknown tenant", "nowhere.example", fixed(cc), nil, 400, "invalid_tenant", 90002},
		{"unknown client", "", fixed(with(cc, "client_id", entratest.StableID("nobody"))), nil, 400, "unauthorized_client", 700016},
		{"client of another tenant", entratest.OtherTenantID, fixed(cc), nil, 400, "unauthorized_client", 700016},
		{"wrong secret", "", fixed(with(cc, "client_secret", "not-the-secret")), nil, 401, "invalid_client", 7000215},
		{"secret id instead of value", "", fixed(with(cc, "client_secret", entratest.StableID("secret id"))), nil, 401, "invalid_client", 7000215},
		{"expired secret", "", fixed(with(cc, "client_secret", "expired-secret-value")), nil, 401, "invalid_client", 7000222},
		{"no credential", "", fixed(with(cc, "client_secret", "")), nil, 401, "invalid_client", 7000218},
		{"no credential, code", "", func(t testing.TB) url.Values { return with(code(t), "client_secret", "") }, nil, 401, "invalid_client", 7000218},
		{"wrong secret in Basic", "", fixed(with(cc, "client_secret", "")), emuBasic(entratest.DemoClientID, "nope-nope"), 401, "invalid_client", 7000215},
		{"secret in Basic and body", "", fixed(cc), emuBasic(entratest.DemoClientID, entratest.DemoClientSecret), 400, "invalid_request", 9002313},
		{"Basic client differs from body", "", fixed(with(cc, "client_secret", "")), emuBasic(emuOtherID, emuOtherSecret), 400, "invalid_request", 9002313},
		{"Basic not URL-encoded", "", fixed(with(cc, "client_secret", "")), func(r *http.Request) { r.SetBasicAuth(entratest.DemoClientID, "100%") }, 400, "invalid_request", 9002313},
		{"secret and assertion", "", fixed(with(cc, "client_assertion", "a.b.c", "client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")), nil, 400, "invalid_request", 9002313},
		{"assertion of the wrong type", "", fixed(with(cc, "client_secret", "", "client_assertion", "a.b.c", "client_assertion_type", "urn:x")), nil, 400, "invalid_request", 9002313},
		{"assertion not a JWT", "", fixed(with(cc, "client_secret", "", "client_assertion", "not-a-jwt", "client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")), nil, 401, "invalid_client", 700027},
		{"client credentials without .default", "", fixed(with(cc, "scope", "https://graph.microsoft.com/User.Read.All")), nil, 400, "invalid_scope", 1002012},
		{"client credentials on organizations", "organizations", fixed(cc), nil, 400, "invalid_request", 50059},
		{"client credentials on common", "common", fixed(cc), nil, 400, "invalid_request", 50059},
		{"client credentials, unknown resource", "", fixed(with(cc, "scope", "https://unknown.example/.default")), nil, 400, "invalid_resource", 500011},
		{"client credentials, two resources", "", fixed(with(cc, "scope", "https://graph.microsoft.com/.default api://"+entratest.DemoClientID+"/.default")), nil, 400, "invalid_scope", 70011},
		{"unknown code", "", fixed(emuRedeemForm("1.entratest.not-a-code")), nil, 400, "invalid_request", 9002313},
		{"code of another client", "", func(t testing.TB) url.Values {
			return with(code(t), "client_id", emuOtherID, "client_secret", emuOtherSecret)
		}, nil, 400, "invalid_grant", 70000},
		{"redirect_uri mismatch", "", func(t testing.TB) url.Values {
			return with(code(t), "redirect_uri", "http://localhost:9999/auth/callback")
		}, nil, 400, "invalid_grant", 70000},
		{"redirect_uri missing", "", func(t testing.TB) url.Values { return with(code(t), "redirect_uri", "") }, nil, 400, "invalid_grant", 70000},
		{"PKCE verifier missing", "", func(t testing.TB) url.Values { return with(code(t), "code_verifier", "") }, nil, 400, "invalid_grant", 50148},
		{"PKCE verifier wrong", "", func(t testing.TB) url.Values { return with(code(t), "code_verifier", emuVerifier+"x") }, nil, 400, "invalid_grant", 50148},
		{"refresh token garbage", "", fixed(with(rf, "refresh_token", "garbage")), nil, 400, "invalid_request", 9002313},
		{"refresh token of another client", "", fixed(with(rf, "client_id", emuOtherID, "client_secret", emuOtherSecret)), nil, 400, "invalid_grant", 70000},
		{"refresh token in another tenant", entratest.OtherTenantID, fixed(rf), nil, 400, "unauthorized_client", 700016},
		{"refresh, bad scope", "", fixed(with(rf, "scope", "openid User.Read!")), nil, 400, "invalid_scope", 70011},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st, body := e.post(t, tc.tenant, tc.form(t), tc.mod)
			emuWantErr(t, st, body, tc.status, tc.oauth, tc.code)
			if st == http.StatusUnauthorized && tc.oauth != "invalid_client" {
				t.Errorf("401 for %s", tc.oauth)
			}
		})
	}
}

func cloneValues(v url.Values) map[string][]string {
	out := map[string][]string{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

func TestClientSecretForms(t *testing.T) {
	clock := newEmuClock()
	e := newEmu(t, tokenWorld(clock))
	cc := url.Values{"grant_type": {"client_credentials"}, "scope": {"https://graph.microsoft.com/.default"}}
	tests := []struct {
		name string
		form url.Values
		mod  func(*http.Request)
	}{
		{"body", url.Values{"client_id": {entratest.DemoClientID}, "client_secret": {specialSecret}}, nil},
		{"Basic, URL-encoded", nil, emuBasic(entratest.DemoClientID, specialSecret)},
		{"Basic with client_id in the body too", url.Values{"client_id": {entratest.DemoClientID}}, emuBasic(entratest.DemoClientID, specialSecret)},
		{"Basic, client id in upper case", nil, emuBasic(strings.ToUpper(entratest.DemoClientID), entratest.DemoClientSecret)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := url.Values(cloneValues(cc))
			for k, v := range tc.form {
				f[k] = v
			}
			st, body := e.post(t, "", f, tc.mod)
			if st != 200 || body["access_token"] == nil {
				t.Fatalf("HTTP %d %v", st, body)
			}
			if _, c := emuClaims(t, body["access_token"].(string)); c["appid"] != entratest.DemoClientID || c["appidacr"] != "1" || c["idtyp"] != "app" {
				t.Errorf("app token claims %v", c)
			}
		})
	}
	t.Run("Basic, raw secret is decoded as form encoding", func(t *testing.T) {
		// Unencoded, the '+' reads as a space: the secret no longer matches.
		st, body := e.post(t, "", url.Values(cloneValues(cc)), func(r *http.Request) {
			r.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(entratest.DemoClientID+":"+strings.ReplaceAll(specialSecret, "%", ""))))
		})
		emuWantErr(t, st, body, 401, "invalid_client", 7000215)
	})
	t.Run("secret expires with the clock", func(t *testing.T) {
		if err := e.srv.Update(func(c *entratest.Config) {
			c.Tenants[0].Apps[0].Secrets = append(c.Tenants[0].Apps[0].Secrets, entratest.Secret{Value: "short-lived-secret", Expires: clock.Now().Add(time.Minute)})
		}); err != nil {
			t.Fatal(err)
		}
		f := url.Values(cloneValues(cc))
		f.Set("client_id", entratest.DemoClientID)
		f.Set("client_secret", "short-lived-secret")
		if st, body := e.post(t, "", f, nil); st != 200 {
			t.Fatalf("before expiry: HTTP %d %v", st, body)
		}
		clock.Add(2 * time.Minute)
		st, body := e.post(t, "", f, nil)
		emuWantErr(t, st, body, 401, "invalid_client", 7000222)
	})
}

func TestCodeSingleUse(t *testing.T) {
	e := newEmu(t, nil)
	code := e.code(t, emuAlice, nil)
	first := e.tokens(t, emuRedeemForm(code))
	rt := first["refresh_token"].(string)
	if st, body := e.post(t, "", emuRefreshForm(rt, emuScopes), nil); st != 200 {
		t.Fatalf("refresh before the replay: HTTP %d %v", st, body)
	}
	st, body := e.post(t, "", emuRedeemForm(code), nil)
	emuWantErr(t, st, body, 400, "invalid_grant", 54005)
	// The replay revoked the refresh token issued from the code.
	st, body = e.post(t, "", emuRefreshForm(rt, emuScopes), nil)
	emuWantErr(t, st, body, 400, "invalid_grant", 50173)
	// Other sign-ins are not affected.
	e.signInTokens(t, emuAlice)
}

func TestCodeExpiry(t *testing.T) {
	clock := newEmuClock()
	e := newEmu(t, &entratest.Options{Now: clock.Now})
	tests := []struct {
		wait time.Duration
		ok   bool
	}{
		{9 * time.Minute, true},
		{11 * time.Minute, false},
	}
	for _, tc := range tests {
		t.Run(tc.wait.String(), func(t *testing.T) {
			code := e.code(t, emuCarol, nil)
			clock.Add(tc.wait)
			st, body := e.post(t, "", emuRedeemForm(code), nil)
			if tc.ok {
				if st != 200 {
					t.Fatalf("HTTP %d %v", st, body)
				}
				return
			}
			emuWantErr(t, st, body, 400, "invalid_grant", 70008)
		})
	}
}

func TestPKCEMethods(t *testing.T) {
	e := newEmu(t, nil)
	plain := strings.Repeat("p", 20) + "-plain-verifier-0123456789"
	tests := []struct {
		name      string
		set       url.Values
		verifier  string
		wantError bool
	}{
		{"S256", nil, emuVerifier, false},
		{"plain", url.Values{"code_challenge": {plain}, "code_challenge_method": {"plain"}}, plain, false},
		{"plain by default", url.Values{"code_challenge": {plain}, "code_challenge_method": {""}}, plain, false},
		{"plain, S256 of the verifier sent", url.Values{"code_challenge": {plain}, "code_challenge_method": {"plain"}}, emuChallenge(plain), true},
		{"S256, challenge sent as verifier", nil, emuChallenge(emuVerifier), true},
		{"no PKCE", url.Values{"code_challenge": {""}, "code_challenge_method": {""}}, "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := emuRedeemForm(e.code(t, emuBob, tc.set))
			f.Set("code_verifier", tc.verifier)
			st, body := e.post(t, "", f, nil)
			if tc.wantError {
				emuWantErr(t, st, body, 400, "invalid_grant", 50148)
			} else if st != 200 {
				t.Fatalf("HTTP %d %v", st, body)
			}
		})
	}
}

func TestRefreshTokens(t *testing.T) {
	clock := newEmuClock()
	e := newEmu(t, &entratest.Options{Now: clock.Now})
	first := e.signInTokens(t, emuCarol)
	rt0 := first["refresh_token"].(string)

	t.Run("rotation", func(t *testing.T) {
		seen := map[string]bool{rt0: true}
		rt := rt0
		for i := range 3 {
			clock.Add(time.Second)
			tok := e.tokens(t, emuRefreshForm(rt, emuScopes))
			next, _ := tok["refresh_token"].(string)
			if next == "" || seen[next] {
				t.Fatalf("refresh %d: no new refresh token", i)
			}
			seen[next] = true
			rt = next
		}
		// As on the platform, an older refresh token keeps working.
		e.tokens(t, emuRefreshForm(rt0, emuScopes))
	})
	t.Run("own API scope from the same refresh token", func(t *testing.T) {
		tok := e.tokens(t, emuRefreshForm(rt0, "api://"+entratest.DemoClientID+"/access_as_user offline_access"))
		if _, c := emuClaims(t, tok["access_token"].(string)); c["aud"] != entratest.DemoClientID {
			t.Errorf("aud = %v", c["aud"])
		}
		if tok["id_token"] != nil {
			t.Error("an ID token without openid")
		}
	})
	t.Run("no offline_access, no refresh token", func(t *testing.T) {
		tok := e.tokens(t, emuRefreshForm(rt0, "openid User.Read"))
		if tok["refresh_token"] != nil {
			t.Error("refresh token without offline_access")
		}
	})
	t.Run("expiry", func(t *testing.T) {
		old := e.signInTokens(t, emuCarol)["refresh_token"].(string)
		clock.Add(89 * 24 * time.Hour)
		fresh := e.tokens(t, emuRefreshForm(old, emuScopes))["refresh_token"].(string)
		clock.Add(2 * 24 * time.Hour)
		st, body := e.post(t, "", emuRefreshForm(old, emuScopes), nil)
		emuWantErr(t, st, body, 400, "invalid_grant", 70008)
		// The rotated token counts from its own issue.
		e.tokens(t, emuRefreshForm(fresh, emuScopes))
	})
	t.Run("RevokeUser", func(t *testing.T) {
		b := e.srv.Browser()
		cb := e.signIn(t, b, e.authURL("", nil), emuDave)
		rt := e.tokens(t, emuRedeemForm(cb.Params.Get("code")))["refresh_token"].(string)
		other := e.signInTokens(t, emuAlice)["refresh_token"].(string)
		if !e.srv.RevokeUser(emuDave) {
			t.Fatal("RevokeUser(dave) = false")
		}
		if e.srv.RevokeUser("nobody@contoso.onmicrosoft.com") {
			t.Error("RevokeUser of an unknown user = true")
		}
		st, body := e.post(t, "", emuRefreshForm(rt, emuScopes), nil)
		emuWantErr(t, st, body, 400, "invalid_grant", 50173)
		e.tokens(t, emuRefreshForm(other, emuScopes)) // alice is untouched
		// The SSO session is gone too: the sign-in page again.
		resp, page := emuGet(t, b.HTTPClient(), e.authURL("", nil))
		if resp.StatusCode != 200 || !strings.Contains(page, `name="password"`) {
			t.Errorf("after revocation: HTTP %d, want the sign-in page", resp.StatusCode)
		}
		// Signing in again, even at the same instant, gives working tokens.
		again := e.signInTokens(t, emuDave)["refresh_token"].(string)
		e.tokens(t, emuRefreshForm(again, emuScopes))
	})
}
