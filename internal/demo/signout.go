package demo

import "net/http"

// signOutForm is the sign-out button's form. With a token it posts to
// entraweb's /auth/logout in one click; without one it is a GET to the
// confirmation page, which carries its own token.
type signOutForm struct {
	Action, CSRF string
}

func (a *app) signOutForm(r *http.Request) signOutForm {
	action, csrf, err := a.Auth.SignOutForm(r)
	if err != nil || csrf == "" {
		return signOutForm{Action: "/auth/logout"}
	}
	return signOutForm{Action: action, CSRF: csrf}
}
