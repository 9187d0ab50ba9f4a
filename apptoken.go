package entraweb

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
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

// ClaimsChallenge reads a resource's answer: when it is a 401 with a
// claims challenge (WWW-Authenticate: Bearer ... error="insufficient_claims",
// claims="..."), as Microsoft Graph sends under Conditional Access or
// continuous access evaluation, it returns an InteractionRequiredError to
// pass to Challenge, which signs the user in again with those claims.
// Otherwise it returns nil.
//
//	if err := auth.ClaimsChallenge(resp, "User.Read"); err != nil {
//		auth.Challenge(w, r, err)
//		return
//	}
func (a *Auth) ClaimsChallenge(resp *http.Response, scopes ...string) error {
	if resp == nil || resp.StatusCode != http.StatusUnauthorized {
		return nil
	}
	for _, h := range resp.Header.Values("WWW-Authenticate") {
		params := parseAuthParams(h)
		if params["error"] != "insufficient_claims" || params["claims"] == "" {
			continue
		}
		claims := params["claims"]
		if b, err := base64.StdEncoding.DecodeString(claims); err == nil {
			claims = string(b)
		} else if b, err := base64.RawURLEncoding.DecodeString(claims); err == nil {
			claims = string(b)
		}
		if len(claims) > 4096 || !strings.HasPrefix(strings.TrimSpace(claims), "{") {
			return nil
		}
		return &InteractionRequiredError{Scopes: scopes, Claims: claims, Cause: errors.New("the resource asked for more claims (a claims challenge)")}
	}
	return nil
}

// parseAuthParams reads the auth-params of a Bearer challenge:
// key="value" pairs separated by commas.
func parseAuthParams(h string) map[string]string {
	out := map[string]string{}
	scheme, rest, _ := strings.Cut(strings.TrimSpace(h), " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return out
	}
	for rest != "" {
		rest = strings.TrimLeft(rest, " ,")
		k, v, ok := strings.Cut(rest, "=")
		if !ok {
			break
		}
		k = strings.ToLower(strings.TrimSpace(k))
		if strings.HasPrefix(v, `"`) {
			end := strings.Index(v[1:], `"`)
			if end < 0 {
				break
			}
			out[k] = v[1 : 1+end]
			rest = v[2+end:]
		} else {
			val, tail, _ := strings.Cut(v, ",")
			out[k] = strings.TrimSpace(val)
			rest = tail
		}
	}
	return out
}
