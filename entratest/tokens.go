package entratest

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"slices"
	"strings"
	"time"
)

// grant is what a token response is made from.
type grant struct {
	client   *appRef
	user     *userRef // nil for app-only tokens
	tenant   *Tenant  // the tenant the tokens are issued in
	scopes   *scopeRequest
	scp      []string // delegated permissions granted
	nonce    string
	sid      string
	authTime int64
	family   string
	acr      string   // how the client authenticated: "0" public, "1" secret, "2" certificate
	gen      int64    // the user's revocation count the grant stems from
	acrs     []string // authentication contexts a claims request asked for
	cc       []string // client capabilities a claims request declared (xms_cc)
}

// refreshState is what a refresh token carries, sealed.
type refreshState struct {
	ClientID string `json:"c"`
	OID      string `json:"o"`
	TID      string `json:"t"`
	Family   string `json:"f"`
	Issued   int64  `json:"i"`
	SID      string `json:"s"`
	AuthTime int64  `json:"a"`
	Gen      int64  `json:"g,omitempty"` // the user's revocation count at issue
}

// pairwiseSub is the sub claim: stable per user and app, different
// between apps.
func pairwiseSub(oid, clientID string) string {
	h := sha256.Sum256([]byte("sub:" + oid + ":" + clientID))
	return b64.EncodeToString(h[:])[:43]
}

func randomID(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return b64.EncodeToString(b)
}

// tokenResponse builds the token endpoint's success body.
func (s *Server) tokenResponse(g *grant, clientInfo bool) (map[string]any, error) {
	now := s.now()
	wd := s.world.Load()
	atLife := s.cfgLifetime(wd.cfg.AccessTokenLifetime, time.Hour)
	at, err := s.accessToken(g, now, atLife)
	if err != nil {
		return nil, err
	}
	secs := int64(atLife / time.Second)
	resp := map[string]any{
		"token_type":     "Bearer",
		"expires_in":     secs,
		"ext_expires_in": secs,
		"access_token":   at,
	}
	if g.user == nil {
		return resp, nil
	}
	resp["scope"] = strings.Join(g.scopes.raw, " ")
	if g.scopes.offline {
		resp["refresh_token"] = s.seal.seal("rt", refreshState{
			ClientID: g.client.ClientID, OID: g.user.ObjectID, TID: g.tenant.ID, Family: g.family,
			Issued: now.Unix(), SID: g.sid, AuthTime: g.authTime, Gen: g.gen,
		})
	}
	if g.scopes.openid {
		idt, err := s.idToken(g, now)
		if err != nil {
			return nil, err
		}
		resp["id_token"] = idt
	}
	if clientInfo {
		ci, _ := json.Marshal(map[string]string{"uid": g.user.ObjectID, "utid": g.user.tenant.ID})
		resp["client_info"] = b64.EncodeToString(ci)
	}
	return resp, nil
}

func (s *Server) cfgLifetime(d Duration, def time.Duration) time.Duration { return d.or(def) }

func (s *Server) currentKey() *signingKey {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.keys[0]
}

func (s *Server) sign(claims map[string]any) (string, error) {
	return s.signWith(claims, nil)
}

// signWith signs claims with the current key, with extra header fields.
func (s *Server) signWith(claims, extra map[string]any) (string, error) {
	k := s.currentKey()
	return encodeJWT(withHeader(map[string]any{"typ": "JWT", "alg": "RS256", "kid": k.kid, "x5t": k.kid}, extra), claims, k.priv)
}

func withHeader(h, extra map[string]any) map[string]any {
	for k, v := range extra {
		h[k] = v
	}
	return h
}

// rolesFor lists the values of app's roles assigned to the user.
func rolesFor(u *userRef, app *appRef) []string {
	var out []string
	for cid, vals := range u.AppRoles {
		if strings.EqualFold(cid, app.ClientID) {
			out = append(out, vals...)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// maxGroupsInJWT is where the platform stops listing groups in a JWT and
// signals the overage instead.
const maxGroupsInJWT = 200

func (s *Server) groupClaims(c map[string]any, u *userRef) {
	if len(u.Groups) > maxGroupsInJWT {
		c["_claim_names"] = map[string]string{"groups": "src1"}
		c["_claim_sources"] = map[string]any{"src1": map[string]string{
			"endpoint": s.URL + "/v1.0/users/" + u.ObjectID + "/getMemberObjects",
		}}
		return
	}
	if len(u.Groups) > 0 {
		c["groups"] = u.Groups
	}
}

func (s *Server) idToken(g *grant, now time.Time) (string, error) {
	wd := s.world.Load()
	u := g.user
	c := map[string]any{
		"aud":                g.client.ClientID,
		"iss":                s.Issuer(u.tenant.ID),
		"iat":                now.Unix(),
		"nbf":                now.Unix(),
		"exp":                now.Add(s.cfgLifetime(wd.cfg.IDTokenLifetime, time.Hour)).Unix(),
		"aio":                randomID(48),
		"name":               u.DisplayName,
		"oid":                u.ObjectID,
		"preferred_username": u.Username,
		"rh":                 "0." + randomID(32) + ".",
		"sub":                pairwiseSub(u.ObjectID, g.client.ClientID),
		"tid":                u.tenant.ID,
		"uti":                randomID(16),
		"ver":                "2.0",
		"login_hint":         "O.entratest." + b64.EncodeToString([]byte(u.ObjectID+"."+u.tenant.ID)),
	}
	if g.sid != "" {
		c["sid"] = g.sid
	}
	if g.nonce != "" {
		c["nonce"] = g.nonce
	}
	if g.scopes.email && u.Email != "" {
		c["email"] = u.Email
	}
	if roles := rolesFor(u, g.client); len(roles) > 0 {
		c["roles"] = roles
	}
	if g.client.GroupsClaim {
		s.groupClaims(c, u)
	}
	return s.spoil(c, nil, s.takeIDFault(), now)
}

// spoil signs a token (with extra header fields), spoiled as a fault
// asks.
func (s *Server) spoil(c, extra map[string]any, f TokenFault, now time.Time) (string, error) {
	switch f {
	case FaultExpired:
		c["iat"], c["nbf"], c["exp"] = now.Add(-2*time.Hour).Unix(), now.Add(-2*time.Hour).Unix(), now.Add(-time.Hour).Unix()
	case FaultNotYetValid:
		c["iat"], c["nbf"], c["exp"] = now.Add(time.Hour).Unix(), now.Add(time.Hour).Unix(), now.Add(2*time.Hour).Unix()
	case FaultWrongAudience:
		c["aud"] = StableID("another-client")
	case FaultWrongIssuer:
		c["iss"] = s.Issuer(StableID("another-tenant"))
	case FaultWrongNonce:
		c["nonce"] = randomID(16)
	case FaultMissingNonce:
		delete(c, "nonce")
	case FaultMissingOID:
		delete(c, "oid")
	case FaultMissingTID:
		delete(c, "tid")
	case FaultMissingSub:
		delete(c, "sub")
	case FaultMissingIAT:
		delete(c, "iat")
	case FaultMissingSID:
		delete(c, "sid")
	case FaultUnsigned:
		return encodeJWT(withHeader(map[string]any{"typ": "JWT", "alg": "none"}, extra), c, nil)
	case FaultUnknownKID:
		k, err := newSigningKey(now)
		if err != nil {
			return "", err
		}
		return encodeJWT(withHeader(map[string]any{"typ": "JWT", "alg": "RS256", "kid": k.kid, "x5t": k.kid}, extra), c, k.priv)
	case FaultHMAC:
		k := s.currentKey()
		hb, _ := json.Marshal(withHeader(map[string]any{"typ": "JWT", "alg": "HS256", "kid": k.kid}, extra))
		cb, _ := json.Marshal(c)
		signing := b64.EncodeToString(hb) + "." + b64.EncodeToString(cb)
		pubDER, _ := x509.MarshalPKIXPublicKey(&k.priv.PublicKey)
		m := hmac.New(sha256.New, pubDER)
		m.Write([]byte(signing))
		return signing + "." + b64.EncodeToString(m.Sum(nil)), nil
	}
	tok, err := s.signWith(c, extra)
	if err != nil || f != FaultBadSignature {
		return tok, err
	}
	i := strings.LastIndexByte(tok, '.')
	sig, _ := b64.DecodeString(tok[i+1:])
	sig[len(sig)/2] ^= 0xff
	return tok[:i+1] + b64.EncodeToString(sig), nil
}

// accessToken mints the access token of a grant: a Graph token (v1.0
// shape, Graph's audience) or a token for an app's own API.
func (s *Server) accessToken(g *grant, now time.Time, life time.Duration) (string, error) {
	c := map[string]any{
		"iat": now.Unix(),
		"nbf": now.Unix(),
		"exp": now.Add(life).Unix(),
		"aio": randomID(48),
		"rh":  "0." + randomID(32) + ".",
		"uti": randomID(16),
		"tid": g.tenant.ID,
	}
	graph := g.scopes.graph || g.scopes.resource == ""
	v1 := graph || g.scopes.api.AccessTokenVersion == 1
	switch {
	case graph:
		c["aud"] = GraphAppID
	case v1:
		c["aud"] = g.scopes.api.IdentifierURI
	default:
		c["aud"] = g.scopes.api.ClientID
	}
	if v1 {
		c["iss"] = "https://sts.windows.net/" + g.tenant.ID + "/"
		c["ver"] = "1.0"
		c["appid"] = g.client.ClientID
		c["appidacr"] = g.acr
		c["app_displayname"] = g.client.DisplayName
	} else {
		c["iss"] = s.Issuer(g.tenant.ID)
		c["ver"] = "2.0"
		c["azp"] = g.client.ClientID
		c["azpacr"] = g.acr
	}
	if g.client.mirid != "" {
		c["xms_mirid"] = g.client.mirid
	}
	if len(g.cc) > 0 {
		c["xms_cc"] = g.cc
	}
	// Graph's tokens carry a nonce in the header, hashed into the
	// signature (graphnonce.go): an API that receives one knows it is
	// not its own.
	var header map[string]any
	nonce := ""
	if graph {
		nonce = randomID(32)
		header = map[string]any{"nonce": hashedNonce(nonce)}
	}
	sign := func() (string, error) {
		tok, err := s.spoil(c, header, s.takeAccessFault(), now)
		if err != nil || nonce == "" {
			return tok, err
		}
		return withRawNonce(tok, nonce), nil
	}
	if g.user == nil {
		c["oid"] = g.client.sp
		c["sub"] = g.client.sp
		c["idtyp"] = "app"
		if len(g.scp) > 0 {
			c["roles"] = g.scp
		}
		return sign()
	}
	u := g.user
	c["oid"] = u.ObjectID
	c["name"] = u.DisplayName
	c["idtyp"] = "user"
	c["scp"] = strings.Join(g.scp, " ")
	c["sub"] = pairwiseSub(u.ObjectID, "at:"+g.client.ClientID)
	if g.sid != "" {
		c["sid"] = g.sid
	}
	if len(g.acrs) > 0 {
		c["acrs"] = g.acrs
	}
	if v1 {
		c["upn"] = u.Username
		c["unique_name"] = u.Username
		if u.GivenName != "" {
			c["given_name"] = u.GivenName
		}
		if u.Surname != "" {
			c["family_name"] = u.Surname
		}
	} else {
		c["preferred_username"] = u.Username
	}
	if !graph {
		if roles := rolesFor(u, g.scopes.api); len(roles) > 0 {
			c["roles"] = roles
		}
		if g.scopes.api.GroupsClaim {
			s.groupClaims(c, u)
		}
	}
	return sign()
}

// verifyOwnToken checks a token this emulator signed (Graph's view of the
// tokens it receives): signature, audience and lifetime.
func (s *Server) verifyOwnToken(tok, aud string) (*jwtParts, bool) {
	p, err := decodeJWT(tok)
	if err != nil || p.str(p.header, "alg") != "RS256" {
		return nil, false
	}
	kid := p.str(p.header, "kid")
	var pub *rsa.PublicKey
	s.mu.Lock()
	for _, k := range s.keys {
		if k.kid == kid {
			pub = &k.priv.PublicKey
		}
	}
	s.mu.Unlock()
	p.signing = p.signedForm() // Graph's tokens sign a hashed nonce
	if pub == nil || p.verifyRSA(pub) != nil {
		return nil, false
	}
	if p.str(p.claims, "aud") != aud {
		return nil, false
	}
	exp, ok := p.num("exp")
	if !ok || s.now().Unix() >= exp {
		return nil, false
	}
	return p, true
}
