package entraweb

import (
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
)

// Errors of OnBehalfOf that concern how it is called.
var (
	// ErrNotAPICall: OnBehalfOf was called for a request that did not
	// pass RequireScope, RequireAppRole or RequireScopeOrAppRole, so it
	// carries no validated bearer token.
	ErrNotAPICall = errors.New("entraweb: OnBehalfOf needs a request that passed RequireScope, RequireAppRole or RequireScopeOrAppRole")
	// ErrAppOnlyToken: the API's caller is an app (client credentials),
	// and on-behalf-of needs a user. Use AppToken for the app's own token.
	ErrAppOnlyToken = errors.New("entraweb: on-behalf-of needs a user's token, and this call carries an app-only token (client credentials); use AppToken for the app's own access")
)

// OnBehalfOf returns an access token for scopes (e.g. "User.Read" for
// Microsoft Graph, or "api://other-api/read") that acts for the user
// whose token called this API: the on-behalf-of flow, through MSAL Go.
// The request must have passed RequireScope, RequireAppRole or
// RequireScopeOrAppRole. Tokens are cached per incoming token, in the
// session store, until that token expires: a client calling again with
// the same token costs no request to Entra ID.
//
// App-only callers get ErrAppOnlyToken. When only the user can help
// (consent missing, a claims challenge of Conditional Access) the error
// matches ErrInteractionRequired: hand it, like any error of this
// method, to APIChallenge.
func (a *Auth) OnBehalfOf(r *http.Request, scopes ...string) (string, error) {
	call, _ := r.Context().Value(apiCallKey{}).(*apiCall)
	if call == nil {
		return "", ErrNotAPICall
	}
	if call.claims.IsApp() {
		return "", ErrAppOnlyToken
	}
	if err := resourceScopes("OnBehalfOf", scopes); err != nil {
		return "", err
	}
	tenant := ""
	if a.s.multiTenant {
		tenant = call.claims.TenantID // the user's, not "organizations"
	}
	tok, err := a.tokens.OnBehalfOf(r.Context(), call.raw, call.claims.ExpiresAt.Time, tenant, scopes)
	if err != nil {
		return "", tokenError(err, scopes)
	}
	return tok, nil
}

// APIChallenge answers an API call whose handler got an error from
// OnBehalfOf (or from ClaimsChallenge, for a downstream resource's claims
// challenge), in a form the calling client can act on; it reports
// whether it wrote a response (always, for a non-nil err):
//
//   - a claims challenge (Conditional Access, continuous access
//     evaluation): 401 with WWW-Authenticate: Bearer
//     error="insufficient_claims", claims="<base64>", when the client's
//     token declares the cp1 capability (xms_cc), so that it gets a new
//     token with those claims; 403 with a message otherwise, since such
//     a client cannot answer the challenge;
//   - other interaction (consent missing): 403, error
//     "interaction_required", naming the scopes to consent to;
//   - ErrAppOnlyToken: 403; ErrNotAPICall: 500;
//   - the session store or the provider down: 503; anything else: 500.
//
// Bodies are JSON {"error", "message"}.
func (a *Auth) APIChallenge(w http.ResponseWriter, r *http.Request, err error) bool {
	if err == nil {
		return false
	}
	call, _ := r.Context().Value(apiCallKey{}).(*apiCall)
	var ire *InteractionRequiredError
	switch {
	case errors.As(err, &ire) && ire.Claims != "":
		a.log.Info("entraweb: a downstream token needs more claims", "scopes", strings.Join(ire.Scopes, " "))
		if call != nil && call.claims.HasCapability("cp1") {
			a.apiAnswer(w, r, http.StatusUnauthorized,
				`Bearer error="insufficient_claims", error_description="the token must carry more claims (Conditional Access)", claims="`+
					base64.StdEncoding.EncodeToString([]byte(ire.Claims))+`"`,
				"insufficient_claims", "Conditional Access needs more claims: get a new token for this API with the claims of the WWW-Authenticate challenge (MSAL: WithClaims), then call again.")
			return true
		}
		a.apiAnswer(w, r, http.StatusForbidden, "", "interaction_required",
			"Conditional Access needs more claims, and this client did not declare the cp1 capability, so it cannot be sent a claims challenge: sign in again interactively, or declare the capability (MSAL: client capabilities [\"cp1\"]).")
	case errors.As(err, &ire):
		a.log.Info("entraweb: a downstream token needs the user", "scopes", strings.Join(ire.Scopes, " "))
		a.apiAnswer(w, r, http.StatusForbidden, "", "interaction_required",
			"The user must consent to "+strings.Join(ire.Scopes, " ")+" for this API (or an administrator for the tenant), or sign in again; then call again.")
	case errors.Is(err, ErrAppOnlyToken):
		a.apiAnswer(w, r, http.StatusForbidden, "", "invalid_request", "This operation acts for a user, and the access token is an app's (client credentials): call it with a user's token.")
	case errors.Is(err, ErrNotAPICall):
		a.log.Error("entraweb: OnBehalfOf called outside RequireScope, RequireAppRole or RequireScopeOrAppRole", "path", r.URL.Path)
		a.apiAnswer(w, r, http.StatusInternalServerError, "", "server_error", "The API is misconfigured (see its log).")
	case errors.Is(err, ErrStoreUnavailable), errors.Is(err, ErrProviderUnavailable):
		a.log.Warn("entraweb: a downstream token could not be had", "err", err)
		w.Header().Set("Retry-After", "5")
		a.apiAnswer(w, r, http.StatusServiceUnavailable, "", "temporarily_unavailable", "A service this API depends on is unavailable; try again shortly.")
	default:
		a.log.Error("entraweb: a downstream token could not be had", "err", err)
		a.apiAnswer(w, r, http.StatusInternalServerError, "", "server_error", "The API could not get a token for a downstream service (see its log).")
	}
	return true
}
