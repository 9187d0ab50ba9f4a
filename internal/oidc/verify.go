package oidc

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// IDClaims are the ID token claims entraweb reads. MSAL Go parses none
// of roles, groups or nonce, and validates nothing: this is where it is
// done.
type IDClaims struct {
	jwt.RegisteredClaims
	ObjectID          string            `json:"oid"`
	TenantID          string            `json:"tid"`
	Name              string            `json:"name"`
	PreferredUsername string            `json:"preferred_username"`
	Email             string            `json:"email"`
	Nonce             string            `json:"nonce"`
	Version           string            `json:"ver"`
	SessionID         string            `json:"sid"`
	LoginHint         string            `json:"login_hint"`
	Roles             []string          `json:"roles"`
	Groups            []string          `json:"groups"`
	HasGroups         bool              `json:"hasgroups"`
	ClaimNames        map[string]string `json:"_claim_names"`
}

// GroupsOverage reports whether the token left the groups out because
// the user has too many.
func (c *IDClaims) GroupsOverage() bool {
	_, ok := c.ClaimNames["groups"]
	return ok || c.HasGroups
}

// Verifier validates the provider's tokens: RS256 signature against its
// keys, issuer (exact, or the multi-tenant template checked against tid
// and an allow-list), audience, lifetimes with a small skew, and the
// claims the rest of entraweb relies on.
type Verifier struct {
	Keys     *KeySet
	ClientID string // lower case
	// Issuer is the expected iss; for a multi-tenant authority it holds
	// the literal "{tenantid}" placeholder.
	Issuer string
	// AllowedTenants restricts tid for multi-tenant authorities; nil
	// allows every tenant. Keys are lower case.
	AllowedTenants map[string]bool
	Skew           time.Duration
	Now            func() time.Time
}

// TokenError says why a token was refused. Reason is written for the
// page and the log: it never holds the token.
type TokenError struct {
	Reason string
	Err    error
}

func (e *TokenError) Error() string {
	if e.Err != nil {
		return "invalid ID token: " + e.Reason + ": " + e.Err.Error()
	}
	return "invalid ID token: " + e.Reason
}

func (e *TokenError) Unwrap() error { return e.Err }

func refuse(reason string, err error) error { return &TokenError{Reason: reason, Err: err} }

// VerifyIDToken validates raw and returns its claims. nonce is the value
// the sign-in sent to the authorize endpoint. An error is a *TokenError,
// or wraps ErrProviderUnavailable when the keys could not be fetched.
func (v *Verifier) VerifyIDToken(ctx context.Context, raw, nonce string) (*IDClaims, error) {
	var keyIssuer string
	var keyErr error
	parser := jwt.NewParser(
		jwt.WithValidMethods([]string{"RS256"}),
		jwt.WithAudience(v.ClientID),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(v.Skew),
		jwt.WithTimeFunc(v.Now),
	)
	var c IDClaims
	_, err := parser.ParseWithClaims(raw, &c, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		if kid == "" {
			return nil, errors.New("the token header has no kid")
		}
		k, err := v.Keys.Key(ctx, kid, Trusted) // from the token endpoint
		if err != nil {
			keyErr = err
			return nil, err
		}
		keyIssuer = k.Issuer
		return k.Pub, nil
	})
	switch {
	case errors.Is(keyErr, ErrProviderUnavailable):
		return nil, keyErr
	case errors.Is(keyErr, ErrUnknownKey):
		return nil, refuse("unknown signing key", keyErr)
	case errors.Is(err, jwt.ErrTokenMalformed):
		return nil, refuse("malformed token", nil)
	case errors.Is(err, jwt.ErrTokenSignatureInvalid), errors.Is(err, jwt.ErrTokenUnverifiable):
		return nil, refuse("bad signature or algorithm (only RS256 is accepted)", nil)
	case errors.Is(err, jwt.ErrTokenExpired):
		return nil, refuse("expired", nil)
	case errors.Is(err, jwt.ErrTokenNotValidYet), errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return nil, refuse("not valid yet (check this machine's clock)", nil)
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		return nil, refuse("audience is not this app's client id", nil)
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return nil, refuse("missing exp claim", nil)
	case err != nil:
		return nil, refuse("not acceptable", err)
	}
	// Claims the rest of entraweb keys on must be there.
	switch {
	case c.IssuedAt == nil:
		return nil, refuse("missing iat claim", nil)
	case c.Subject == "":
		return nil, refuse("missing sub claim", nil)
	case c.ObjectID == "":
		return nil, refuse("missing oid claim", nil)
	case c.TenantID == "":
		return nil, refuse("missing tid claim", nil)
	case c.Version != "2.0":
		return nil, refuse(fmt.Sprintf("token version %q (a v2.0 ID token is expected)", c.Version), nil)
	case len(c.Audience) != 1:
		return nil, refuse("the token has more than one audience", nil)
	}
	want := strings.ReplaceAll(v.Issuer, TenantPlaceholder, c.TenantID)
	if c.Issuer != want {
		return nil, refuse(fmt.Sprintf("issuer %q is not %q", c.Issuer, want), nil)
	}
	if keyIssuer != "" && strings.ReplaceAll(keyIssuer, TenantPlaceholder, c.TenantID) != c.Issuer {
		return nil, refuse("signed with a key published for another issuer", nil)
	}
	if v.AllowedTenants != nil && !v.AllowedTenants[strings.ToLower(c.TenantID)] {
		return nil, refuse(fmt.Sprintf("tenant %s is not in AllowedTenants", c.TenantID), nil)
	}
	if c.Nonce == "" || subtle.ConstantTimeCompare([]byte(c.Nonce), []byte(nonce)) != 1 {
		return nil, refuse("nonce does not match this sign-in", nil)
	}
	slices.Sort(c.Roles)
	c.Roles = slices.Compact(c.Roles)
	return &c, nil
}
