package entratest_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/confidential"

	"github.com/entraweb/entraweb/entratest"
)

const acClaimsC1 = `{"access_token":{"acrs":{"essential":true,"value":"c1"}}}`

// acGraph calls GET /v1.0/me with tok and returns the status and the
// WWW-Authenticate header.
func acGraph(t testing.TB, srv *entratest.Server, tok string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, srv.GraphURL()+"/v1.0/me", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("WWW-Authenticate")
}

var acClaimsRE = regexp.MustCompile(`claims="([^"]*)"`)

// acChallengeClaims extracts and decodes the claims of a challenge.
func acChallengeClaims(t testing.TB, h string) string {
	t.Helper()
	m := acClaimsRE.FindStringSubmatch(h)
	if m == nil {
		t.Fatalf("no claims in %q", h)
	}
	b, err := base64.StdEncoding.DecodeString(m[1])
	if err != nil {
		t.Fatalf("claims %q are not standard base64: %v", m[1], err)
	}
	return string(b)
}

func acACRS(t testing.TB, tok string) []any {
	t.Helper()
	_, c := emuClaims(t, tok)
	v, _ := c["acrs"].([]any)
	return v
}

func TestAuthContextChallenge(t *testing.T) {
	e := newEmu(t, nil)
	tok := e.signInTokens(t, emuAlice)
	at, rt := tok["access_token"].(string), tok["refresh_token"].(string)
	if _, c := emuClaims(t, at); c["acrs"] != nil {
		t.Fatalf("a token without a claims request carries acrs %v", c["acrs"])
	}
	if st, _ := acGraph(t, e.srv, at); st != 200 {
		t.Fatalf("Graph before the policy: HTTP %d", st)
	}

	e.srv.RequireAuthContext("c1")
	st, h := acGraph(t, e.srv, at)
	want := `Bearer realm="", authorization_uri="` + e.srv.URL + `/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000", error="insufficient_claims", claims="` +
		base64.StdEncoding.EncodeToString([]byte(acClaimsC1)) + `"`
	if st != 401 || h != want {
		t.Fatalf("HTTP %d\nWWW-Authenticate: %s\nwant:             %s", st, h, want)
	}
	if got := acChallengeClaims(t, h); got != acClaimsC1 {
		t.Errorf("claims = %s", got)
	}
	_, _, body := e.getJSON(t, e.srv.GraphURL()+"/v1.0/me", http.Header{"Authorization": {"Bearer " + at}})
	if ge, _ := body["error"].(map[string]any); ge["code"] != "InvalidAuthenticationToken" {
		t.Errorf("Graph error body %v", body)
	}

	// Client capabilities alone ask for no authentication context.
	f := emuRefreshForm(rt, emuScopes)
	f.Set("claims", `{"access_token":{"xms_cc":{"values":["CP1"]}}}`)
	r1 := e.tokens(t, f)
	if v := acACRS(t, r1["access_token"].(string)); v != nil {
		t.Errorf("acrs %v from a claims request without acrs", v)
	}
	if st, _ := acGraph(t, e.srv, r1["access_token"].(string)); st != 401 {
		t.Errorf("Graph with a token without acrs: HTTP %d", st)
	}

	// The challenge's claims, sent back on refresh, satisfy it.
	f = emuRefreshForm(r1["refresh_token"].(string), emuScopes)
	f.Set("claims", acChallengeClaims(t, h))
	r2 := e.tokens(t, f)
	if v := acACRS(t, r2["access_token"].(string)); !slices.Equal(v, []any{"c1"}) {
		t.Errorf("acrs = %v, want [c1]", v)
	}
	if st, _ := acGraph(t, e.srv, r2["access_token"].(string)); st != 200 {
		t.Errorf("Graph with acrs c1: HTTP %d", st)
	}
	// A token for the app's own API carries them too.
	f = emuRefreshForm(r2["refresh_token"].(string), "api://"+entratest.DemoClientID+"/access_as_user")
	f.Set("claims", acClaimsC1)
	if v := acACRS(t, e.tokens(t, f)["access_token"].(string)); !slices.Equal(v, []any{"c1"}) {
		t.Errorf("API token acrs = %v", v)
	}
	// The contexts are not remembered: a refresh without claims has none.
	r3 := e.tokens(t, emuRefreshForm(r2["refresh_token"].(string), emuScopes))
	if v := acACRS(t, r3["access_token"].(string)); v != nil {
		t.Errorf("acrs %v without a claims request", v)
	}

	// Another context is not this one.
	e.srv.RequireAuthContext("c2")
	if st, h := acGraph(t, e.srv, r2["access_token"].(string)); st != 401 || !strings.Contains(acChallengeClaims(t, h), `"value":"c2"`) {
		t.Errorf("Graph with acrs c1 under c2: HTTP %d %s", st, h)
	}
	// Several values, merged with client capabilities as MSAL sends them.
	f = emuRefreshForm(r3["refresh_token"].(string), emuScopes)
	f.Set("claims", `{"access_token":{"xms_cc":{"values":["CP1"]},"acrs":{"essential":true,"values":["c1","c2","c1"]}}}`)
	r4 := e.tokens(t, f)
	if v := acACRS(t, r4["access_token"].(string)); !slices.Equal(v, []any{"c1", "c2"}) {
		t.Errorf("acrs = %v, want [c1 c2]", v)
	}
	if st, _ := acGraph(t, e.srv, r4["access_token"].(string)); st != 200 {
		t.Errorf("Graph with acrs c1 c2: HTTP %d", st)
	}

	// App-only tokens are not asked for a user's authentication context.
	st2, cc := e.post(t, "", url.Values{"grant_type": {"client_credentials"}, "client_id": {entratest.DemoClientID},
		"client_secret": {entratest.DemoClientSecret}, "scope": {"https://graph.microsoft.com/.default"}}, nil)
	if st2 != 200 {
		t.Fatalf("client credentials: HTTP %d %v", st2, cc)
	}
	req, _ := http.NewRequest(http.MethodPost, e.srv.GraphURL()+"/v1.0/users/"+userByName(t, e.srv, emuAlice).ObjectID+"/getMemberObjects", strings.NewReader(`{"securityEnabledOnly":true}`))
	req.Header.Set("Authorization", "Bearer "+cc["access_token"].(string))
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("app-only Graph call under an authentication context: HTTP %d", resp.StatusCode)
	}

	e.srv.ClearAuthContext()
	if st, _ := acGraph(t, e.srv, at); st != 200 {
		t.Errorf("Graph after ClearAuthContext: HTTP %d", st)
	}

	// Malformed claims are refused.
	f = emuRefreshForm(r4["refresh_token"].(string), emuScopes)
	f.Set("claims", `{"access_token":`)
	st, body = e.post(t, "", f, nil)
	emuWantErr(t, st, body, 400, "invalid_request", 9002313)
}

func TestAuthContextFromAuthorize(t *testing.T) {
	e := newEmu(t, nil)
	e.srv.RequireAuthContext("c1")
	code := e.code(t, emuBob, url.Values{"claims": {acClaimsC1}})
	tok := e.tokens(t, emuRedeemForm(code))
	if v := acACRS(t, tok["access_token"].(string)); !slices.Equal(v, []any{"c1"}) {
		t.Fatalf("acrs = %v, want [c1] from the authorize claims", v)
	}
	if st, _ := acGraph(t, e.srv, tok["access_token"].(string)); st != 200 {
		t.Errorf("Graph: HTTP %d", st)
	}
	// The redemption may ask for more; both count.
	f := emuRedeemForm(e.code(t, emuBob, url.Values{"claims": {acClaimsC1}}))
	f.Set("claims", `{"access_token":{"acrs":{"essential":true,"value":"c3"}}}`)
	if v := acACRS(t, e.tokens(t, f)["access_token"].(string)); !slices.Equal(v, []any{"c1", "c3"}) {
		t.Errorf("acrs = %v, want [c1 c3]", v)
	}
	// MSAL Node's default claims are no request.
	f = emuRedeemForm(e.code(t, emuBob, nil))
	f.Set("claims", `{}`)
	if v := acACRS(t, e.tokens(t, f)["access_token"].(string)); v != nil {
		t.Errorf("acrs = %v from empty claims", v)
	}
}

func TestAuthContextMSALGo(t *testing.T) {
	srv := entratest.NewServer(t, nil)
	app := msalClient(t, srv, secretCred(t), confidential.WithClientCapabilities([]string{"CP1"}))
	ctx := context.Background()
	scopes := []string{"User.Read"}
	code, verifier, _ := msalSignIn(t, srv, app, emuCarol, scopes)
	first, err := app.AcquireTokenByAuthCode(ctx, code, redirectURI, scopes, confidential.WithChallenge(verifier))
	if err != nil {
		t.Fatal(err)
	}
	srv.RequireAuthContext("c1")
	st, h := acGraph(t, srv, first.AccessToken)
	if st != 401 {
		t.Fatalf("Graph: HTTP %d, want the claims challenge", st)
	}
	claims := acChallengeClaims(t, h)

	// MSAL Go 1.10's confidential AcquireTokenSilent refuses WithClaims
	// (it wants an interactive request), so the step-up is a sign-in whose
	// authorize request and code redemption both carry the claims, merged
	// with the client capabilities.
	t.Run("sign-in with claims", func(t *testing.T) {
		authURL, err := app.AuthCodeURL(ctx, entratest.DemoClientID, redirectURI, scopes, confidential.WithClaims(claims))
		if err != nil {
			t.Fatal(err)
		}
		if u, _ := url.Parse(authURL); !strings.Contains(u.Query().Get("claims"), `"acrs"`) {
			t.Fatalf("MSAL sent no acrs claims to authorize: %s", authURL)
		}
		// Through the sign-in page with PKCE added, as msalSignIn does.
		verifier := rand.Text() + rand.Text()
		u, _ := url.Parse(authURL)
		q := u.Query()
		q.Set("code_challenge", emuChallenge(verifier))
		q.Set("code_challenge_method", "S256")
		u.RawQuery = q.Encode()
		cb, err := srv.Browser().SignIn(ctx, u.String(), emuCarol, entratest.DemoPassword)
		if err != nil {
			t.Fatal(err)
		}
		code := cb.Params.Get("code")
		res, err := app.AcquireTokenByAuthCode(ctx, code, redirectURI, scopes, confidential.WithChallenge(verifier), confidential.WithClaims(claims))
		if err != nil {
			t.Fatalf("code redemption with claims: %v", err)
		}
		if v, _ := claimsOf(t, res.AccessToken)["acrs"].([]any); !slices.Equal(v, []any{"c1"}) {
			t.Errorf("acrs = %v", v)
		}
		if st, _ := acGraph(t, srv, res.AccessToken); st != 200 {
			t.Errorf("Graph after the step-up: HTTP %d", st)
		}
	})
	// WithClaimsFromClient does go through the refresh token, in a cache
	// partition of its own.
	t.Run("silent with client claims", func(t *testing.T) {
		before := srv.Calls(entratest.EndpointToken)
		res, err := app.AcquireTokenSilent(ctx, scopes, confidential.WithSilentAccount(first.Account), confidential.WithClaimsFromClient(claims))
		if err != nil {
			t.Fatalf("silent with claims: %v", err)
		}
		if srv.Calls(entratest.EndpointToken) != before+1 {
			t.Errorf("token endpoint calls = %d, want one refresh", srv.Calls(entratest.EndpointToken)-before)
		}
		if v, _ := claimsOf(t, res.AccessToken)["acrs"].([]any); !slices.Equal(v, []any{"c1"}) {
			t.Errorf("acrs = %v", v)
		}
		if st, _ := acGraph(t, srv, res.AccessToken); st != 200 {
			t.Errorf("Graph after the refresh: HTTP %d", st)
		}
	})
}
