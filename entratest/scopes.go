package entratest

import (
	"net/http"
	"regexp"
	"slices"
	"strings"
)

// scopeRequest is a parsed scope parameter: the OpenID Connect scopes and
// the permissions of at most one resource.
type scopeRequest struct {
	raw      []string // as requested, deduplicated, original spelling
	openid   bool
	profile  bool
	email    bool
	offline  bool
	graph    bool    // the resource is Microsoft Graph
	api      *appRef // the resource is this app's API
	names    []string
	dflt     bool // names is [".default"]
	resource string
}

var scopeNameRE = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.\-]{0,119}$`)

// parseScopes resolves a scope parameter against the directory.
func (w *world) parseScopes(param string) (*scopeRequest, *aadError) {
	sr := &scopeRequest{}
	seen := map[string]bool{}
	fields := strings.Fields(param)
	if len(fields) > 64 {
		return nil, newErr(http.StatusBadRequest, 70011, "Too many scopes.")
	}
	for _, f := range fields {
		lf := strings.ToLower(f)
		if seen[lf] {
			continue
		}
		seen[lf] = true
		sr.raw = append(sr.raw, f)
		switch lf {
		case "openid":
			sr.openid = true
			continue
		case "profile":
			sr.profile = true
			continue
		case "email":
			sr.email = true
			continue
		case "offline_access":
			sr.offline = true
			continue
		}
		graph, api, name, err := w.resolveScope(f)
		if err != nil {
			return nil, err
		}
		res := GraphResource
		if api != nil {
			res = api.ClientID
		}
		if sr.resource != "" && sr.resource != res {
			return nil, newErr(http.StatusBadRequest, 70011, "The scope '"+param+"' requests permissions of more than one resource; ask for one resource per request.")
		}
		sr.resource, sr.graph, sr.api = res, graph, api
		sr.names = append(sr.names, name)
	}
	for _, n := range sr.names {
		if n == ".default" {
			if len(sr.names) > 1 {
				return nil, newErr(http.StatusBadRequest, 70011, "'.default' cannot be combined with other scopes of the same resource.")
			}
			sr.dflt = true
		}
	}
	return sr, nil
}

// resolveScope finds the resource of one scope value: a bare name is a
// Graph permission; otherwise the part before the last slash names the
// resource by URI or application id.
func (w *world) resolveScope(v string) (graph bool, api *appRef, name string, e *aadError) {
	res, name := "", v
	if i := strings.LastIndex(v, "/"); i >= 0 {
		res, name = v[:i], v[i+1:]
	}
	if name != ".default" && !scopeNameRE.MatchString(name) {
		return false, nil, "", newErr(http.StatusBadRequest, 70011, "The scope '"+clip(v)+"' is not valid.")
	}
	lres := strings.ToLower(strings.TrimSuffix(res, "/"))
	switch {
	case res == "", lres == GraphResource, lres == GraphAppID, lres == "https://graph.microsoft.com/v1.0":
		return true, nil, name, nil
	}
	a := w.byIDURI[lres]
	if a == nil {
		a = w.apps[lres]
	}
	if a == nil {
		return false, nil, "", newErr(http.StatusBadRequest, 500011, "The resource '"+clip(res)+"' was not found in the tenant.")
	}
	if name != ".default" && !slices.Contains(a.Scopes, name) {
		return false, nil, "", newErr(http.StatusBadRequest, 650053, "The application asked for scope '"+clip(name)+"' that doesn't exist on the resource '"+a.ClientID+"'.")
	}
	return false, a, name, nil
}

// full is the fully qualified form of a permission of the request's resource.
func (sr *scopeRequest) full(name string) string {
	if sr.graph {
		return GraphResource + "/" + name
	}
	return sr.api.IdentifierURI + "/" + name
}

// granted lists the delegated permissions an access token carries, and
// the ones the user still has to consent to.
func (s *Server) granted(sr *scopeRequest, client *appRef, oid string) (scp, missing []string) {
	consented := func(full string) bool {
		for _, c := range client.ConsentedScopes {
			if strings.EqualFold(c, full) {
				return true
			}
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.consents[client.ClientID+" "+oid+" "+strings.ToLower(full)]
	}
	switch {
	case sr.resource == "":
		// Only OpenID scopes: the platform returns a Graph token.
		if consented(GraphResource + "/User.Read") {
			scp = append(scp, "User.Read")
		}
	case sr.dflt:
		prefix := strings.ToLower(sr.full(""))
		for _, c := range client.ConsentedScopes {
			if strings.HasPrefix(strings.ToLower(c), prefix) {
				scp = append(scp, c[len(prefix):])
			}
		}
	default:
		for _, n := range sr.names {
			if consented(sr.full(n)) {
				scp = append(scp, n)
			} else {
				missing = append(missing, sr.full(n))
			}
		}
	}
	for _, o := range []struct {
		on   bool
		name string
	}{{sr.openid, "openid"}, {sr.profile, "profile"}, {sr.email, "email"}} {
		if o.on && (sr.graph || sr.resource == "") {
			scp = append(scp, o.name)
		}
	}
	return scp, missing
}

func (s *Server) grantConsent(client *appRef, oid string, scopes []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, sc := range scopes {
		s.consents[client.ClientID+" "+oid+" "+strings.ToLower(sc)] = true
	}
}

// clip shortens a value echoed into an error message.
func clip(s string) string {
	if len(s) > 100 {
		return s[:100] + "…"
	}
	return s
}
