package entraweb_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/entraweb/entraweb"
	"github.com/entraweb/entraweb/entratest"
)

// A Kubernetes-style workload identity: the app's only credential is a
// token file of another issuer, trusted by a federated credential.
func TestFederatedTokenFileCredential(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pubDER, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	const issuer, subject = "https://oidc.cluster.example/abc", "system:serviceaccount:web:entraweb"
	cfg := entratest.Default()
	cfg.Tenants[0].Apps[0].FederatedCredentials = []entratest.FederatedCredential{{
		Name: "aks", Issuer: issuer, Subject: subject,
		PublicKeyPEM: string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})),
	}}
	srv := entratest.NewServer(t, &entratest.Options{Config: cfg})
	file := filepath.Join(t.TempDir(), "token")
	writeToken := func() {
		tok, err := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{
			"iss": issuer, "sub": subject, "aud": entratest.TokenExchangeAudience,
			"iat": time.Now().Unix(), "nbf": time.Now().Unix(), "exp": time.Now().Add(time.Hour).Unix(),
		}).SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, []byte(tok+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	writeToken()
	c := graphConfig(srv)
	c.ClientSecret = ""
	c.FederatedTokenFile = file
	a, _ := graphApp(t, srv, c)
	if _, body, err := srv.Browser().Visit(context.Background(), a.url+"/profile", alice, entratest.DemoPassword); err != nil || body != "graph 200 Alice Admin" {
		t.Fatalf("sign-in with a federated credential: %v %q", err, body)
	}
	// The platform rotates the file: the new token is used.
	writeToken()
	if tok, err := a.auth.AppToken(context.Background(), "https://graph.microsoft.com/.default"); err != nil || tok == "" {
		t.Fatalf("app token after rotation: %v", err)
	}
	// A missing file is a start-up error.
	c.FederatedTokenFile = filepath.Join(t.TempDir(), "absent")
	if _, err := entraweb.New(context.Background(), c); err == nil {
		t.Error("a missing federated token file was accepted")
	}
}

// A managed identity's token as the app's federated credential, through
// MSAL Go's managed identity client and the emulator's App Service style
// identity endpoint.
func TestManagedIdentityCredential(t *testing.T) {
	cfg := entratest.Default()
	// A user-assigned identity of its own: MSAL caches managed identity
	// tokens process-wide by identity, not by endpoint.
	name := "web-" + rand.Text()
	cfg.Tenants[0].ManagedIdentities = append(cfg.Tenants[0].ManagedIdentities, entratest.ManagedIdentity{Name: name})
	srv := entratest.NewServer(t, &entratest.Options{Config: cfg})
	var mi entratest.ManagedIdentity
	for _, m := range srv.Config().Tenants[0].ManagedIdentities {
		if m.Name == name {
			mi = m
		}
	}
	if err := srv.Update(func(c *entratest.Config) {
		c.Tenants[0].Apps[0].FederatedCredentials = append(c.Tenants[0].Apps[0].FederatedCredentials,
			entratest.FederatedCredential{Name: "mi", Issuer: srv.Issuer(entratest.DemoTenantID), Subject: mi.ObjectID})
	}); err != nil {
		t.Fatal(err)
	}
	t.Setenv("IDENTITY_ENDPOINT", srv.ManagedIdentityURL())
	t.Setenv("IDENTITY_HEADER", srv.IdentityHeader())
	c := graphConfig(srv)
	c.ClientSecret = ""
	c.ManagedIdentity = &entraweb.ManagedIdentitySource{ClientID: mi.ClientID}
	a, _ := graphApp(t, srv, c)
	if _, body, err := srv.Browser().Visit(context.Background(), a.url+"/profile", alice, entratest.DemoPassword); err != nil || body != "graph 200 Alice Admin" {
		t.Fatalf("sign-in with a managed identity credential: %v %q", err, body)
	}
}

// Graph asks for a Conditional Access authentication context: the page
// passes Graph's 401 to ClaimsChallenge and Challenge, the user signs in
// again with the claims, and the page works with the new token.
func TestClaimsChallengeRoundTrip(t *testing.T) {
	srv := entratest.NewServer(t, nil)
	a, _ := graphApp(t, srv, graphConfig(srv))
	ctx := context.Background()
	b := srv.Browser()
	if _, body, err := b.Visit(ctx, a.url+"/profile", alice, entratest.DemoPassword); err != nil || body != "graph 200 Alice Admin" {
		t.Fatalf("first visit: %v %q", err, body)
	}
	srv.RequireAuthContext("c1")
	graphCalls := srv.Calls(entratest.EndpointGraph)
	resp, body, err := b.Visit(ctx, a.url+"/profile", "", "")
	if err != nil || body != "graph 200 Alice Admin" || resp.Request.URL.Path != "/profile" {
		t.Fatalf("after the claims challenge: %v %q at %s", err, body, resp.Request.URL)
	}
	if got := srv.Calls(entratest.EndpointGraph) - graphCalls; got != 2 {
		t.Errorf("Graph calls = %d, want 2 (the refused one and the one with the new token)", got)
	}
}
