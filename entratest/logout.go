package entratest

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// handleLogout is /{tenant}/oauth2/v2.0/logout: it ends the browser's SSO
// session and returns to the app only through a URI the app registered.
func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, r, newErr(http.StatusBadRequest, 9002313, ""))
		return
	}
	http.SetCookie(w, ssoCookieFor(r, "", -1))
	wd := s.world.Load()
	target := r.Form.Get("post_logout_redirect_uri")
	if target == "" {
		s.render(w, http.StatusOK, "signedout", map[string]any{"Title": "Signed out"}, "")
		return
	}
	cid := strings.ToLower(r.Form.Get("client_id"))
	if cid == "" {
		// The app may be named by the ID token it sends as a hint; the hint
		// only has to be one this emulator signed, even if it has expired.
		if p, err := decodeJWT(r.Form.Get("id_token_hint")); err == nil && s.signedHere(p) {
			cid = strings.ToLower(p.str(p.claims, "aud"))
		}
	}
	app := wd.apps[cid]
	if app == nil || !postLogoutAllowed(app, target) {
		s.render(w, http.StatusOK, "signedout", map[string]any{"Title": "Signed out",
			"Note": "The post_logout_redirect_uri is not registered for this application (or the application was not named with client_id or id_token_hint), so you were not sent back."}, "")
		return
	}
	u, _ := url.Parse(target)
	if st := r.Form.Get("state"); st != "" {
		q := u.Query()
		q.Set("state", st)
		u.RawQuery = q.Encode()
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Location", u.String())
	w.WriteHeader(http.StatusFound)
}

func postLogoutAllowed(app *appRef, target string) bool {
	return redirectAllowed(app.RedirectURIs, target) || redirectAllowed(app.PostLogoutRedirectURIs, target) ||
		slices.Contains(app.PostLogoutRedirectURIs, target)
}

func (s *Server) signedHere(p *jwtParts) bool {
	kid := p.str(p.header, "kid")
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, k := range s.keys {
		if k.kid == kid {
			return p.str(p.header, "alg") == "RS256" && p.verifyRSA(&k.priv.PublicKey) == nil
		}
	}
	return false
}
