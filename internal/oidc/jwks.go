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
	"time"
)

// KeySet caches the identity provider's signing keys (its JWKS).
//
// Keys are fetched at start-up and again when they are older than maxAge.
// A token signed with a key the set does not hold triggers a refetch, at
// most once per minRefetch: a flood of unknown key ids must not become a
// flood of requests to the provider. While the provider cannot be reached,
// the last keys fetched keep being served.
type KeySet struct {
	url        string
	client     *http.Client
	now        func() time.Time
	log        *slog.Logger
	maxAge     time.Duration
	minRefetch time.Duration

	mu        sync.Mutex
	keys      map[string]*SigningKey
	fetched   time.Time // last successful fetch
	lastMiss  time.Time // last refetch caused by an unknown kid
	lastError error
	inflight  chan struct{} // closed when the fetch under way ends
}

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
	return &KeySet{url: url, client: client, now: now, log: log, maxAge: 24 * time.Hour, minRefetch: time.Minute}
}

// Key returns the key with id kid.
func (ks *KeySet) Key(ctx context.Context, kid string) (*SigningKey, error) {
	ks.mu.Lock()
	k, ok := ks.keys[kid]
	now := ks.now()
	stale := now.Sub(ks.fetched) > ks.maxAge
	missRefetch := !ok && now.Sub(ks.lastMiss) >= ks.minRefetch
	ks.mu.Unlock()
	if ok && !stale {
		return k, nil
	}
	if stale || missRefetch {
		if !stale {
			ks.mu.Lock()
			ks.lastMiss = now
			ks.mu.Unlock()
		}
		if err := ks.Refresh(ctx); err != nil {
			ks.log.Warn("entraweb: fetching the identity provider's signing keys failed; serving the last keys fetched", "url", ks.url, "err", err)
		}
		ks.mu.Lock()
		k, ok = ks.keys[kid]
		err := ks.lastError
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
		ks.keys = keys
		ks.fetched = ks.now()
	}
	return err
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
		keys[k.Kid] = &SigningKey{Pub: &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: exp}, Issuer: k.Issuer}
	}
	if len(keys) == 0 {
		return nil, errors.New("the key set holds no usable RSA signing key")
	}
	return keys, nil
}
