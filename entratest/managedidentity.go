package entratest

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// appServiceAPIVersion is the api-version of the App Service managed
// identity protocol the emulator speaks (the one MSAL sends).
const appServiceAPIVersion = "2019-08-01"

// identityHeaderName carries the host's secret (IDENTITY_HEADER) on every
// request to the managed identity endpoint.
const identityHeaderName = "X-IDENTITY-HEADER"

// miRef is a managed identity with its tenant.
type miRef struct {
	*ManagedIdentity
	tenant *Tenant
}

// normalizeManagedIdentities fills derived ids and checks the managed
// identities of every tenant. clientSeen holds the app client ids, which
// an identity's client id must not reuse.
func (c *Config) normalizeManagedIdentities(bad func(string, ...any), clientSeen map[string]bool) {
	names, oids := map[string]bool{}, map[string]bool{}
	system := 0
	for ti := range c.Tenants {
		t := &c.Tenants[ti]
		for i := range t.ManagedIdentities {
			m := &t.ManagedIdentities[i]
			mp := fmt.Sprintf("tenants[%d].managedIdentities[%d]", ti, i)
			key := strings.ToLower(m.Name)
			if m.Name == "" || len(m.Name) > 128 || strings.ContainsAny(m.Name, "/?#% \t") {
				bad("%s.name: %q must be a resource name (no spaces or slashes)", mp, m.Name)
			} else if names[key] {
				bad("%s.name: %q is used twice", mp, m.Name)
			}
			names[key] = true
			if m.ClientID == "" {
				m.ClientID = StableID("managed-identity-client:" + key)
			}
			if m.ObjectID == "" {
				m.ObjectID = StableID("managed-identity:" + key)
			}
			m.ClientID, m.ObjectID = strings.ToLower(m.ClientID), strings.ToLower(m.ObjectID)
			if !IsGUID(m.ClientID) {
				bad("%s.clientId: %q is not a GUID", mp, m.ClientID)
			} else if clientSeen[m.ClientID] {
				bad("%s.clientId: %q is already the client id of an app or identity", mp, m.ClientID)
			}
			clientSeen[m.ClientID] = true
			if !IsGUID(m.ObjectID) {
				bad("%s.objectId: %q is not a GUID", mp, m.ObjectID)
			} else if oids[m.ObjectID] {
				bad("%s.objectId: %q is used twice", mp, m.ObjectID)
			}
			oids[m.ObjectID] = true
			if m.SystemAssigned {
				system++
			}
			if m.ResourceID == "" {
				// The shape of an Azure resource id, in a subscription and
				// resource group that exist only here.
				kind := "Microsoft.ManagedIdentity/userAssignedIdentities"
				if m.SystemAssigned {
					kind = "Microsoft.Web/sites"
				}
				m.ResourceID = "/subscriptions/" + StableID("subscription:"+t.ID) + "/resourcegroups/entratest/providers/" + kind + "/" + m.Name
			} else if !strings.HasPrefix(strings.ToLower(m.ResourceID), "/subscriptions/") {
				bad("%s.resourceId: %q is not an Azure resource id (/subscriptions/...)", mp, m.ResourceID)
			}
		}
	}
	if system > 1 {
		bad("managedIdentities: %d are system-assigned; the emulated host has one", system)
	}
}

// ManagedIdentityURL is the emulated host's managed identity endpoint, the
// value for IDENTITY_ENDPOINT. It is https with the emulator's CA (App
// Service's own is plain http on loopback), so the client needs Client(),
// e.g. managedidentity.WithHTTPClient(srv.Client()).
func (s *Server) ManagedIdentityURL() string { return s.URL + "/msi/token" }

// IdentityHeader is the secret the managed identity endpoint requires in
// the X-IDENTITY-HEADER header, the value for IDENTITY_HEADER. It is new
// for every server.
func (s *Server) IdentityHeader() string { return s.identityHeader }

// SystemAssignedIdentity returns the host's system-assigned managed
// identity and the id of its tenant; ok is false when none is configured.
func (s *Server) SystemAssignedIdentity() (mi ManagedIdentity, tenantID string, ok bool) {
	for _, m := range s.world.Load().mis {
		if m.SystemAssigned {
			return *m.ManagedIdentity, m.tenant.ID, true
		}
	}
	return ManagedIdentity{}, "", false
}

// miError answers as the App Service identity endpoint does.
func (s *Server) miError(w http.ResponseWriter, status int, msg string) {
	s.log.Info("entratest: managed identity request refused", "status", status, "message", msg)
	writeJSON(w, status, map[string]any{"statusCode": status, "message": msg, "correlationId": newGUID()})
}

// handleManagedIdentity is the App Service managed identity endpoint:
// GET ?api-version=2019-08-01&resource=...[&client_id|object_id|principal_id|mi_res_id=...]
// with the X-IDENTITY-HEADER secret.
func (s *Server) handleManagedIdentity(w http.ResponseWriter, r *http.Request) {
	if h := r.Header.Get(identityHeaderName); h == "" || !constantEqual(h, s.identityHeader) {
		s.miError(w, http.StatusUnauthorized, "The X-IDENTITY-HEADER header is missing or does not hold this host's IDENTITY_HEADER.")
		return
	}
	q := r.URL.Query()
	for k, v := range q {
		if len(v) > 1 {
			s.miError(w, http.StatusBadRequest, "The parameter '"+clip(k)+"' is repeated.")
			return
		}
	}
	if v := q.Get("api-version"); v != appServiceAPIVersion {
		s.miError(w, http.StatusBadRequest, "api-version '"+clip(v)+"' is not supported; the emulator speaks "+appServiceAPIVersion+".")
		return
	}
	resource := q.Get("resource")
	if resource == "" {
		s.miError(w, http.StatusBadRequest, "The request must contain the parameter 'resource'.")
		return
	}
	wd := s.world.Load()
	mi, msg := wd.selectManagedIdentity(q.Get("client_id"), q.Get("object_id"), q.Get("principal_id"), q.Get("mi_res_id"))
	if mi == nil {
		s.miError(w, http.StatusBadRequest, msg)
		return
	}
	now := s.now()
	life := s.cfgLifetime(wd.cfg.AccessTokenLifetime, 24*time.Hour)
	tok, e := s.managedIdentityToken(wd, mi, resource, now, life)
	if e != nil {
		st := e.status
		if st == 0 {
			st = http.StatusBadRequest
		}
		s.miError(w, st, e.description())
		return
	}
	// App Service writes expires_on as a string of epoch seconds; MSAL
	// parses that form.
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token": tok,
		"expires_on":   strconv.FormatInt(now.Add(life).Unix(), 10),
		"resource":     resource,
		"token_type":   "Bearer",
		"client_id":    mi.ClientID,
	})
}

// selectManagedIdentity finds the identity a request names, or the
// system-assigned one when it names none.
func (w *world) selectManagedIdentity(clientID, objectID, principalID, resID string) (*miRef, string) {
	n := 0
	for _, v := range []string{clientID, objectID, principalID, resID} {
		if v != "" {
			n++
		}
	}
	if n > 1 {
		return nil, "Specify only one of client_id, object_id, principal_id and mi_res_id."
	}
	for _, m := range w.mis {
		switch {
		case n == 0 && m.SystemAssigned,
			clientID != "" && strings.EqualFold(clientID, m.ClientID),
			objectID != "" && strings.EqualFold(objectID, m.ObjectID),
			principalID != "" && strings.EqualFold(principalID, m.ObjectID),
			resID != "" && strings.EqualFold(resID, m.ResourceID):
			return m, ""
		}
	}
	if n == 0 {
		return nil, "No system-assigned managed identity is enabled on this host."
	}
	return nil, "No User Assigned or Delegated Managed Identity found for specified ClientId/ResourceId/PrincipalId."
}

// managedIdentityToken mints an identity's access token for a resource.
func (s *Server) managedIdentityToken(wd *world, mi *miRef, resource string, now time.Time, life time.Duration) (string, *aadError) {
	resource = strings.TrimSuffix(resource, "/")
	if resource == TokenExchangeAudience {
		// The token another app's federated credential trusts: the
		// tenant's v2.0 issuer, the identity as subject.
		tok, err := s.sign(map[string]any{
			"aud":       TokenExchangeAudience,
			"iss":       s.Issuer(mi.tenant.ID),
			"iat":       now.Unix(),
			"nbf":       now.Unix(),
			"exp":       now.Add(life).Unix(),
			"sub":       mi.ObjectID,
			"oid":       mi.ObjectID,
			"tid":       mi.tenant.ID,
			"azp":       mi.ClientID,
			"azpacr":    "2",
			"idtyp":     "app",
			"ver":       "2.0",
			"xms_mirid": mi.ResourceID,
			"aio":       randomID(48),
			"rh":        "0." + randomID(32) + ".",
			"uti":       randomID(16),
		})
		if err != nil {
			return "", &aadError{status: http.StatusInternalServerError, code: 90033, detail: "Signing failed."}
		}
		return tok, nil
	}
	sr, e := wd.parseScopes(resource + "/.default")
	if e != nil {
		return "", e
	}
	client := &appRef{
		App:   &App{ClientID: mi.ClientID, DisplayName: mi.Name, ApplicationPermissions: mi.ApplicationPermissions},
		home:  mi.tenant,
		sp:    mi.ObjectID,
		mirid: mi.ResourceID,
	}
	g := &grant{client: client, tenant: mi.tenant, scopes: sr, scp: grantedAppPermissions(sr, mi.ApplicationPermissions), acr: "2"}
	tok, err := s.accessToken(g, now, life)
	if err != nil {
		return "", &aadError{status: http.StatusInternalServerError, code: 90033, detail: "Signing failed."}
	}
	return tok, nil
}
