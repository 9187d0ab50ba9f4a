package entratest_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/confidential"
	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/managedidentity"

	"github.com/entraweb/entraweb/entratest"
)

const (
	wlIssuer  = "https://oidc.cluster.example"
	wlSubject = "system:serviceaccount:payments:api"
)

// wlKey makes the signing key of an external issuer (a Kubernetes
// cluster's service account issuer) and its public key in PEM.
func wlKey(t testing.TB) (*rsa.PrivateKey, string) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return key, string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

// wlServiceAccountToken is shaped as a projected Kubernetes service account
// token for workload identity; kv overrides claims (nil removes one).
func wlServiceAccountToken(t testing.TB, key *rsa.PrivateKey, alg string, now time.Time, kv ...any) string {
	t.Helper()
	c := map[string]any{
		"aud": []string{"api://AzureADTokenExchange"},
		"iss": wlIssuer,
		"sub": wlSubject,
		"iat": now.Unix(),
		"nbf": now.Unix(),
		"exp": now.Add(time.Hour).Unix(),
		"kubernetes.io": map[string]any{
			"namespace":      "payments",
			"serviceaccount": map[string]any{"name": "api", "uid": entratest.StableID("sa:payments/api")},
		},
	}
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(c, kv[i].(string))
		} else {
			c[kv[i].(string)] = kv[i+1]
		}
	}
	return emuSignJWT(t, map[string]any{"alg": alg, "kid": "cluster-key-1"}, c, key, nil)
}

func wlAssertionForm(assertion string) url.Values {
	return url.Values{
		"grant_type":            {"client_credentials"},
		"client_id":             {entratest.DemoClientID},
		"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
		"client_assertion":      {assertion},
		"scope":                 {"https://graph.microsoft.com/.default"},
	}
}

func TestFederatedCredentialMSALGo(t *testing.T) {
	key, pubPEM := wlKey(t)
	cfg := entratest.Default()
	cfg.Tenants[0].Apps[0].FederatedCredentials = []entratest.FederatedCredential{{
		Name: "payments-api", Issuer: wlIssuer, Subject: wlSubject, PublicKeyPEM: pubPEM,
	}}
	srv := entratest.NewServer(t, &entratest.Options{Config: cfg})
	if got := srv.Config().Tenants[0].Apps[0].FederatedCredentials[0].Audiences; !slices.Equal(got, []string{entratest.TokenExchangeAudience}) {
		t.Errorf("default audiences = %v", got)
	}

	// As in a pod: the token sits in a file (AZURE_FEDERATED_TOKEN_FILE)
	// that the kubelet refreshes; the callback reads it on every call.
	file := filepath.Join(t.TempDir(), "azure-identity-token")
	if err := os.WriteFile(file, []byte(wlServiceAccountToken(t, key, "RS256", time.Now())), 0o600); err != nil {
		t.Fatal(err)
	}
	calls := 0
	cred := confidential.NewCredFromAssertionCallback(func(context.Context, confidential.AssertionRequestOptions) (string, error) {
		calls++
		b, err := os.ReadFile(file)
		return string(b), err
	})
	app := msalClient(t, srv, cred)
	res, err := app.AcquireTokenByCredential(context.Background(), []string{"https://graph.microsoft.com/.default"})
	if err != nil {
		t.Fatalf("client credentials with a federated assertion: %v", err)
	}
	if calls != 1 {
		t.Errorf("assertion callback called %d times", calls)
	}
	c := claimsOf(t, res.AccessToken)
	if c["appid"] != entratest.DemoClientID || c["appidacr"] != "2" || c["idtyp"] != "app" {
		t.Errorf("access token claims %v, want appid DemoApp and appidacr 2", c)
	}
	if roles, _ := c["roles"].([]any); !slices.Contains(roles, any("User.Read.All")) {
		t.Errorf("roles = %v", c["roles"])
	}
}

func TestFederatedCredentialRefusals(t *testing.T) {
	clock := newEmuClock()
	key, pubPEM := wlKey(t)
	otherKey, _ := wlKey(t)
	cfg := entratest.Default()
	cfg.Tenants[0].Apps[0].FederatedCredentials = []entratest.FederatedCredential{
		{Issuer: wlIssuer, Subject: wlSubject, PublicKeyPEM: pubPEM},
		// A second workload of the same cluster, with its own audience.
		{Issuer: wlIssuer, Subject: "system:serviceaccount:payments:worker", Audiences: []string{"api://payments-worker"}, PublicKeyPEM: pubPEM},
	}
	e := newEmu(t, &entratest.Options{Config: cfg, Now: clock.Now})
	now := clock.Now()
	tests := []struct {
		name   string
		tok    string
		status int
		err    string
		code   int // 0: accepted
	}{
		{"aud as an array", wlServiceAccountToken(t, key, "RS256", now), 200, "", 0},
		{"aud as a string", wlServiceAccountToken(t, key, "RS256", now, "aud", "api://AzureADTokenExchange"), 200, "", 0},
		{"PS256", wlServiceAccountToken(t, key, "PS256", now), 200, "", 0},
		{"aud among several", wlServiceAccountToken(t, key, "RS256", now, "aud", []string{"https://kubernetes.default.svc", "api://AzureADTokenExchange"}), 200, "", 0},
		{"second credential", wlServiceAccountToken(t, key, "RS256", now, "sub", "system:serviceaccount:payments:worker", "aud", "api://payments-worker"), 200, "", 0},
		{"within the skew", wlServiceAccountToken(t, key, "RS256", now, "exp", now.Add(-time.Minute).Unix()), 200, "", 0},
		{"wrong sub", wlServiceAccountToken(t, key, "RS256", now, "sub", "system:serviceaccount:payments:other"), 400, "invalid_request", 70021},
		{"sub differs in case", wlServiceAccountToken(t, key, "RS256", now, "sub", strings.ToUpper(wlSubject)), 400, "invalid_request", 70021},
		{"wrong aud", wlServiceAccountToken(t, key, "RS256", now, "aud", []string{"https://kubernetes.default.svc"}), 400, "invalid_request", 70021},
		{"aud of the other credential", wlServiceAccountToken(t, key, "RS256", now, "aud", "api://payments-worker"), 400, "invalid_request", 70021},
		{"no aud", wlServiceAccountToken(t, key, "RS256", now, "aud", nil), 400, "invalid_request", 70021},
		{"expired", wlServiceAccountToken(t, key, "RS256", now, "exp", now.Add(-10*time.Minute).Unix()), 401, "invalid_client", 700024},
		{"no exp", wlServiceAccountToken(t, key, "RS256", now, "exp", nil), 401, "invalid_client", 700024},
		{"not valid yet", wlServiceAccountToken(t, key, "RS256", now, "nbf", now.Add(10*time.Minute).Unix()), 401, "invalid_client", 700024},
		{"wrong key", wlServiceAccountToken(t, otherKey, "RS256", now), 401, "invalid_client", 700027},
		{"alg none", wlServiceAccountToken(t, nil, "none", now), 401, "invalid_client", 700027},
		// An issuer the app does not trust is no federated assertion: it is
		// judged as a certificate assertion, and no certificate signed it.
		{"untrusted issuer", wlServiceAccountToken(t, key, "RS256", now, "iss", "https://oidc.other.example"), 401, "invalid_client", 700027},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st, body := e.post(t, "", wlAssertionForm(tc.tok), nil)
			if tc.code != 0 {
				emuWantErr(t, st, body, tc.status, tc.err, tc.code)
				return
			}
			if st != 200 {
				t.Fatalf("HTTP %d %v", st, body)
			}
			if _, c := emuClaims(t, body["access_token"].(string)); c["appidacr"] != "2" {
				t.Errorf("appidacr = %v, want 2", c["appidacr"])
			}
		})
	}
	t.Run("the record is named in the error", func(t *testing.T) {
		_, body := e.post(t, "", wlAssertionForm(wlServiceAccountToken(t, key, "RS256", now, "sub", "system:serviceaccount:x:y")), nil)
		if d, _ := body["error_description"].(string); !strings.Contains(d, "Assertion Subject: 'system:serviceaccount:x:y'") || !strings.Contains(d, "Assertion Issuer: '"+wlIssuer+"'") {
			t.Errorf("error_description = %q", d)
		}
	})
	t.Run("expires with the clock", func(t *testing.T) {
		tok := wlServiceAccountToken(t, key, "RS256", clock.Now(), "exp", clock.Now().Add(10*time.Minute).Unix())
		if st, body := e.post(t, "", wlAssertionForm(tok), nil); st != 200 {
			t.Fatalf("HTTP %d %v", st, body)
		}
		clock.Add(16 * time.Minute)
		st, body := e.post(t, "", wlAssertionForm(tok), nil)
		emuWantErr(t, st, body, 401, "invalid_client", 700024)
	})
}

func TestFederatedCredentialConfig(t *testing.T) {
	_, pubPEM := wlKey(t)
	_, _, certPEM := emuCert(t)
	with := func(fc entratest.FederatedCredential) error {
		cfg := entratest.Default()
		cfg.Tenants[0].Apps[0].FederatedCredentials = []entratest.FederatedCredential{fc}
		b, _ := json.Marshal(cfg)
		_, err := entratest.ParseConfig(b)
		return err
	}
	for _, fc := range []entratest.FederatedCredential{
		{Issuer: wlIssuer, Subject: wlSubject, PublicKeyPEM: pubPEM},
		{Issuer: wlIssuer, Subject: wlSubject, PublicKeyPEM: certPEM},
		// The emulator's own issuer needs no key, whatever the port.
		{Issuer: "https://127.0.0.1:8443/" + entratest.DemoTenantID + "/v2.0", Subject: entratest.StableID("mi")},
	} {
		if err := with(fc); err != nil {
			t.Errorf("%+v: %v", fc, err)
		}
	}
	for name, fc := range map[string]entratest.FederatedCredential{
		"no key":          {Issuer: wlIssuer, Subject: wlSubject},
		"bad key":         {Issuer: wlIssuer, Subject: wlSubject, PublicKeyPEM: "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"},
		"not https":       {Issuer: "http://oidc.cluster.example", Subject: wlSubject, PublicKeyPEM: pubPEM},
		"no subject":      {Issuer: wlIssuer, PublicKeyPEM: pubPEM},
		"unknown tenant":  {Issuer: "https://127.0.0.1:8443/" + entratest.StableID("t") + "/v2.0", Subject: "x"},
		"empty audience":  {Issuer: wlIssuer, Subject: wlSubject, Audiences: []string{""}, PublicKeyPEM: pubPEM},
		"private key PEM": {Issuer: wlIssuer, Subject: wlSubject, PublicKeyPEM: "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"},
	} {
		if err := with(fc); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	cfg := entratest.Default()
	cfg.Tenants[0].Apps[0].FederatedCredentials = []entratest.FederatedCredential{
		{Issuer: wlIssuer, Subject: wlSubject, PublicKeyPEM: pubPEM}, {Issuer: wlIssuer, Subject: wlSubject, PublicKeyPEM: pubPEM},
	}
	b, _ := json.Marshal(cfg)
	if _, err := entratest.ParseConfig(b); err == nil {
		t.Error("two credentials with the same issuer and subject accepted")
	}
}

// wlMI calls the managed identity endpoint as App Service's clients do.
func (e *emu) wlMI(t testing.TB, q url.Values, header string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.srv.ManagedIdentityURL()+"?"+q.Encode(), nil)
	if header != "" {
		req.Header.Set("X-IDENTITY-HEADER", header)
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	return resp.StatusCode, emuDecode(t, resp)
}

func TestManagedIdentityEndpoint(t *testing.T) {
	clock := newEmuClock()
	cfg := entratest.Default()
	cfg.Tenants[0].ManagedIdentities = append(cfg.Tenants[0].ManagedIdentities, entratest.ManagedIdentity{
		Name: "payments-uami", ApplicationPermissions: []string{entratest.GraphResource + "/User.Read.All"},
	})
	e := newEmu(t, &entratest.Options{Config: cfg, Now: clock.Now})
	sys, tid, ok := e.srv.SystemAssignedIdentity()
	if !ok || tid != entratest.DemoTenantID || !entratest.IsGUID(sys.ClientID) || !entratest.IsGUID(sys.ObjectID) || sys.Name != "entratest-host" {
		t.Fatalf("system-assigned identity %+v in %q (%v)", sys, tid, ok)
	}
	if again, _, _ := entratest.NewServer(t, nil).SystemAssignedIdentity(); again.ObjectID != sys.ObjectID || again.ClientID != sys.ClientID {
		t.Errorf("the default identity's ids are not stable: %+v vs %+v", again, sys)
	}
	uami := e.srv.Config().Tenants[0].ManagedIdentities[1]
	if !strings.HasPrefix(uami.ResourceID, "/subscriptions/") || !strings.HasSuffix(uami.ResourceID, "/providers/Microsoft.ManagedIdentity/userAssignedIdentities/payments-uami") {
		t.Errorf("derived resource id %q", uami.ResourceID)
	}
	hdr := e.srv.IdentityHeader()
	q := func(kv ...string) url.Values {
		v := url.Values{"api-version": {"2019-08-01"}, "resource": {entratest.TokenExchangeAudience}}
		for i := 0; i < len(kv); i += 2 {
			if kv[i+1] == "" {
				v.Del(kv[i])
			} else {
				v.Set(kv[i], kv[i+1])
			}
		}
		return v
	}
	keys := e.jwks(t)

	t.Run("token exchange token", func(t *testing.T) {
		st, body := e.wlMI(t, q(), hdr)
		if st != 200 {
			t.Fatalf("HTTP %d %v", st, body)
		}
		want := clock.Now().Add(24 * time.Hour).Unix()
		if body["expires_on"] != strconv.FormatInt(want, 10) {
			t.Errorf("expires_on = %#v, want the string %d", body["expires_on"], want)
		}
		if body["resource"] != entratest.TokenExchangeAudience || body["token_type"] != "Bearer" || body["client_id"] != sys.ClientID {
			t.Errorf("response %v", body)
		}
		tok := body["access_token"].(string)
		if err := emuVerify(tok, keys); err != nil {
			t.Errorf("not signed by the emulator: %v", err)
		}
		_, c := emuClaims(t, tok)
		if c["iss"] != e.srv.Issuer(entratest.DemoTenantID) || c["sub"] != sys.ObjectID || c["oid"] != sys.ObjectID ||
			c["aud"] != entratest.TokenExchangeAudience || c["tid"] != entratest.DemoTenantID || c["azp"] != sys.ClientID {
			t.Errorf("claims %v", c)
		}
	})
	t.Run("user-assigned by each selector", func(t *testing.T) {
		for _, sel := range [][2]string{{"client_id", uami.ClientID}, {"object_id", uami.ObjectID}, {"principal_id", uami.ObjectID}, {"mi_res_id", uami.ResourceID}} {
			st, body := e.wlMI(t, q(sel[0], sel[1]), hdr)
			if st != 200 {
				t.Fatalf("%s: HTTP %d %v", sel[0], st, body)
			}
			if _, c := emuClaims(t, body["access_token"].(string)); c["sub"] != uami.ObjectID || body["client_id"] != uami.ClientID {
				t.Errorf("%s: sub %v client_id %v", sel[0], c["sub"], body["client_id"])
			}
		}
	})
	t.Run("Graph token", func(t *testing.T) {
		st, body := e.wlMI(t, q("resource", "https://graph.microsoft.com/", "client_id", uami.ClientID), hdr)
		if st != 200 {
			t.Fatalf("HTTP %d %v", st, body)
		}
		_, c := emuClaims(t, body["access_token"].(string))
		if c["aud"] != entratest.GraphAppID || c["appid"] != uami.ClientID || c["oid"] != uami.ObjectID || c["idtyp"] != "app" ||
			c["appidacr"] != "2" || c["xms_mirid"] != uami.ResourceID || c["iss"] != "https://sts.windows.net/"+entratest.DemoTenantID+"/" {
			t.Errorf("claims %v", c)
		}
		if roles, _ := c["roles"].([]any); !slices.Equal(roles, []any{"User.Read.All"}) {
			t.Errorf("roles = %v", c["roles"])
		}
		// Graph takes it.
		req, _ := http.NewRequest(http.MethodPost, e.srv.GraphURL()+"/v1.0/users/"+userByName(t, e.srv, emuAlice).ObjectID+"/getMemberObjects", strings.NewReader(`{"securityEnabledOnly":true}`))
		req.Header.Set("Authorization", "Bearer "+body["access_token"].(string))
		resp, err := e.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("Graph: HTTP %d", resp.StatusCode)
		}
	})
	for _, tc := range []struct {
		name   string
		q      url.Values
		hdr    string
		status int
	}{
		{"no header", q(), "", 401},
		{"wrong header", q(), "not-the-secret", 401},
		{"no resource", q("resource", ""), hdr, 400},
		{"unknown resource", q("resource", "https://vault.azure.net"), hdr, 400},
		{"old api-version", q("api-version", "2017-09-01"), hdr, 400},
		{"unknown client_id", q("client_id", entratest.StableID("nobody")), hdr, 400},
		{"an app is no managed identity", q("client_id", entratest.DemoClientID), hdr, 400},
		{"two selectors", q("client_id", uami.ClientID, "object_id", uami.ObjectID), hdr, 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, body := e.wlMI(t, tc.q, tc.hdr)
			if st != tc.status || body["access_token"] != nil {
				t.Errorf("HTTP %d %v, want %d", st, body, tc.status)
			}
			if m, _ := body["message"].(string); m == "" {
				t.Errorf("no message: %v", body)
			}
		})
	}
	if n := e.srv.Calls(entratest.EndpointManagedIdentity); n == 0 {
		t.Error("managed identity calls are not counted")
	}
}

// TestManagedIdentityAsFederatedCredential runs MSAL Go's managed identity
// client (App Service source) against the emulator and feeds its token to
// a confidential client as the assertion of a federated credential.
func TestManagedIdentityAsFederatedCredential(t *testing.T) {
	srv := entratest.NewServer(t, nil)
	sys, tid, ok := srv.SystemAssignedIdentity()
	if !ok {
		t.Fatal("no system-assigned identity in Default()")
	}
	// The issuer names the server's URL, known only once it runs.
	if err := srv.Update(func(c *entratest.Config) {
		c.Tenants[0].Apps[0].FederatedCredentials = []entratest.FederatedCredential{{Name: "host", Issuer: srv.Issuer(tid), Subject: sys.ObjectID}}
	}); err != nil {
		t.Fatal(err)
	}
	t.Setenv("IDENTITY_ENDPOINT", srv.ManagedIdentityURL())
	t.Setenv("IDENTITY_HEADER", srv.IdentityHeader())
	if src, err := managedidentity.GetSource(); err != nil || src != managedidentity.AppService {
		t.Fatalf("MSAL detects %q (%v), want AppService", src, err)
	}
	mi, err := managedidentity.New(managedidentity.SystemAssigned(), managedidentity.WithHTTPClient(srv.Client()))
	if err != nil {
		t.Fatal(err)
	}
	var miToken string
	cred := confidential.NewCredFromAssertionCallback(func(ctx context.Context, _ confidential.AssertionRequestOptions) (string, error) {
		// MSAL's managed identity cache is process-wide and keyed by the
		// identity, not the endpoint: a token of another emulator (an
		// earlier test, or -count=2) could come back. Claims make MSAL skip
		// that cache; App Service's protocol does not send them.
		r, err := mi.AcquireToken(ctx, entratest.TokenExchangeAudience, managedidentity.WithClaims(`{"access_token":{"xms_cc":{"values":["CP1"]}}}`))
		miToken = r.AccessToken
		return r.AccessToken, err
	})
	app := msalClient(t, srv, cred)
	res, err := app.AcquireTokenByCredential(context.Background(), []string{"https://graph.microsoft.com/.default"})
	if err != nil {
		t.Fatalf("client credentials with the managed identity's token: %v", err)
	}
	if c := claimsOf(t, miToken); c["iss"] != srv.Issuer(tid) || c["sub"] != sys.ObjectID || c["aud"] != entratest.TokenExchangeAudience {
		t.Errorf("managed identity token claims %v", c)
	}
	if c := claimsOf(t, res.AccessToken); c["appid"] != entratest.DemoClientID || c["appidacr"] != "2" {
		t.Errorf("app token claims %v", c)
	}
	if srv.Calls(entratest.EndpointManagedIdentity) != 1 {
		t.Errorf("managed identity endpoint calls = %d, want 1", srv.Calls(entratest.EndpointManagedIdentity))
	}

	// A user-assigned identity of no federated credential is refused.
	if err := srv.Update(func(c *entratest.Config) {
		c.Tenants[0].ManagedIdentities = append(c.Tenants[0].ManagedIdentities, entratest.ManagedIdentity{Name: "stranger-" + strings.ToLower(rand.Text())})
	}); err != nil {
		t.Fatal(err)
	}
	stranger := srv.Config().Tenants[0].ManagedIdentities[1]
	mi2, err := managedidentity.New(managedidentity.UserAssignedClientID(stranger.ClientID), managedidentity.WithHTTPClient(srv.Client()))
	if err != nil {
		t.Fatal(err)
	}
	r2, err := mi2.AcquireToken(context.Background(), entratest.TokenExchangeAudience)
	if err != nil {
		t.Fatalf("user-assigned identity: %v", err)
	}
	if c := claimsOf(t, r2.AccessToken); c["sub"] != stranger.ObjectID {
		t.Errorf("user-assigned token sub = %v, want %s", c["sub"], stranger.ObjectID)
	}
	e := &emu{srv: srv}
	st, body := e.post(t, "", wlAssertionForm(r2.AccessToken), nil)
	emuWantErr(t, st, body, 400, "invalid_request", 70021)

	// After a key rotation the old key is still published, and verifies;
	// once retired, tokens it signed no longer do.
	if err := srv.RotateKeys(); err != nil {
		t.Fatal(err)
	}
	if st, body := e.post(t, "", wlAssertionForm(miToken), nil); st != 200 {
		t.Errorf("after RotateKeys: HTTP %d %v", st, body)
	}
	srv.RetireOldKeys()
	st, body = e.post(t, "", wlAssertionForm(miToken), nil)
	emuWantErr(t, st, body, 401, "invalid_client", 700027)
}
