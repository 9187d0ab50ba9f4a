package entratest_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/entraweb/entraweb/entratest"
)

func TestTokenShapes(t *testing.T) {
	clock := newEmuClock()
	cfg := entratest.Default()
	v1ID := entratest.StableID("app:v1api")
	cfg.Tenants[0].Apps[0].ConsentedScopes = append(cfg.Tenants[0].Apps[0].ConsentedScopes, "api://v1api/read")
	cfg.Tenants[0].Apps = append(cfg.Tenants[0].Apps, emuOtherApp(), entratest.App{
		ClientID: v1ID, DisplayName: "V1Api", IdentifierURI: "api://v1api", Scopes: []string{"read"}, AccessTokenVersion: 1,
	})
	e := newEmu(t, &entratest.Options{Config: cfg, Now: clock.Now})
	keys := e.jwks(t)
	users := map[string]entratest.User{}
	for _, u := range e.srv.Config().Tenants[0].Users {
		users[u.Username] = u
	}
	now := clock.Now().Unix()

	idToken := func(t *testing.T, tok map[string]any) map[string]any {
		t.Helper()
		raw, _ := tok["id_token"].(string)
		if err := emuVerify(raw, keys); err != nil {
			t.Fatalf("ID token does not verify against the JWKS: %v", err)
		}
		_, c := emuClaims(t, raw)
		return c
	}

	t.Run("ID token", func(t *testing.T) {
		code := e.code(t, emuAlice, url.Values{"nonce": {"n-0S6_WzA2Mj"}})
		tok := e.tokens(t, emuRedeemForm(code))
		c := idToken(t, tok)
		a := users[emuAlice]
		want := map[string]any{
			"aud": entratest.DemoClientID, "iss": e.srv.Issuer(entratest.DemoTenantID), "ver": "2.0",
			"oid": a.ObjectID, "tid": entratest.DemoTenantID, "nonce": "n-0S6_WzA2Mj",
			"preferred_username": emuAlice, "name": a.DisplayName,
			"iat": float64(now), "nbf": float64(now), "exp": float64(now + 3600),
		}
		for k, v := range want {
			if c[k] != v {
				t.Errorf("%s = %v, want %v", k, c[k], v)
			}
		}
		if sub, _ := c["sub"].(string); sub == "" || sub == a.ObjectID {
			t.Errorf("sub = %q, want a pairwise value", sub)
		}
		if fmt.Sprint(c["roles"]) != "[DemoApp.Admin]" {
			t.Errorf("roles = %v", c["roles"])
		}
		groups, _ := c["groups"].([]any)
		if len(groups) != len(a.Groups) || c["_claim_names"] != nil {
			t.Errorf("groups = %v, want alice's %d groups", c["groups"], len(a.Groups))
		}
		for _, k := range []string{"sid", "uti", "rh", "aio", "login_hint"} {
			if c[k] == nil {
				t.Errorf("no %s claim", k)
			}
		}
	})
	t.Run("no nonce unless sent", func(t *testing.T) {
		c := idToken(t, e.tokens(t, emuRedeemForm(e.code(t, emuBob, url.Values{"nonce": {""}}))))
		if _, ok := c["nonce"]; ok {
			t.Errorf("nonce %v without one in the request", c["nonce"])
		}
		// Nor after a refresh.
		tok := e.signInTokens(t, emuBob)
		c = idToken(t, e.tokens(t, emuRefreshForm(tok["refresh_token"].(string), emuScopes)))
		if _, ok := c["nonce"]; ok {
			t.Error("nonce in a refreshed ID token")
		}
	})
	t.Run("sub is pairwise", func(t *testing.T) {
		demo := idToken(t, e.signInTokens(t, emuCarol))
		b := e.srv.Browser()
		u := e.authURL("", url.Values{"client_id": {emuOtherID}, "scope": {"openid profile User.Read"}})
		cb := e.signIn(t, b, u, emuCarol)
		f := emuRedeemForm(cb.Params.Get("code"))
		f.Set("client_id", emuOtherID)
		f.Set("client_secret", emuOtherSecret)
		f.Set("scope", "openid profile User.Read")
		other := idToken(t, e.tokens(t, f))
		if demo["oid"] != other["oid"] || demo["sub"] == other["sub"] || other["aud"] != emuOtherID {
			t.Errorf("oid %v/%v sub %v/%v: want one oid, two subs", demo["oid"], other["oid"], demo["sub"], other["sub"])
		}
		if other["roles"] != nil {
			t.Errorf("roles of DemoApp in OtherApp's token: %v", other["roles"])
		}
	})
	t.Run("groups overage", func(t *testing.T) {
		c := idToken(t, e.signInTokens(t, emuErin))
		if _, ok := c["groups"]; ok {
			t.Fatal("erin's 250 groups are in the token")
		}
		names, _ := c["_claim_names"].(map[string]any)
		src, _ := names["groups"].(string)
		sources, _ := c["_claim_sources"].(map[string]any)
		ep, _ := sources[src].(map[string]any)
		endpoint, _ := ep["endpoint"].(string)
		if src == "" || !strings.Contains(endpoint, users[emuErin].ObjectID) || !strings.HasSuffix(endpoint, "/getMemberObjects") {
			t.Errorf("_claim_names %v _claim_sources %v", c["_claim_names"], c["_claim_sources"])
		}
	})
	t.Run("response fields", func(t *testing.T) {
		f := emuRedeemForm(e.code(t, emuAlice, nil))
		f.Set("client_info", "1")
		tok := e.tokens(t, f)
		if tok["token_type"] != "Bearer" || tok["scope"] != emuScopes {
			t.Errorf("token_type %v scope %v, want Bearer and %q", tok["token_type"], tok["scope"], emuScopes)
		}
		for _, k := range []string{"expires_in", "ext_expires_in"} {
			n, ok := tok[k].(json.Number)
			v, err := n.Int64()
			if !ok || err != nil || v < 3000 || v > 3600 {
				t.Errorf("%s = %v, want an integer near 3600", k, tok[k])
			}
		}
		ci, _ := tok["client_info"].(string)
		if strings.ContainsAny(ci, "=+/") {
			t.Errorf("client_info %q is not unpadded base64url", ci)
		}
		raw, err := base64.RawURLEncoding.DecodeString(ci)
		var info map[string]string
		if err != nil || json.Unmarshal(raw, &info) != nil || info["uid"] != users[emuAlice].ObjectID || info["utid"] != entratest.DemoTenantID {
			t.Errorf("client_info %q: %v %v", ci, info, err)
		}
		if tok2 := e.tokens(t, emuRedeemForm(e.code(t, emuAlice, nil))); tok2["client_info"] != nil {
			t.Error("client_info without client_info=1")
		}
	})

	rt := e.signInTokens(t, emuAlice)["refresh_token"].(string)
	at := func(t *testing.T, scope string) map[string]any {
		t.Helper()
		tok := e.tokens(t, emuRefreshForm(rt, scope))
		if tok["scope"] != scope {
			t.Errorf("scope = %v, want %q", tok["scope"], scope)
		}
		if err := emuVerify(tok["access_token"].(string), keys); err != nil {
			t.Fatal(err)
		}
		_, c := emuClaims(t, tok["access_token"].(string))
		return c
	}
	tests := []struct {
		name, scope string
		want        map[string]any
		roles       bool
	}{
		{"Graph", "openid profile offline_access User.Read", map[string]any{
			"aud": entratest.GraphAppID, "ver": "1.0", "iss": "https://sts.windows.net/" + entratest.DemoTenantID + "/",
			"appid": entratest.DemoClientID, "idtyp": "user", "upn": emuAlice,
		}, false},
		{"Graph, fully qualified", "https://graph.microsoft.com/User.Read", map[string]any{"aud": entratest.GraphAppID, "scp": "User.Read"}, false},
		{"own API", "api://" + entratest.DemoClientID + "/access_as_user", map[string]any{
			"aud": entratest.DemoClientID, "ver": "2.0", "iss": e.srv.Issuer(entratest.DemoTenantID),
			"azp": entratest.DemoClientID, "scp": "access_as_user", "preferred_username": emuAlice,
		}, true},
		{"API with v1 tokens", "api://v1api/read", map[string]any{
			"aud": "api://v1api", "ver": "1.0", "iss": "https://sts.windows.net/" + entratest.DemoTenantID + "/", "scp": "read",
		}, false},
	}
	for _, tc := range tests {
		t.Run("access token/"+tc.name, func(t *testing.T) {
			c := at(t, tc.scope)
			for k, v := range tc.want {
				if c[k] != v {
					t.Errorf("%s = %v, want %v", k, c[k], v)
				}
			}
			if c["oid"] != users[emuAlice].ObjectID || c["tid"] != entratest.DemoTenantID {
				t.Errorf("oid/tid = %v/%v", c["oid"], c["tid"])
			}
			if tc.name == "Graph" && !slices.Contains(strings.Fields(fmt.Sprint(c["scp"])), "User.Read") {
				t.Errorf("scp = %v, want User.Read", c["scp"])
			}
			roles, _ := c["roles"].([]any)
			if tc.roles != (len(roles) > 0) {
				t.Errorf("roles = %v", c["roles"])
			}
			if exp, _ := c["exp"].(float64); int64(exp) != clock.Now().Add(time.Hour).Unix() {
				t.Errorf("exp = %v, want an hour from now", c["exp"])
			}
		})
	}
}
