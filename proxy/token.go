package proxy

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"time"
)

// dotnetTime is how App Service writes times (X-MS-TOKEN-AAD-EXPIRES-ON,
// /.auth/me's expires_on): UTC with seven fractional digits.
const dotnetTime = "2006-01-02T15:04:05.0000000Z"

// accessToken is the user's access token for the configured scopes, with
// its expiry in App Service's format ("" when it cannot be read).
type accessToken struct {
	token, expiresOn string
}

type tokenKey struct{}

func withToken(ctx context.Context, t *accessToken) context.Context {
	return context.WithValue(ctx, tokenKey{}, t)
}

func tokenFrom(ctx context.Context) *accessToken {
	t, _ := ctx.Value(tokenKey{}).(*accessToken)
	return t
}

// token gets the signed-in user's access token for the configured scopes
// (a store read when cached, a silent refresh when expiring). A failure
// goes to Auth.Challenge, which knows what to answer.
func (h *Handler) token(r *http.Request) (*accessToken, error) {
	tok, err := h.auth.AccessToken(r, h.s.scopes...)
	if err != nil {
		return nil, err
	}
	return &accessToken{token: tok, expiresOn: h.expiries.get(tok)}, nil
}

// expiryCache remembers the expiry read from each recent token, so a
// token is decoded once, not on every request that forwards it.
type expiryCache struct {
	mu sync.Mutex
	m  map[string]string
}

const maxCachedExpiries = 10000

func (c *expiryCache) get(tok string) string {
	c.mu.Lock()
	e, ok := c.m[tok]
	c.mu.Unlock()
	if ok {
		return e
	}
	if exp, ok := tokenExpiry(tok); ok {
		e = exp.UTC().Format(dotnetTime)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= maxCachedExpiries {
		c.m = map[string]string{}
	}
	c.m[tok] = e
	return e
}

// tokenExpiry reads the exp claim of an access token that is a JWT. The
// token came from Entra ID through MSAL's cache and is only being
// described, not trusted: its signature is not checked here. Tokens for
// some resources are opaque; then there is no expiry to tell.
func tokenExpiry(tok string) (time.Time, bool) {
	_, rest, ok := strings.Cut(tok, ".")
	if !ok {
		return time.Time{}, false
	}
	payload, _, ok := strings.Cut(rest, ".")
	if !ok {
		return time.Time{}, false
	}
	b, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		return time.Time{}, false
	}
	var c struct {
		Exp json.Number `json:"exp"`
	}
	if json.Unmarshal(b, &c) != nil {
		return time.Time{}, false
	}
	n, err := c.Exp.Int64()
	if err != nil || n <= 0 {
		return time.Time{}, false
	}
	return time.Unix(n, 0), true
}
