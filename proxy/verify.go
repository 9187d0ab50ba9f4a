package proxy

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/entraweb/entraweb"
	"github.com/entraweb/entraweb/internal/origin"
)

// serveVerify is /.auth/verify, the forward-auth endpoint for nginx
// auth_request, Caddy forward_auth, Traefik forwardAuth and ingress-nginx
// auth-url: 200 with the identity headers when the request may go on, 401
// when nobody is signed in, 403 when the user lacks what the path needs.
// Never a redirect: nginx turns any status but 2xx, 401 and 403 into a
// 500, so the 401's JSON carries the login_url for the front proxy's
// error page to send the browser to.
//
// The original URL, which the path rules and public paths need, is
// taken from X-Original-URL, X-Forwarded-Uri or X-Original-URI only when
// the peer is a trusted proxy; otherwise it is unknown, and then every
// rule applies and no path is public.
func (h *Handler) serveVerify(w *respWriter, r *http.Request) {
	target := h.originalURL(r)
	ret := "/"
	if target != nil {
		if p, ok := origin.SafeReturnPath(target.RequestURI()); ok {
			ret = p
		}
	}
	u, err := h.auth.User(r)
	if err != nil {
		h.log.Warn("proxy: verify could not read the session", "err", err)
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "store_unavailable", "message": "Sessions cannot be read right now; retry shortly."})
		return
	}
	if u != nil {
		w.userOID = u.ObjectID
	}
	if target != nil && h.s.isPublicURL(target) {
		h.verified(w, r, u, false)
		return
	}
	if u == nil {
		h.notSignedIn(w, r, ret)
		return
	}
	if m := h.s.minimumRole; m != "" && !u.HasRole(m) {
		writeJSON(w, http.StatusForbidden, map[string]string{"error": "forbidden", "role": m})
		return
	}
	clean := ""
	if target != nil {
		clean = cleanPath(target.Path)
	}
	for i := range h.s.rules {
		rl := &h.s.rules[i]
		if (target == nil || rl.covers(clean)) && !rl.met(u) {
			body := map[string]string{"error": "forbidden"}
			if rl.role != "" {
				body["role"] = rl.role
			} else {
				body["group"] = rl.group
			}
			writeJSON(w, http.StatusForbidden, body)
			return
		}
	}
	h.verified(w, r, u, true)
}

// verified answers 200 with the identity headers of u (none for nobody),
// and the access token when configured and wanted.
func (h *Handler) verified(w http.ResponseWriter, r *http.Request, u *entraweb.User, withToken bool) {
	var t *accessToken
	if u != nil && withToken && h.s.accessTokenHeader {
		var err error
		if t, err = h.token(r); err != nil {
			h.verifyTokenFailed(w, r, err)
			return
		}
	}
	hdr := w.Header()
	hdr.Set("Cache-Control", "no-store")
	if u != nil {
		id := h.ids.get(h.s, u)
		setAll(hdr, id.headers)
		setAll(hdr, id.verify)
	}
	if t != nil {
		hdr.Set("X-Ms-Token-Aad-Access-Token", t.token)
		if t.expiresOn != "" {
			hdr.Set("X-Ms-Token-Aad-Expires-On", t.expiresOn)
		}
	}
	w.WriteHeader(http.StatusOK)
}

// verifyTokenFailed answers a failed access token without the redirect
// Challenge would send a browser: 401 when the user must sign in again,
// 503 or 502 when the store or the provider is down.
func (h *Handler) verifyTokenFailed(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, entraweb.ErrInteractionRequired), errors.Is(err, entraweb.ErrNotSignedIn):
		ret := "/"
		if t := h.originalURL(r); t != nil {
			if p, ok := origin.SafeReturnPath(t.RequestURI()); ok {
				ret = p
			}
		}
		h.notSignedIn(w, r, ret)
	case errors.Is(err, entraweb.ErrStoreUnavailable):
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "store_unavailable"})
	default:
		h.log.Warn("proxy: verify could not get the access token", "err", err)
		writeJSON(w, http.StatusBadGateway, map[string]string{"error": "provider_unavailable"})
	}
}

// originalURL is the URL a forward-auth request is about, from a trusted
// proxy's headers; nil when unknown.
func (h *Handler) originalURL(r *http.Request) *url.URL {
	raw := ""
	for _, k := range []string{"X-Original-Url", "X-Forwarded-Uri", "X-Original-Uri"} {
		if raw = r.Header.Get(k); raw != "" {
			break
		}
	}
	if raw == "" {
		return nil
	}
	if !h.trust.FromTrustedProxy(r) {
		h.untrustedVerify.Do(func() {
			h.log.Warn("proxy: /.auth/verify ignores X-Original-URL and X-Forwarded-Uri from a peer that is not a trusted proxy, so every path rule applies to its requests; list the front proxy's address in Entraweb:TrustedProxies", "peer", r.RemoteAddr)
		})
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil || u.Path == "" && u.Host == "" || u.Path != "" && u.Path[0] != '/' {
		return nil
	}
	if u.Path == "" {
		u.Path = "/"
	}
	return u
}
