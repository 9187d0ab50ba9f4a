package proxy

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/entraweb/entraweb"
	"github.com/entraweb/entraweb/internal/origin"
)

// signOutCookie carries post_logout_redirect_uri from /.auth/logout
// across the round trip through Entra ID's sign-out to /.auth/logout/done.
const signOutCookie = "entraweb_proxy_signout"

// serveAuthRoute serves App Service's endpoints under /.auth/. Paths are
// matched exactly as sent; anything else under /.auth/ is the proxy's and
// answers 404, never the upstream.
func (h *Handler) serveAuthRoute(w *respWriter, r *http.Request) {
	routes := h.routes
	switch r.URL.Path {
	case "/.auth/login/aad":
		h.serveLogin(w, r, routes)
	case CallbackPath, "/.auth/login", "/.auth/frontchannel-logout":
		// entraweb's own: the callback, the sign-in its middleware sends
		// browsers to, and front-channel logout.
		routes.ServeHTTP(w, r)
	case "/.auth/logout":
		h.serveLogout(w, r, routes)
	case SignedOutPath:
		h.serveSignedOut(w, r)
	case "/.auth/me":
		h.serveMe(w, r)
	case "/.auth/refresh":
		h.refresh.ServeHTTP(w, r)
	case "/.auth/verify":
		h.serveVerify(w, r)
	case KeysPath:
		h.serveKeys(w, r)
	default:
		writeProblem(w, r, http.StatusNotFound, "not_found", "Not found", "There is nothing at this address.")
	}
}

// returnPath turns App Service's post_login_redirect_uri or
// post_logout_redirect_uri into a path of this app: a relative path that
// passes entraweb's checks, or an absolute URL on the app's own origin.
// Anything else is refused ("/"), so the proxy is never an open redirect.
func (h *Handler) returnPath(r *http.Request, raw string) (string, bool) {
	if raw == "" {
		return "", true
	}
	if p, ok := origin.SafeReturnPath(raw); ok {
		return p, true
	}
	if u, err := url.Parse(raw); err == nil && u.IsAbs() && u.User == nil && u.Opaque == "" {
		base := h.trust.BaseURL(r)
		if strings.EqualFold(u.Scheme, base.Scheme) && strings.EqualFold(hostPort(u), hostPort(base)) {
			rel := u.EscapedPath()
			if rel == "" {
				rel = "/"
			}
			if u.RawQuery != "" {
				rel += "?" + u.RawQuery
			}
			if p, ok := origin.SafeReturnPath(rel); ok {
				return p, true
			}
		}
	}
	h.log.Warn("proxy: refused a redirect that leaves the app", "uri", clip(raw))
	return "", false
}

// serveLogin is /.auth/login/aad: entraweb's sign-in (state, nonce, PKCE)
// coming back to post_login_redirect_uri.
func (h *Handler) serveLogin(w http.ResponseWriter, r *http.Request, routes http.Handler) {
	q := r.URL.Query()
	ret, _ := h.returnPath(r, q.Get("post_login_redirect_uri"))
	if ret == "" {
		ret = "/"
	}
	v := url.Values{"return": {ret}}
	if prompt := q.Get("prompt"); prompt != "" {
		v.Set("prompt", prompt) // entraweb passes on login, select_account and consent
	}
	r2 := new(http.Request)
	*r2 = *r
	r2.URL = &url.URL{Path: RoutePrefix + "login", RawQuery: v.Encode()}
	r2.RequestURI = r2.URL.RequestURI()
	routes.ServeHTTP(w, r2)
}

// serveLogout is /.auth/logout. A GET shows entraweb's confirmation page
// (sign-out by a plain link from another site would be a CSRF), whose
// POST signs out here and at Entra ID; Entra ID then sends the browser to
// /.auth/logout/done, which goes on to post_logout_redirect_uri.
func (h *Handler) serveLogout(w http.ResponseWriter, r *http.Request, routes http.Handler) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		routes.ServeHTTP(w, r)
		return
	}
	ret, _ := h.returnPath(r, r.URL.Query().Get("post_logout_redirect_uri"))
	u, err := h.auth.User(r)
	if h.auth.Challenge(w, r, err) {
		return
	}
	if u == nil {
		// Nobody to sign out: straight on.
		if ret == "" {
			ret = SignedOutPath
		}
		http.Redirect(w, r, ret, http.StatusFound)
		return
	}
	secure := h.trust.Secure(r)
	c := &http.Cookie{Name: signOutCookie, Path: SignedOutPath, HttpOnly: true, Secure: secure, SameSite: http.SameSiteLaxMode}
	if ret != "" {
		c.Value, c.MaxAge = base64.RawURLEncoding.EncodeToString([]byte(ret)), int((15 * time.Minute).Seconds())
	} else {
		c.MaxAge = -1
	}
	http.SetCookie(w, c)
	routes.ServeHTTP(w, r)
}

// serveSignedOut is /.auth/logout/done, where Entra ID's sign-out ends:
// on to post_logout_redirect_uri, or a page saying so.
func (h *Handler) serveSignedOut(w http.ResponseWriter, r *http.Request) {
	var ret string
	if c, err := r.Cookie(signOutCookie); err == nil {
		http.SetCookie(w, &http.Cookie{Name: signOutCookie, Path: SignedOutPath, MaxAge: -1, HttpOnly: true, Secure: h.trust.Secure(r), SameSite: http.SameSiteLaxMode})
		if b, err := base64.RawURLEncoding.DecodeString(c.Value); err == nil {
			// The browser could have changed it: the same checks again.
			ret, _ = h.returnPath(r, string(b))
		}
	}
	if ret != "" {
		w.Header().Set("Cache-Control", "no-store")
		http.Redirect(w, r, ret, http.StatusFound)
		return
	}
	writePage(w, http.StatusOK, problemData{Title: "Signed out", Message: "You have signed out.",
		Link: RoutePrefix + "login/aad", LinkText: "Sign in again"})
}

// meEntry is one identity provider's entry in /.auth/me, in App
// Service's shape.
type meEntry struct {
	AccessToken  string  `json:"access_token,omitempty"`
	ExpiresOn    string  `json:"expires_on"`
	IDToken      string  `json:"id_token,omitempty"`
	ProviderName string  `json:"provider_name"`
	UserClaims   []Claim `json:"user_claims"`
	UserID       string  `json:"user_id"`
}

// serveMe is /.auth/me: a list with the signed-in user's entry, as App
// Service answers; 401 with a login_url when nobody is signed in. Tokens
// appear only with TokensInMe (the ID token never: it stays on the
// server).
func (h *Handler) serveMe(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeProblem(w, r, http.StatusMethodNotAllowed, "method_not_allowed", "Method not allowed", "Use GET.")
		return
	}
	u, err := h.auth.User(r)
	if h.auth.Challenge(w, r, err) {
		return
	}
	if u == nil {
		h.notSignedIn(w, r, "/")
		return
	}
	if rw, ok := w.(*respWriter); ok {
		rw.userOID = u.ObjectID
	}
	e := meEntry{
		ExpiresOn:    u.SignedInAt.Add(h.s.sessionLifetime).UTC().Format(dotnetTime),
		ProviderName: "aad",
		UserClaims:   h.ids.get(h.s, u).claims,
		UserID:       u.Username,
	}
	if h.s.tokensInMe {
		t, err := h.token(r)
		if h.auth.Challenge(w, r, err) {
			return
		}
		e.AccessToken = t.token
		if t.expiresOn != "" {
			e.ExpiresOn = t.expiresOn
		}
	}
	writeJSON(w, http.StatusOK, []meEntry{e})
}

// serveRefresh is /.auth/refresh, behind RequireLogin: it gets the
// configured access token, which MSAL refreshes when it is about to
// expire, and records the session's activity.
func (h *Handler) serveRefresh(w http.ResponseWriter, r *http.Request) {
	if rw, ok := w.(*respWriter); ok {
		rw.userOID = entraweb.UserFrom(r.Context()).ObjectID
	}
	if len(h.s.scopes) > 0 {
		_, err := h.token(r)
		if h.auth.Challenge(w, r, err) {
			return
		}
	}
	writeJSON(w, http.StatusOK, struct{}{})
}

// notSignedIn answers 401 JSON with where to sign in, coming back to ret.
func (h *Handler) notSignedIn(w http.ResponseWriter, r *http.Request, ret string) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="entraweb", error="login_required"`)
	writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "login_required", "login_url": h.loginURL(r, ret)})
}

// loginURL is the absolute URL of /.auth/login/aad coming back to ret.
func (h *Handler) loginURL(r *http.Request, ret string) string {
	return h.trust.BaseURL(r).String() + RoutePrefix + "login/aad?post_login_redirect_uri=" + url.QueryEscape(ret)
}
