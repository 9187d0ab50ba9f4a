package oidc

import (
	"context"
	"crypto"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/entraweb/entraweb/entratest"
)

// Apps added to the emulator's default world for the API tests.
var (
	daemonID     = entratest.StableID("app:daemon")
	idleDaemonID = entratest.StableID("app:idle-daemon")
	otherAPIID   = entratest.StableID("app:other-api")
)

const daemonSecret = "emu~daemon-secret-for-tests"

// apiWorld is the default world plus a daemon granted DemoApp.Write on
// DemoApp's API, a daemon granted nothing, and another API that DemoApp
// may call on its users' behalf.
func apiWorld(v1 bool) *entratest.Config {
	cfg := entratest.Default()
	t := &cfg.Tenants[0]
	if v1 {
		t.Apps[0].AccessTokenVersion = 1
	}
	for i := range t.Apps[0].AppRoles {
		t.Apps[0].AppRoles[i].AllowedMemberTypes = []string{"User", "Application"}
	}
	t.Apps[0].ConsentedScopes = append(t.Apps[0].ConsentedScopes, "api://"+otherAPIID+"/read")
	t.Apps = append(t.Apps,
		entratest.App{ClientID: daemonID, DisplayName: "Daemon", Secrets: []entratest.Secret{{Value: daemonSecret}},
			ApplicationPermissions: []string{"api://" + entratest.DemoClientID + "/DemoApp.Write"}},
		entratest.App{ClientID: idleDaemonID, DisplayName: "IdleDaemon", Secrets: []entratest.Secret{{Value: daemonSecret}}},
		entratest.App{ClientID: otherAPIID, DisplayName: "OtherAPI", Scopes: []string{"read"}},
	)
	return cfg
}

// appToken asks the emulator for a client-credentials token.
func appToken(t testing.TB, srv *entratest.Server, clientID, secret, scope string) string {
	t.Helper()
	return tokenRequest(t, srv, entratest.DemoTenantID, url.Values{"grant_type": {"client_credentials"}, "client_id": {clientID},
		"client_secret": {secret}, "scope": {scope}})["access_token"]
}

func tokenRequest(t testing.TB, srv *entratest.Server, tenant string, form url.Values) map[string]string {
	t.Helper()
	resp, err := srv.Client().PostForm(srv.AuthorityFor(tenant)+"/oauth2/v2.0/token", form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	json.NewDecoder(resp.Body).Decode(&body)
	out := map[string]string{}
	for k, v := range body {
		if s, ok := v.(string); ok {
			out[k] = s
		}
	}
	if out["access_token"] == "" {
		t.Fatalf("no access token: %d %s", resp.StatusCode, out["error_description"])
	}
	return out
}

// userTokens signs user in at the emulator and redeems the code for
// scope; it returns the token response (access_token, id_token...).
func userTokens(t testing.TB, srv *entratest.Server, tenant, user, scope string) map[string]string {
	t.Helper()
	verifier := rand.Text() + rand.Text()
	sum := sha256.Sum256([]byte(verifier))
	redirect := "http://localhost:8080/auth/callback"
	q := url.Values{
		"client_id": {entratest.DemoClientID}, "response_type": {"code"}, "redirect_uri": {redirect},
		"scope": {scope}, "state": {"s"}, "nonce": {"n"},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"},
	}
	cb, err := srv.Browser().SignIn(context.Background(), srv.AuthorityFor(tenant)+"/oauth2/v2.0/authorize?"+q.Encode(), user, entratest.DemoPassword)
	if err != nil {
		t.Fatal(err)
	}
	return tokenRequest(t, srv, tenant, url.Values{
		"grant_type": {"authorization_code"}, "client_id": {entratest.DemoClientID}, "client_secret": {entratest.DemoClientSecret},
		"code": {cb.Params.Get("code")}, "redirect_uri": {redirect}, "code_verifier": {verifier}, "scope": {scope},
	})
}

const apiScope = "api://" + entratest.DemoClientID + "/access_as_user"

func newAccessVerifier(srv *entratest.Server, tenantSeg string, clock func() time.Time) *AccessVerifier {
	return &AccessVerifier{Verifier: newVerifier(srv, tenantSeg, clock), V1Issuer: "https://sts.windows.net/{tenantid}/"}
}

func wantRefusal(t *testing.T, err error, reason string) {
	t.Helper()
	var te *TokenError
	if !errors.As(err, &te) || !te.Access || !strings.Contains(te.Reason, reason) {
		t.Fatalf("err = %v, want an access TokenError about %q", err, reason)
	}
	if !strings.HasPrefix(te.Error(), "invalid access token: ") {
		t.Errorf("message %q", te.Error())
	}
}

func TestAccessTokenKinds(t *testing.T) {
	srv := entratest.NewServer(t, &entratest.Options{Config: apiWorld(false)})
	ctx := context.Background()
	alice := userTokens(t, srv, entratest.DemoTenantID, "alice@contoso.onmicrosoft.com", apiScope+" openid offline_access")
	tests := []struct {
		name   string
		token  string
		noPerm bool   // AllowNoPermissions
		reason string // empty: accepted
		check  func(*testing.T, *AccessClaims)
	}{
		{name: "delegated", token: alice["access_token"], check: func(t *testing.T, c *AccessClaims) {
			if c.IsApp() || c.Name != "Alice Admin" || len(c.Scopes) != 1 || c.Scopes[0] != "access_as_user" ||
				len(c.Roles) != 1 || c.Roles[0] != "DemoApp.Admin" || c.Client() != entratest.DemoClientID {
				t.Errorf("claims %+v", c)
			}
		}},
		{name: "application", token: appToken(t, srv, daemonID, daemonSecret, "api://"+entratest.DemoClientID+"/.default"), check: func(t *testing.T, c *AccessClaims) {
			if !c.IsApp() || len(c.Scopes) != 0 || len(c.Roles) != 1 || c.Roles[0] != "DemoApp.Write" || c.Client() != daemonID {
				t.Errorf("claims %+v", c)
			}
		}},
		{name: "graph-app-token", token: appToken(t, srv, entratest.DemoClientID, entratest.DemoClientSecret, "https://graph.microsoft.com/.default"), reason: "Microsoft Graph token"},
		{name: "graph-user-token", token: userTokens(t, srv, entratest.DemoTenantID, "bob@contoso.onmicrosoft.com", "User.Read openid")["access_token"], reason: "Microsoft Graph token"},
		{name: "other-audience", token: userTokens(t, srv, entratest.DemoTenantID, "bob@contoso.onmicrosoft.com", "api://"+otherAPIID+"/read")["access_token"], reason: "audience"},
		{name: "id-token", token: alice["id_token"], reason: "an ID token"},
		{name: "no-permissions", token: appToken(t, srv, idleDaemonID, daemonSecret, "api://"+entratest.DemoClientID+"/.default"), reason: "grants no permission"},
		{name: "no-permissions-own-acl", noPerm: true, token: appToken(t, srv, idleDaemonID, daemonSecret, "api://"+entratest.DemoClientID+"/.default"), check: func(t *testing.T, c *AccessClaims) {
			if !c.IsApp() || len(c.Roles) != 0 || c.Client() != idleDaemonID {
				t.Errorf("claims %+v", c)
			}
		}},
		{name: "empty", token: "", reason: "malformed"},
		{name: "garbage", token: "a.b.c", reason: "malformed"},
		{name: "huge", token: strings.Repeat("a", maxAccessTokenSize+1), reason: "larger than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := newAccessVerifier(srv, entratest.DemoTenantID, time.Now)
			v.AllowNoPermissions = tt.noPerm
			c, err := v.VerifyAccessToken(ctx, tt.token)
			if tt.reason != "" {
				wantRefusal(t, err, tt.reason)
				return
			}
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			tt.check(t, c)
		})
	}
}

func TestAccessTokenV1(t *testing.T) {
	srv := entratest.NewServer(t, &entratest.Options{Config: apiWorld(true)})
	ctx := context.Background()
	user := userTokens(t, srv, entratest.DemoTenantID, "carol@contoso.onmicrosoft.com", apiScope)["access_token"]
	app := appToken(t, srv, daemonID, daemonSecret, "api://"+entratest.DemoClientID+"/.default")
	tests := []struct {
		name      string
		token     string
		v1Issuer  string
		audiences []string
		reason    string
	}{
		{name: "user-api-audience", token: user, v1Issuer: "https://sts.windows.net/{tenantid}/"},
		{name: "app-api-audience", token: app, v1Issuer: "https://sts.windows.net/{tenantid}/"},
		{name: "v1-not-accepted", token: user, reason: "v1.0 tokens are not accepted"},
		{name: "guid-audience-only", token: user, v1Issuer: "https://sts.windows.net/{tenantid}/", audiences: []string{entratest.DemoClientID}, reason: "audience"},
		{name: "configured-audience", token: user, v1Issuer: "https://sts.windows.net/{tenantid}/", audiences: []string{"API://" + entratest.DemoClientID}},
		{name: "wrong-v1-issuer", token: user, v1Issuer: "https://sts.example/{tenantid}/", reason: "issuer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := newAccessVerifier(srv, entratest.DemoTenantID, time.Now)
			v.V1Issuer, v.Audiences = tt.v1Issuer, tt.audiences
			c, err := v.VerifyAccessToken(ctx, tt.token)
			if tt.reason != "" {
				wantRefusal(t, err, tt.reason)
				return
			}
			if err != nil || c.Version != "1.0" {
				t.Fatalf("refused: %v", err)
			}
		})
	}
}

func TestAccessTokenFaults(t *testing.T) {
	srv := entratest.NewServer(t, &entratest.Options{Config: apiWorld(false)})
	v := newAccessVerifier(srv, entratest.DemoTenantID, time.Now)
	tests := []struct {
		fault  entratest.TokenFault
		reason string // empty: accepted
	}{
		{entratest.FaultNone, ""},
		{entratest.FaultExpired, "expired"},
		{entratest.FaultNotYetValid, "not valid yet"},
		{entratest.FaultBadSignature, "bad signature"},
		{entratest.FaultUnsigned, "bad signature or algorithm"},
		{entratest.FaultHMAC, "bad signature or algorithm"},
		{entratest.FaultUnknownKID, "unknown signing key"},
		{entratest.FaultWrongAudience, "audience"},
		{entratest.FaultWrongIssuer, "issuer"},
		{entratest.FaultMissingOID, "missing oid"},
		{entratest.FaultMissingTID, "missing tid"},
		{entratest.FaultMissingSub, "missing sub"},
		{entratest.FaultMissingIAT, "missing iat"},
		// ID-token faults leave access tokens as they are.
		{entratest.FaultWrongNonce, ""},
		{entratest.FaultMissingSID, ""},
	}
	for _, tt := range tests {
		t.Run(tt.fault.String(), func(t *testing.T) {
			srv.FaultNextAccessTokens(tt.fault, 1)
			raw := appToken(t, srv, daemonID, daemonSecret, "api://"+entratest.DemoClientID+"/.default")
			_, err := v.VerifyAccessToken(context.Background(), raw)
			if tt.reason == "" {
				if err != nil {
					t.Fatalf("a good token was refused: %v", err)
				}
				return
			}
			wantRefusal(t, err, tt.reason)
		})
	}
}

// TestAccessTokenKeyIssuer: a key published for another tenant's issuer
// signs nothing for this one, even when the token's own iss is right.
func TestAccessTokenKeyIssuer(t *testing.T) {
	cfg := apiWorld(false)
	cfg.Tenants[0].Apps[0].MultiTenant = true
	srv := entratest.NewServer(t, &entratest.Options{Config: cfg})
	raw := appToken(t, srv, daemonID, daemonSecret, "api://"+entratest.DemoClientID+"/.default")
	v := newAccessVerifier(srv, "organizations", time.Now)
	if _, err := v.VerifyAccessToken(context.Background(), raw); err != nil {
		t.Fatalf("keys of the template issuer: %v", err)
	}
	v = newAccessVerifier(srv, "organizations", time.Now)
	v.Keys = NewKeySet(srv.AuthorityFor(entratest.OtherTenantID)+"/discovery/v2.0/keys", srv.Client(), time.Now, discardLog)
	_, err := v.VerifyAccessToken(context.Background(), raw)
	wantRefusal(t, err, "published for another issuer")
}

// TestAccessTokenUnknownKIDBudget: bearer tokens with invented key ids
// draw on the untrusted budget, so a flood of them costs the provider
// a few fetches at most.
func TestAccessTokenUnknownKIDBudget(t *testing.T) {
	srv := entratest.NewServer(t, &entratest.Options{Config: apiWorld(false)})
	v := newAccessVerifier(srv, entratest.DemoTenantID, time.Now)
	if err := v.Keys.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	base := srv.Calls(entratest.EndpointKeys)
	for range 10 {
		srv.FaultNextAccessTokens(entratest.FaultUnknownKID, 1)
		raw := appToken(t, srv, daemonID, daemonSecret, "api://"+entratest.DemoClientID+"/.default")
		_, err := v.VerifyAccessToken(context.Background(), raw)
		wantRefusal(t, err, "unknown signing key")
	}
	if got := srv.Calls(entratest.EndpointKeys) - base; got != 3 {
		t.Errorf("10 unknown kids caused %d JWKS fetches, want the budget of 3", got)
	}
}

func TestAccessTokenCache(t *testing.T) {
	srv := entratest.NewServer(t, &entratest.Options{Config: apiWorld(false)})
	clock := &testClock{t: time.Now()}
	v := newAccessVerifier(srv, entratest.DemoTenantID, clock.Now)
	v.EnableCache(2)
	built := 0
	v.Principal = func(*AccessClaims) any { built++; return built }
	ctx := context.Background()
	raw := appToken(t, srv, daemonID, daemonSecret, "api://"+entratest.DemoClientID+"/.default")
	c1, err := v.VerifyAccessToken(ctx, raw)
	if err != nil {
		t.Fatal(err)
	}
	c2, err := v.VerifyAccessToken(ctx, raw)
	if err != nil || c1 != c2 || built != 1 || c2.Principal != 1 {
		t.Fatalf("second use not served from the cache: same=%v built=%d err=%v", c1 == c2, built, err)
	}
	// A refused token is never cached; the count stays bounded.
	v.VerifyAccessToken(ctx, raw+"x")
	for range 3 {
		if _, err := v.VerifyAccessToken(ctx, appToken(t, srv, daemonID, daemonSecret, "api://"+entratest.DemoClientID+"/.default")); err != nil {
			t.Fatal(err)
		}
	}
	if n := v.CacheLen(); n != 2 {
		t.Errorf("cache holds %d tokens, bound is 2", n)
	}
	// Past its exp the token is checked again, and refused (the skew is
	// two minutes).
	clock.Add(time.Hour + 3*time.Minute)
	if _, err := v.VerifyAccessToken(ctx, raw); err == nil {
		t.Error("an expired token was served from the cache")
	}
}

// A token verified with a key that the provider has since retired is
// not served from the cache once the key set is fetched again (here,
// because a token of the new key arrived): it is verified again, and
// refused.
func TestAccessTokenCacheForgetsRetiredKeys(t *testing.T) {
	srv := entratest.NewServer(t, &entratest.Options{Config: apiWorld(false)})
	v := newAccessVerifier(srv, entratest.DemoTenantID, time.Now)
	v.EnableCache(16)
	ctx := context.Background()
	scope := "api://" + entratest.DemoClientID + "/.default"
	old := appToken(t, srv, daemonID, daemonSecret, scope)
	if _, err := v.VerifyAccessToken(ctx, old); err != nil {
		t.Fatal(err)
	}
	if err := srv.RotateKeys(); err != nil {
		t.Fatal(err)
	}
	srv.RetireOldKeys()
	// Until the keys are fetched again, nothing tells the app.
	if _, err := v.VerifyAccessToken(ctx, old); err != nil {
		t.Fatalf("before the keys are fetched again: %v", err)
	}
	fetches := srv.Calls(entratest.EndpointKeys)
	if _, err := v.VerifyAccessToken(ctx, appToken(t, srv, daemonID, daemonSecret, scope)); err != nil {
		t.Fatalf("a token of the new key: %v", err)
	}
	if srv.Calls(entratest.EndpointKeys) == fetches {
		t.Fatal("the new key did not make the set refetch")
	}
	if _, err := v.VerifyAccessToken(ctx, old); err == nil || !errors.Is(err, ErrUnknownKey) && !strings.Contains(err.Error(), "key") {
		t.Fatalf("a token of a retired key after the keys were fetched again: %v", err)
	}
}

// localIssuer is an identity provider of the test's own, whose key signs
// whatever a test needs: the shapes no real provider would issue.
type localIssuer struct {
	srv *httptest.Server
	key *rsa.PrivateKey
}

const localTenant = "11111111-2222-3333-4444-555555555555"

func newLocalIssuer(t testing.TB, keyIssuer string) *localIssuer {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	li := &localIssuer{key: key}
	li.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{"keys": []map[string]any{{
			"kty": "RSA", "use": "sig", "kid": "k1", "x5t": "t1", "issuer": keyIssuer,
			"n": base64.RawURLEncoding.EncodeToString(key.N.Bytes()),
			"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(key.E)).Bytes()),
		}}})
	}))
	t.Cleanup(li.srv.Close)
	return li
}

func (li *localIssuer) verifier(issuer string, clock func() time.Time) *AccessVerifier {
	return &AccessVerifier{Verifier: &Verifier{
		Keys:     NewKeySet(li.srv.URL, li.srv.Client(), clock, discardLog),
		ClientID: entratest.DemoClientID, Issuer: issuer, Skew: 2 * time.Minute, Now: clock,
	}, V1Issuer: "https://sts.windows.net/{tenantid}/"}
}

// claims are a good v2.0 delegated token's, for the local issuer.
func (li *localIssuer) claims(now time.Time) map[string]any {
	return map[string]any{
		"aud": entratest.DemoClientID, "iss": "https://login.example/" + localTenant + "/v2.0", "tid": localTenant,
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Hour).Unix(), "ver": "2.0",
		"oid": "o1", "sub": "s1", "azp": "c1", "scp": "access_as_user", "idtyp": "user",
	}
}

// sign makes a token of header and claims; alg RS256 signs with the
// key, HS256 with the public key's bytes (key confusion), none not at all.
func (li *localIssuer) sign(header, claims map[string]any) string {
	hb, _ := json.Marshal(header)
	cb, _ := json.Marshal(claims)
	signing := base64.RawURLEncoding.EncodeToString(hb) + "." + base64.RawURLEncoding.EncodeToString(cb)
	var sig []byte
	switch header["alg"] {
	case "RS256":
		sum := sha256.Sum256([]byte(signing))
		sig, _ = rsa.SignPKCS1v15(nil, li.key, crypto.SHA256, sum[:])
	case "HS256":
		der, _ := x509.MarshalPKIXPublicKey(&li.key.PublicKey)
		m := hmac.New(sha256.New, der)
		m.Write([]byte(signing))
		sig = m.Sum(nil)
	}
	return signing + "." + base64.RawURLEncoding.EncodeToString(sig)
}

func TestAccessTokenShapes(t *testing.T) {
	now := time.Now()
	rs := map[string]any{"alg": "RS256", "typ": "JWT", "kid": "k1"}
	with := func(m map[string]any, kv ...any) map[string]any {
		out := map[string]any{}
		for k, v := range m {
			out[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			if kv[i+1] == nil {
				delete(out, kv[i].(string))
			} else {
				out[kv[i].(string)] = kv[i+1]
			}
		}
		return out
	}
	li := newLocalIssuer(t, "https://login.example/{tenantid}/v2.0")
	good := li.claims(now)
	tests := []struct {
		name           string
		header, claims map[string]any
		issuer         string // default: the tenant's
		reason         string
	}{
		{name: "good", header: rs, claims: good},
		{name: "x5t-only", header: map[string]any{"alg": "RS256", "x5t": "t1"}, claims: good},
		{name: "no-key-id", header: map[string]any{"alg": "RS256"}, claims: good, reason: "names no signing key"},
		{name: "ps256", header: with(rs, "alg", "PS256"), claims: good, reason: "bad signature or algorithm"},
		{name: "no-exp", header: rs, claims: with(good, "exp", nil), reason: "missing exp"},
		{name: "two-audiences", header: rs, claims: with(good, "aud", []string{entratest.DemoClientID, "x"}), reason: "exactly one audience"},
		{name: "nonce-claim", header: rs, claims: with(good, "nonce", "n"), reason: "an ID token"},
		{name: "no-azp", header: rs, claims: with(good, "azp", nil), reason: "an ID token"},
		{name: "ver-3", header: rs, claims: with(good, "ver", "3.0"), reason: "token version"},
		{name: "graph-nonce-header", header: with(rs, "nonce", "abc"), claims: good, reason: "Microsoft Graph"},
		{name: "graph-resource-audience", header: rs, claims: with(good, "aud", "https://graph.microsoft.com"), reason: "Microsoft Graph"},
		{name: "template-tid-mismatch", header: rs, claims: with(good, "tid", "99999999-2222-3333-4444-555555555555"),
			issuer: "https://login.example/{tenantid}/v2.0", reason: "issuer"},
		{name: "template-ok", header: rs, claims: good, issuer: "https://login.example/{tenantid}/v2.0"},
		{name: "expired-within-skew", header: rs, claims: with(good, "exp", now.Add(-time.Minute).Unix())},
		{name: "expired-past-skew", header: rs, claims: with(good, "exp", now.Add(-3*time.Minute).Unix()), reason: "expired"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			iss := tt.issuer
			if iss == "" {
				iss = "https://login.example/" + localTenant + "/v2.0"
			}
			v := li.verifier(iss, time.Now)
			_, err := v.VerifyAccessToken(context.Background(), li.sign(tt.header, tt.claims))
			if tt.reason == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			wantRefusal(t, err, tt.reason)
		})
	}
	t.Run("key-issuer-differs", func(t *testing.T) {
		other := newLocalIssuer(t, "https://login.example/22222222-2222-3333-4444-555555555555/v2.0")
		v := other.verifier("https://login.example/"+localTenant+"/v2.0", time.Now)
		_, err := v.VerifyAccessToken(context.Background(), other.sign(rs, good))
		wantRefusal(t, err, "published for another issuer")
	})
	t.Run("v1-token-v2-key-issuer", func(t *testing.T) {
		v := li.verifier("https://login.example/{tenantid}/v2.0", time.Now)
		c := with(good, "ver", "1.0", "iss", "https://sts.windows.net/"+localTenant+"/", "aud", "api://"+entratest.DemoClientID, "azp", nil, "appid", "c1")
		if _, err := v.VerifyAccessToken(context.Background(), li.sign(rs, c)); err != nil {
			t.Fatalf("a v1.0 token signed by a key of the tenant's v2.0 issuer: %v", err)
		}
	})
	t.Run("allowed-tenants", func(t *testing.T) {
		v := li.verifier("https://login.example/{tenantid}/v2.0", time.Now)
		v.AllowedTenants = map[string]bool{"99999999-2222-3333-4444-555555555555": true}
		_, err := v.VerifyAccessToken(context.Background(), li.sign(rs, good))
		wantRefusal(t, err, "AllowedTenants")
	})
}

func ExampleKeyID() {
	fmt.Println(KeyID("k1", "t1"), KeyID("", "t1"), KeyID("", "") == "")
	// Output: k1 x5t:t1 true
}

// TestRefusalsClipClaims: a claim quoted in a refusal is clipped, so a
// sender cannot make the log line or the WWW-Authenticate header huge.
func TestRefusalsClipClaims(t *testing.T) {
	li := newLocalIssuer(t, "")
	v := li.verifier("https://login.example/"+localTenant+"/v2.0", time.Now)
	for _, claim := range []string{"iss", "aud", "ver"} {
		c := li.claims(time.Now())
		c[claim] = strings.Repeat("x", 8000)
		_, err := v.VerifyAccessToken(context.Background(), li.sign(map[string]any{"alg": "RS256", "kid": "k1"}, c))
		if err == nil {
			t.Fatalf("%s of 8000 bytes accepted", claim)
		}
		if n := len(err.Error()); n > 400 {
			t.Errorf("%s: a refusal of %d bytes: %.100v", claim, n, err)
		}
	}
}

func TestIsGraphAudience(t *testing.T) {
	for aud, want := range map[string]bool{
		GraphAppID: true, "https://graph.microsoft.com": true, "https://GRAPH.microsoft.com/": true,
		"https://microsoftgraph.chinacloudapi.cn": true, "https://graph.microsoft.us": true,
		entratest.DemoClientID: false, "api://" + GraphAppID: false, "https://graph.microsoft.com.evil": false,
	} {
		if got := isGraphAudience(aud); got != want {
			t.Errorf("isGraphAudience(%q) = %v", aud, got)
		}
	}
}

// TestAccessClaimsHelpers: IsApp falls back to the token's shape where
// idtyp is not configured; Client is azp or appid; capabilities compare
// case-insensitively.
func TestAccessClaimsHelpers(t *testing.T) {
	for _, tt := range []struct {
		c    AccessClaims
		app  bool
		cli  string
		cap1 bool
	}{
		{AccessClaims{IDType: "app", AZP: "a"}, true, "a", false},
		{AccessClaims{IDType: "user", AppID: "b", ClientCapabilities: []string{"CP1"}}, false, "b", true},
		{AccessClaims{ObjectID: "o", Roles: []string{"R"}}, true, "", false}, // no idtyp, no scp, sub == oid
		{AccessClaims{ObjectID: "o", Scope: "s"}, false, "", false},
	} {
		if tt.c.Subject == "" && tt.c.ObjectID == "o" && tt.c.Scope == "" {
			tt.c.Subject = "o"
		}
		if tt.c.IsApp() != tt.app || tt.c.Client() != tt.cli || tt.c.HasCapability("cp1") != tt.cap1 {
			t.Errorf("%+v: IsApp %v Client %q cp1 %v", tt.c, tt.c.IsApp(), tt.c.Client(), tt.c.HasCapability("cp1"))
		}
	}
}
