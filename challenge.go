package entraweb

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Challenge answers a request whose handler got an error from
// AccessToken. For ErrInteractionRequired it starts a new sign-in that
// asks for the missing scopes (incremental consent) and carries any claims
// challenge, then comes back to the same page; an API call gets 401 JSON
// with the login_url instead. Other errors get a 503 (session store
// down), 502 (provider down) or 500 page. The errors of a Client's calls
// go here too: a claims challenge signs the user in again with its
// claims, and a call that had its token but could not reach the API gets
// a 502 page. It reports whether it wrote a response (always, for a
// non-nil err).
func (a *Auth) Challenge(w http.ResponseWriter, r *http.Request, err error) bool {
	if err == nil {
		return false
	}
	var nt *noTokenError
	noToken := errors.As(err, &nt)
	if noToken {
		// A call of Client without its token: the *url.Error around it
		// names the whole URL, whose query stays out of the log.
		err = fmt.Errorf("a call to %s: %w", nt.where, nt.err)
	}
	var ire *InteractionRequiredError
	switch {
	case r.Context().Err() != nil && errors.Is(err, r.Context().Err()):
		// The request was cancelled (the client left, or a deadline of
		// the app's own ran out): nobody waits for a page, and nothing
		// failed on entraweb's side, so nothing counts as a refusal.
		a.log.Debug("entraweb: a token was not obtained: the request was cancelled", "err", err)
		w.WriteHeader(http.StatusServiceUnavailable)
	case errors.As(err, &ire):
		a.log.Info("entraweb: sign-in needed for a token", "scopes", strings.Join(ire.Scopes, " "), "claims_challenge", ire.Claims != "")
		ret := thisPage(r)
		login := a.loginURL(r, ret)
		sess, err := a.sessions.LoadShared(r.Context(), r)
		if err != nil {
			a.storeUnavailable(w, r, err)
			return true
		}
		fits := stepUpFits(ire.Scopes, ire.Claims)
		if sess != nil && sess.Values[valCSRF] != "" && fits {
			login += "&req=" + url.QueryEscape(a.sealStepUp(ire.Scopes, ire.Claims, sess.Values[valCSRF]))
		}
		switch {
		case !fits && (ire.Claims != "" || !scopesWithin(ire.Scopes, a.s.cfg.Scopes)):
			// A sign-in cannot carry these scopes or claims (they would
			// not fit the pending sign-in cookie), and a plain sign-in,
			// which asks for the configured scopes only, would not
			// satisfy them: it would only come back here. (Too many
			// configured scopes, after a revoked refresh token, do get
			// the plain sign-in below, which fixes that.)
			a.log.Error("entraweb: a token needs a sign-in for more scopes or claims than a sign-in can carry; not sending the user round",
				"scopes_bytes", len(strings.Join(ire.Scopes, " ")), "claims_bytes", len(ire.Claims))
			a.observe(r.Context(), Event{Kind: EventRefused, Reason: "step_up_too_large", Status: http.StatusInternalServerError})
			a.render(w, r, page{Problem: Problem{Status: http.StatusInternalServerError, Code: "step_up_too_large", Title: "This page asks for too much at once",
				Message: fmt.Sprintf("It needs a sign-in for more permissions or claims than a sign-in can carry here (%d bytes of scopes, %d of claims; at most %d and %d). Signing in again would not help: tell the app's developers.",
					len(strings.Join(ire.Scopes, " ")), len(ire.Claims), maxStepUpScopes, maxStepUpClaims)}})
			return true
		case sess != nil && a.stepUpRepeated(sess.Values[valStepUp], ire.Scopes, ire.Claims):
			// The user signed in for exactly this a moment ago and the
			// token or the API still refuses: another round would loop
			// between the app and Entra ID, without end when Entra ID
			// signs the user in without asking anything. The page's link
			// makes the same step-up, with the account picker, once more.
			a.log.Warn("entraweb: a sign-in for these scopes or claims was just made and they are still asked for; not sending the user round again",
				"scopes", strings.Join(ire.Scopes, " "), "claims_challenge", ire.Claims != "")
			a.observe(r.Context(), Event{Kind: EventRefused, Reason: "step_up_repeated", Status: http.StatusForbidden})
			a.render(w, r, page{Problem: Problem{Status: http.StatusForbidden, Code: "step_up_repeated", Title: "Signing in again did not help",
				Message: "You just signed in again for this, and it is still refused. This usually needs an administrator: " +
					"a Conditional Access policy your sign-in cannot meet, or consent only an administrator can grant.",
				Links: []Link{{login + "&prompt=select_account", "Try signing in again"}}}})
			return true
		}
		if mayRedirectToSignIn(r) {
			w.Header().Set("Cache-Control", "no-store")
			http.Redirect(w, r, login, http.StatusFound)
			return true
		}
		w.Header().Set("WWW-Authenticate", `Bearer realm="entraweb", error="interaction_required"`)
		a.render(w, r, page{Problem: Problem{Status: http.StatusUnauthorized, Code: "interaction_required", Title: "Sign-in required",
			Message: "This needs you to sign in again (consent or a fresh sign-in).", Links: []Link{{login, "Sign in"}}}})
	case errors.Is(err, ErrNotSignedIn):
		a.challenge(w, r)
	case errors.Is(err, ErrStoreUnavailable):
		a.storeUnavailable(w, r, err)
	case errors.Is(err, ErrProviderUnavailable):
		a.providerUnavailable(w, r, err)
	default:
		var ue *url.Error
		if !noToken && errors.As(err, &ue) {
			a.apiFailed(w, r, ue) // a call of Client that had its token
			return true
		}
		a.tokenFailed(w, r, err)
	}
	return true
}

// scopesWithin reports whether every scope of want is among have (case
// does not matter to Entra ID).
func scopesWithin(want, have []string) bool {
	for _, w := range want {
		if !slices.ContainsFunc(have, func(h string) bool { return strings.EqualFold(h, w) }) {
			return false
		}
	}
	return true
}

// stepUpRepeatWindow is how soon after a step-up sign-in the same
// challenge counts as a loop rather than a new need.
const stepUpRepeatWindow = time.Minute

// stepUpMark records in the session that its sign-in was a step-up for
// scopes and claims: when, and a digest of what.
func (a *Auth) stepUpMark(scopes []string, claims string) string {
	return strconv.FormatInt(a.s.now().Unix(), 10) + " " + stepUpDigest(scopes, claims)
}

// stepUpRepeated reports whether mark (a session's stepUpMark) says the
// session was signed in for these scopes and claims within
// stepUpRepeatWindow.
func (a *Auth) stepUpRepeated(mark string, scopes []string, claims string) bool {
	at, digest, ok := strings.Cut(mark, " ")
	if !ok {
		return false
	}
	unix, err := strconv.ParseInt(at, 10, 64)
	if err != nil {
		return false
	}
	age := a.s.now().Sub(time.Unix(unix, 0))
	return age >= -time.Minute && age <= stepUpRepeatWindow && digest == stepUpDigest(scopes, claims)
}

func stepUpDigest(scopes []string, claims string) string {
	h := sha256.New()
	for _, s := range scopes {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	h.Write([]byte{1})
	h.Write([]byte(claims))
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// A step-up's scopes and claims ride in the pending sign-in cookie beside
// the return path; these bounds keep the newest entry under the cookie's
// budget (TestPendingCookieSize builds the largest).
const (
	maxStepUpClaims = 1024
	maxStepUpScopes = 512
)

func stepUpFits(scopes []string, claims string) bool {
	n := 0
	for _, s := range scopes {
		n += len(s) + 1
	}
	return n <= maxStepUpScopes && len(claims) <= maxStepUpClaims
}

// stepUp is what a challenge asks the next sign-in for. It travels sealed
// in the login URL, so a link made by someone else cannot make a user
// consent to scopes the app never asked for; and it is bound to the
// session that asked (its CSRF secret is the seal's additional data), so
// the link is of no use to anyone else who gets hold of it.
type stepUp struct {
	Scopes  []string `json:"s"`
	Claims  string   `json:"c,omitempty"`
	Expires int64    `json:"x"`
}

func stepUpBinding(sessionSecret string) []byte { return []byte("entraweb-step-up:" + sessionSecret) }

func (a *Auth) sealStepUp(scopes []string, claims, sessionSecret string) string {
	b, _ := json.Marshal(stepUp{Scopes: scopes, Claims: claims, Expires: a.s.now().Add(10 * time.Minute).Unix()})
	return base64.RawURLEncoding.EncodeToString(a.pending.box.Seal(b, stepUpBinding(sessionSecret)))
}

// openStepUp opens v if it was sealed for the session whose CSRF secret
// is sessionSecret.
func (a *Auth) openStepUp(v, sessionSecret string) (*stepUp, bool) {
	if sessionSecret == "" {
		return nil, false
	}
	if v == "" || len(v) > 8192 {
		return nil, false
	}
	raw, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil {
		return nil, false
	}
	pt, err := a.pending.box.Open(raw, stepUpBinding(sessionSecret))
	if err != nil {
		return nil, false
	}
	var su stepUp
	if json.Unmarshal(pt, &su) != nil || a.s.now().Unix() >= su.Expires || !stepUpFits(su.Scopes, su.Claims) {
		return nil, false
	}
	return &su, true
}

// ClaimsChallenge reads a resource's answer: when it is a 401 with a
// claims challenge (WWW-Authenticate: Bearer ... error="insufficient_claims",
// claims="..."), as Microsoft Graph sends under Conditional Access or
// continuous access evaluation, it returns an InteractionRequiredError to
// pass to Challenge, which signs the user in again with those claims.
// Otherwise it returns nil. The clients of Client do this themselves.
//
//	if err := auth.ClaimsChallenge(resp, "User.Read"); err != nil {
//		auth.Challenge(w, r, err)
//		return
//	}
func (a *Auth) ClaimsChallenge(resp *http.Response, scopes ...string) error {
	if resp == nil || resp.StatusCode != http.StatusUnauthorized {
		return nil
	}
	claims, ok := claimsChallenge(resp.Header.Values("WWW-Authenticate"))
	if !ok {
		return nil
	}
	return &InteractionRequiredError{Scopes: scopes, Claims: claims, Cause: errors.New("the resource asked for more claims (a claims challenge)")}
}
