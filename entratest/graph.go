package entratest

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
)

// graphCaller is the verified bearer of a Graph request.
type graphCaller struct {
	user  *userRef // nil for app-only tokens
	scp   map[string]bool
	roles map[string]bool
	appID string
	tid   string
}

func (c *graphCaller) anyOf(perms ...string) bool {
	for _, p := range perms {
		if c.scp[strings.ToLower(p)] || c.roles[strings.ToLower(p)] {
			return true
		}
	}
	return false
}

func (s *Server) graphError(w http.ResponseWriter, r *http.Request, status int, code, msg string) {
	s.log.Info("entratest: graph request refused", "path", clip(r.URL.Path), "status", status, "code", code, "reason", msg)
	if status == http.StatusUnauthorized && w.Header().Get("WWW-Authenticate") == "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="", authorization_uri="`+s.URL+`/common/oauth2/authorize", client_id="`+GraphAppID+`"`)
	}
	writeJSON(w, status, map[string]any{"error": map[string]any{
		"code": code, "message": msg,
		"innerError": map[string]any{"date": s.now().UTC().Format("2006-01-02T15:04:05"), "request-id": newGUID(), "client-request-id": r.Header.Get("client-request-id")},
	}})
}

// graphAuth verifies a Graph access token issued by this emulator.
func (s *Server) graphAuth(w http.ResponseWriter, r *http.Request) *graphCaller {
	h := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || tok == "" {
		s.graphError(w, r, http.StatusUnauthorized, "InvalidAuthenticationToken", "Access token is empty.")
		return nil
	}
	p, ok := s.verifyOwnToken(tok, GraphAppID)
	if !ok {
		s.graphError(w, r, http.StatusUnauthorized, "InvalidAuthenticationToken", "Access token validation failure: the token is expired, not for Microsoft Graph, or not signed by this emulator.")
		return nil
	}
	c := &graphCaller{scp: map[string]bool{}, roles: map[string]bool{}, appID: p.str(p.claims, "appid"), tid: p.str(p.claims, "tid")}
	for _, v := range strings.Fields(p.str(p.claims, "scp")) {
		c.scp[strings.ToLower(v)] = true
	}
	if rs, ok := p.claims["roles"].([]any); ok {
		for _, v := range rs {
			if s, ok := v.(string); ok {
				c.roles[strings.ToLower(s)] = true
			}
		}
	}
	if p.str(p.claims, "idtyp") == "user" {
		// Authentication contexts are about the user's sign-in: app-only
		// tokens cannot carry acrs, so only delegated tokens are challenged.
		if id := s.requiredAuthContext(); id != "" && !p.hasACR(id) {
			s.authContextChallenge(w, r, id)
			return nil
		}
		c.user = s.world.Load().usersOID[p.str(p.claims, "oid")]
		if c.user == nil {
			s.graphError(w, r, http.StatusNotFound, "Request_ResourceNotFound", "The user of this token no longer exists.")
			return nil
		}
	}
	return c
}

func (s *Server) meUser(w http.ResponseWriter, r *http.Request, perms ...string) *graphCaller {
	c := s.graphAuth(w, r)
	if c == nil {
		return nil
	}
	if c.user == nil {
		s.graphError(w, r, http.StatusBadRequest, "BadRequest", "/me request is only valid with delegated authentication flow.")
		return nil
	}
	if !c.anyOf(perms...) {
		s.graphError(w, r, http.StatusForbidden, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
		return nil
	}
	return c
}

// handleGraphMe is Graph's GET /v1.0/me.
func (s *Server) handleGraphMe(w http.ResponseWriter, r *http.Request) {
	c := s.meUser(w, r, "User.Read", "User.ReadWrite", "User.ReadBasic.All", "User.Read.All", "Directory.Read.All")
	if c == nil {
		return
	}
	u := c.user
	var mail any
	if u.Email != "" {
		mail = u.Email
	}
	var title any
	if u.JobTitle != "" {
		title = u.JobTitle
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"@odata.context":    s.URL + "/v1.0/$metadata#users/$entity",
		"businessPhones":    []string{},
		"displayName":       u.DisplayName,
		"givenName":         nullable(u.GivenName),
		"jobTitle":          title,
		"mail":              mail,
		"mobilePhone":       nil,
		"officeLocation":    nil,
		"preferredLanguage": nil,
		"surname":           nullable(u.Surname),
		"userPrincipalName": u.Username,
		"id":                u.ObjectID,
	})
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// handleGraphMemberOf is Graph's GET /v1.0/me/transitiveMemberOf (and
// memberOf: the emulator has no nested groups), paged with $top and
// @odata.nextLink.
func (s *Server) handleGraphMemberOf(w http.ResponseWriter, r *http.Request) {
	c := s.meUser(w, r, "User.Read", "GroupMember.Read.All", "Group.Read.All", "Directory.Read.All")
	if c == nil {
		return
	}
	q := r.URL.Query()
	top := 100
	if v := q.Get("$top"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 999 {
			s.graphError(w, r, http.StatusBadRequest, "Request_UnsupportedQuery", "$top must be a number from 1 to 999.")
			return
		}
		top = n
	}
	skip := 0
	if v := q.Get("$skiptoken"); v != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(v, "e"))
		if err != nil || n < 0 || n > len(c.user.Groups) {
			s.graphError(w, r, http.StatusBadRequest, "Request_BadRequest", "The $skiptoken is not valid.")
			return
		}
		skip = n
	}
	wd := s.world.Load()
	groups := c.user.Groups[skip:]
	next := ""
	if len(groups) > top {
		groups = groups[:top]
		next = s.URL + r.URL.Path + "?$top=" + strconv.Itoa(top) + "&$skiptoken=e" + strconv.Itoa(skip+top)
	}
	value := make([]map[string]any, 0, len(groups))
	for _, id := range groups {
		name := any(nil)
		if g := wd.groups[strings.ToLower(id)]; g != nil {
			name = g.DisplayName
		}
		value = append(value, map[string]any{
			"@odata.type": "#microsoft.graph.group", "id": id, "displayName": name, "securityEnabled": true,
		})
	}
	body := map[string]any{"@odata.context": s.URL + "/v1.0/$metadata#directoryObjects", "value": value}
	if next != "" {
		body["@odata.nextLink"] = next
	}
	writeJSON(w, http.StatusOK, body)
}

// handleGetMemberObjects is POST /v1.0/me/getMemberObjects and
// /v1.0/users/{id}/getMemberObjects, where groups overage claims point.
func (s *Server) handleGetMemberObjects(w http.ResponseWriter, r *http.Request) {
	c := s.graphAuth(w, r)
	if c == nil {
		return
	}
	u := c.user
	if id := r.PathValue("id"); id != "" {
		target := s.world.Load().usersOID[strings.ToLower(id)]
		switch {
		case target == nil:
			s.graphError(w, r, http.StatusNotFound, "Request_ResourceNotFound", "Resource '"+clip(id)+"' does not exist.")
			return
		case u != nil && u.ObjectID != target.ObjectID && !c.anyOf("User.Read.All", "Directory.Read.All"),
			u == nil && !c.anyOf("User.Read.All", "Directory.Read.All", "GroupMember.Read.All"):
			s.graphError(w, r, http.StatusForbidden, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
			return
		}
		u = target
	} else if u == nil {
		s.graphError(w, r, http.StatusBadRequest, "BadRequest", "/me request is only valid with delegated authentication flow.")
		return
	}
	var body struct {
		SecurityEnabledOnly *bool `json:"securityEnabledOnly"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096)).Decode(&body); err != nil || body.SecurityEnabledOnly == nil {
		s.graphError(w, r, http.StatusBadRequest, "Request_BadRequest", "The body must be JSON with securityEnabledOnly.")
		return
	}
	ids := append([]string{}, u.Groups...)
	writeJSON(w, http.StatusOK, map[string]any{"@odata.context": s.URL + "/v1.0/$metadata#Collection(Edm.String)", "value": ids})
}

// handleUserInfo is the OpenID Connect userinfo endpoint, which the
// platform serves from Graph.
func (s *Server) handleUserInfo(w http.ResponseWriter, r *http.Request) {
	c := s.graphAuth(w, r)
	if c == nil {
		return
	}
	if c.user == nil || !c.scp["openid"] {
		s.graphError(w, r, http.StatusForbidden, "Authorization_RequestDenied", "userinfo needs a delegated token with the openid scope.")
		return
	}
	u := c.user
	out := map[string]any{"sub": pairwiseSub(u.ObjectID, c.appID)}
	if c.scp["profile"] {
		out["name"], out["given_name"], out["family_name"] = u.DisplayName, u.GivenName, u.Surname
		out["picture"] = s.URL + "/v1.0/me/photo/$value"
	}
	if c.scp["email"] && u.Email != "" {
		out["email"] = u.Email
	}
	writeJSON(w, http.StatusOK, out)
}
