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

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/confidential"
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

// refreshMargin: a token with less than this left is not handed out, as
// MSAL itself does; the caller's request must not carry a token that
// expires on the way.
const refreshMargin = 5 * time.Minute

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
	partition := partitionKey(u.ObjectID, u.TenantID)
	key := scopesKey(scopes)
	idx, err := a.tokens.loadIndex(ctx, partition)
	if err != nil {
		return "", fmt.Errorf("%w: token cache: %w", ErrStoreUnavailable, err)
	}
	if tok, ok := idx.lookup(key, a.s.now(), refreshMargin); ok {
		return tok, nil
	}
	unlock := a.tokens.lock(partition)
	defer unlock()
	// Another request of the user may have refreshed while this one waited.
	rec, err := a.tokens.load(ctx, partition)
	if err != nil {
		return "", fmt.Errorf("%w: token cache: %w", ErrStoreUnavailable, err)
	}
	if tok, ok := rec.lookup(key, a.s.now(), refreshMargin); ok {
		return tok, nil
	}
	if len(rec.msal) == 0 {
		return "", &InteractionRequiredError{Scopes: scopes, Cause: errNoPartition}
	}
	c, err := a.msal.get(ctx)
	if err != nil {
		return "", err
	}
	defer a.msal.put(c)
	c.cache.data = rec.msal
	acct, err := c.app.Account(ctx, partition)
	if err != nil || acct.HomeAccountID == "" {
		return "", &InteractionRequiredError{Scopes: scopes, Cause: errNoPartition}
	}
	res, err := c.app.AcquireTokenSilent(ctx, scopes, confidential.WithSilentAccount(acct))
	if err != nil {
		return "", a.tokenError(err, scopes)
	}
	rec.msal = c.cache.data
	rec.remember(key, res.AccessToken, res.ExpiresOn)
	if err := a.tokens.save(ctx, partition, rec); err != nil {
		// The token is good; only the next call will have to refresh.
		a.log.Warn("entraweb: could not store the token cache", "user_oid", u.ObjectID, "err", err)
	}
	return res.AccessToken, nil
}

// tokenError sorts MSAL's failures: what the user must fix by signing in,
// what is the provider's outage, and the rest.
func (a *Auth) tokenError(err error, scopes []string) error {
	if _, ok := fromMSAL(err); !ok {
		// MSAL's own "no token, no refresh token" is the user's to fix.
		if strings.Contains(err.Error(), "no token found") || strings.Contains(err.Error(), "refresh token") {
			return &InteractionRequiredError{Scopes: scopes, Cause: err}
		}
	}
	err = msalFailure(err, scopes)
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
