package entratest

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// handleLogout is /{tenant}/oauth2/v2.0/logout: it ends the browser's SSO
// session, signs the session's apps out through their front-channel
// logout URLs, and returns to the app only through a URI the app
// registered.
func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, r, newErr(http.StatusBadRequest, 9002313, ""))
		return
	}
	wd := s.world.Load()
	st, _ := s.ssoSession(r, wd)
	http.SetCookie(w, ssoCookieFor(r, "", -1))
	var dest, note string
	if target := r.Form.Get("post_logout_redirect_uri"); target != "" {
		if app, why := s.logoutApp(wd, r.Form, st, target); app == nil {
			s.log.Info("entratest: logout not redirected", "post_logout_redirect_uri", clip(target),
				"client_id", clip(r.Form.Get("client_id")), "reason", why)
			note = "You were not sent back to the application: " + why + "."
		} else {
			dest = withState(target, r.Form.Get("state"))
		}
	}
	frames, origins := s.frontChannelFrames(wd, st)
	if dest != "" && len(frames) == 0 {
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Location", dest)
		w.WriteHeader(http.StatusFound)
		return
	}
	// With apps to sign out the browser must render the page so that it
	// loads their frames; the refresh then takes it on, as the platform's
	// page does once the frames have loaded (without a script: the page
	// allows none).
	data := map[string]any{"Title": "Signed out", "Note": note, "Frames": frames, "Continue": dest}
	if dest != "" {
		data["Refresh"] = "1; url=" + dest
	}
	s.renderPage(w, http.StatusOK, "signedout", data, pageCSP("", origins))
}

// logoutApp finds the app a post_logout_redirect_uri returns to, or says
// why there is none. An app named by client_id or id_token_hint must have
// registered target; with neither, as the platform does (and MSAL.js and
// MSAL Python send neither), an app signed in during the browser's SSO
// session st must have.
func (s *Server) logoutApp(wd *world, f url.Values, st *ssoState, target string) (*appRef, string) {
	var app *appRef
	switch cid, hint := strings.ToLower(f.Get("client_id")), f.Get("id_token_hint"); {
	case cid != "":
		if app = wd.apps[cid]; app == nil {
			return nil, "client_id names no application registered here"
		}
	case hint != "":
		// The hint only has to be one this emulator signed, even if it has
		// expired: it names the app, it grants nothing.
		p, err := decodeJWT(hint)
		if err != nil || !s.signedHere(p) {
			return nil, "the id_token_hint was not issued by this emulator"
		}
		if app = wd.apps[strings.ToLower(p.str(p.claims, "aud"))]; app == nil {
			return nil, "the id_token_hint is for no application registered here"
		}
	case st == nil:
		return nil, "no client_id or id_token_hint names the application, and there is no SSO session whose applications could have registered the URI"
	default:
		for _, cid := range slices.Backward(st.Apps) {
			if app := wd.apps[cid]; app != nil && postLogoutAllowed(app, target) {
				return app, ""
			}
		}
		return nil, "the post_logout_redirect_uri is not registered by any application signed in during this SSO session"
	}
	if !postLogoutAllowed(app, target) {
		return nil, "the post_logout_redirect_uri is not registered for application " + app.ClientID
	}
	return app, ""
}

// withState adds the app's state to the post-logout URI.
func withState(target, state string) string {
	if state == "" {
		return target
	}
	u, _ := url.Parse(target) // registered, so it parses
	q := u.Query()
	q.Set("state", state)
	u.RawQuery = q.Encode()
	return u.String()
}

func postLogoutAllowed(app *appRef, target string) bool {
	return redirectAllowed(app.RedirectURIs, target) || redirectAllowed(app.PostLogoutRedirectURIs, target) ||
		slices.Contains(app.PostLogoutRedirectURIs, target)
}

// frontChannelFrames lists the front-channel logout URLs of the apps
// signed in during the SSO session st, each with the session's iss and sid
// as Entra ID appends them, and their origins for the page's frame-src.
func (s *Server) frontChannelFrames(wd *world, st *ssoState) (frames, origins []string) {
	if st == nil {
		return nil, nil
	}
	q := url.Values{"sid": {st.SID}}
	if st.TID != "" {
		q.Set("iss", s.Issuer(st.TID))
	}
	params := q.Encode() // iss, then sid
	for _, cid := range st.Apps {
		app := wd.apps[cid]
		if app == nil || app.frontChannel == "" {
			continue
		}
		if f := app.frontChannel + params; !slices.Contains(frames, f) {
			frames = append(frames, f)
		}
		if !slices.Contains(origins, app.frontChannelOrigin) {
			origins = append(origins, app.frontChannelOrigin)
		}
	}
	return frames, origins
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
