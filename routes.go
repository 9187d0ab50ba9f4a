package entraweb

import (
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/entraweb/entraweb/internal/oidc"
	"github.com/entraweb/entraweb/internal/origin"
)

// Routes serves the sign-in endpoints under the route prefix ("/auth/"
// by default): login, callback, logout, me and frontchannel-logout. Mount
// it at that prefix:
//
//	mux.Handle("/auth/", auth.Routes())
func (a *Auth) Routes() http.Handler {
	p := a.s.prefix
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !a.hostOK(w, r) {
			return
		}
		switch r.URL.Path {
		case p + "login":
			a.handleLogin(w, r)
		case a.s.callbackPath:
			a.handleCallback(w, r)
		case p + "logout":
			a.handleLogout(w, r)
		case p + "me":
			a.handleMe(w, r)
		case p + "frontchannel-logout":
			a.handleFrontChannelLogout(w, r)
		default:
			http.NotFound(w, r)
		}
	})
}

// Mux is what Mount needs of a router: http.ServeMux and chi's Router
// have it.
type Mux interface {
	Handle(pattern string, handler http.Handler)
}

// Mount mounts Routes on mux at the route prefix and, when the callback
// path lies outside it (ASP.NET Core's /signin-oidc, say), at the
// callback path too.
func (a *Auth) Mount(mux Mux) {
	h := a.Routes()
	mux.Handle(a.s.prefix, h)
	if !strings.HasPrefix(a.s.callbackPath, a.s.prefix) {
		mux.Handle(a.s.callbackPath, h)
	}
}

// hostOK refuses a request whose Host header cannot be part of a URL, when
// URLs are built from it; and when nothing configured says what the app's
// URL is, it says once in the log that the Host header is taken as sent.
func (a *Auth) hostOK(w http.ResponseWriter, r *http.Request) bool {
	if !a.s.origin.ValidRequestHost(r) {
		a.fail(w, r, Problem{Status: http.StatusBadRequest, Code: "bad_host", Title: "Bad request",
			Message: "This request's Host header is not a host name.", Operator: "A client or a proxy sent an invalid Host header."}, nil)
		return false
	}
	if a.s.origin.HostTrustedAsIs() {
		host := r.Host
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		if !oidc.IsLoopbackHost(strings.Trim(host, "[]")) {
			a.hostNote.Do(func() {
				a.log.Warn("entraweb: neither Entraweb:PublicBaseUrl nor Entraweb:TrustedProxies is set, so redirect URIs are built from the Host header as each request sends it; set PublicBaseUrl to the app's external URL (e.g. https://app.example)", "host", r.Host)
			})
		}
	}
	return true
}

// loginURL is where a request is sent to sign in and come back to ret.
func (a *Auth) loginURL(r *http.Request, ret string) string {
	return a.s.origin.BaseURL(r).String() + a.s.prefix + "login?return=" + url.QueryEscape(ret)
}

// handleLogin starts a sign-in: a pending sign-in with fresh state, nonce
// and PKCE verifier goes into the pending cookie, and the browser to
// Entra ID's authorize endpoint.
func (a *Auth) handleLogin(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	ret, ok := origin.SafeReturnPath(r.URL.Query().Get("return"))
	if !ok {
		if raw := r.URL.Query().Get("return"); raw != "" {
			a.log.Warn("entraweb: refused a return path that leaves the app", "return", clipForLog(raw))
		}
		ret = "/"
	}
	base := a.s.origin.BaseURL(r)
	secure := base.Scheme == "https"
	p := pendingSignIn{
		State: randomToken(), Nonce: randomToken(), Verifier: randomToken() + randomToken()[:11],
		Return: ret, RedirectURI: base.String() + a.s.callbackPath, Created: a.s.now().Unix(),
	}
	if req := r.URL.Query().Get("req"); req != "" {
		var secret string
		if sess, err := a.sessions.LoadShared(r.Context(), r); err == nil && sess != nil {
			secret = sess.Values[valCSRF]
		}
		if su, ok := a.openStepUp(req, secret); ok {
			p.Scopes, p.Claims = su.Scopes, su.Claims
		} else {
			// A plain sign-in instead: the step-up was made for another
			// session, has expired, or was never ours.
			a.log.Info("entraweb: a step-up parameter not sealed for this session was ignored")
		}
	}
	list := append(a.pending.read(r, secure), p)
	a.pending.write(w, list, secure)
	q := url.Values{
		"client_id":             {a.s.cfg.ClientID},
		"response_type":         {"code"},
		"redirect_uri":          {p.RedirectURI},
		"response_mode":         {"query"},
		"scope":                 {strings.Join(append([]string{"openid", "profile", "offline_access"}, a.signInScopes(p)...), " ")},
		"state":                 {p.State},
		"nonce":                 {p.Nonce},
		"code_challenge":        {pkceChallenge(p.Verifier)},
		"code_challenge_method": {"S256"},
	}
	if p.Claims != "" {
		q.Set("claims", p.Claims)
	}
	if prompt := r.URL.Query().Get("prompt"); prompt == "login" || prompt == "select_account" || prompt == "consent" {
		q.Set("prompt", prompt)
	}
	target := a.authorizeURL
	if strings.Contains(target, "?") {
		target += "&" + q.Encode()
	} else {
		target += "?" + q.Encode()
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, target, http.StatusFound)
}

// signInScopes are the resource scopes a sign-in asks for: those of a
// step-up, else the configured ones.
func (a *Auth) signInScopes(p pendingSignIn) []string {
	if len(p.Scopes) > 0 {
		return p.Scopes
	}
	return a.s.cfg.Scopes
}

// handleMe answers who is signed in, as JSON.
func (a *Auth) handleMe(w http.ResponseWriter, r *http.Request) {
	u, _, err := a.currentUser(r)
	if err != nil {
		a.storeUnavailable(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	if u == nil {
		w.WriteHeader(http.StatusUnauthorized)
		json.NewEncoder(w).Encode(map[string]string{"error": "not_signed_in", "login_url": a.loginURL(r, "/")})
		return
	}
	json.NewEncoder(w).Encode(map[string]any{
		"name": u.Name, "username": u.Username, "oid": u.ObjectID, "tid": u.TenantID,
		"roles": u.Roles, "groups": u.Groups, "groups_overage": u.GroupsOverage,
	})
}

func clipForLog(s string) string {
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
}
