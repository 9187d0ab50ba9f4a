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
	// Access is set for an access token (a bearer token sent to an API),
	// clear for an ID token.
	Access bool
}

func (e *TokenError) Error() string {
	kind := "invalid ID token: "
	if e.Access {
		kind = "invalid access token: "
	}
	if e.Err != nil {
		return kind + e.Reason + ": " + e.Err.Error()
	}
	return kind + e.Reason
}

func (e *TokenError) Unwrap() error { return e.Err }

func refuse(reason string, err error) error { return &TokenError{Reason: reason, Err: err} }

// errGraphToken is the key function's answer to a token of Microsoft
// Graph, known by the nonce in its header.
var errGraphToken = errors.New("graph token")

var errNoKeyID = errors.New("no key id")

// parse checks what ID and access tokens share: the RS256 signature with
// a key of the set (found by kid, else x5t; src says how freely an
// unknown key may cause a refetch), exp (required), nbf and iat with the
// skew, plus opts. It fills claims and returns the issuer the signing
// key is published for ("" when the key names none). An error is a
// *TokenError or wraps ErrProviderUnavailable.
func (v *Verifier) parse(ctx context.Context, raw string, src Source, claims jwt.Claims, opts ...jwt.ParserOption) (keyIssuer string, err error) {
	var keyErr error
	parser := jwt.NewParser(append([]jwt.ParserOption{
		jwt.WithValidMethods([]string{"RS256"}),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(v.Skew),
		jwt.WithTimeFunc(v.Now),
	}, opts...)...)
	_, err = parser.ParseWithClaims(raw, claims, func(t *jwt.Token) (any, error) {
		if _, ok := t.Header["nonce"]; ok {
			// Graph hashes this nonce into its tokens' signatures: nobody
			// else can verify them, and they are never for this app.
			keyErr = errGraphToken
			return nil, keyErr
		}
		kid, _ := t.Header["kid"].(string)
		x5t, _ := t.Header["x5t"].(string)
		id := KeyID(kid, x5t)
		if id == "" {
			keyErr = errNoKeyID
			return nil, keyErr
		}
		k, err := v.Keys.Key(ctx, id, src)
		if err != nil {
			keyErr = err
			return nil, err
		}
		keyIssuer = k.Issuer
		return k.Pub, nil
	})
	switch {
	case keyErr == errGraphToken:
		return "", refuse("a Microsoft Graph token (its header carries a nonce): it is for Graph, not for this app; ask Entra ID for a token with this API's scope", nil)
	case keyErr == errNoKeyID:
		return "", refuse("the token header names no signing key (kid or x5t)", nil)
	case errors.Is(keyErr, ErrProviderUnavailable):
		return "", keyErr
	case errors.Is(keyErr, ErrUnknownKey):
		return "", refuse("unknown signing key", keyErr)
	case errors.Is(err, jwt.ErrTokenMalformed):
		return "", refuse("malformed token", nil)
	case errors.Is(err, jwt.ErrTokenSignatureInvalid), errors.Is(err, jwt.ErrTokenUnverifiable):
		return "", refuse("bad signature or algorithm (only RS256 is accepted)", nil)
	case errors.Is(err, jwt.ErrTokenExpired):
		return "", refuse("expired", nil)
	case errors.Is(err, jwt.ErrTokenNotValidYet), errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return "", refuse("not valid yet (check this machine's clock)", nil)
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		return "", refuse("audience is not this app's client id", nil)
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		// golang-jwt says only that a required claim is missing; which
		// one tells the operator what went wrong.
		missing := "a required claim"
		if exp, e := claims.GetExpirationTime(); e == nil && exp == nil {
			missing = "exp claim"
		} else if aud, e := claims.GetAudience(); e == nil && len(aud) == 0 {
			missing = "aud claim"
		}
		return "", refuse("missing "+missing, nil)
	case err != nil:
		return "", refuse("not acceptable", err)
	}
	return keyIssuer, nil
}

// checkIssuer compares a token's iss with want (templates hold the tenant
// placeholder, replaced by tid), then the signing key's own issuer, then
// the tenant allow-list. v1Issuer, when set, is the v1.0 issuer the token
// was matched against instead: a key published for the tenant's v2.0
// issuer signs its v1.0 tokens too.
func (v *Verifier) checkIssuer(iss, tid, want, keyIssuer string, v1 bool) error {
	want = strings.ReplaceAll(want, TenantPlaceholder, tid)
	if iss != want {
		return refuse(fmt.Sprintf("issuer %q is not %q", clip(iss), clip(want)), nil)
	}
	if keyIssuer != "" {
		ki := strings.ReplaceAll(keyIssuer, TenantPlaceholder, tid)
		if ki != iss && (!v1 || ki != strings.ReplaceAll(v.Issuer, TenantPlaceholder, tid)) {
			return refuse("signed with a key published for another issuer", nil)
		}
	}
	if v.AllowedTenants != nil && !v.AllowedTenants[strings.ToLower(tid)] {
		return refuse(fmt.Sprintf("tenant %s is not in AllowedTenants", tid), nil)
	}
	return nil
}

// VerifyIDToken validates raw and returns its claims. nonce is the value
// the sign-in sent to the authorize endpoint. An error is a *TokenError,
// or wraps ErrProviderUnavailable when the keys could not be fetched.
func (v *Verifier) VerifyIDToken(ctx context.Context, raw, nonce string) (*IDClaims, error) {
	var c IDClaims
	// From the token endpoint: an unknown key always gets its refetch.
	keyIssuer, err := v.parse(ctx, raw, Trusted, &c, jwt.WithAudience(v.ClientID))
	if err != nil {
		return nil, err
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
		return nil, refuse(fmt.Sprintf("token version %q (a v2.0 ID token is expected)", clip(c.Version)), nil)
	case len(c.Audience) != 1:
		return nil, refuse("the token has more than one audience", nil)
	}
	if err := v.checkIssuer(c.Issuer, c.TenantID, v.Issuer, keyIssuer, false); err != nil {
		return nil, err
	}
	if c.Nonce == "" || subtle.ConstantTimeCompare([]byte(c.Nonce), []byte(nonce)) != 1 {
		return nil, refuse("nonce does not match this sign-in", nil)
	}
	slices.Sort(c.Roles)
	c.Roles = slices.Compact(c.Roles)
	return &c, nil
}
