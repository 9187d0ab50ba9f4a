package entratest

import (
	"net/http"
	"slices"
	"strings"
)

// Permissions that let a caller read app registrations through Graph.
var appReadPermissions = []string{"Application.Read.All", "Application.ReadWrite.All", "Directory.Read.All"}

// handleGraphApplication is Graph's GET /v1.0/applications(appId='{id}'):
// an app registration of the caller's tenant, by its client id.
func (s *Server) handleGraphApplication(w http.ResponseWriter, r *http.Request) {
	seg := r.PathValue("key")
	id, ok := strings.CutPrefix(seg, "applications(appId='")
	if ok {
		id, ok = strings.CutSuffix(id, "')")
	}
	if !ok {
		s.graphError(w, r, http.StatusBadRequest, "BadRequest", "Resource not found for the segment '"+clip(seg)+"'.")
		return
	}
	c := s.appReader(w, r)
	if c == nil {
		return
	}
	a := s.world.Load().apps[strings.ToLower(id)]
	if a == nil || a.home.ID != c.tid {
		s.graphError(w, r, http.StatusNotFound, "Request_ResourceNotFound", "Resource '"+clip(id)+"' does not exist or one of its queried reference-property objects are not present.")
		return
	}
	body := s.graphApplication(a)
	body["@odata.context"] = s.URL + "/v1.0/$metadata#applications/$entity"
	writeJSON(w, http.StatusOK, body)
}

// handleGraphApplications is Graph's GET /v1.0/applications, with the one
// filter people use to find an app: $filter=appId eq '{id}'.
func (s *Server) handleGraphApplications(w http.ResponseWriter, r *http.Request) {
	c := s.appReader(w, r)
	if c == nil {
		return
	}
	f := strings.TrimSpace(r.URL.Query().Get("$filter"))
	var id string
	if f != "" {
		rest, ok := strings.CutPrefix(f, "appId eq '")
		if ok {
			id, ok = strings.CutSuffix(rest, "'")
		}
		if !ok || strings.Contains(id, "'") {
			s.graphError(w, r, http.StatusBadRequest, "Request_UnsupportedQuery", "The emulator supports only $filter=appId eq '{id}'.")
			return
		}
	}
	wd := s.world.Load()
	value := []map[string]any{}
	for _, t := range wd.cfg.Tenants {
		if t.ID != c.tid {
			continue
		}
		for i := range t.Apps {
			if id == "" || strings.EqualFold(t.Apps[i].ClientID, id) {
				value = append(value, s.graphApplication(wd.apps[t.Apps[i].ClientID]))
			}
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"@odata.context": s.URL + "/v1.0/$metadata#applications", "value": value})
}

// appReader verifies the bearer and its permission to read applications.
func (s *Server) appReader(w http.ResponseWriter, r *http.Request) *graphCaller {
	c := s.graphAuth(w, r)
	if c == nil {
		return nil
	}
	if !c.anyOf(appReadPermissions...) {
		s.graphError(w, r, http.StatusForbidden, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
		return nil
	}
	return c
}

// graphApplication is an app registration in Graph's application shape.
// The platform keeps no separate list of post-logout URIs: they are
// redirect URIs, so both lists appear in web.redirectUris.
func (s *Server) graphApplication(a *appRef) map[string]any {
	uris := slices.Clone(a.RedirectURIs)
	for _, u := range a.PostLogoutRedirectURIs {
		if !slices.Contains(uris, u) {
			uris = append(uris, u)
		}
	}
	roles := make([]map[string]any, 0, len(a.AppRoles))
	for _, ar := range a.AppRoles {
		roles = append(roles, map[string]any{
			"id": ar.ID, "value": ar.Value, "displayName": ar.DisplayName, "description": ar.Description,
			"allowedMemberTypes": ar.AllowedMemberTypes, "isEnabled": !ar.Disabled, "origin": "Application",
		})
	}
	audience := "AzureADMyOrg"
	if a.MultiTenant {
		audience = "AzureADMultipleOrgs"
	}
	return map[string]any{
		"id":             StableID("application:" + a.ClientID),
		"appId":          a.ClientID,
		"displayName":    a.DisplayName,
		"signInAudience": audience,
		"identifierUris": []string{a.IdentifierURI},
		"appRoles":       roles,
		"web":            map[string]any{"redirectUris": uris, "logoutUrl": nullable(a.FrontChannelLogoutURL)},
	}
}
