package entratest_test

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/entraweb/entraweb/entratest"
)

const emuAPIScope = "api://" + entratest.DemoClientID + "/access_as_user"

func apiRedeemForm(code, scope string) url.Values {
	f := emuRedeemForm(code)
	f.Set("scope", scope)
	return f
}

func oboForm(assertion, scope, claims string) url.Values {
	f := url.Values{
		"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"}, "requested_token_use": {"on_behalf_of"},
		"client_id": {entratest.DemoClientID}, "client_secret": {entratest.DemoClientSecret},
		"assertion": {assertion}, "scope": {scope},
	}
	if claims != "" {
		f.Set("claims", claims)
	}
	return f
}

// TestOnBehalfOfGrant: DemoApp's API exchanges the token a user's client
// sent it for a Graph token of the same user, which Graph accepts; the
// assertion is checked, app-only tokens are refused, and an
// authentication context the user's token lacks is asked back with the
// claims.
func TestOnBehalfOfGrant(t *testing.T) {
	e := newEmu(t, nil)
	// The user's client signs in for DemoApp's API.
	at := e.tokens(t, apiRedeemForm(e.code(t, "alice@contoso.onmicrosoft.com", url.Values{"scope": {emuAPIScope}}), emuAPIScope))["access_token"].(string)
	_, ac := emuClaims(t, at)
	if ac["aud"] != entratest.DemoClientID || ac["scp"] != "access_as_user" {
		t.Fatalf("not a token for DemoApp's API: %v", ac)
	}

	st, body := e.post(t, "", oboForm(at, "User.Read openid offline_access", ""), nil)
	if st != http.StatusOK {
		t.Fatalf("on-behalf-of: %d %v", st, body)
	}
	gt := body["access_token"].(string)
	h, gc := emuClaims(t, gt)
	if gc["aud"] != entratest.GraphAppID || gc["oid"] != ac["oid"] || h["nonce"] == nil {
		t.Errorf("Graph token %v %v", h, gc)
	}
	// Its signature covers the hashed nonce, so only Graph's way of
	// checking it succeeds, as with the real platform.
	parts := strings.Split(gt, ".")
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
	keys := e.jwks(t)
	if rsa.VerifyPKCS1v15(keys[h["kid"].(string)], crypto.SHA256, sum[:], sig) == nil {
		t.Error("a Graph token verifies without swapping its nonce")
	}
	if err := emuVerify(gt, keys); err != nil {
		t.Errorf("with the nonce swapped: %v", err)
	}
	code, _, me := e.getJSON(t, e.srv.GraphURL()+"/v1.0/me", http.Header{"Authorization": {"Bearer " + gt}})
	if code != http.StatusOK || me["displayName"] != "Alice Admin" {
		t.Errorf("Graph refused its own on-behalf-of token: %d %v", code, me)
	}

	app := e.tokens(t, url.Values{"grant_type": {"client_credentials"}, "client_id": {entratest.DemoClientID},
		"client_secret": {entratest.DemoClientSecret}, "scope": {"api://" + entratest.DemoClientID + "/.default"}})["access_token"].(string)
	graph := e.tokens(t, emuRedeemForm(e.code(t, "bob@contoso.onmicrosoft.com", nil)))["access_token"].(string)
	acrs := `{"access_token":{"acrs":{"essential":true,"value":"c1"}}}`
	for _, tt := range []struct {
		name      string
		form      url.Values
		status    int
		err       string
		code      int
		wantClaim bool
	}{
		{"app-only assertion", oboForm(app, "User.Read", ""), 400, "invalid_grant", 50013, false},
		{"assertion for Graph", oboForm(graph, "User.Read", ""), 400, "invalid_grant", 50013, false},
		{"tampered assertion", oboForm(at[:len(at)-4]+"AAAA", "User.Read", ""), 400, "invalid_grant", 50013, false},
		{"no assertion", oboForm("", "User.Read", ""), 400, "invalid_request", 900144, false},
		{"consent missing", oboForm(at, "Mail.Read", ""), 400, "invalid_grant", 65001, false},
		{"authentication context", oboForm(at, "User.Read", acrs), 400, "interaction_required", 50076, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			st, body := e.post(t, "", tt.form, nil)
			emuWantErr(t, st, body, tt.status, tt.err, tt.code)
			if got, _ := body["claims"].(string); tt.wantClaim != (got != "") || (tt.wantClaim && !strings.Contains(got, `"c1"`)) {
				t.Errorf("claims %q", got)
			}
		})
	}
}

// TestAccessTokenFaultsAndCapabilities: FaultNextAccessTokens spoils the
// next access tokens (not the ID tokens), and a claims request that
// declares cp1 puts xms_cc in the access token.
func TestAccessTokenFaultsAndCapabilities(t *testing.T) {
	e := newEmu(t, nil)
	keys := e.jwks(t)
	e.srv.FaultNextAccessTokens(entratest.FaultBadSignature, 1)
	form := apiRedeemForm(e.code(t, "carol@contoso.onmicrosoft.com", url.Values{"scope": {emuAPIScope + " openid"}}), emuAPIScope+" openid")
	form.Set("claims", `{"access_token":{"xms_cc":{"values":["CP1"]}}}`)
	body := e.tokens(t, form)
	if emuVerify(body["access_token"].(string), keys) == nil {
		t.Error("the spoiled access token verifies")
	}
	if err := emuVerify(body["id_token"].(string), keys); err != nil {
		t.Errorf("the ID token was spoiled too: %v", err)
	}
	_, c := emuClaims(t, body["access_token"].(string))
	if cc, _ := c["xms_cc"].([]any); len(cc) != 1 || cc[0] != "cp1" {
		t.Errorf("xms_cc = %v", c["xms_cc"])
	}
	// The knob counts down: the next token is good.
	next := e.tokens(t, apiRedeemForm(e.code(t, "carol@contoso.onmicrosoft.com", url.Values{"scope": {emuAPIScope}}), emuAPIScope))
	if err := emuVerify(next["access_token"].(string), keys); err != nil {
		t.Errorf("the fault outlived its count: %v", err)
	}
}
