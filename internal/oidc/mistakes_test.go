package oidc

import (
	"context"
	"testing"
	"time"

	"github.com/entraweb/entraweb/entratest"
)

// The validation mistakes most reported against JWT and Entra ID
// libraries, one test each. Tokens come from the emulator where it can
// mint them, else from the test's own issuer (localIssuer).

func mistakeEmulator(t *testing.T, v1 bool) (*entratest.Server, *AccessVerifier) {
	t.Helper()
	srv := entratest.NewServer(t, &entratest.Options{Config: apiWorld(v1)})
	return srv, newAccessVerifier(srv, entratest.DemoTenantID, time.Now)
}

var rs256 = map[string]any{"alg": "RS256", "typ": "JWT", "kid": "k1"}

func TestMistakeAlgNone(t *testing.T) {
	srv, v := mistakeEmulator(t, false)
	srv.FaultNextAccessTokens(entratest.FaultUnsigned, 1)
	_, err := v.VerifyAccessToken(context.Background(), daemonAPIToken(t, srv))
	wantRefusal(t, err, "only RS256")
}

func TestMistakeHS256KeyConfusion(t *testing.T) {
	srv, v := mistakeEmulator(t, false)
	srv.FaultNextAccessTokens(entratest.FaultHMAC, 1)
	_, err := v.VerifyAccessToken(context.Background(), daemonAPIToken(t, srv))
	wantRefusal(t, err, "only RS256")
	// The same with the local issuer, whose public key is known here.
	li := newLocalIssuer(t, "")
	_, err = li.verifier("https://login.example/"+localTenant+"/v2.0", time.Now).VerifyAccessToken(context.Background(),
		li.sign(map[string]any{"alg": "HS256", "kid": "k1"}, li.claims(time.Now())))
	wantRefusal(t, err, "only RS256")
}

func TestMistakeMissingExp(t *testing.T) {
	li := newLocalIssuer(t, "")
	c := li.claims(time.Now())
	delete(c, "exp")
	_, err := li.verifier("https://login.example/"+localTenant+"/v2.0", time.Now).VerifyAccessToken(context.Background(), li.sign(rs256, c))
	wantRefusal(t, err, "missing exp")
}

func TestMistakeWrongTenantInMultiTenant(t *testing.T) {
	li := newLocalIssuer(t, "https://login.example/{tenantid}/v2.0")
	v := li.verifier("https://login.example/{tenantid}/v2.0", time.Now)
	v.AllowedTenants = map[string]bool{"22222222-2222-3333-4444-555555555555": true}
	_, err := v.VerifyAccessToken(context.Background(), li.sign(rs256, li.claims(time.Now())))
	wantRefusal(t, err, "not in AllowedTenants")
}

func TestMistakeV1AudienceAPIvsGUID(t *testing.T) {
	// The emulator's v1.0 token is for api://<client id>: accepted.
	srv, v := mistakeEmulator(t, true)
	if _, err := v.VerifyAccessToken(context.Background(), daemonAPIToken(t, srv)); err != nil {
		t.Fatalf("v1.0 token for api://<client id>: %v", err)
	}
	// A v1.0 token for the bare GUID and a v2.0 token for api://... are
	// each the other version's audience: refused by default.
	li := newLocalIssuer(t, "")
	lv := li.verifier("https://login.example/"+localTenant+"/v2.0", time.Now)
	lv.V1Issuer = V1Issuer(lv.Issuer)
	v1 := li.claims(time.Now())
	v1["ver"], v1["iss"], v1["aud"] = "1.0", "https://sts.windows.net/"+localTenant+"/", entratest.DemoClientID
	_, err := lv.VerifyAccessToken(context.Background(), li.sign(rs256, v1))
	wantRefusal(t, err, "a v1.0 token must be for api://")
	v2 := li.claims(time.Now())
	v2["aud"] = "api://" + entratest.DemoClientID
	_, err = lv.VerifyAccessToken(context.Background(), li.sign(rs256, v2))
	wantRefusal(t, err, "a v2.0 token must be for "+entratest.DemoClientID)
}

func TestMistakeIDTokenAsAccessToken(t *testing.T) {
	srv, v := mistakeEmulator(t, false)
	// Alice's ID token has DemoApp's client id as aud and carries roles:
	// only its shape tells it from an access token.
	idt := userTokens(t, srv, entratest.DemoTenantID, "alice@contoso.onmicrosoft.com", "openid profile")["id_token"]
	_, err := v.VerifyAccessToken(context.Background(), idt)
	wantRefusal(t, err, "an ID token, not an access token")
}

func TestMistakeGraphTokenAccepted(t *testing.T) {
	srv, v := mistakeEmulator(t, false)
	_, err := v.VerifyAccessToken(context.Background(), appToken(t, srv, daemonID, daemonSecret, "https://graph.microsoft.com/.default"))
	wantRefusal(t, err, "Microsoft Graph token")
	// Without the nonce header, the audience alone gives it away.
	li := newLocalIssuer(t, "")
	c := li.claims(time.Now())
	c["aud"] = GraphAppID
	_, err = li.verifier("https://login.example/"+localTenant+"/v2.0", time.Now).VerifyAccessToken(context.Background(), li.sign(rs256, c))
	wantRefusal(t, err, "not for this API")
}

func TestMistakeExpiredWithinSkew(t *testing.T) {
	li := newLocalIssuer(t, "")
	v := li.verifier("https://login.example/"+localTenant+"/v2.0", time.Now)
	for _, tt := range []struct {
		ago    time.Duration
		reason string
	}{
		{time.Minute, ""},            // within the two minutes of skew
		{3 * time.Minute, "expired"}, // past it
	} {
		c := li.claims(time.Now())
		c["exp"] = time.Now().Add(-tt.ago).Unix()
		_, err := v.VerifyAccessToken(context.Background(), li.sign(rs256, c))
		if tt.reason == "" {
			if err != nil {
				t.Errorf("expired %v ago, within the skew: %v", tt.ago, err)
			}
			continue
		}
		wantRefusal(t, err, tt.reason)
	}
}

func TestMistakeUnknownKID(t *testing.T) {
	srv, v := mistakeEmulator(t, false)
	srv.FaultNextAccessTokens(entratest.FaultUnknownKID, 1)
	_, err := v.VerifyAccessToken(context.Background(), daemonAPIToken(t, srv))
	wantRefusal(t, err, "unknown signing key")
}

func TestMistakeIssuerTemplateWithoutTIDCheck(t *testing.T) {
	li := newLocalIssuer(t, "https://login.example/{tenantid}/v2.0")
	other := "99999999-2222-3333-4444-555555555555"
	// Multi-tenant: a token whose iss names one tenant and tid another.
	v := li.verifier("https://login.example/{tenantid}/v2.0", time.Now)
	c := li.claims(time.Now())
	c["tid"] = other
	_, err := v.VerifyAccessToken(context.Background(), li.sign(rs256, c))
	wantRefusal(t, err, "issuer")
	// Single-tenant: the v1.0 issuer is pinned to the tenant, never a
	// template that any tenant's token would fill.
	v = li.verifier("https://login.example/"+localTenant+"/v2.0", time.Now)
	v.V1Issuer = V1Issuer(v.Issuer)
	c = li.claims(time.Now())
	c["ver"], c["aud"], c["tid"], c["iss"] = "1.0", "api://"+entratest.DemoClientID, other, "https://sts.windows.net/"+other+"/"
	_, err = v.VerifyAccessToken(context.Background(), li.sign(rs256, c))
	wantRefusal(t, err, "issuer")
}

func TestV1Issuer(t *testing.T) {
	for in, want := range map[string]string{
		"https://login.microsoftonline.com/" + localTenant + "/v2.0": "https://sts.windows.net/" + localTenant + "/",
		"https://login.microsoftonline.com/{tenantid}/v2.0":          "https://sts.windows.net/{tenantid}/",
		"https://login.microsoftonline.us/" + localTenant + "/v2.0":  "https://login.microsoftonline.us/" + localTenant + "/",
		"https://login.chinacloudapi.cn/" + localTenant + "/v2.0":    "https://sts.chinacloudapi.cn/" + localTenant + "/",
		"https://127.0.0.1:8443/" + localTenant + "/v2.0":            "https://sts.windows.net/" + localTenant + "/",
		"https://login.microsoftonline.com/":                         "",
		"::":                                                         "",
	} {
		if got := V1Issuer(in); got != want {
			t.Errorf("V1Issuer(%q) = %q, want %q", in, got, want)
		}
	}
}
