package proxy

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// ErrNoAssertion is returned by AssertionVerifier.Verify for a request
// without X-Entraweb-Assertion: it did not come through the proxy, or
// not from a signed-in user.
var ErrNoAssertion = errors.New("proxy: no " + AssertionHeader + " header")

// Assertion is a verified identity assertion.
type Assertion struct {
	AssertionClaims
	// Raw is the token as received.
	Raw string
}

// AssertionVerifier checks the X-Entraweb-Assertion an upstream written
// in Go receives, with the keys the proxy publishes at /.auth/keys. Its
// exported fields may be set after NewAssertionVerifier, before the
// first Verify. It is safe for concurrent use.
type AssertionVerifier struct {
	// Audience is the aud the assertion must carry: the upstream's own
	// origin as the proxy reaches it. Required.
	Audience string
	// Issuer, when set, is the iss the assertion must carry: the proxy's
	// public origin, such as https://app.example.com.
	Issuer string
	// Leeway is the clock skew allowed on exp, nbf and iat; default 30s.
	Leeway time.Duration
	// Now is the clock for the claims' times and for the pause between
	// fetches of the keys; nil means time.Now.
	Now func() time.Time

	jwksURL string
	client  *http.Client

	mu      sync.Mutex
	keys    map[string]*ecdsa.PublicKey
	fetched time.Time // of the last fetch, successful or not
}

// minRefetch is the least time between two fetches of the key set
// caused by an unknown kid, so tokens with made-up kids cannot make the
// verifier hammer the proxy.
const minRefetch = 30 * time.Second

// NewAssertionVerifier returns a verifier that fetches the proxy's keys
// from jwksURL (such as https://app.example.com/.auth/keys, or the proxy's
// internal address) and accepts assertions whose aud is audience: the
// upstream's own origin as the proxy is configured to reach it, such as
// http://127.0.0.1:8050. A nil client means http.DefaultClient.
func NewAssertionVerifier(jwksURL, audience string, client *http.Client) *AssertionVerifier {
	if client == nil {
		client = http.DefaultClient
	}
	return &AssertionVerifier{jwksURL: jwksURL, Audience: audience, client: client}
}

// Verify checks the request's X-Entraweb-Assertion and returns its
// claims. It fails with ErrNoAssertion when there is none.
func (v *AssertionVerifier) Verify(r *http.Request) (*Assertion, error) {
	raw := r.Header.Get(AssertionHeader)
	if raw == "" {
		return nil, ErrNoAssertion
	}
	return v.VerifyToken(r.Context(), raw)
}

// VerifyToken checks an assertion given as a string.
func (v *AssertionVerifier) VerifyToken(ctx context.Context, raw string) (*Assertion, error) {
	if v.Audience == "" {
		return nil, errors.New("proxy: the verifier has no audience: pass the upstream's origin to NewAssertionVerifier")
	}
	leeway := v.Leeway
	if leeway == 0 {
		leeway = 30 * time.Second
	}
	opts := []jwt.ParserOption{
		jwt.WithValidMethods([]string{jwt.SigningMethodES256.Alg()}),
		jwt.WithAudience(v.Audience),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(leeway),
	}
	if v.Issuer != "" {
		opts = append(opts, jwt.WithIssuer(v.Issuer))
	}
	if v.Now != nil {
		opts = append(opts, jwt.WithTimeFunc(v.Now))
	}
	a := &Assertion{Raw: raw}
	_, err := jwt.ParseWithClaims(raw, &a.AssertionClaims, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		if kid == "" {
			return nil, errors.New("the assertion names no key (kid)")
		}
		return v.key(ctx, kid)
	}, opts...)
	if err != nil {
		return nil, fmt.Errorf("proxy: the identity assertion is not valid: %w", err)
	}
	if a.NotBefore == nil || a.ObjectID == "" || a.TenantID == "" {
		return nil, errors.New("proxy: the identity assertion lacks nbf, oid or tid")
	}
	return a, nil
}

// key finds a public key by its id, fetching the key set when the id is
// unknown (at most once per minRefetch). The last good keys are kept
// when a fetch fails.
func (v *AssertionVerifier) key(ctx context.Context, kid string) (*ecdsa.PublicKey, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if k, ok := v.keys[kid]; ok {
		return k, nil
	}
	now := time.Now()
	if v.Now != nil {
		now = v.Now()
	}
	if !v.fetched.IsZero() && now.Sub(v.fetched) < minRefetch {
		return nil, fmt.Errorf("unknown key %q", kid)
	}
	v.fetched = now
	keys, err := v.fetch(ctx)
	if err != nil {
		return nil, fmt.Errorf("fetching the proxy's keys: %w", err)
	}
	v.keys = keys
	if k, ok := keys[kid]; ok {
		return k, nil
	}
	return nil, fmt.Errorf("unknown key %q", kid)
}

func (v *AssertionVerifier) fetch(ctx context.Context) (map[string]*ecdsa.PublicKey, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, v.jwksURL, nil)
	if err != nil {
		return nil, err
	}
	resp, err := v.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s answered %s", v.jwksURL, resp.Status)
	}
	var set jwks
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&set); err != nil {
		return nil, fmt.Errorf("%s: %w", v.jwksURL, err)
	}
	return parseJWKS(set)
}

// parseJWKS keeps the P-256 signing keys of a key set.
func parseJWKS(set jwks) (map[string]*ecdsa.PublicKey, error) {
	keys := map[string]*ecdsa.PublicKey{}
	for _, k := range set.Keys {
		if k.Kty != "EC" || k.Crv != "P-256" || k.Kid == "" || (k.Use != "" && k.Use != "sig") || (k.Alg != "" && k.Alg != "ES256") {
			continue
		}
		x, errX := base64.RawURLEncoding.DecodeString(k.X)
		y, errY := base64.RawURLEncoding.DecodeString(k.Y)
		if errX != nil || errY != nil || len(x) != 32 || len(y) != 32 {
			continue
		}
		// The parser refuses points off the curve.
		pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), append(append([]byte{4}, x...), y...))
		if err != nil {
			continue
		}
		keys[k.Kid] = pub
	}
	if len(keys) == 0 {
		return nil, errors.New("the key set holds no P-256 signing key")
	}
	return keys, nil
}
