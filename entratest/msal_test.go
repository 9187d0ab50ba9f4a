package entratest_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/confidential"

	"github.com/entraweb/entraweb/entratest"
)

// These tests prove the emulator with a client nobody here wrote: MSAL Go,
// Microsoft's library, unchanged.

const redirectURI = "http://localhost:8080/auth/callback"

func msalClient(t *testing.T, srv *entratest.Server, cred confidential.Credential, opts ...confidential.Option) confidential.Client {
	t.Helper()
	opts = append([]confidential.Option{confidential.WithHTTPClient(srv.Client()), confidential.WithInstanceDiscovery(false)}, opts...)
	app, err := confidential.New(srv.Authority(), entratest.DemoClientID, cred, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return app
}

func secretCred(t *testing.T) confidential.Credential {
	cred, err := confidential.NewCredFromSecret(entratest.DemoClientSecret)
	if err != nil {
		t.Fatal(err)
	}
	return cred
}

// claimsOf decodes a JWT's payload without verifying it.
func claimsOf(t *testing.T, jwt string) map[string]any {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %d parts", len(parts))
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// msalSignIn runs MSAL's auth code URL through the emulator's sign-in page
// as a browser would, with state, nonce and PKCE added (MSAL Go adds none).
func msalSignIn(t *testing.T, srv *entratest.Server, app confidential.Client, user string, scopes []string) (code, verifier, nonce string) {
	t.Helper()
	ctx := context.Background()
	authURL, err := app.AuthCodeURL(ctx, entratest.DemoClientID, redirectURI, scopes)
	if err != nil {
		t.Fatal(err)
	}
	verifier = rand.Text() + rand.Text()
	sum := sha256.Sum256([]byte(verifier))
	nonce, state := rand.Text(), rand.Text()
	u, _ := url.Parse(authURL)
	q := u.Query()
	q.Set("scope", "openid profile offline_access "+strings.Join(scopes, " "))
	q.Set("state", state)
	q.Set("nonce", nonce)
	q.Set("code_challenge", base64.RawURLEncoding.EncodeToString(sum[:]))
	q.Set("code_challenge_method", "S256")
	u.RawQuery = q.Encode()
	cb, err := srv.Browser().SignIn(ctx, u.String(), user, entratest.DemoPassword)
	if err != nil {
		t.Fatal(err)
	}
	if got := cb.Params.Get("state"); got != state {
		t.Fatalf("state = %q, want %q", got, state)
	}
	if cb.URL.String() != redirectURI {
		t.Fatalf("sent back to %s, want %s", cb.URL, redirectURI)
	}
	code = cb.Params.Get("code")
	if code == "" {
		t.Fatalf("no code in callback: %v", cb.Params)
	}
	return code, verifier, nonce
}

func TestMSALGoAuthCodePKCE(t *testing.T) {
	srv := entratest.NewServer(t, nil)
	app := msalClient(t, srv, secretCred(t))
	ctx := context.Background()
	code, verifier, nonce := msalSignIn(t, srv, app, "alice@contoso.onmicrosoft.com", []string{"User.Read"})

	res, err := app.AcquireTokenByAuthCode(ctx, code, redirectURI, []string{"User.Read"}, confidential.WithChallenge(verifier))
	if err != nil {
		t.Fatalf("MSAL Go code redemption: %v", err)
	}
	alice := userByName(t, srv, "alice@contoso.onmicrosoft.com")
	if want := alice.ObjectID + "." + entratest.DemoTenantID; res.Account.HomeAccountID != want {
		t.Errorf("home account id = %q, want %q", res.Account.HomeAccountID, want)
	}
	if res.IDToken.Oid != alice.ObjectID || res.IDToken.PreferredUsername != alice.Username || res.IDToken.Name != alice.DisplayName {
		t.Errorf("ID token as MSAL read it: %+v", res.IDToken)
	}
	idc := claimsOf(t, res.IDToken.RawToken)
	if idc["nonce"] != nonce || idc["ver"] != "2.0" || idc["aud"] != entratest.DemoClientID || idc["iss"] != srv.Issuer(entratest.DemoTenantID) {
		t.Errorf("ID token claims: %v", idc)
	}
	if roles, _ := idc["roles"].([]any); !slices.Contains(roles, any("DemoApp.Admin")) {
		t.Errorf("roles = %v, want DemoApp.Admin", idc["roles"])
	}
	// The access token works at the emulated Graph.
	req, _ := http.NewRequest("GET", srv.GraphURL()+"/v1.0/me", nil)
	req.Header.Set("Authorization", "Bearer "+res.AccessToken)
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var me map[string]any
	json.NewDecoder(resp.Body).Decode(&me)
	if resp.StatusCode != 200 || me["displayName"] != alice.DisplayName || me["id"] != alice.ObjectID {
		t.Errorf("GET /v1.0/me = %d %v", resp.StatusCode, me)
	}

	// The code is single use: MSAL's second redemption fails with AADSTS54005.
	_, err = app.AcquireTokenByAuthCode(ctx, code, redirectURI, []string{"User.Read"}, confidential.WithChallenge(verifier))
	if err == nil || !strings.Contains(err.Error(), "54005") {
		t.Errorf("second redemption: err = %v, want AADSTS54005", err)
	}
}

func TestMSALGoWrongVerifier(t *testing.T) {
	srv := entratest.NewServer(t, nil)
	app := msalClient(t, srv, secretCred(t))
	code, _, _ := msalSignIn(t, srv, app, "bob@contoso.onmicrosoft.com", []string{"User.Read"})
	_, err := app.AcquireTokenByAuthCode(context.Background(), code, redirectURI, []string{"User.Read"}, confidential.WithChallenge("not-the-verifier-"+rand.Text()))
	if err == nil || !strings.Contains(err.Error(), "50148") {
		t.Fatalf("err = %v, want AADSTS50148", err)
	}
}

func TestMSALGoSilentRefresh(t *testing.T) {
	// Access tokens of 4 minutes: MSAL Go keeps none with under 5 minutes
	// left, so every silent call must use the refresh token.
	cfg := entratest.Default()
	cfg.AccessTokenLifetime = entratest.Duration(4 * time.Minute)
	srv := entratest.NewServer(t, &entratest.Options{Config: cfg})
	app := msalClient(t, srv, secretCred(t))
	ctx := context.Background()
	code, verifier, _ := msalSignIn(t, srv, app, "carol@contoso.onmicrosoft.com", []string{"User.Read"})
	first, err := app.AcquireTokenByAuthCode(ctx, code, redirectURI, []string{"User.Read"}, confidential.WithChallenge(verifier))
	if err != nil {
		t.Fatal(err)
	}
	before := srv.Calls(entratest.EndpointToken)
	second, err := app.AcquireTokenSilent(ctx, []string{"User.Read"}, confidential.WithSilentAccount(first.Account))
	if err != nil {
		t.Fatalf("silent refresh: %v", err)
	}
	if srv.Calls(entratest.EndpointToken) != before+1 {
		t.Errorf("token endpoint calls = %d, want %d (one refresh)", srv.Calls(entratest.EndpointToken), before+1)
	}
	if second.AccessToken == first.AccessToken {
		t.Error("silent call returned the old access token")
	}
	// A token for the app's own API, from the same refresh token.
	api := "api://" + entratest.DemoClientID + "/access_as_user"
	third, err := app.AcquireTokenSilent(ctx, []string{api}, confidential.WithSilentAccount(first.Account))
	if err != nil {
		t.Fatalf("silent token for own API: %v", err)
	}
	c := claimsOf(t, third.AccessToken)
	if c["aud"] != entratest.DemoClientID || c["scp"] != "access_as_user" || c["ver"] != "2.0" {
		t.Errorf("API token claims: %v", c)
	}
	if roles, _ := c["roles"].([]any); !slices.Contains(roles, any("DemoApp.Read")) {
		t.Errorf("API token roles = %v", c["roles"])
	}

	// Revoked sessions end silent acquisition with invalid_grant.
	srv.RevokeUser("carol@contoso.onmicrosoft.com")
	_, err = app.AcquireTokenSilent(ctx, []string{"User.Read"}, confidential.WithSilentAccount(first.Account))
	if err == nil || !strings.Contains(err.Error(), "50173") {
		t.Errorf("after revocation: err = %v, want AADSTS50173", err)
	}
}

func TestMSALGoSilentFromCache(t *testing.T) {
	srv := entratest.NewServer(t, nil)
	app := msalClient(t, srv, secretCred(t))
	ctx := context.Background()
	code, verifier, _ := msalSignIn(t, srv, app, "alice@contoso.onmicrosoft.com", []string{"User.Read"})
	first, err := app.AcquireTokenByAuthCode(ctx, code, redirectURI, []string{"User.Read"}, confidential.WithChallenge(verifier))
	if err != nil {
		t.Fatal(err)
	}
	before := srv.Calls(entratest.EndpointToken)
	again, err := app.AcquireTokenSilent(ctx, []string{"User.Read"}, confidential.WithSilentAccount(first.Account))
	if err != nil {
		t.Fatal(err)
	}
	if again.AccessToken != first.AccessToken || srv.Calls(entratest.EndpointToken) != before {
		t.Error("a fresh token was not served from MSAL's cache")
	}
}

func TestMSALGoClientCredentialsSecret(t *testing.T) {
	srv := entratest.NewServer(t, nil)
	app := msalClient(t, srv, secretCred(t))
	ctx := context.Background()
	res, err := app.AcquireTokenByCredential(ctx, []string{"https://graph.microsoft.com/.default"})
	if err != nil {
		t.Fatalf("client credentials: %v", err)
	}
	c := claimsOf(t, res.AccessToken)
	if c["aud"] != entratest.GraphAppID || c["idtyp"] != "app" || c["appid"] != entratest.DemoClientID || c["appidacr"] != "1" {
		t.Errorf("app token claims: %v", c)
	}
	if roles, _ := c["roles"].([]any); !slices.Contains(roles, any("User.Read.All")) {
		t.Errorf("roles = %v, want User.Read.All", c["roles"])
	}
	before := srv.Calls(entratest.EndpointToken)
	if _, err := app.AcquireTokenByCredential(ctx, []string{"https://graph.microsoft.com/.default"}); err != nil {
		t.Fatal(err)
	}
	if srv.Calls(entratest.EndpointToken) != before {
		t.Error("second app token was not served from MSAL's cache")
	}

	bad, err := confidential.NewCredFromSecret("wrong-secret-value")
	if err != nil {
		t.Fatal(err)
	}
	_, err = msalClient(t, srv, bad).AcquireTokenByCredential(ctx, []string{"https://graph.microsoft.com/.default"})
	if err == nil || !strings.Contains(err.Error(), "7000215") {
		t.Errorf("wrong secret: err = %v, want AADSTS7000215", err)
	}
}

// newCert makes a self-signed certificate and its key, as a user would
// upload to an app registration.
func newCert(t *testing.T) (*x509.Certificate, *rsa.PrivateKey, string) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "demo app credential"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return cert, key, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

func TestMSALGoClientCredentialsCertificate(t *testing.T) {
	srv := entratest.NewServer(t, nil)
	cert, key, certPEM := newCert(t)
	if err := srv.Update(func(c *entratest.Config) {
		c.Tenants[0].Apps[0].Certificates = append(c.Tenants[0].Apps[0].Certificates, certPEM)
	}); err != nil {
		t.Fatal(err)
	}
	cred, err := confidential.NewCredFromCert([]*x509.Certificate{cert}, key)
	if err != nil {
		t.Fatal(err)
	}
	for _, x5c := range []bool{false, true} {
		var opts []confidential.Option
		if x5c {
			opts = append(opts, confidential.WithX5C())
		}
		res, err := msalClient(t, srv, cred, opts...).AcquireTokenByCredential(context.Background(), []string{"api://" + entratest.DemoClientID + "/.default"})
		if err != nil {
			t.Fatalf("certificate credential (x5c %v): %v", x5c, err)
		}
		c := claimsOf(t, res.AccessToken)
		if c["aud"] != entratest.DemoClientID || c["azpacr"] != "2" || c["idtyp"] != "app" {
			t.Errorf("app token claims: %v", c)
		}
	}

	// A certificate the app does not know is refused with AADSTS700027.
	other, otherKey, _ := newCert(t)
	cred, _ = confidential.NewCredFromCert([]*x509.Certificate{other}, otherKey)
	_, err = msalClient(t, srv, cred).AcquireTokenByCredential(context.Background(), []string{"api://" + entratest.DemoClientID + "/.default"})
	if err == nil || !strings.Contains(err.Error(), "700027") {
		t.Errorf("unregistered certificate: err = %v, want AADSTS700027", err)
	}
}

func userByName(t *testing.T, srv *entratest.Server, name string) entratest.User {
	t.Helper()
	for _, tn := range srv.Config().Tenants {
		for _, u := range tn.Users {
			if strings.EqualFold(u.Username, name) {
				return u
			}
		}
	}
	t.Fatalf("no user %s", name)
	return entratest.User{}
}
