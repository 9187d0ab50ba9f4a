package entraweb

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/entraweb/entraweb/internal/oidc"
)

// handleCallback finishes a sign-in: it matches the state to a pending
// sign-in of this browser, redeems the code with its PKCE verifier,
// validates the ID token with its nonce, checks the minimum role, and
// starts a new session (a new id: a planted cookie never survives).
func (a *Auth) handleCallback(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if a.s.cfg.Observe != nil {
		r = r.WithContext(context.WithValue(r.Context(), inCallback{}, true))
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		a.signInFailed(w, r, http.StatusBadRequest, "bad_callback", "The sign-in response could not be read.", "Sign in again.", "", "/", err)
		return
	}
	state, code, errCode := r.Form.Get("state"), r.Form.Get("code"), r.Form.Get("error")
	base := a.s.origin.BaseURL(r)
	secure := base.Scheme == "https"
	list := a.pending.read(r, secure)
	p, rest, ok := take(list, state)
	if !ok || state == "" {
		a.signInFailed(w, r, http.StatusBadRequest, "unknown_state",
			"This sign-in did not start in this browser, or it took longer than 15 minutes.",
			"Sign in again. If this keeps happening, check that this browser allows cookies for this site.",
			"The callback's state matches no pending sign-in of this browser. Besides blocked cookies and slow sign-ins: the host of the redirect URI must be the host people browse (its cookie is set there), so check Entraweb:PublicBaseUrl or the proxy's forwarded headers.", "/",
			fmt.Errorf("no pending sign-in of this browser matches the state (state sent: %t, pending sign-ins: %d)", state != "", len(list)))
		return
	}
	a.pending.write(w, rest, secure)
	if errCode != "" {
		a.signInRefused(w, r, &AADSTSError{Err: clipForLog(errCode), Description: clipForLog(r.Form.Get("error_description")),
			Code: oidc.CodeFromDescription(r.Form.Get("error_description"))}, p)
		return
	}
	if code == "" || len(code) > 8192 {
		a.signInFailed(w, r, http.StatusBadRequest, "bad_callback", "The sign-in response carried no authorization code.", "Sign in again.", "", p.Return, nil)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
	defer cancel()
	red, err := a.tokens.Redeem(ctx, code, p.RedirectURI, p.Verifier, a.signInScopes(p), p.Claims)
	if err == nil && red.IDToken == "" {
		err = &AADSTSError{Err: "no_id_token", Description: "The token endpoint answered without an ID token."}
	}
	if err != nil {
		err = providerError(err, a.signInScopes(p)...)
		var ae *AADSTSError
		switch {
		case errors.As(err, &ae):
			a.signInRefused(w, r, ae, p)
		default:
			a.providerDown(w, r, p.Return, err)
		}
		return
	}
	claims, err := a.verifier.VerifyIDToken(ctx, red.IDToken, p.Nonce)
	if err != nil {
		var ite *oidc.TokenError
		if errors.As(err, &ite) {
			a.signInFailed(w, r, http.StatusUnauthorized, "invalid_token", "The answer from Microsoft Entra ID could not be verified.",
				"Sign in again. If it happens again, tell the app's administrator, quoting the trace id below.",
				"The ID token was refused: it is "+ite.Reason+". Check AzureAd:ClientId, TenantId and Instance, and this machine's clock.", p.Return, ite)
			return
		}
		a.providerDown(w, r, p.Return, err)
		return
	}
	u := &User{
		Name: claims.Name, Username: claims.PreferredUsername, Email: claims.Email,
		ObjectID: claims.ObjectID, TenantID: claims.TenantID,
		AssignedRoles: claims.Roles, Groups: claims.Groups, GroupsOverage: claims.GroupsOverage(),
		SignedInAt: a.s.now().UTC().Truncate(time.Second),
	}
	u.Roles = a.s.roles.expand(u.AssignedRoles)
	if m := a.s.roles.minimum; m != "" && !u.HasRole(m) {
		a.forbidden(w, r, u, m)
		return
	}
	// Keep the tokens of the sign-in (the refresh token above all) in the
	// user's token cache partition, for AccessToken.
	u.tokens = randomToken() // this session's own token partition
	kept, err := a.tokens.Keep(ctx, u.partition(), red)
	if err != nil {
		a.storeUnavailable(w, r, err)
		return
	}
	if !kept {
		// MSAL filed the tokens under another account than the validated
		// ID token names: none of them were kept.
		a.log.Error("entraweb: the token response's account does not match the ID token; tokens not kept", "user_oid", u.ObjectID)
	}
	if u.GroupsOverage {
		// The token could not list them all: read them once, now.
		if groups, err := a.resolveGroups(ctx, u); err != nil {
			a.log.Warn("entraweb: could not read the groups of a user in too many groups for a token", "user_oid", u.ObjectID, "err", err)
		} else {
			u.Groups, u.GroupsOverage = groups, false
		}
	}
	values := map[string]string{valUser: encodeUser(u), valCSRF: randomToken()}
	if claims.LoginHint != "" {
		values[valLoginHint] = claims.LoginHint
	}
	// Entra ID names its session in the ID token's sid (an optional claim
	// in some tenants) and in the callback's session_state: the same value.
	sid := claims.SessionID
	if sid == "" {
		sid = r.Form.Get("session_state")
	}
	if validSID(sid) {
		values[valSID] = sid
	}
	if len(p.Scopes) > 0 || p.Claims != "" {
		values[valStepUp] = a.stepUpMark(p.Scopes, p.Claims)
	}
	sess, err := a.sessions.Start(r.Context(), w, r, values)
	if err != nil {
		a.storeUnavailable(w, r, err)
		return
	}
	if sid := values[valSID]; sid != "" {
		a.rememberSID(ctx, sid, sidEntry{Session: sess.Key(), Tokens: u.tokens})
	}
	a.observe(r.Context(), Event{Kind: EventSignIn})
	a.log.Info("entraweb: signed in", "user_oid", u.ObjectID, "tid", u.TenantID, "roles", strings.Join(u.AssignedRoles, ","))
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, base.Path+p.Return, http.StatusSeeOther)
}
