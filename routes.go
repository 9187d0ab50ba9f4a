package entraweb

import (
	"crypto/subtle"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"

	"github.com/entraweb/entraweb/internal/tokencache"
)

// Routes serves the sign-in endpoints under the route prefix ("/auth/"
// by default): login, callback, logout and me. Mount it at that prefix:
//
//	mux.Handle("/auth/", auth.Routes())
func (a *Auth) Routes() http.Handler {
	p := a.s.prefix
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case p + "login":
			a.handleLogin(w, r)
		case a.s.callbackPath:
			a.handleCallback(w, r)
		case p + "logout":
			a.handleLogout(w, r)
		case p + "me":
			a.handleMe(w, r)
		default:
			http.NotFound(w, r)
		}
	})
}

// loginURL is where a request is sent to sign in and come back to ret.
func (a *Auth) loginURL(r *http.Request, ret string) string {
	return a.s.baseURL(r).String() + a.s.prefix + "login?return=" + url.QueryEscape(ret)
}

// handleLogin starts a sign-in: a pending sign-in with fresh state, nonce
// and PKCE verifier goes into the pending cookie, and the browser to
// Entra ID's authorize endpoint.
func (a *Auth) handleLogin(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	ret, ok := safeReturnPath(r.URL.Query().Get("return"))
	if !ok {
		if raw := r.URL.Query().Get("return"); raw != "" {
			a.log.Warn("entraweb: refused a return path that leaves the app", "return", clipForLog(raw))
		}
		ret = "/"
	}
	base := a.s.baseURL(r)
	secure := base.Scheme == "https"
	p := pendingSignIn{
		State: randomToken(), Nonce: randomToken(), Verifier: randomToken() + randomToken()[:11],
		Return: ret, RedirectURI: base.String() + a.s.callbackPath, Created: a.s.now().Unix(),
	}
	if su, ok := a.openStepUp(r.URL.Query().Get("req")); ok {
		p.Scopes, p.Claims = su.Scopes, su.Claims
	}
	list := append(a.pending.read(r, secure), p)
	a.pending.write(w, list, secure)
	q := url.Values{
		"client_id":             {a.s.cfg.ClientID},
		"response_type":         {"code"},
		"redirect_uri":          {p.RedirectURI},
		"response_mode":         {"query"},
		"scope":                 {strings.Join(append([]string{"openid", "profile", "offline_access"}, a.signInScopes(p)...), " ")},
		"state":                 {p.State},
		"nonce":                 {p.Nonce},
		"code_challenge":        {pkceChallenge(p.Verifier)},
		"code_challenge_method": {"S256"},
	}
	if p.Claims != "" {
		q.Set("claims", p.Claims)
	}
	if prompt := r.URL.Query().Get("prompt"); prompt == "login" || prompt == "select_account" || prompt == "consent" {
		q.Set("prompt", prompt)
	}
	target := a.authorizeURL
	if strings.Contains(target, "?") {
		target += "&" + q.Encode()
	} else {
		target += "?" + q.Encode()
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, target, http.StatusFound)
}

// signInScopes are the resource scopes a sign-in asks for: those of a
// step-up, else the configured ones.
func (a *Auth) signInScopes(p pendingSignIn) []string {
	if len(p.Scopes) > 0 {
		return p.Scopes
	}
	return a.s.cfg.Scopes
}

// handleLogout: GET asks for confirmation, POST (with the CSRF token of
// the session) signs out locally and then at Entra ID.
func (a *Auth) handleLogout(w http.ResponseWriter, r *http.Request) {
	sess, err := a.sessions.Load(r.Context(), r)
	if err != nil {
		a.storeUnavailable(w, r, err)
		return
	}
	base := a.s.baseURL(r).String()
	home := base + a.s.signedOutPath
	var u *User
	if sess != nil {
		u = a.userFromValues(sess.Values)
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		if u == nil {
			a.render(w, r, page{Status: http.StatusOK, Code: "signed_out", Title: "You are signed out", Message: "There is no session to end in this browser.", Links: []link{{home, "Continue"}}})
			return
		}
		a.render(w, r, page{Status: http.StatusOK, Code: "confirm_sign_out", Title: "Sign out?",
			Message: "You are signed in as " + u.Name + " (" + u.Username + ").",
			Form:    &logoutForm{Action: base + a.s.prefix + "logout", CSRF: sess.Values[valCSRF]},
			Links:   []link{{base + "/", "Stay signed in"}}})
	case http.MethodPost:
		r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
		token := r.PostFormValue("csrf")
		if sess == nil || u == nil {
			a.render(w, r, page{Status: http.StatusOK, Code: "signed_out", Title: "You are signed out", Message: "There is no session to end in this browser.", Links: []link{{home, "Continue"}}})
			return
		}
		if want := sess.Values[valCSRF]; want == "" || subtle.ConstantTimeCompare([]byte(token), []byte(want)) != 1 {
			a.log.Warn("entraweb: sign-out refused: missing or wrong CSRF token", "user_oid", u.ObjectID)
			a.render(w, r, page{Status: http.StatusForbidden, Code: "csrf", Title: "Sign-out not confirmed",
				Message: "This sign-out request did not come from this app's sign-out page.", Fix: "Use the sign-out button again.",
				Links: []link{{base + a.s.prefix + "logout", "Sign out"}}})
			return
		}
		hint := sess.Values[valLoginHint]
		// The user's tokens go with the session: delete the token cache
		// partition before anything else can fail.
		if err := a.tokens.Delete(r.Context(), tokencache.PartitionKey(u.ObjectID, u.TenantID)); err != nil {
			a.storeUnavailable(w, r, err)
			return
		}
		if err := a.sessions.Destroy(r.Context(), w, r, sess); err != nil {
			a.log.Error("entraweb: sign-out could not delete the session", "user_oid", u.ObjectID, "err", err)
			w.Header().Set("Retry-After", "5")
			a.render(w, r, page{Status: http.StatusServiceUnavailable, Code: "sign_out_incomplete", Title: "Sign-out did not complete",
				Message: "This browser's session cookie was removed, but the app could not delete the session on the server.",
				Fix:     "Try again in a few seconds.", Links: []link{{base + a.s.prefix + "logout", "Sign out"}}})
			return
		}
		a.log.Info("entraweb: signed out", "user_oid", u.ObjectID, "tid", u.TenantID)
		if a.endSessionURL == "" {
			http.Redirect(w, r, home, http.StatusSeeOther)
			return
		}
		q := url.Values{"post_logout_redirect_uri": {home}, "client_id": {a.s.cfg.ClientID}}
		if hint != "" {
			q.Set("logout_hint", hint)
		}
		sep := "?"
		if strings.Contains(a.endSessionURL, "?") {
			sep = "&"
		}
		http.Redirect(w, r, a.endSessionURL+sep+q.Encode(), http.StatusSeeOther)
	default:
		w.Header().Set("Allow", "GET, HEAD, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

// SignOutForm gives what an app's own sign-out button needs: the URL to
// POST to and the CSRF token to send in its "csrf" field. Both are empty
// when nobody is signed in; an error means the session store failed.
//
//	<form method="post" action="{{.Action}}"><input type="hidden" name="csrf" value="{{.CSRF}}"><button>Sign out</button></form>
func (a *Auth) SignOutForm(r *http.Request) (action, csrf string, err error) {
	sess, err := a.sessions.Load(r.Context(), r)
	if err != nil || sess == nil || a.userFromValues(sess.Values) == nil {
		return "", "", err
	}
	return a.s.baseURL(r).String() + a.s.prefix + "logout", sess.Values[valCSRF], nil
}

// handleMe answers who is signed in, as JSON.
func (a *Auth) handleMe(w http.ResponseWriter, r *http.Request) {
	u, _, err := a.currentUser(w, r)
	if err != nil {
		a.storeUnavailable(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	if u == nil {
		w.WriteHeader(http.StatusUnauthorized)
		json.NewEncoder(w).Encode(map[string]string{"error": "not_signed_in", "login_url": a.loginURL(r, "/")})
		return
	}
	json.NewEncoder(w).Encode(map[string]any{
		"name": u.Name, "username": u.Username, "oid": u.ObjectID, "tid": u.TenantID,
		"roles": u.Roles, "groups": u.Groups, "groups_overage": u.GroupsOverage,
	})
}

func (a *Auth) storeUnavailable(w http.ResponseWriter, r *http.Request, err error) {
	a.log.Error("entraweb: session store unavailable", "err", err)
	w.Header().Set("Retry-After", "5")
	a.render(w, r, page{Status: http.StatusServiceUnavailable, Code: "session_store_unavailable", Title: "Temporarily unavailable",
		Message: "The app cannot reach its session store right now. Your session is not lost.", Fix: "Try again in a few seconds.",
		Links: []link{{a.s.baseURL(r).Path + r.URL.RequestURI(), "Try again"}}})
}

func clipForLog(s string) string {
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
}
