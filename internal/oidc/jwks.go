package oidc

import (
	"context"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// KeySet caches the identity provider's signing keys (its JWKS).
//
// Keys are fetched at start-up and again when they are older than maxAge.
// A token signed with a key the set does not hold triggers a refetch, by
// these rules:
//
//   - A key id is refetched for at most once per unknownTTL: a second token
//     with the same unknown kid is refused without asking the provider.
//   - Tokens from the provider's own token endpoint (Trusted) always get
//     that one refetch: they arrive over TLS from the provider, and a new
//     kid there is how a key rotation shows. A bogus kid seen a moment
//     before never stands in a genuine rotation's way.
//   - Tokens a client hands in (Untrusted, bearer tokens) also draw on a
//     small global budget (budgetSize fetches, refilled one per
//     budgetRefill), so a flood of invented kids costs the provider at
//     most a few requests, while the trusted path keeps its own.
//
// Concurrent misses share one fetch. While the provider cannot be reached,
// the last keys fetched keep being served.
type KeySet struct {
	url          string
	client       *http.Client
	now          func() time.Time
	log          *slog.Logger
	maxAge       time.Duration
	unknownTTL   time.Duration
	budgetSize   float64
	budgetRefill time.Duration

	mu        sync.Mutex
	keys      map[string]*SigningKey
	fetched   time.Time            // last successful fetch
	unknown   map[string]time.Time // kid -> when a refetch for it last found nothing
	budget    float64              // untrusted refetches left
	budgetAt  time.Time            // when budget was last refilled
	lastError error
	inflight  chan struct{} // closed when the fetch under way ends

	gen atomic.Uint64 // moves when a fetch finds a key gone or changed
}

// Source says where a token came from, which decides how freely an
// unknown key id may make the set refetch.
type Source int

const (
	// Trusted: the provider's token endpoint answered it to us.
	Trusted Source = iota
	// Untrusted: a client sent it (a bearer token).
	Untrusted
)

// maxUnknownKids bounds the memory of unknown key ids.
const maxUnknownKids = 1024

// SigningKey is one key of the set with the issuer it may sign for
// (Entra publishes one per key; empty when absent).
type SigningKey struct {
	Pub    *rsa.PublicKey
	Issuer string
}

// ErrUnknownKey is returned for a kid the provider does not publish.
var ErrUnknownKey = errors.New("the token is signed with a key the identity provider does not publish")

// NewKeySet makes the key set published at url.
func NewKeySet(url string, client *http.Client, now func() time.Time, log *slog.Logger) *KeySet {
	return &KeySet{url: url, client: client, now: now, log: log, maxAge: 24 * time.Hour,
		unknownTTL: 5 * time.Minute, budgetSize: 3, budgetRefill: 20 * time.Second, budget: 3}
}

// x5tPrefix marks a key set entry found by certificate thumbprint.
const x5tPrefix = "x5t:"

// KeyID names the key of a token whose header carries kid and x5t: by
// kid, or by thumbprint when the header has no kid. Entra sets both to
// the same value; a token with neither names no key ("").
func KeyID(kid, x5t string) string {
	switch {
	case kid != "":
		return kid
	case x5t != "":
		return x5tPrefix + x5t
	}
	return ""
}

// Key returns the key with id kid (see KeyID), for a token from src.
func (ks *KeySet) Key(ctx context.Context, kid string, src Source) (*SigningKey, error) {
	ks.mu.Lock()
	k, ok := ks.keys[kid]
	now := ks.now()
	stale := now.Sub(ks.fetched) > ks.maxAge
	refetch := stale || (!ok && ks.mayRefetchLocked(kid, src, now))
	ks.mu.Unlock()
	if ok && !stale {
		return k, nil
	}
	if refetch {
		if err := ks.Refresh(ctx); err != nil {
			ks.log.Warn("entraweb: fetching the identity provider's signing keys failed; serving the last keys fetched", "url", ks.url, "err", err)
		}
		ks.mu.Lock()
		k, ok = ks.keys[kid]
		err := ks.lastError
		if !ok && err == nil {
			ks.rememberUnknownLocked(kid, ks.now())
		}
		ks.mu.Unlock()
		if ok {
			return k, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrProviderUnavailable, err)
		}
	}
	return nil, ErrUnknownKey
}

// mayRefetchLocked applies the refetch rules to an unknown kid and spends
// from the untrusted budget when it allows one.
func (ks *KeySet) mayRefetchLocked(kid string, src Source, now time.Time) bool {
	if t, seen := ks.unknown[kid]; seen && now.Sub(t) < ks.unknownTTL {
		return false
	}
	if src == Trusted {
		return true
	}
	if ks.budgetAt.IsZero() {
		ks.budgetAt = now
	}
	if elapsed := now.Sub(ks.budgetAt); elapsed > 0 {
		ks.budget = min(ks.budgetSize, ks.budget+float64(elapsed)/float64(ks.budgetRefill))
		ks.budgetAt = now
	}
	if ks.budget < 1 {
		return false
	}
	ks.budget--
	return true
}

// rememberUnknownLocked notes that a fresh key set does not hold kid.
func (ks *KeySet) rememberUnknownLocked(kid string, now time.Time) {
	if ks.unknown == nil {
		ks.unknown = map[string]time.Time{}
	}
	if len(ks.unknown) >= maxUnknownKids {
		for k, t := range ks.unknown {
			if now.Sub(t) >= ks.unknownTTL {
				delete(ks.unknown, k)
			}
		}
		if len(ks.unknown) >= maxUnknownKids {
			// Every entry is recent: forget all rather than grow. The
			// per-kid rule then allows each one refetch again, which the
			// untrusted budget still limits.
			clear(ks.unknown)
		}
	}
	ks.unknown[kid] = now
}

// Refresh fetches the key set, once at a time: concurrent callers wait
// for the fetch under way.
func (ks *KeySet) Refresh(ctx context.Context) error {
	ks.mu.Lock()
	if ch := ks.inflight; ch != nil {
		ks.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
		ks.mu.Lock()
		defer ks.mu.Unlock()
		return ks.lastError
	}
	ch := make(chan struct{})
	ks.inflight = ch
	ks.mu.Unlock()

	keys, err := ks.fetch(ctx)

	ks.mu.Lock()
	defer ks.mu.Unlock()
	ks.inflight = nil
	close(ch)
	ks.lastError = err
	if err == nil {
		if keysDropped(ks.keys, keys) {
			ks.gen.Add(1)
		}
		ks.keys = keys
		ks.fetched = ks.now()
	}
	return err
}

// Generation changes whenever a fetch of the set finds that a key it
// held before is gone or different: what was verified with the keys of an
// older generation may have been signed with a retired key. A nil set has
// generation 0.
func (ks *KeySet) Generation() uint64 {
	if ks == nil {
		return 0
	}
	return ks.gen.Load()
}

// keysDropped reports whether next lacks a key of prev or holds another
// key or issuer under its id.
func keysDropped(prev, next map[string]*SigningKey) bool {
	for kid, k := range prev {
		n, ok := next[kid]
		if !ok || n.Issuer != k.Issuer || !n.Pub.Equal(k.Pub) {
			return true
		}
	}
	return false
}

const maxJWKSSize = 1 << 20

func (ks *KeySet) fetch(ctx context.Context) (map[string]*SigningKey, error) {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, ks.url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := ks.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: HTTP %d", ks.url, resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKSSize+1))
	if err != nil {
		return nil, err
	}
	if len(body) > maxJWKSSize {
		return nil, fmt.Errorf("GET %s: key set larger than %d bytes", ks.url, maxJWKSSize)
	}
	return parseJWKS(body)
}

// parseJWKS reads the RSA signing keys of a JWKS document and skips
// every other kind.
func parseJWKS(body []byte) (map[string]*SigningKey, error) {
	var doc struct {
		Keys []struct {
			Kty    string `json:"kty"`
			Use    string `json:"use"`
			Kid    string `json:"kid"`
			X5t    string `json:"x5t"`
			N      string `json:"n"`
			E      string `json:"e"`
			Issuer string `json:"issuer"`
		} `json:"keys"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, fmt.Errorf("the key set is not valid JSON: %w", err)
	}
	keys := map[string]*SigningKey{}
	for _, k := range doc.Keys {
		if k.Kty != "RSA" || (k.Use != "" && k.Use != "sig") || k.Kid == "" {
			continue
		}
		n, err1 := base64.RawURLEncoding.DecodeString(k.N)
		e, err2 := base64.RawURLEncoding.DecodeString(k.E)
		if err1 != nil || err2 != nil || len(e) == 0 || len(e) > 4 || len(n) < 256 {
			continue // malformed, or an RSA key under 2048 bits
		}
		exp := int(new(big.Int).SetBytes(e).Int64())
		if exp < 3 || exp%2 == 0 {
			continue
		}
		sk := &SigningKey{Pub: &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: exp}, Issuer: k.Issuer}
		keys[k.Kid] = sk
		if k.X5t != "" {
			// Tokens that name their key by thumbprint only (x5t, as some
			// v1.0 tokens do) find it under this prefix; see KeyID.
			keys[x5tPrefix+k.X5t] = sk
		}
	}
	if len(keys) == 0 {
		return nil, errors.New("the key set holds no usable RSA signing key")
	}
	return keys, nil
}
