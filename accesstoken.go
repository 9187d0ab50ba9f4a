package entraweb

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/entraweb/entraweb/internal/tokencache"
)

// AccessToken returns an access token of the signed-in user of r for
// scopes, e.g. "User.Read" for Microsoft Graph or "api://my-api/read". A
// cached token with time left costs one store read and no network call;
// otherwise MSAL Go refreshes it with the user's refresh token (one
// refresh for any number of concurrent requests of the user). When only
// the user can help (consent, a revoked grant, a claims challenge), the
// error matches ErrInteractionRequired: hand it to Challenge.
func (a *Auth) AccessToken(r *http.Request, scopes ...string) (string, error) {
	u := UserFrom(r.Context())
	if u == nil {
		var err error
		if u, _, err = a.currentUser(r); err != nil {
			return "", err
		}
		if u == nil {
			return "", ErrNotSignedIn
		}
	}
	return a.userToken(r.Context(), u, scopes)
}

// userToken serves a token of u from the cache, or refreshes it. A claims
// challenge never comes here: MSAL Go refuses claims on a silent call, so
// Challenge answers it with a new sign-in that carries the claims.
func (a *Auth) userToken(ctx context.Context, u *User, scopes []string) (string, error) {
	if err := resourceScopes("AccessToken", scopes); err != nil {
		return "", err
	}
	tok, err := a.tokens.Token(ctx, u.partition(), scopes)
	if err != nil {
		return "", tokenError(err, scopes)
	}
	return tok, nil
}

// resourceScopes checks the scopes a user's token is asked for: at least
// one, and none of OpenID Connect's own, which name no resource (Entra
// ID would answer with an ID token's worth of nothing).
func resourceScopes(method string, scopes []string) error {
	if len(scopes) == 0 {
		return fmt.Errorf("entraweb: %s needs at least one scope, such as User.Read", method)
	}
	for _, s := range scopes {
		switch strings.ToLower(s) {
		case "openid", "profile", "offline_access", "email":
			return fmt.Errorf("entraweb: %q is not a resource scope; ask for the API's scopes, e.g. User.Read", s)
		}
	}
	return nil
}

// tokenError turns tokencache's failures into entraweb's: what the user
// must fix by signing in, the provider's refusal or outage, the store's.
func tokenError(err error, scopes []string) error {
	if errors.Is(err, tokencache.ErrNoRefreshToken) {
		return &InteractionRequiredError{Scopes: scopes, Cause: err}
	}
	err = providerError(err, scopes...)
	var ae *AADSTSError
	if errors.As(err, &ae) {
		switch ae.Err {
		case "invalid_grant", "interaction_required", "consent_required", "login_required":
			return &InteractionRequiredError{Scopes: scopes, Claims: ae.Claims, Cause: ae}
		}
	}
	return err
}
