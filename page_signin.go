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

// signInRefused shows an error Entra ID returned. The person in front of
// the browser reads what they can do about it; the AADSTS code, its
// meaning and the fix go to the log (and the page, in Development) for
// whoever runs the app.
func (a *Auth) signInRefused(w http.ResponseWriter, r *http.Request, e *AADSTSError, p pendingSignIn) {
	msg, fix := a.aadstsForUser(e)
	h := aadstsMeaning(e.Code)
	operator := "Entra ID answered " + e.Err
	if e.Code != 0 {
		operator = "AADSTS" + strconv.Itoa(e.Code) + " (" + e.Err + "): " + h.meaning + " What to do: " + h.fix
	}
	switch e.Code {
	case 50011:
		operator += " The redirect URI this sign-in sent: " + p.RedirectURI
	case 50105:
		operator += " The app needs at least one app role assigned" + a.roleHint() + "."
	}
	var details []string
	if e.Description != "" {
		details = append(details, e.Description)
	}
	if e.Code == 0 && (e.Err == "declined_scopes" || e.Err == "no_id_token") {
		operator += ": " + e.Description
	}
	status := http.StatusBadRequest
	if e.Err == "access_denied" {
		status = http.StatusForbidden
	}
	a.fail(w, r, Problem{Status: status, Code: "aadsts_" + strconv.Itoa(e.Code), Title: "Sign-in did not complete",
		Message: msg, Fix: fix, Operator: operator, Details: details, AADSTS: e, Links: a.signInAgain(r, p.Return)}, nil)
}

// aadstsForUser says what an Entra ID error means for the person signing
// in: something they can do (sign in again, ask for access), or a fault
// of the app's setup that only its administrator can fix.
func (a *Auth) aadstsForUser(e *AADSTSError) (msg, fix string) {
	const tellAdmin = "Tell the app's administrator, quoting the trace id below; signing in again will not help until they fix it."
	switch e.Code {
	case 50105:
		return "Your account has not been given access to this app.", "Ask " + a.accessContact() + " for access" + a.roleHint() + ", then sign in again."
	case 65001:
		return "Permission to sign you in to this app has not been granted.", "Sign in again to grant it, or ask " + a.accessContact() + " to grant it for your organization."
	case 65004:
		return "You declined the permissions this app asks for.", "Sign in again and accept them to use the app."
	case 50020, 50034:
		return "Your account is not one this app accepts.", "Sign in with your account of this organization, or ask " + a.accessContact() + " to invite you."
	case 50057, 50053:
		return "Your account is disabled or locked.", "Ask your organization's IT support to unlock or enable it."
	case 53003:
		return "Your organization's access policy blocked this sign-in.", "Contact your organization's IT support; they can see which policy applied."
	case 50058, 50076, 50079, 70008, 700082, 50173, 54005, 50148, 501481, 70000:
		return "The sign-in expired or needs you again.", "Sign in again."
	case 0:
		if e.Err == "access_denied" {
			return "The sign-in was cancelled or refused.", "Sign in again."
		}
		if e.Err == "declined_scopes" || e.Err == "no_id_token" {
			return "This app's sign-in is not set up correctly.", tellAdmin
		}
		return "Microsoft Entra ID refused the sign-in.", "Sign in again. If it happens again, tell the app's administrator, quoting the trace id below."
	}
	return "This app's sign-in is not set up correctly.", tellAdmin
}

// providerDown: the provider could not finish the sign-in.
func (a *Auth) providerDown(w http.ResponseWriter, r *http.Request, ret string, cause error) {
	w.Header().Set("Retry-After", "10")
	a.fail(w, r, Problem{Status: http.StatusBadGateway, Code: "provider_unavailable", Title: "Sign-in did not complete",
		Message: "Microsoft Entra ID could not be reached or answered with an error, so the sign-in could not finish.",
		Fix:     "Try again in a moment.", Links: a.signInAgain(r, ret)}, cause)
}

// signInFailed shows a sign-in failure with a link that starts over and
// returns to where the user was going; operator is for the log (and the
// page in Development).
func (a *Auth) signInFailed(w http.ResponseWriter, r *http.Request, status int, code, msg, fix, operator, ret string, cause error) {
	a.fail(w, r, Problem{Status: status, Code: code, Title: "Sign-in did not complete", Message: msg, Fix: fix,
		Operator: operator, Links: a.signInAgain(r, ret)}, cause)
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
