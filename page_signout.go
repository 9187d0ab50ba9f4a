package entraweb

import "net/http"

// signedOutPage: there is no session to end.
func (a *Auth) signedOutPage(w http.ResponseWriter, r *http.Request, home string) {
	a.render(w, r, page{Problem: Problem{Status: http.StatusOK, Code: "signed_out", Title: "You are signed out",
		Message: "There is no session to end in this browser.", Links: []Link{{home, "Continue"}}}})
}

// confirmSignOutPage asks before signing out: sign-out is a POST with the
// session's CSRF token, so a link on another site cannot sign anyone out.
func (a *Auth) confirmSignOutPage(w http.ResponseWriter, r *http.Request, u *User, base, csrf string) {
	a.render(w, r, page{Problem: Problem{Status: http.StatusOK, Code: "confirm_sign_out", Title: "Sign out?",
		Message: "You are signed in as " + u.Name + " (" + u.Username + ").", Links: []Link{{base + "/", "Stay signed in"}}},
		Form: &logoutForm{Action: base + a.s.prefix + "logout", CSRF: csrf}})
}

// signOutNotConfirmed: a sign-out POST without the right CSRF token.
func (a *Auth) signOutNotConfirmed(w http.ResponseWriter, r *http.Request, u *User, base string) {
	a.fail(w, r, Problem{Status: http.StatusForbidden, Code: "csrf", Title: "Sign-out not confirmed",
		Message: "This sign-out request did not come from this app's sign-out page.", Fix: "Use the sign-out button again.",
		User: u, Links: []Link{{base + a.s.prefix + "logout", "Sign out"}}}, nil)
}

// signOutIncomplete: the cookie is gone but the server-side session could
// not be deleted.
func (a *Auth) signOutIncomplete(w http.ResponseWriter, r *http.Request, u *User, base string, err error) {
	w.Header().Set("Retry-After", "5")
	a.fail(w, r, Problem{Status: http.StatusServiceUnavailable, Code: "sign_out_incomplete", Title: "Sign-out did not complete",
		Message: "This browser's session cookie was removed, but the app could not delete the session on the server.",
		Fix:     "Try again in a few seconds.", User: u, Links: []Link{{base + a.s.prefix + "logout", "Sign out"}}}, err)
}
