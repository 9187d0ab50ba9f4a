package entraweb

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"slices"
	"strings"

	"github.com/entraweb/entraweb/internal/oidc"
)

// Front-channel logout: when a user signs out at Entra ID (in this app or
// any other), Entra ID loads each app's front-channel logout URL in a
// hidden iframe with the session's sid, and every app ends its sessions of
// that sid. entraweb keeps, per sid, the sessions it started: an index
// record in the session store, sealed like the sessions themselves.

// maxSessionsPerSID bounds one sid's index: one browser signing in again
// and again within one Entra session.
const maxSessionsPerSID = 16

type sidEntry struct {
	Session string `json:"s"` // the session's store key
	Tokens  string `json:"t"` // its token partition
}

func sidKey(sid string) string {
	sum := sha256.Sum256([]byte("entraweb-sid:" + sid))
	return "sid:" + base64.RawURLEncoding.EncodeToString(sum[:])
}

// validSID accepts what Entra ID sends as a session id: a GUID in
// practice; anything short and printable without spaces here.
func validSID(sid string) bool {
	if sid == "" || len(sid) > 128 {
		return false
	}
	for i := 0; i < len(sid); i++ {
		if c := sid[i]; c <= 0x20 || c >= 0x7f {
			return false
		}
	}
	return true
}

// rememberSID adds a session to its sid's index. A failure only costs
// front-channel logout for this session, so it is logged, not fatal.
func (a *Auth) rememberSID(ctx context.Context, sid string, e sidEntry) {
	key := sidKey(sid)
	list := a.sidSessions(ctx, key)
	list = append(slices.DeleteFunc(list, func(x sidEntry) bool { return x.Session == e.Session }), e)
	if len(list) > maxSessionsPerSID {
		list = list[len(list)-maxSessionsPerSID:]
	}
	b, _ := json.Marshal(list)
	if err := a.sessions.Store.Commit(ctx, key, a.sessions.Box.Seal(b, []byte(key)), a.s.now().Add(a.s.life)); err != nil {
		a.log.Warn("entraweb: could not index the session for front-channel logout", "err", err)
	}
}

// forgetSID takes a session out of its sid's index at sign-out, deleting
// the index when it empties, so a sign-out leaves nothing behind.
func (a *Auth) forgetSID(ctx context.Context, sid, sessionKey string) error {
	key := sidKey(sid)
	list := a.sidSessions(ctx, key)
	rest := slices.DeleteFunc(slices.Clone(list), func(x sidEntry) bool { return x.Session == sessionKey })
	switch {
	case len(rest) == len(list) && len(list) > 0:
		return nil
	case len(rest) == 0:
		return a.sessions.Store.Delete(ctx, key)
	}
	b, _ := json.Marshal(rest)
	return a.sessions.Store.Commit(ctx, key, a.sessions.Box.Seal(b, []byte(key)), a.s.now().Add(a.s.life))
}

func (a *Auth) sidSessions(ctx context.Context, key string) []sidEntry {
	data, found, err := a.sessions.Store.Find(ctx, key)
	if err != nil || !found {
		return nil
	}
	pt, err := a.sessions.Box.Open(data, []byte(key))
	if err != nil {
		return nil
	}
	var list []sidEntry
	if json.Unmarshal(pt, &list) != nil {
		return nil
	}
	return list
}

// handleFrontChannelLogout ends every session of the sid Entra ID names.
// It answers a small page that may be framed by the identity provider
// only, and never cached.
func (a *Auth) handleFrontChannelLogout(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	q := r.URL.Query()
	sid, iss := q.Get("sid"), q.Get("iss")
	h := w.Header()
	// This page lives in the provider's iframe: an X-Frame-Options: DENY
	// set by the app's own middleware would block it.
	h.Del("X-Frame-Options")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors "+a.frameAncestors+"; base-uri 'none'")
	if !validSID(sid) || (iss != "" && !a.issuerMatches(iss)) {
		a.log.Info("entraweb: front-channel logout refused", "has_sid", sid != "", "iss_matches", iss == "" || a.issuerMatches(iss))
		h.Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusBadRequest)
		w.Write([]byte("front-channel logout needs the sid of a session of this identity provider\n"))
		return
	}
	ctx := r.Context()
	key := sidKey(sid)
	ended := 0
	for _, e := range a.sidSessions(ctx, key) {
		if err := a.tokens.Delete(ctx, e.Tokens); err != nil {
			a.log.Warn("entraweb: front-channel logout could not delete a token partition", "err", err)
		}
		if err := a.sessions.Revoke(ctx, e.Session); err != nil {
			// Entra ID does not retry: say so loudly, the session lives on.
			a.log.Error("entraweb: front-channel logout could not end a session", "err", err)
			continue
		}
		ended++
	}
	if err := a.sessions.Store.Delete(ctx, key); err != nil {
		a.log.Warn("entraweb: front-channel logout could not delete its index", "err", err)
	}
	a.log.Info("entraweb: front-channel logout", "sessions_ended", ended)
	h.Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	w.Write([]byte("<!doctype html><title>Signed out</title><p>Signed out.</p>\n"))
}

// issuerMatches compares an iss parameter with the provider's issuer; a
// multi-tenant issuer's placeholder stands for any one path segment.
func (a *Auth) issuerMatches(iss string) bool {
	want := a.verifier.Issuer
	before, after, ok := strings.Cut(want, oidc.TenantPlaceholder)
	if !ok {
		return iss == want
	}
	tid, ok := strings.CutPrefix(iss, before)
	if !ok {
		return false
	}
	tid, ok = strings.CutSuffix(tid, after)
	return ok && tid != "" && !strings.ContainsAny(tid, "/?#")
}
