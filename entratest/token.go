package entratest

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"time"
)

const maxTokenBody = 1 << 20

// handleToken is /{tenant}/oauth2/v2.0/token.
func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	wd := s.world.Load()
	a, ok := s.tenantOf(w, r, wd)
	if !ok {
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxTokenBody)
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(strings.ToLower(ct), "application/x-www-form-urlencoded") {
		s.refuse(w, r, newErr(http.StatusBadRequest, 9002313, "The token endpoint takes an application/x-www-form-urlencoded body."), "")
		return
	}
	if err := r.ParseForm(); err != nil {
		s.refuse(w, r, newErr(http.StatusBadRequest, 9002313, "The request body could not be parsed."), "")
		return
	}
	form := r.PostForm
	for k, v := range form {
		if len(v) > 1 {
			s.refuse(w, r, newErr(http.StatusBadRequest, 9002313, "The parameter '"+clip(k)+"' is repeated."), "")
			return
		}
	}
	gt := form.Get("grant_type")
	if gt == "" {
		s.refuse(w, r, newErr(http.StatusBadRequest, 900144, "The request body must contain the following parameter: 'grant_type'."), "")
		return
	}
	if c := form.Get("claims"); c != "" && !json.Valid([]byte(c)) {
		s.refuse(w, r, newErr(http.StatusBadRequest, 9002313, "The claims parameter is not valid JSON."), gt)
		return
	}
	client, acr, e := s.authenticateClient(r, wd, a)
	if e != nil {
		s.refuse(w, r, e, gt)
		return
	}
	var resp map[string]any
	switch gt {
	case "authorization_code":
		resp, e = s.redeemCode(wd, a, client, acr, form)
	case "refresh_token":
		resp, e = s.redeemRefresh(wd, a, client, acr, form)
	case "client_credentials":
		resp, e = s.clientCredentials(wd, a, client, acr, form)
	case grantJWTBearer:
		resp, e = s.onBehalfOf(wd, a, client, acr, form)
	default:
		e = newErr(http.StatusBadRequest, 70003, "The grant type '"+clip(gt)+"' is not supported by the emulator.")
	}
	if e != nil {
		s.refuse(w, r, e, gt)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

// refuse answers a token request with e and logs why. Only the client id
// is taken from the request: the form carries secrets, codes and tokens.
func (s *Server) refuse(w http.ResponseWriter, r *http.Request, e *aadError, grant string) {
	cid := ""
	if r.PostForm != nil {
		cid = clip(r.PostForm.Get("client_id"))
	}
	s.log.Info("entratest: token request refused", "grant", clip(grant), "aadsts", e.code, "error", e.oauthError(),
		"client_id", cid, "reason", e.reason())
	s.writeJSONError(w, r, e)
}

func (s *Server) redeemCode(wd *world, a authority, client *appRef, acr string, f url.Values) (map[string]any, *aadError) {
	code := f.Get("code")
	if code == "" {
		return nil, newErr(http.StatusBadRequest, 900144, "The request body must contain the following parameter: 'code'.")
	}
	s.mu.Lock()
	c, ok := s.codes[code]
	delete(s.codes, code) // single use, whatever happens next
	if !ok {
		// A replayed code: revoke what it issued, as OAuth 2.0 advises.
		if fam, replay := s.redeemedCodes[code]; replay {
			s.families[fam.family] = fam.until
			s.mu.Unlock()
			return nil, newErr(http.StatusBadRequest, 54005, "")
		}
	} else {
		s.redeemedCodes[code] = redeemed{family: c.family, forget: c.expires,
			until: s.now().Add(s.cfgLifetime(wd.cfg.RefreshTokenLifetime, 90*24*time.Hour))}
	}
	s.mu.Unlock()
	now := s.now()
	switch {
	case !ok:
		return nil, newErr(http.StatusBadRequest, 9002313, "The authorization code is malformed or was not issued by this emulator.")
	case now.After(c.expires):
		return nil, newErr(http.StatusBadRequest, 70008, "The authorization code has expired.")
	case c.clientID != client.ClientID:
		return nil, newErr(http.StatusBadRequest, 70000, "The code was issued to another client.")
	case f.Get("redirect_uri") != c.redirectURI:
		return nil, newErr(http.StatusBadRequest, 70000, "The redirect_uri does not match the one used in the authorization request.")
	}
	if e := checkPKCE(c, f.Get("code_verifier")); e != nil {
		return nil, e
	}
	u := wd.usersOID[c.oid]
	if u == nil || u.Disabled {
		return nil, newErr(http.StatusBadRequest, 50057, "")
	}
	scope := f.Get("scope")
	if strings.TrimSpace(scope) == "" {
		scope = c.scope
	}
	// The authentication contexts asked for at authorize travel with the
	// code; the redemption may ask for more.
	acrs := mergeACRS(c.acrs, requestedACRS(f.Get("claims")))
	return s.userGrant(wd, client, acr, u, scope, c.nonce, c.sid, c.authTime, c.family, s.revocationGen(u.ObjectID), f.Get("client_info") == "1", acrs, requestedCapabilities(f.Get("claims")))
}

func checkPKCE(c *authCode, verifier string) *aadError {
	if c.challenge == "" {
		return nil // MSAL Go sends an empty verifier when it has none
	}
	if verifier == "" {
		return newErr(http.StatusBadRequest, 50148, "The request contains no code_verifier.")
	}
	want := verifier
	if c.method == "S256" {
		sum := sha256.Sum256([]byte(verifier))
		want = b64.EncodeToString(sum[:])
	}
	if subtle.ConstantTimeCompare([]byte(want), []byte(c.challenge)) != 1 {
		return newErr(http.StatusBadRequest, 50148, "")
	}
	return nil
}

func (s *Server) redeemRefresh(wd *world, a authority, client *appRef, acr string, f url.Values) (map[string]any, *aadError) {
	rt := f.Get("refresh_token")
	if rt == "" {
		return nil, newErr(http.StatusBadRequest, 900144, "The request body must contain the following parameter: 'refresh_token'.")
	}
	var st refreshState
	if s.seal.open("rt", rt, &st) != nil {
		return nil, newErr(http.StatusBadRequest, 9002313, "The refresh token is malformed or was not issued by this emulator.")
	}
	now := s.now()
	s.mu.Lock()
	_, familyRevoked := s.families[st.Family]
	s.mu.Unlock()
	u := wd.usersOID[st.OID]
	switch {
	case st.ClientID != client.ClientID:
		return nil, newErr(http.StatusBadRequest, 70000, "The refresh token was issued to another client.")
	case now.Unix() >= st.Issued+int64(s.cfgLifetime(wd.cfg.RefreshTokenLifetime, 90*24*time.Hour)/time.Second):
		return nil, newErr(http.StatusBadRequest, 70008, "The refresh token has expired.")
	case u == nil:
		return nil, newErr(http.StatusBadRequest, 50034, "")
	case u.Disabled:
		return nil, newErr(http.StatusBadRequest, 50057, "")
	case familyRevoked, s.revokedGen(u.ObjectID, st.Gen):
		return nil, &aadError{code: 50173, suberror: "bad_token"}
	case !a.multi() && a.tenant.ID != st.TID:
		return nil, newErr(http.StatusBadRequest, 70000, "The refresh token was issued in another tenant.")
	}
	scope := f.Get("scope")
	if strings.TrimSpace(scope) == "" {
		return nil, newErr(http.StatusBadRequest, 900144, "The request body must contain the following parameter: 'scope'.")
	}
	return s.userGrant(wd, client, acr, u, scope, "", st.SID, st.AuthTime, st.Family, st.Gen, f.Get("client_info") == "1", requestedACRS(f.Get("claims")), requestedCapabilities(f.Get("claims")))
}

// userGrant issues the tokens of a delegated grant, checking consent.
func (s *Server) userGrant(wd *world, client *appRef, acr string, u *userRef, scope, nonce, sid string, authTime int64, family string, gen int64, clientInfo bool, acrs, cc []string) (map[string]any, *aadError) {
	sr, e := wd.parseScopes(scope)
	if e != nil {
		return nil, e
	}
	scp, missing := s.granted(sr, client, u.ObjectID)
	if len(missing) > 0 {
		return nil, &aadError{code: 65001, suberror: "consent_required",
			detail: "The user or administrator has not consented to use the application with ID '" + client.ClientID + "' named '" + client.DisplayName + "'. Send an interactive authorization request for this user and resource."}
	}
	g := &grant{client: client, user: u, tenant: u.tenant, scopes: sr, scp: scp, nonce: nonce, sid: sid, authTime: authTime, family: family, acr: acr, gen: gen, acrs: acrs, cc: cc}
	resp, err := s.tokenResponse(g, clientInfo)
	if err != nil {
		return nil, &aadError{status: http.StatusInternalServerError, code: 90033, detail: "Signing failed."}
	}
	return resp, nil
}

func (s *Server) clientCredentials(wd *world, a authority, client *appRef, acr string, f url.Values) (map[string]any, *aadError) {
	if a.multi() {
		return nil, newErr(http.StatusBadRequest, 50059, "Use a tenant-specific authority for client credentials.")
	}
	if acr == "0" {
		return nil, newErr(http.StatusUnauthorized, 7000218, "")
	}
	scope := f.Get("scope")
	sr, e := wd.parseScopes(scope)
	if e != nil {
		return nil, e
	}
	if !sr.dflt {
		return nil, newErr(http.StatusBadRequest, 1002012, "The scope '"+clip(scope)+"' is not valid.")
	}
	g := &grant{client: client, tenant: a.tenant, scopes: sr, scp: grantedAppPermissions(sr, client.ApplicationPermissions), acr: acr}
	resp, err := s.tokenResponse(g, false)
	if err != nil {
		return nil, &aadError{status: http.StatusInternalServerError, code: 90033, detail: "Signing failed."}
	}
	return resp, nil
}

// grantedAppPermissions lists the app roles of the request's resource among
// perms (fully qualified application permissions).
func grantedAppPermissions(sr *scopeRequest, perms []string) []string {
	var roles []string
	prefix := strings.ToLower(sr.full(""))
	for _, p := range perms {
		if strings.HasPrefix(strings.ToLower(p), prefix) {
			roles = append(roles, p[len(prefix):])
		}
	}
	return roles
}
