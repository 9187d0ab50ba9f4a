package oidc

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/entraweb/entraweb/entratest"
)

var discardLog = slog.New(slog.NewTextHandler(io.Discard, nil))

// issueIDToken signs a user in at the emulator (browser form, then a raw
// code redemption) and returns the ID token the token endpoint issued.
func issueIDToken(t *testing.T, srv *entratest.Server, tenant, user, nonce string) string {
	t.Helper()
	ctx := context.Background()
	verifier := rand.Text() + rand.Text()
	sum := sha256.Sum256([]byte(verifier))
	redirect := "http://localhost:8080/auth/callback"
	q := url.Values{
		"client_id": {entratest.DemoClientID}, "response_type": {"code"}, "redirect_uri": {redirect},
		"scope": {"openid profile offline_access"}, "state": {"s"}, "nonce": {nonce},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"},
	}
	cb, err := srv.Browser().SignIn(ctx, srv.AuthorityFor(tenant)+"/oauth2/v2.0/authorize?"+q.Encode(), user, entratest.DemoPassword)
	if err != nil {
		t.Fatal(err)
	}
	form := url.Values{
		"grant_type": {"authorization_code"}, "client_id": {entratest.DemoClientID}, "client_secret": {entratest.DemoClientSecret},
		"code": {cb.Params.Get("code")}, "redirect_uri": {redirect}, "code_verifier": {verifier}, "scope": {"openid profile offline_access"},
	}
	resp, err := srv.Client().PostForm(srv.AuthorityFor(tenant)+"/oauth2/v2.0/token", form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		IDToken string `json:"id_token"`
		Desc    string `json:"error_description"`
	}
	json.NewDecoder(resp.Body).Decode(&body)
	if body.IDToken == "" {
		t.Fatalf("no ID token: %d %s", resp.StatusCode, body.Desc)
	}
	return body.IDToken
}

type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newVerifier(srv *entratest.Server, tenantSeg string, clock func() time.Time) *Verifier {
	issuer := srv.Issuer(entratest.DemoTenantID)
	if tenantSeg == "organizations" || tenantSeg == "common" {
		issuer = srv.URL + "/{tenantid}/v2.0"
	}
	return &Verifier{
		Keys:     NewKeySet(srv.AuthorityFor(tenantSeg)+"/discovery/v2.0/keys", srv.Client(), clock, discardLog),
		ClientID: entratest.DemoClientID,
		Issuer:   issuer,
		Skew:     2 * time.Minute,
		Now:      clock,
	}
}

func TestIDTokenFaults(t *testing.T) {
	srv := entratest.NewServer(t, nil)
	v := newVerifier(srv, entratest.DemoTenantID, time.Now)
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
		{entratest.FaultWrongNonce, "nonce"},
		{entratest.FaultMissingNonce, "nonce"},
		{entratest.FaultMissingOID, "missing oid"},
		{entratest.FaultMissingTID, "missing tid"},
		{entratest.FaultMissingSub, "missing sub"},
		{entratest.FaultMissingIAT, "missing iat"},
	}
	for _, tt := range tests {
		t.Run(tt.fault.String(), func(t *testing.T) {
			nonce := rand.Text()
			srv.FaultNextIDTokens(tt.fault, 1)
			raw := issueIDToken(t, srv, entratest.DemoTenantID, "alice@contoso.onmicrosoft.com", nonce)
			c, err := v.VerifyIDToken(context.Background(), raw, nonce)
			if tt.reason == "" {
				if err != nil {
					t.Fatalf("a good token was refused: %v", err)
				}
				if c.Name != "Alice Admin" || c.TenantID != entratest.DemoTenantID || len(c.Roles) != 1 || c.Roles[0] != "DemoApp.Admin" {
					t.Errorf("claims: %+v", c)
				}
				return
			}
			var ite *TokenError
			if !errors.As(err, &ite) || !strings.Contains(ite.Reason, tt.reason) {
				t.Fatalf("err = %v, want a TokenError about %q", err, tt.reason)
			}
		})
	}
}

func TestIDTokenKeyRotation(t *testing.T) {
	srv := entratest.NewServer(t, nil)
	clock := &testClock{t: time.Now()}
	v := newVerifier(srv, entratest.DemoTenantID, clock.Now)
	ctx := context.Background()
	nonce := rand.Text()
	if _, err := v.VerifyIDToken(ctx, issueIDToken(t, srv, entratest.DemoTenantID, "bob@contoso.onmicrosoft.com", nonce), nonce); err != nil {
		t.Fatal(err)
	}
	fetches := srv.Calls(entratest.EndpointKeys)

	// A new key: the first token signed with it makes the set refetch.
	if err := srv.RotateKeys(); err != nil {
		t.Fatal(err)
	}
	if _, err := v.VerifyIDToken(ctx, issueIDToken(t, srv, entratest.DemoTenantID, "bob@contoso.onmicrosoft.com", nonce), nonce); err != nil {
		t.Fatalf("token signed with the rotated key: %v", err)
	}
	if got := srv.Calls(entratest.EndpointKeys); got != fetches+1 {
		t.Errorf("JWKS fetches = %d, want %d", got, fetches+1)
	}

	// An unknown key id from the token endpoint gets one refetch; the
	// same id again within a few minutes is refused without a request.
	srv.FaultNextIDTokens(entratest.FaultUnknownKID, 1)
	bogus := issueIDToken(t, srv, entratest.DemoTenantID, "bob@contoso.onmicrosoft.com", nonce)
	for range 2 {
		if _, err := v.VerifyIDToken(ctx, bogus, nonce); err == nil {
			t.Fatal("unknown kid accepted")
		}
	}
	if got := srv.Calls(entratest.EndpointKeys); got != fetches+2 {
		t.Errorf("JWKS fetches = %d, want %d (one for the unknown kid, none for its repeat)", got, fetches+2)
	}
}

// TestBogusKeyIDNeverBlocksARotation: a token with an invented key id,
// then a genuine rotation a second later: the first token of the new key
// is accepted (a global once-a-minute limit used to refuse it).
func TestBogusKeyIDNeverBlocksARotation(t *testing.T) {
	srv := entratest.NewServer(t, nil)
	clock := &testClock{t: time.Now()}
	v := newVerifier(srv, entratest.DemoTenantID, clock.Now)
	ctx := context.Background()
	nonce := rand.Text()
	if _, err := v.VerifyIDToken(ctx, issueIDToken(t, srv, entratest.DemoTenantID, "bob@contoso.onmicrosoft.com", nonce), nonce); err != nil {
		t.Fatal(err)
	}
	srv.FaultNextIDTokens(entratest.FaultUnknownKID, 1)
	if _, err := v.VerifyIDToken(ctx, issueIDToken(t, srv, entratest.DemoTenantID, "bob@contoso.onmicrosoft.com", nonce), nonce); err == nil {
		t.Fatal("unknown kid accepted")
	}
	clock.Add(time.Second)
	if err := srv.RotateKeys(); err != nil {
		t.Fatal(err)
	}
	if _, err := v.VerifyIDToken(ctx, issueIDToken(t, srv, entratest.DemoTenantID, "bob@contoso.onmicrosoft.com", nonce), nonce); err != nil {
		t.Fatalf("the rotated key was refused after a bogus kid: %v", err)
	}
}

// TestUntrustedKeyIDsShareABudget: invented key ids in tokens a client
// sends cost at most a few fetches, refilled over time, and never take
// the trusted path's refetch away.
func TestUntrustedKeyIDsShareABudget(t *testing.T) {
	srv := entratest.NewServer(t, nil)
	clock := &testClock{t: time.Now()}
	ks := NewKeySet(srv.AuthorityFor(entratest.DemoTenantID)+"/discovery/v2.0/keys", srv.Client(), clock.Now, discardLog)
	ctx := context.Background()
	if err := ks.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	base := srv.Calls(entratest.EndpointKeys)
	for i := range 50 {
		if _, err := ks.Key(ctx, fmt.Sprintf("invented-%d", i), Untrusted); !errors.Is(err, ErrUnknownKey) {
			t.Fatalf("invented kid %d: %v", i, err)
		}
	}
	if got := srv.Calls(entratest.EndpointKeys) - base; got != 3 {
		t.Errorf("50 invented kids caused %d fetches, want the budget of 3", got)
	}
	// The trusted path still refetches for a kid of its own.
	if _, err := ks.Key(ctx, "from-the-token-endpoint", Trusted); !errors.Is(err, ErrUnknownKey) {
		t.Fatal(err)
	}
	if got := srv.Calls(entratest.EndpointKeys) - base; got != 4 {
		t.Errorf("the trusted refetch was blocked: %d fetches", got)
	}
	// A minute later the budget is whole again, and a repeated kid still
	// costs nothing within its five minutes.
	clock.Add(time.Minute)
	ks.Key(ctx, "invented-0", Untrusted)
	if got := srv.Calls(entratest.EndpointKeys) - base; got != 4 {
		t.Errorf("a repeated invented kid caused a fetch: %d", got)
	}
	for i := range 5 {
		ks.Key(ctx, fmt.Sprintf("fresh-%d", i), Untrusted)
	}
	if got := srv.Calls(entratest.EndpointKeys) - base; got != 7 {
		t.Errorf("after a minute: %d fetches, want 7", got)
	}
}

func TestIDTokenProviderDown(t *testing.T) {
	srv := entratest.NewServer(t, nil)
	clock := &testClock{t: time.Now()}
	v := newVerifier(srv, entratest.DemoTenantID, clock.Now)
	ctx := context.Background()
	nonce := rand.Text()
	good := issueIDToken(t, srv, entratest.DemoTenantID, "carol@contoso.onmicrosoft.com", nonce)

	// Down before any keys were fetched: unavailable, not "invalid token".
	srv.FailNext(entratest.EndpointKeys, 1, http.StatusServiceUnavailable)
	if _, err := v.VerifyIDToken(ctx, good, nonce); !errors.Is(err, ErrProviderUnavailable) {
		t.Fatalf("err = %v, want ErrProviderUnavailable", err)
	}
	// After the outage the keys load; a day later they are stale and the
	// refetch fails, but the last good keys are still served.
	clock.Add(2 * time.Minute)
	if _, err := v.VerifyIDToken(ctx, good, nonce); err != nil {
		t.Fatal(err)
	}
	clock.Add(25 * time.Hour)
	srv.SetOutage(entratest.Outage503)
	defer srv.SetOutage(entratest.OutageNone)
	v.Now = time.Now // the token itself is judged by real time
	v.Keys.now = clock.Now
	if _, err := v.VerifyIDToken(ctx, good, nonce); err != nil {
		t.Fatalf("last good keys not served during an outage: %v", err)
	}
}

func TestIDTokenMultiTenant(t *testing.T) {
	cfg := entratest.Default()
	cfg.Tenants[0].Apps[0].MultiTenant = true
	srv := entratest.NewServer(t, &entratest.Options{Config: cfg})
	v := newVerifier(srv, "organizations", time.Now)
	ctx := context.Background()
	nonce := rand.Text()
	frank := issueIDToken(t, srv, "organizations", "frank@fabrikam.onmicrosoft.com", nonce)
	alice := issueIDToken(t, srv, "organizations", "alice@contoso.onmicrosoft.com", nonce)
	for _, raw := range []string{frank, alice} {
		if _, err := v.VerifyIDToken(ctx, raw, nonce); err != nil {
			t.Fatalf("multi-tenant token without an allow-list: %v", err)
		}
	}
	v.AllowedTenants = map[string]bool{entratest.DemoTenantID: true}
	if _, err := v.VerifyIDToken(ctx, alice, nonce); err != nil {
		t.Errorf("allowed tenant refused: %v", err)
	}
	var ite *TokenError
	if _, err := v.VerifyIDToken(ctx, frank, nonce); !errors.As(err, &ite) || !strings.Contains(ite.Reason, "AllowedTenants") {
		t.Errorf("tenant outside the allow-list: err = %v", err)
	}
}
