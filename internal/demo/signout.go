package demo

import (
	"net/http"

	"github.com/entraweb/entraweb"
)

// signOutForm is a sign-out button's form. With a token it posts to
// entraweb's logout route in one click; without one it is a GET to the
// confirmation page, which carries its own token.
type signOutForm struct {
	Action, CSRF string
}

// newSignOutForm asks auth for the session's sign-out form; confirm is
// the confirmation page to fall back on (auth nil, or no token).
func newSignOutForm(auth *entraweb.Auth, r *http.Request, confirm string) signOutForm {
	if auth == nil {
		return signOutForm{Action: confirm}
	}
	action, csrf, err := auth.SignOutForm(r)
	if err != nil || csrf == "" {
		return signOutForm{Action: confirm}
	}
	return signOutForm{Action: action, CSRF: csrf}
}

func (a *app) signOutForm(r *http.Request) signOutForm {
	return newSignOutForm(a.Auth, r, "/auth/logout")
}
