package entraweb

import (
	"crypto/subtle"
	"net/http"
	"net/url"
	"strings"
)

// handleLogout: GET asks for confirmation, POST (with the CSRF token of
// the session) signs out locally and then at Entra ID.
func (a *Auth) handleLogout(w http.ResponseWriter, r *http.Request) {
	sess, err := a.sessions.Load(r.Context(), r)
	if err != nil {
		a.storeUnavailable(w, r, err)
		return
	}
	base := a.s.origin.BaseURL(r).String()
	home := base + a.s.signedOutPath
	var u *User
	if sess != nil {
		u = a.userFromValues(sess.Values)
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		if u == nil {
			a.signedOutPage(w, r, home)
			return
		}
		a.confirmSignOutPage(w, r, u, base, sess.Values[valCSRF])
	case http.MethodPost:
		r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
		token := r.PostFormValue("csrf")
		if sess == nil || u == nil {
			a.signedOutPage(w, r, home)
			return
		}
		if want := sess.Values[valCSRF]; want == "" || subtle.ConstantTimeCompare([]byte(token), []byte(want)) != 1 {
			a.signOutNotConfirmed(w, r, u, base)
			return
		}
		hint := sess.Values[valLoginHint]
		// This session's tokens go with it (the user's other browsers keep
		// theirs): delete its token partition before anything else can fail.
		if err := a.tokens.Delete(r.Context(), u.tokens); err != nil {
			a.storeUnavailable(w, r, err)
			return
		}
		if sid := sess.Values[valSID]; sid != "" {
			if err := a.forgetSID(r.Context(), sid, sess.Key()); err != nil {
				a.log.Warn("entraweb: sign-out could not update the front-channel logout index", "err", err)
			}
		}
		if err := a.sessions.Destroy(r.Context(), w, r, sess); err != nil {
			a.signOutIncomplete(w, r, u, base, err)
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
	sess, err := a.sessions.LoadShared(r.Context(), r)
	if err != nil || sess == nil || a.userFromValues(sess.Values) == nil {
		return "", "", err
	}
	return a.s.origin.BaseURL(r).String() + a.s.prefix + "logout", sess.Values[valCSRF], nil
}
