package entraweb

import (
	"context"
	"errors"
)

// AppToken returns an access token of the app itself (no user), e.g. for
// "https://graph.microsoft.com/.default" or "api://other-api/.default".
// Client credentials ask for a resource's ".default" scope; the token
// carries the application permissions granted to the app.
func (a *Auth) AppToken(ctx context.Context, scopes ...string) (string, error) {
	if len(scopes) == 0 {
		return "", errors.New("entraweb: AppToken needs a scope such as https://graph.microsoft.com/.default")
	}
	tok, err := a.tokens.AppToken(ctx, scopes)
	if err != nil {
		return "", providerError(err, scopes...)
	}
	return tok, nil
}
