package oidc

// ID token rules that the emulator's fault knobs cannot produce: tokens
// made by hand, signed with keys published by a key set of the test's
// own, so each claim can be set to exactly the value under test.

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

const (
	handIssuer   = "https://login.example/11111111-2222-3333-4444-555555555555/v2.0"
	handTenant   = "11111111-2222-3333-4444-555555555555"
	handClientID = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
	handNonce    = "the-nonce-of-this-sign-in"
)

// handKeys publishes RSA keys under the given kids, each with the
// issuer it may sign for ("" publishes none), and returns the private
// keys by kid.
func handKeys(t *testing.T, issuers map[string]string) (*KeySet, map[string]*rsa.PrivateKey) {
	t.Helper()
	type jwk struct {
		Kty    string `json:"kty"`
		Use    string `json:"use"`
		Kid    string `json:"kid"`
		N      string `json:"n"`
		E      string `json:"e"`
		Issuer string `json:"issuer,omitempty"`
	}
	var doc struct {
		Keys []jwk `json:"keys"`
	}
	priv := map[string]*rsa.PrivateKey{}
	for kid, iss := range issuers {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		priv[kid] = k
		doc.Keys = append(doc.Keys, jwk{Kty: "RSA", Use: "sig", Kid: kid, Issuer: iss,
			N: base64.RawURLEncoding.EncodeToString(k.N.Bytes()),
			E: base64.RawURLEncoding.EncodeToString(big.NewInt(int64(k.E)).Bytes())})
	}
	body, _ := json.Marshal(doc)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(body) }))
	t.Cleanup(srv.Close)
	return NewKeySet(srv.URL, srv.Client(), time.Now, discardLog), priv
}

func handClaims(now time.Time) jwt.MapClaims {
	return jwt.MapClaims{
		"iss": handIssuer, "aud": handClientID, "sub": "pairwise-subject", "oid": "object-id", "tid": handTenant,
		"ver": "2.0", "nonce": handNonce, "name": "Alice",
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Hour).Unix(),
	}
}

func handSign(t *testing.T, m jwt.SigningMethod, key any, kid string, c jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(m, c)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestIDTokenHandMade checks the rules of OpenID Connect Core §3.1.3.7
// (and the key's own issuer, an Entra ID addition) one claim at a time.
func TestIDTokenHandMade(t *testing.T) {
	keys, priv := handKeys(t, map[string]string{
		"good":     handIssuer,
		"template": "https://login.example/{tenantid}/v2.0", // as Entra ID publishes its common keys
		"none":     "",
		"foreign":  "https://login.example/99999999-2222-3333-4444-555555555555/v2.0",
	})
	now := time.Now()
	v := &Verifier{Keys: keys, ClientID: handClientID, Issuer: handIssuer, Skew: 2 * time.Minute, Now: func() time.Time { return now }}
	with := func(k string, val any) jwt.MapClaims {
		c := handClaims(now)
		if val == nil {
			delete(c, k)
		} else {
			c[k] = val
		}
		return c
	}
	tests := []struct {
		name   string
		token  string
		reason string // empty: accepted; "*": refused for any reason
	}{
		{"good", handSign(t, jwt.SigningMethodRS256, priv["good"], "good", handClaims(now)), ""},
		{"key for any tenant", handSign(t, jwt.SigningMethodRS256, priv["template"], "template", handClaims(now)), ""},
		{"key naming no issuer", handSign(t, jwt.SigningMethodRS256, priv["none"], "none", handClaims(now)), ""},
		{"key published for another issuer", handSign(t, jwt.SigningMethodRS256, priv["foreign"], "foreign", handClaims(now)), "another issuer"},
		{"signed by another key under a published kid", handSign(t, jwt.SigningMethodRS256, priv["foreign"], "good", handClaims(now)), "bad signature"},
		{"no kid", handSign(t, jwt.SigningMethodRS256, priv["good"], "", handClaims(now)), "names no signing key"},
		{"PS256", handSign(t, jwt.SigningMethodPS256, priv["good"], "good", handClaims(now)), "only RS256"},
		{"RS512", handSign(t, jwt.SigningMethodRS512, priv["good"], "good", handClaims(now)), "only RS256"},
		{"two audiences, ours among them", handSign(t, jwt.SigningMethodRS256, priv["good"], "good", with("aud", []string{handClientID, "another-app"})), "more than one audience"},
		{"audience of another app", handSign(t, jwt.SigningMethodRS256, priv["good"], "good", with("aud", "another-app")), "audience"},
		{"no audience", handSign(t, jwt.SigningMethodRS256, priv["good"], "good", with("aud", nil)), "missing aud"},
		{"issuer of another tenant", handSign(t, jwt.SigningMethodRS256, priv["good"], "good", with("iss", "https://login.example/"+"99999999-2222-3333-4444-555555555555/v2.0")), "issuer"},
		{"issuer differing in case", handSign(t, jwt.SigningMethodRS256, priv["good"], "good", with("iss", strings.ToUpper(handIssuer))), "issuer"},
		{"v1.0 token", handSign(t, jwt.SigningMethodRS256, priv["good"], "good", with("ver", "1.0")), "version"},
		{"no exp", handSign(t, jwt.SigningMethodRS256, priv["good"], "good", with("exp", nil)), "missing exp"},
		{"nonce of another sign-in", handSign(t, jwt.SigningMethodRS256, priv["good"], "good", with("nonce", "another")), "nonce"},
		{"empty nonce", handSign(t, jwt.SigningMethodRS256, priv["good"], "good", with("nonce", "")), "nonce"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := v.VerifyIDToken(context.Background(), tt.token, handNonce)
			if tt.reason == "" {
				if err != nil || c.ObjectID != "object-id" {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var te *TokenError
			if !errors.As(err, &te) || tt.reason != "*" && !strings.Contains(te.Error(), tt.reason) {
				t.Fatalf("err = %v, want a TokenError about %q", err, tt.reason)
			}
		})
	}
	t.Run("empty expected nonce", func(t *testing.T) {
		// A sign-in whose nonce was lost must not accept a token without one.
		tok := handSign(t, jwt.SigningMethodRS256, priv["good"], "good", with("nonce", ""))
		if _, err := v.VerifyIDToken(context.Background(), tok, ""); err == nil {
			t.Fatal("a token without a nonce was accepted for a sign-in without one")
		}
	})
}

// TestIDTokenClockSkew: a clock up to two minutes off either way is
// forgiven (exp, nbf, iat); more is not.
func TestIDTokenClockSkew(t *testing.T) {
	keys, priv := handKeys(t, map[string]string{"good": handIssuer})
	now := time.Now().Truncate(time.Second)
	v := &Verifier{Keys: keys, ClientID: handClientID, Issuer: handIssuer, Skew: 2 * time.Minute, Now: func() time.Time { return now }}
	tests := []struct {
		name   string
		shift  func(c jwt.MapClaims)
		reason string
	}{
		{"expired a minute ago", func(c jwt.MapClaims) { c["exp"] = now.Add(-time.Minute).Unix() }, ""},
		{"expired three minutes ago", func(c jwt.MapClaims) { c["exp"] = now.Add(-3 * time.Minute).Unix() }, "expired"},
		{"valid from a minute on", func(c jwt.MapClaims) { c["nbf"], c["iat"] = now.Add(time.Minute).Unix(), now.Add(time.Minute).Unix() }, ""},
		{"valid from three minutes on", func(c jwt.MapClaims) { c["nbf"] = now.Add(3 * time.Minute).Unix() }, "not valid yet"},
		{"issued three minutes from now", func(c jwt.MapClaims) { c["iat"] = now.Add(3 * time.Minute).Unix() }, "not valid yet"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := handClaims(now.Add(-30 * time.Minute))
			c["iat"], c["nbf"] = now.Unix(), now.Unix()
			tt.shift(c)
			_, err := v.VerifyIDToken(context.Background(), handSign(t, jwt.SigningMethodRS256, priv["good"], "good", c), handNonce)
			if tt.reason == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var te *TokenError
			if !errors.As(err, &te) || !strings.Contains(te.Reason, tt.reason) {
				t.Fatalf("err = %v, want a TokenError about %q", err, tt.reason)
			}
		})
	}
}

// TestWeakAndNonSigningKeysSkipped: a key set's RSA keys under 2048 bits,
// keys for encryption and keys of other types are never used to verify.
func TestWeakAndNonSigningKeysSkipped(t *testing.T) {
	weak, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	strong, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	jwk := func(kid, use string, k *rsa.PrivateKey) string {
		return `{"kty":"RSA","use":"` + use + `","kid":"` + kid + `","n":"` + base64.RawURLEncoding.EncodeToString(k.N.Bytes()) +
			`","e":"` + base64.RawURLEncoding.EncodeToString(big.NewInt(int64(k.E)).Bytes()) + `"}`
	}
	keys, err := parseJWKS([]byte(`{"keys":[` + jwk("weak", "sig", weak) + `,` + jwk("enc", "enc", strong) + `,` +
		`{"kty":"EC","use":"sig","kid":"ec","crv":"P-256","x":"AA","y":"AA"},` + jwk("good", "sig", strong) + `]}`))
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 1 || keys["good"] == nil {
		t.Errorf("usable keys %v, want only \"good\"", keys)
	}
	if _, err := parseJWKS([]byte(`{"keys":[` + jwk("weak", "sig", weak) + `]}`)); err == nil {
		t.Error("a key set of only a 1024-bit key was accepted")
	}
}
