package entraweb

import (
	"net/http"
	"strconv"
)

// loginRequired answers an API call, a fetch or a non-GET that needs a
// session: 401 with the login_url, never a redirect a script cannot follow.
func (a *Auth) loginRequired(w http.ResponseWriter, r *http.Request, login string) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="entraweb", error="login_required"`)
	a.render(w, r, page{Problem: Problem{Status: http.StatusUnauthorized, Code: "login_required", Title: "Sign-in required",
		Message: "This needs a signed-in user.", Fix: "Sign in, then try again.", Links: []Link{{login, "Sign in"}}}})
}

// signInRefused shows an error Entra ID returned, with its meaning and
// what to do about it.
func (a *Auth) signInRefused(w http.ResponseWriter, r *http.Request, e *AADSTSError, p pendingSignIn) {
	h := aadstsMeaning(e.Code)
	msg, fix := h.meaning, h.fix
	if e.Code == 0 {
		msg, fix = "Entra ID refused the sign-in ("+e.Err+").", "Sign in again."
		if e.Err == "declined_scopes" || e.Err == "no_id_token" {
			msg = e.Description
		}
	}
	switch e.Code {
	case 50011:
		fix = "Register this exact redirect URI on the app registration (Authentication > Web): " + p.RedirectURI
	case 50105:
		fix = "Ask " + a.accessContact() + " to assign you an app role of this app" + a.roleHint() + " (Enterprise applications > Users and groups)."
	}
	var details []string
	if e.Code != 0 {
		details = append(details, "AADSTS"+strconv.Itoa(e.Code)+" ("+e.Err+")")
	}
	if e.Description != "" {
		details = append(details, e.Description)
	}
	status := http.StatusBadRequest
	if e.Err == "access_denied" {
		status = http.StatusForbidden
	}
	a.fail(w, r, Problem{Status: status, Code: "aadsts_" + strconv.Itoa(e.Code), Title: "Sign-in did not complete",
		Message: msg, Fix: fix, Details: details, AADSTS: e, Links: a.signInAgain(r, p.Return)}, nil)
}

// providerDown: the provider could not finish the sign-in.
func (a *Auth) providerDown(w http.ResponseWriter, r *http.Request, ret string, cause error) {
	w.Header().Set("Retry-After", "10")
	a.fail(w, r, Problem{Status: http.StatusBadGateway, Code: "provider_unavailable", Title: "Sign-in did not complete",
		Message: "Microsoft Entra ID could not be reached or answered with an error, so the sign-in could not finish.",
		Fix:     "Try again in a moment.", Links: a.signInAgain(r, ret)}, cause)
}

// signInFailed shows a sign-in failure with a link that starts over and
// returns to where the user was going.
func (a *Auth) signInFailed(w http.ResponseWriter, r *http.Request, status int, code, msg, fix, ret string, cause error) {
	a.fail(w, r, Problem{Status: status, Code: code, Title: "Sign-in did not complete", Message: msg, Fix: fix,
		Links: a.signInAgain(r, ret)}, cause)
}

func (a *Auth) signInAgain(r *http.Request, ret string) []Link {
	return []Link{{a.loginURL(r, ret), "Sign in again"}}
}

func (a *Auth) roleHint() string {
	if m := a.s.roles.minimum; m != "" {
		return " (at least " + m + ")"
	}
	return ""
}
