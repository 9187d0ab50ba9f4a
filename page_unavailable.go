package entraweb

import (
	"net/http"

	"github.com/entraweb/entraweb/internal/origin"
)

// storeUnavailable: the session store failed. The session is not lost,
// and the page never says "signed out".
func (a *Auth) storeUnavailable(w http.ResponseWriter, r *http.Request, err error) {
	w.Header().Set("Retry-After", "5")
	a.fail(w, r, Problem{Status: http.StatusServiceUnavailable, Code: "session_store_unavailable", Title: "Temporarily unavailable",
		Message: "The app cannot reach its session store right now. Your session is not lost.", Fix: "Try again in a few seconds.",
		Links: []Link{{a.samePage(r), "Try again"}}}, err)
}

// providerUnavailable: a token could not be had because the provider is
// down.
func (a *Auth) providerUnavailable(w http.ResponseWriter, r *http.Request, err error) {
	w.Header().Set("Retry-After", "10")
	a.fail(w, r, Problem{Status: http.StatusBadGateway, Code: "provider_unavailable", Title: "Temporarily unavailable",
		Message: "Microsoft Entra ID could not be reached.", Fix: "Try again in a moment.",
		Links: []Link{{a.samePage(r), "Try again"}}}, err)
}

// tokenFailed: a token could not be had for another reason.
func (a *Auth) tokenFailed(w http.ResponseWriter, r *http.Request, err error) {
	a.fail(w, r, Problem{Status: http.StatusInternalServerError, Code: "token_error", Title: "Something went wrong",
		Message: "An access token could not be obtained.", Fix: "Try again; if it persists, tell the app's owners."}, err)
}

// samePage links to the page of r again, through the same check as every
// return path: a path the router passed on unclean ("//host/x") becomes
// the app's home, never a link to another host.
func (a *Auth) samePage(r *http.Request) string {
	return a.s.origin.BaseURL(r).Path + thisPage(r)
}

// thisPage is r's path and query as a return path: checked and cleaned,
// or "/" when it could lead elsewhere.
func thisPage(r *http.Request) string {
	p, ok := origin.SafeReturnPath(r.URL.RequestURI())
	if !ok {
		return "/"
	}
	return p
}
