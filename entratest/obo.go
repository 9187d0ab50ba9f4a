package entratest

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// grantJWTBearer is the grant type of the on-behalf-of flow.
const grantJWTBearer = "urn:ietf:params:oauth:grant-type:jwt-bearer"

// onBehalfOf answers the on-behalf-of grant: a middle-tier API (client)
// exchanges the access token a user's client sent it (assertion) for a
// token of another resource, for the same user. The assertion must be a
// delegated token this emulator issued for the client's own API, still
// valid; the user must have consented to the scopes asked for; and every
// authentication context a claims request asks for must be in the
// assertion's acrs, else the answer is interaction_required with the
// claims, for the API to pass back to its client.
func (s *Server) onBehalfOf(wd *world, a authority, client *appRef, acr string, f url.Values) (map[string]any, *aadError) {
	if f.Get("requested_token_use") != "on_behalf_of" {
		return nil, newErr(http.StatusBadRequest, 9002313, "The jwt-bearer grant needs requested_token_use=on_behalf_of.")
	}
	if acr == "0" {
		return nil, newErr(http.StatusUnauthorized, 7000218, "")
	}
	assertion := f.Get("assertion")
	if assertion == "" {
		return nil, newErr(http.StatusBadRequest, 900144, "The request body must contain the following parameter: 'assertion'.")
	}
	p, ok := s.verifyOwnToken(assertion, client.ClientID)
	if !ok {
		p, ok = s.verifyOwnToken(assertion, client.IdentifierURI)
	}
	if !ok {
		return nil, newErr(http.StatusBadRequest, 50013, "The assertion is not a valid token of this emulator for the API of the calling application, or it has expired.")
	}
	if p.str(p.claims, "idtyp") != "user" {
		return nil, newErr(http.StatusBadRequest, 50013, "The assertion is an app-only token; on-behalf-of needs a user's token.")
	}
	u := wd.usersOID[p.str(p.claims, "oid")]
	switch {
	case u == nil:
		return nil, newErr(http.StatusBadRequest, 50034, "")
	case u.Disabled:
		return nil, newErr(http.StatusBadRequest, 50057, "")
	case !a.multi() && a.tenant.ID != u.tenant.ID:
		return nil, newErr(http.StatusBadRequest, 50020, "")
	}
	claims := f.Get("claims")
	var held []string
	if vs, ok := p.claims["acrs"].([]any); ok {
		for _, v := range vs {
			if id, ok := v.(string); ok {
				held = append(held, id)
			}
		}
	}
	for _, id := range requestedACRS(claims) {
		if !slices.Contains(held, id) {
			return nil, &aadError{status: http.StatusBadRequest, code: 50076, claims: claims,
				detail: "The user's token lacks the authentication context '" + clip(id) + "'; the client must get a new token with these claims."}
		}
	}
	scope := f.Get("scope")
	if strings.TrimSpace(scope) == "" {
		return nil, newErr(http.StatusBadRequest, 900144, "The request body must contain the following parameter: 'scope'.")
	}
	return s.userGrant(wd, client, acr, u, scope, "", p.str(p.claims, "sid"), 0, newGUID(), s.revocationGen(u.ObjectID),
		f.Get("client_info") == "1", held, requestedCapabilities(claims))
}
