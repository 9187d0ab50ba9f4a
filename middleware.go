package entraweb

import (
	"fmt"
	"net/http"

	"github.com/entraweb/entraweb/session"
)

// currentUser loads the session of a request and its user (both shared
// with the session's other requests: read-only); (nil, nil,
// nil) when nobody is signed in. An error means the store failed, which
// must never be taken for "signed out".
func (a *Auth) currentUser(r *http.Request) (*User, *session.Session, error) {
	sess, err := a.sessions.LoadShared(r.Context(), r)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrStoreUnavailable, err)
	}
	if sess == nil {
		return nil, nil, nil
	}
	// Decoded once per stored version of the session, then shared by its
	// requests.
	u, _ := sess.Memo(a.sessionUser).(*User)
	if u == nil {
		return nil, nil, nil
	}
	if err := a.sessions.Touch(r.Context(), sess); err != nil {
		// The request can go on: only the idle timestamp was not written.
		a.log.Warn("entraweb: could not record session activity", "err", err)
	}
	return u, sess, nil
}

// RequireLogin lets signed-in users through to next, with the user in the
// request's context (UserFrom). A page load without a session is sent to
// sign in and comes back to the same URL; an API call, a fetch or a
// non-GET gets 401 JSON with a login_url instead, so scripts never follow
// a redirect into a sign-in page. With a MinimumRole configured, users
// without it get the 403 page.
//
// RequireLogin has the shape of middleware (func(http.Handler)
// http.Handler), so it also plugs into chi, gin's and echo's adapters.
func (a *Auth) RequireLogin(next http.Handler) http.Handler {
	return a.require("", next)
}

// RequireRole is RequireLogin that also needs an app role, directly or
// through the hierarchy: RequireRole("DemoApp.Read", h) admits a
// DemoApp.Admin. Users without it get a 403 page that names the role and
// who grants it.
func (a *Auth) RequireRole(role string, next http.Handler) http.Handler {
	return a.require(role, next)
}

// Role returns RequireRole(role, ·) as middleware, for routers that chain
// them: r.With(auth.Role("DemoApp.Admin")).Get(...).
func (a *Auth) Role(role string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler { return a.require(role, next) }
}

func (a *Auth) require(role string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, _, err := a.currentUser(r)
		if err != nil {
			a.storeUnavailable(w, r, err)
			return
		}
		if u == nil {
			a.challenge(w, r)
			return
		}
		if m := a.s.roles.minimum; m != "" && !u.HasRole(m) {
			a.forbidden(w, r, u, m)
			return
		}
		if role != "" && !u.HasRole(role) {
			a.forbidden(w, r, u, role)
			return
		}
		next.ServeHTTP(w, r.WithContext(WithUser(r.Context(), u)))
	})
}

// challenge answers a request that needs a session and has none.
func (a *Auth) challenge(w http.ResponseWriter, r *http.Request) {
	if !a.hostOK(w, r) {
		return
	}
	ret := thisPage(r)
	login := a.loginURL(r, ret)
	if mayRedirectToSignIn(r) {
		w.Header().Set("Cache-Control", "no-store")
		http.Redirect(w, r, login, http.StatusFound)
		return
	}
	a.loginRequired(w, r, login)
}

// User returns the signed-in user of r, or nil when nobody is signed in,
// without asking anyone to sign in: for pages that greet visitors and
// members alike. Inside RequireLogin, UserFrom(r.Context()) is cheaper.
// An error (matching ErrStoreUnavailable) means the session store failed.
func (a *Auth) User(r *http.Request) (*User, error) {
	if u := UserFrom(r.Context()); u != nil {
		return u, nil
	}
	u, _, err := a.currentUser(r)
	return u, err
}
