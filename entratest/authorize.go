package entratest

import (
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// authRequest is a validated authorization request. It travels sealed in
// the sign-in and consent forms (as the platform's own "ctx" does), so a
// pending sign-in costs the emulator no memory.
type authRequest struct {
	Tenant        string `json:"tn"`
	ClientID      string `json:"c"`
	RedirectURI   string `json:"r"`
	ResponseMode  string `json:"m"`
	Scope         string `json:"s"`
	State         string `json:"st,omitempty"`
	Nonce         string `json:"n,omitempty"`
	Challenge     string `json:"cc,omitempty"`
	Method        string `json:"cm,omitempty"`
	Prompt        string `json:"p,omitempty"`
	LoginHint     string `json:"lh,omitempty"`
	Claims        string `json:"cl,omitempty"`
	Expires       int64  `json:"x"`
	Authenticated string `json:"u,omitempty"` // oid, once the form has signed the user in
}

// authCode is an authorization code waiting to be redeemed.
type authCode struct {
	clientID    string
	redirectURI string
	challenge   string
	method      string
	nonce       string
	scope       string
	oid         string
	tid         string
	sid         string
	authTime    int64
	family      string
	acrs        []string // authentication contexts the authorize claims asked for
	expires     time.Time
}

// ssoState is the emulator's SSO cookie, sealed. SID names the session:
// every ID token issued in it carries it as sid, and front-channel logout
// sends it to the apps.
type ssoState struct {
	OID      string `json:"o"`
	TID      string `json:"t,omitempty"` // the user's tenant, whose issuer front-channel logout names
	SID      string `json:"s"`
	AuthTime int64  `json:"a"`
	Expires  int64  `json:"x"`
	Gen      int64  `json:"g,omitempty"` // the user's revocation count when the session began
	// Apps are the client ids signed in during the session, oldest first:
	// logout finds the app of a bare post_logout_redirect_uri among them
	// and signs them all out through their front-channel logout URLs.
	Apps []string `json:"p,omitempty"`
}

const ssoCookie = "ESTSAUTH"

// maxSSOApps bounds the apps an SSO cookie remembers, so that it stays far
// below the 4 KB browsers allow a cookie; the oldest are forgotten first.
const maxSSOApps = 20

// addApp records a sign-in to clientID as the session's latest.
func (st *ssoState) addApp(clientID string) {
	st.Apps = slices.DeleteFunc(st.Apps, func(c string) bool { return c == clientID })
	st.Apps = append(st.Apps, clientID)
	if n := len(st.Apps) - maxSSOApps; n > 0 {
		st.Apps = slices.Delete(st.Apps, 0, n)
	}
}

// saveSSO sets the SSO cookie to st. A response sets it once: an earlier
// Set-Cookie of the same response is replaced, not followed by a second.
func (s *Server) saveSSO(w http.ResponseWriter, r *http.Request, st *ssoState) {
	h := w.Header()
	h["Set-Cookie"] = slices.DeleteFunc(h["Set-Cookie"], func(c string) bool { return strings.HasPrefix(c, ssoCookie+"=") })
	http.SetCookie(w, ssoCookieFor(r, s.seal.seal("sso", st), 0))
}

// ssoCookieFor is the SSO cookie as the request's transport allows: Secure
// and SameSite=None on TLS, as the platform sets it; Lax on the plain-HTTP
// browser listener, where a Secure cookie could not be set.
func ssoCookieFor(r *http.Request, value string, maxAge int) *http.Cookie {
	c := &http.Cookie{Name: ssoCookie, Value: value, Path: "/", HttpOnly: true, MaxAge: maxAge, SameSite: http.SameSiteLaxMode}
	if r.TLS != nil {
		c.Secure, c.SameSite = true, http.SameSiteNoneMode
	}
	return c
}

var challengeRE = regexp.MustCompile(`^[A-Za-z0-9._~-]{43,128}$`)

// handleAuthorize is /{tenant}/oauth2/v2.0/authorize.
func (s *Server) handleAuthorize(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, r, newErr(http.StatusBadRequest, 9002313, "The request could not be parsed."))
		return
	}
	req, e := s.validateAuthorize(r)
	if e != nil {
		s.errorPage(w, r, e)
		return
	}
	// From here on the redirect URI is trusted: errors go back to the app.
	if e := s.checkAuthorizeParams(r.Form); e != nil {
		s.redirectError(w, r, req, e)
		return
	}
	wd := s.world.Load()
	sr, e := wd.parseScopes(req.Scope)
	if e == nil && len(sr.raw) == 0 {
		e = newErr(http.StatusBadRequest, 900144, "The request body must contain the following parameter: 'scope'.")
	}
	if e != nil {
		s.redirectError(w, r, req, e)
		return
	}
	user := s.ssoUser(r, wd)
	switch req.Prompt {
	case "none":
		switch {
		case user == nil:
			s.redirectError(w, r, req, newErr(0, 50058, ""))
		case req.LoginHint != "" && !strings.EqualFold(req.LoginHint, user.Username):
			s.redirectError(w, r, req, newErr(0, 16000, ""))
		default:
			s.finish(w, r, req, user, false)
		}
		return
	case "login", "select_account":
		s.signInPage(w, r, req, "", "")
		return
	}
	if user != nil && (req.LoginHint == "" || strings.EqualFold(req.LoginHint, user.Username)) {
		s.finish(w, r, req, user, true)
		return
	}
	s.signInPage(w, r, req, "", "")
}

// validateAuthorize checks what must be right before anything may be sent
// back to the redirect URI; its errors are shown on a page, never redirected.
func (s *Server) validateAuthorize(r *http.Request) (*authRequest, *aadError) {
	wd := s.world.Load()
	a, ok := wd.resolve(r.PathValue("tenant"))
	if !ok {
		return nil, newErr(http.StatusBadRequest, 90002, "Tenant '"+clip(r.PathValue("tenant"))+"' not found.")
	}
	f := r.Form
	for k, v := range f {
		if len(v) > 1 {
			return nil, newErr(http.StatusBadRequest, 9002313, "The parameter '"+clip(k)+"' is repeated.")
		}
	}
	cid := strings.ToLower(f.Get("client_id"))
	if cid == "" {
		return nil, newErr(http.StatusBadRequest, 900144, "The request body must contain the following parameter: 'client_id'.")
	}
	app := wd.apps[cid]
	if app == nil || (!a.multi() && app.home != a.tenant && !app.MultiTenant) {
		return nil, newErr(http.StatusBadRequest, 700016, "Application with identifier '"+clip(cid)+"' was not found in the directory '"+a.seg+"'.")
	}
	if a.multi() && !app.MultiTenant {
		return nil, newErr(http.StatusBadRequest, 50194, "Application '"+app.ClientID+"' ("+app.DisplayName+") is not configured as a multi-tenant application.")
	}
	if len(app.RedirectURIs) == 0 {
		return nil, newErr(http.StatusBadRequest, 500113, "Register a redirect URI for application '"+app.ClientID+"'.")
	}
	ru := f.Get("redirect_uri")
	if ru == "" {
		return nil, newErr(http.StatusBadRequest, 900144, "The request body must contain the following parameter: 'redirect_uri'.")
	}
	if !redirectAllowed(app.RedirectURIs, ru) {
		return nil, newErr(http.StatusBadRequest, 50011, "The redirect URI '"+clip(ru)+"' specified in the request does not match the redirect URIs configured for the application '"+app.ClientID+"'. Make sure the redirect URI sent in the request matches one added to your application.")
	}
	return &authRequest{
		Tenant: a.seg, ClientID: app.ClientID, RedirectURI: ru,
		ResponseMode: f.Get("response_mode"), Scope: f.Get("scope"), State: f.Get("state"), Nonce: f.Get("nonce"),
		Challenge: f.Get("code_challenge"), Method: f.Get("code_challenge_method"), Prompt: f.Get("prompt"),
		LoginHint: f.Get("login_hint"), Claims: f.Get("claims"),
		Expires: s.now().Add(30 * time.Minute).Unix(),
	}, nil
}

// checkAuthorizeParams validates the parameters whose errors are sent back
// to the app (the redirect URI being known good by then).
func (s *Server) checkAuthorizeParams(f url.Values) *aadError {
	switch rt := f.Get("response_type"); rt {
	case "code":
	case "":
		return &aadError{code: 900144, oauth: "invalid_request", detail: "The request body must contain the following parameter: 'response_type'."}
	default:
		return &aadError{code: 700054, detail: "response_type '" + clip(rt) + "' is not enabled for the application; the emulator supports the code flow."}
	}
	switch f.Get("response_mode") {
	case "", "query", "form_post", "fragment":
	default:
		return &aadError{code: 9002313, detail: "response_mode must be query, fragment or form_post."}
	}
	switch f.Get("prompt") {
	case "", "login", "none", "consent", "select_account":
	default:
		return &aadError{code: 9002313, detail: "Invalid prompt value '" + clip(f.Get("prompt")) + "'."}
	}
	if cc := f.Get("code_challenge"); cc != "" {
		m := f.Get("code_challenge_method")
		if m != "" && m != "S256" && m != "plain" {
			return &aadError{code: 9002313, detail: "code_challenge_method must be S256 or plain."}
		}
		if !challengeRE.MatchString(cc) {
			return &aadError{code: 501491}
		}
	} else if f.Get("code_challenge_method") != "" {
		return &aadError{code: 900144, detail: "code_challenge_method was sent without code_challenge."}
	}
	if c := f.Get("claims"); c != "" && !json.Valid([]byte(c)) {
		return &aadError{code: 9002313, detail: "The claims parameter is not valid JSON."}
	}
	for _, k := range []string{"state", "nonce", "login_hint", "claims"} {
		if len(f.Get(k)) > 4096 {
			return &aadError{code: 9002313, detail: "The parameter '" + k + "' is too long."}
		}
	}
	return nil
}

// redirectAllowed matches a redirect URI against the registered ones:
// exactly, except that an http loopback URI matches any port.
func redirectAllowed(registered []string, ru string) bool {
	if slices.Contains(registered, ru) {
		return true
	}
	u, err := url.Parse(ru)
	if err != nil || u.Scheme != "http" || !isLoopback(u.Hostname()) || !validPort(u.Port()) {
		return false
	}
	for _, reg := range registered {
		ur, err := url.Parse(reg)
		if err != nil || ur.Scheme != "http" || ur.Hostname() != u.Hostname() {
			continue
		}
		// Only the port may differ: comparing parsed paths would let
		// "/auth/%63allback", "/auth%2Fcallback" or a fragment through as
		// the registered "/auth/callback".
		rest, ok := strings.CutPrefix(reg, "http://"+ur.Host)
		if ok && ru == "http://"+net.JoinHostPort(u.Hostname(), u.Port())+rest {
			return true
		}
	}
	return false
}

// validPort reports whether p is a TCP port as a URI should write it:
// decimal digits without a leading zero, 1 to 65535. url.Parse lets
// ":99999" and ":09" through, which no browser would send.
func validPort(p string) bool {
	if p == "" || len(p) > 5 || p[0] == '0' || strings.Trim(p, "0123456789") != "" {
		return false
	}
	n, err := strconv.Atoi(p)
	return err == nil && n <= 65535
}

// ssoSession is the browser's SSO session and its user, if it is still
// good: sealed here, not expired, and its user neither disabled nor
// revoked since.
func (s *Server) ssoSession(r *http.Request, wd *world) (*ssoState, *userRef) {
	c, err := r.Cookie(ssoCookie)
	if err != nil {
		return nil, nil
	}
	var st ssoState
	if s.seal.open("sso", c.Value, &st) != nil || s.now().Unix() >= st.Expires {
		return nil, nil
	}
	u := wd.usersOID[st.OID]
	if u == nil || u.Disabled || s.revokedGen(u.ObjectID, st.Gen) {
		return nil, nil
	}
	return &st, u
}

// ssoUser is the user of the browser's SSO session, if it is still good.
func (s *Server) ssoUser(r *http.Request, wd *world) *userRef {
	_, u := s.ssoSession(r, wd)
	return u
}

// revocationGen is how many times the user's grants were revoked. Grants
// record it when issued; a count rather than a time keeps a revocation
// and a new sign-in in the same clock tick (a frozen test clock, or one
// second) apart.
func (s *Server) revocationGen(oid string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.revoked[oid]
}

// revokedGen reports whether a grant issued under count gen was revoked since.
func (s *Server) revokedGen(oid string, gen int64) bool { return gen < s.revocationGen(oid) }

// RevokeUser revokes every refresh token and SSO session issued to the user
// so far, as a password change or an admin's "revoke sessions" does.
func (s *Server) RevokeUser(username string) bool {
	u := s.world.Load().users[strings.ToLower(username)]
	if u == nil {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.revoked[u.ObjectID]++
	return true
}

// handleLogin is the sign-in form's POST: a picked test user, or a
// username and password.
func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {
	req, ok := s.openForm(w, r)
	if !ok {
		return
	}
	wd := s.world.Load()
	name := strings.TrimSpace(r.PostForm.Get("username"))
	u := wd.users[strings.ToLower(name)]
	// The typed username is not logged when it names no one: people type
	// their password into the wrong box.
	refused := func(msg string, args ...any) {
		s.log.Info("entratest: sign-in refused", append([]any{"client_id", req.ClientID}, args...)...)
		s.signInPage(w, r, req, msg, name)
	}
	if pick := r.PostForm.Get("pick"); pick != "" {
		u = wd.usersOID[strings.ToLower(pick)]
		if u == nil {
			refused("That account is not in this directory.", "reason", "the picked account is not in the directory")
			return
		}
	} else {
		switch {
		case name == "":
			refused("Enter a valid email address, phone number, or Skype name.", "reason", "no username")
			return
		case u == nil:
			refused("AADSTS50034: This username may be incorrect. Make sure you typed it correctly.", "aadsts", 50034, "reason", "unknown username")
			return
		case !constantEqual(r.PostForm.Get("password"), u.Password):
			refused("AADSTS50126: Your account or password is incorrect.", "aadsts", 50126, "reason", "wrong password", "username", u.Username)
			return
		}
	}
	if u.Disabled {
		s.errorPage(w, r, newErr(http.StatusBadRequest, 50057, "User account '"+u.Username+"' is disabled."))
		return
	}
	now := s.now()
	// Signing in again as the session's user (prompt=login) renews the
	// session rather than starting another: its sid and its apps stay, so
	// the apps signed in before are still signed out with it.
	st, cur := s.ssoSession(r, wd)
	if cur == nil || cur.ObjectID != u.ObjectID {
		st = &ssoState{OID: u.ObjectID, TID: u.tenant.ID, SID: newGUID(), Gen: s.revocationGen(u.ObjectID)}
	}
	st.AuthTime = now.Unix()
	st.Expires = now.Add(s.cfgLifetime(wd.cfg.SessionLifetime, 24*time.Hour)).Unix()
	// The session exists from here on, whatever becomes of this sign-in
	// (consent, an error page); finishWith replaces the cookie when it
	// records the app.
	s.saveSSO(w, r, st)
	s.finishWith(w, r, req, u, st, true)
}

// handleConsent is the consent form's POST.
func (s *Server) handleConsent(w http.ResponseWriter, r *http.Request) {
	req, ok := s.openForm(w, r)
	if !ok {
		return
	}
	wd := s.world.Load()
	u := wd.usersOID[req.Authenticated]
	sso := s.ssoUser(r, wd)
	if u == nil || sso == nil || sso.ObjectID != u.ObjectID {
		s.log.Info("entratest: consent refused", "client_id", req.ClientID, "reason", "the SSO session ended before consent")
		s.signInPage(w, r, req, "Your session has ended; sign in again.", "")
		return
	}
	if r.PostForm.Get("accept") != "yes" {
		s.redirectError(w, r, req, newErr(0, 65004, "The user declined to consent to access the app."))
		return
	}
	sr, e := wd.parseScopes(req.Scope)
	if e != nil {
		s.redirectError(w, r, req, e)
		return
	}
	client := wd.apps[req.ClientID]
	_, missing := s.granted(sr, client, u.ObjectID)
	s.grantConsent(client, u.ObjectID, missing)
	s.finish(w, r, req, u, true)
}

// openForm reads a form POST of the sign-in page and the request it carries.
func (s *Server) openForm(w http.ResponseWriter, r *http.Request) (*authRequest, bool) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, r, newErr(http.StatusBadRequest, 9002313, "The form could not be read."))
		return nil, false
	}
	var req authRequest
	if s.seal.open("ctx", r.PostForm.Get("ctx"), &req) != nil || s.now().Unix() >= req.Expires {
		s.errorPage(w, r, newErr(http.StatusBadRequest, 9002313, "This sign-in has expired or was not started here. Go back to the application and sign in again."))
		return nil, false
	}
	if s.world.Load().apps[req.ClientID] == nil {
		s.errorPage(w, r, newErr(http.StatusBadRequest, 700016, ""))
		return nil, false
	}
	return &req, true
}

// finish completes a sign-in for the SSO session's user.
func (s *Server) finish(w http.ResponseWriter, r *http.Request, req *authRequest, u *userRef, interactive bool) {
	st, cur := s.ssoSession(r, s.world.Load())
	if cur == nil || cur.ObjectID != u.ObjectID {
		// The session ended between the caller's check and here: a session
		// of this sign-in alone.
		now := s.now()
		st = &ssoState{OID: u.ObjectID, TID: u.tenant.ID, SID: newGUID(), AuthTime: now.Unix(),
			Expires: now.Add(s.cfgLifetime(s.world.Load().cfg.SessionLifetime, 24*time.Hour)).Unix(), Gen: s.revocationGen(u.ObjectID)}
	}
	s.finishWith(w, r, req, u, st, interactive)
}

// finishWith checks that the user may use the app, asks for consent when
// needed, and sends the code to the app, recording the app in the SSO
// session st.
func (s *Server) finishWith(w http.ResponseWriter, r *http.Request, req *authRequest, u *userRef, st *ssoState, interactive bool) {
	wd := s.world.Load()
	client := wd.apps[req.ClientID]
	a, _ := wd.resolve(req.Tenant)
	if !a.multi() && u.tenant != a.tenant || !client.MultiTenant && u.tenant != client.home {
		s.errorPage(w, r, newErr(http.StatusBadRequest, 50020, "User account '"+u.Username+"' from its identity provider does not exist in tenant '"+tenantName(client.home)+"' and cannot access the application '"+client.ClientID+"' ("+client.DisplayName+") in that tenant."))
		return
	}
	if client.AssignmentRequired && len(rolesFor(u, client)) == 0 {
		s.errorPage(w, r, newErr(http.StatusBadRequest, 50105, "Your administrator has configured the application "+client.DisplayName+" ('"+client.ClientID+"') to block users unless they are specifically granted ('assigned') access to the application. The signed in user '"+u.Username+"' is blocked because they are not a direct member of a group with access, nor had access directly assigned by an administrator. Please contact your administrator to assign access to this application."))
		return
	}
	sr, e := wd.parseScopes(req.Scope)
	if e != nil {
		s.redirectError(w, r, req, e)
		return
	}
	if _, missing := s.granted(sr, client, u.ObjectID); len(missing) > 0 || req.Prompt == "consent" {
		if !interactive {
			s.redirectError(w, r, req, &aadError{code: 65001, oauth: "consent_required", detail: "The user or administrator has not consented to use the application with ID '" + client.ClientID + "' named '" + client.DisplayName + "'. Send an interactive authorization request for this user and resource."})
			return
		}
		req.Authenticated = u.ObjectID
		req.Prompt = "" // consent is asked once
		s.consentPage(w, r, req, u, client, sr, missing)
		return
	}
	if code, ok := s.takeSignInFault(); ok {
		s.redirectError(w, r, req, newErr(0, code, ""))
		return
	}
	code, e := s.newCode(req, u, st.SID, st.AuthTime)
	if e != nil {
		s.redirectError(w, r, req, e)
		return
	}
	st.addApp(client.ClientID)
	s.saveSSO(w, r, st)
	s.respond(w, req, url.Values{"code": {code}, "session_state": {st.SID}})
}

func tenantName(t *Tenant) string {
	if t.DisplayName != "" {
		return t.DisplayName
	}
	return t.Domain
}

func (s *Server) newCode(req *authRequest, u *userRef, sid string, authTime int64) (string, *aadError) {
	method := req.Method
	if req.Challenge != "" && method == "" {
		method = "plain"
	}
	c := &authCode{
		clientID: req.ClientID, redirectURI: req.RedirectURI, challenge: req.Challenge, method: method,
		nonce: req.Nonce, scope: req.Scope, oid: u.ObjectID, tid: u.tenant.ID, sid: sid, authTime: authTime,
		family:  newGUID(),
		acrs:    requestedACRS(req.Claims),
		expires: s.now().Add(s.cfgLifetime(s.world.Load().cfg.CodeLifetime, 10*time.Minute)),
	}
	code := "1.entratest." + randomID(48)
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.codes) >= s.opts.MaxCodes {
		return "", &aadError{code: 90033, detail: "Too many authorization codes are waiting to be redeemed."}
	}
	s.codes[code] = c
	return code, nil
}

// respond sends the authorization response to the app in the requested mode.
func (s *Server) respond(w http.ResponseWriter, req *authRequest, v url.Values) {
	if req.State != "" {
		v.Set("state", req.State)
	}
	w.Header().Set("Cache-Control", "no-store")
	switch req.ResponseMode {
	case "form_post":
		s.formPostPage(w, req.RedirectURI, v)
	case "fragment":
		w.Header().Set("Location", req.RedirectURI+"#"+v.Encode())
		w.WriteHeader(http.StatusFound)
	default:
		u, _ := url.Parse(req.RedirectURI)
		q := u.Query()
		for k, vals := range v {
			q[k] = vals
		}
		u.RawQuery = q.Encode()
		w.Header().Set("Location", u.String())
		w.WriteHeader(http.StatusFound)
	}
}

// redirectError sends an error to the app's redirect URI.
func (s *Server) redirectError(w http.ResponseWriter, r *http.Request, req *authRequest, e *aadError) {
	s.log.Info("entratest: authorize refused", "aadsts", e.code, "error", e.oauthError(), "client_id", req.ClientID,
		"redirect_uri", req.RedirectURI, "reason", e.reason())
	trace, corr := newGUID(), newGUID()
	v := url.Values{
		"error":             {e.oauthError()},
		"error_description": {traced(e.description(), trace, corr, s.now())},
		"error_uri":         {s.URL + "/error?code=" + strconv.Itoa(e.code)},
	}
	s.respond(w, req, v)
}
