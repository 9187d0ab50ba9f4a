package entratest

import (
	"net/http"
	"net/url"
	"strings"
)

// tenantOf resolves the request's tenant segment in wd, or answers
// AADSTS90002.
func (s *Server) tenantOf(w http.ResponseWriter, r *http.Request, wd *world) (authority, bool) {
	a, ok := wd.resolve(r.PathValue("tenant"))
	if !ok {
		s.log.Info("entratest: unknown tenant", "aadsts", 90002, "path", clip(r.URL.Path))
		s.writeJSONError(w, r, newErr(http.StatusBadRequest, 90002, "Tenant '"+clip(r.PathValue("tenant"))+"' not found."))
	}
	return a, ok
}

// issuerOf is the issuer an authority's discovery and keys name: the
// tenant's, or the {tenantid} template for organizations and common.
func (s *Server) issuerOf(a authority) string {
	if a.multi() {
		return s.URL + "/{tenantid}/v2.0"
	}
	return s.Issuer(a.tenant.ID)
}

func (s *Server) handleDiscovery(w http.ResponseWriter, r *http.Request) {
	a, ok := s.tenantOf(w, r, s.world.Load())
	if !ok {
		return
	}
	base := s.URL + "/" + a.pathSegment()
	browser := s.browserURL + "/" + a.pathSegment()
	issuer := s.issuerOf(a)
	host := strings.TrimPrefix(s.URL, "https://")
	writeJSON(w, http.StatusOK, map[string]any{
		"token_endpoint":                        base + "/oauth2/v2.0/token",
		"token_endpoint_auth_methods_supported": []string{"client_secret_post", "private_key_jwt", "client_secret_basic"},
		"jwks_uri":                              base + "/discovery/v2.0/keys",
		"response_modes_supported":              []string{"query", "fragment", "form_post"},
		"subject_types_supported":               []string{"pairwise"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"response_types_supported":              []string{"code", "id_token", "code id_token", "id_token token"},
		"scopes_supported":                      []string{"openid", "profile", "email", "offline_access"},
		"issuer":                                issuer,
		"request_uri_parameter_supported":       false,
		"userinfo_endpoint":                     s.URL + "/oidc/userinfo",
		"authorization_endpoint":                browser + "/oauth2/v2.0/authorize",
		"http_logout_supported":                 true,
		"frontchannel_logout_supported":         true,
		"end_session_endpoint":                  browser + "/oauth2/v2.0/logout",
		"claims_supported": []string{"sub", "iss", "cloud_instance_name", "cloud_instance_host_name", "cloud_graph_host_name",
			"msgraph_host", "aud", "exp", "iat", "auth_time", "acr", "nonce", "preferred_username", "name", "tid", "ver",
			"at_hash", "c_hash", "email"},
		"tenant_region_scope":              "WW",
		"cloud_instance_name":              "entratest.local",
		"cloud_graph_host_name":            host,
		"msgraph_host":                     host,
		"rbac_url":                         s.URL,
		"code_challenge_methods_supported": []string{"plain", "S256"},
	})
}

func (s *Server) handleKeys(w http.ResponseWriter, r *http.Request) {
	a, ok := s.tenantOf(w, r, s.world.Load())
	if !ok {
		return
	}
	issuer := s.issuerOf(a)
	s.mu.Lock()
	keys := make([]map[string]any, 0, len(s.keys))
	for _, k := range s.keys {
		keys = append(keys, k.jwk(issuer))
	}
	s.mu.Unlock()
	w.Header().Set("Cache-Control", "max-age=86400, private")
	writeJSON(w, http.StatusOK, map[string]any{"keys": keys})
}

// handleInstance answers MSAL's instance discovery for the emulator's own
// host; any other host is unknown here, as an unknown cloud is to the
// real endpoint.
func (s *Server) handleInstance(w http.ResponseWriter, r *http.Request) {
	ae := r.URL.Query().Get("authorization_endpoint")
	u, err := url.Parse(ae)
	host := strings.TrimPrefix(s.URL, "https://")
	if err != nil || u.Scheme != "https" || !strings.EqualFold(u.Host, host) {
		// MSAL asks this when instance discovery is left on: the fix is in
		// the app (WithInstanceDiscovery(false)), so say what was asked.
		e := newErr(http.StatusBadRequest, 50049, "")
		s.log.Info("entratest: instance discovery refused", "aadsts", e.code, "error", e.oauthError(),
			"authorization_endpoint", clip(ae), "reason", "not an https URL of this emulator's host "+host)
		writeJSON(w, http.StatusBadRequest, map[string]any{
			"error":             e.oauthError(),
			"error_description": e.description(),
			"error_codes":       []int{e.code},
		})
		return
	}
	seg := "common"
	if p := strings.Split(strings.TrimPrefix(u.Path, "/"), "/"); len(p) > 0 && p[0] != "" {
		seg = p[0]
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"tenant_discovery_endpoint": s.URL + "/" + url.PathEscape(seg) + "/v2.0/.well-known/openid-configuration",
		"api-version":               "1.1",
		"metadata": []map[string]any{{
			"preferred_network": host,
			"preferred_cache":   host,
			"aliases":           []string{host},
		}},
	})
}
