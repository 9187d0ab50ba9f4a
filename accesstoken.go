package entraweb

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/entraweb/entraweb/internal/tokencache"
)

// ErrInteractionRequired is matched (errors.Is) by the errors of
// AccessToken that only the user can fix by signing in again: consent
// missing, a refresh token revoked or expired, a claims challenge.
var ErrInteractionRequired = errors.New("entraweb: the user must sign in again")

// InteractionRequiredError says what a new sign-in must ask for. Pass it
// to Auth.Challenge.
type InteractionRequiredError struct {
	Scopes []string // the scopes the token was asked for
	Claims string   // a claims challenge to send to Entra ID, if any
	Cause  error    // the provider's answer (*AADSTSError) or why there is no token
}

func (e *InteractionRequiredError) Error() string {
	return fmt.Sprintf("entraweb: sign-in needed for %s: %v", strings.Join(e.Scopes, " "), e.Cause)
}

func (e *InteractionRequiredError) Is(target error) bool { return target == ErrInteractionRequired }
func (e *InteractionRequiredError) Unwrap() error        { return e.Cause }

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
		if u, _, err = a.currentUser(nil, r); err != nil {
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
	if len(scopes) == 0 {
		return "", errors.New("entraweb: AccessToken needs at least one scope")
	}
	for _, s := range scopes {
		switch strings.ToLower(s) {
		case "openid", "profile", "offline_access", "email":
			return "", fmt.Errorf("entraweb: %q is not a resource scope; ask for the API's scopes, e.g. User.Read", s)
		}
	}
	tok, err := a.tokens.Token(ctx, tokencache.PartitionKey(u.ObjectID, u.TenantID), scopes)
	if err != nil {
		return "", tokenError(err, scopes)
	}
	return tok, nil
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

// Challenge answers a request whose handler got an error from
// AccessToken. For ErrInteractionRequired it starts a new sign-in that
// asks for the missing scopes (incremental consent) and carries any claims
// challenge, then comes back to the same page; an API call gets 401 JSON
// with the login_url instead. Other errors get a 503 (session store
// down), 502 (provider down) or 500 page. It reports whether it wrote a
// response (always, for a non-nil err).
func (a *Auth) Challenge(w http.ResponseWriter, r *http.Request, err error) bool {
	if err == nil {
		return false
	}
	var ire *InteractionRequiredError
	switch {
	case errors.As(err, &ire):
		a.log.Info("entraweb: sign-in needed for a token", "scopes", strings.Join(ire.Scopes, " "), "claims_challenge", ire.Claims != "")
		ret := r.URL.RequestURI()
		if _, ok := safeReturnPath(ret); !ok {
			ret = "/"
		}
		login := a.loginURL(r, ret) + "&req=" + url.QueryEscape(a.sealStepUp(ire.Scopes, ire.Claims))
		if mayRedirectToSignIn(r) {
			w.Header().Set("Cache-Control", "no-store")
			http.Redirect(w, r, login, http.StatusFound)
			return true
		}
		w.Header().Set("WWW-Authenticate", `Bearer realm="entraweb", error="interaction_required"`)
		a.render(w, r, page{Status: http.StatusUnauthorized, Code: "interaction_required", Title: "Sign-in required",
			Message: "This needs you to sign in again (consent or a fresh sign-in).", Links: []link{{login, "Sign in"}}})
	case errors.Is(err, ErrNotSignedIn):
		a.challenge(w, r)
	case errors.Is(err, ErrStoreUnavailable):
		a.storeUnavailable(w, r, err)
	case errors.Is(err, ErrProviderUnavailable):
		a.log.Error("entraweb: token acquisition failed", "err", err)
		w.Header().Set("Retry-After", "10")
		a.render(w, r, page{Status: http.StatusBadGateway, Code: "provider_unavailable", Title: "Temporarily unavailable",
			Message: "Microsoft Entra ID could not be reached.", Fix: "Try again in a moment.",
			Links: []link{{a.s.baseURL(r).Path + r.URL.RequestURI(), "Try again"}}})
	default:
		a.log.Error("entraweb: token acquisition failed", "err", err)
		a.render(w, r, page{Status: http.StatusInternalServerError, Code: "token_error", Title: "Something went wrong",
			Message: "An access token could not be obtained.", Fix: "Try again; if it persists, tell the app's owners."})
	}
	return true
}

// stepUp is what a challenge asks the next sign-in for. It travels sealed
// in the login URL, so a link made by someone else cannot make a user
// consent to scopes the app never asked for.
type stepUp struct {
	Scopes  []string `json:"s"`
	Claims  string   `json:"c,omitempty"`
	Expires int64    `json:"x"`
}

func (a *Auth) sealStepUp(scopes []string, claims string) string {
	b, _ := json.Marshal(stepUp{Scopes: scopes, Claims: claims, Expires: a.s.now().Add(10 * time.Minute).Unix()})
	return base64.RawURLEncoding.EncodeToString(a.pending.box.Seal(b, []byte("entraweb-step-up")))
}

func (a *Auth) openStepUp(v string) (*stepUp, bool) {
	if v == "" || len(v) > 8192 {
		return nil, false
	}
	raw, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil {
		return nil, false
	}
	pt, err := a.pending.box.Open(raw, []byte("entraweb-step-up"))
	if err != nil {
		return nil, false
	}
	var su stepUp
	if json.Unmarshal(pt, &su) != nil || a.s.now().Unix() >= su.Expires {
		return nil, false
	}
	return &su, true
}
