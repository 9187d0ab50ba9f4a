package entratest_test

import (
	"crypto/sha1"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/entraweb/entraweb/entratest"
)

func TestDiscovery(t *testing.T) {
	e := newEmu(t, nil)
	base := e.srv.URL
	tenantIssuer := base + "/" + entratest.DemoTenantID + "/v2.0"
	templ := base + "/{tenantid}/v2.0"
	tests := []struct {
		name, seg  string
		issuer     string
		pathSeg    string // the tenant segment of the endpoint URLs
		wantStatus int
	}{
		{"tenant id", entratest.DemoTenantID, tenantIssuer, entratest.DemoTenantID, 200},
		{"tenant id upper case", strings.ToUpper(entratest.DemoTenantID), tenantIssuer, entratest.DemoTenantID, 200},
		{"domain", entratest.DemoTenantDomain, tenantIssuer, entratest.DemoTenantID, 200},
		{"domain mixed case", "Contoso.OnMicrosoft.COM", tenantIssuer, entratest.DemoTenantID, 200},
		{"other tenant", emuFabrikam(), base + "/" + entratest.OtherTenantID + "/v2.0", entratest.OtherTenantID, 200},
		{"organizations", "organizations", templ, "organizations", 200},
		{"common", "common", templ, "common", 200},
		{"common upper case", "COMMON", templ, "common", 200},
		{"unknown domain", "nowhere.onmicrosoft.com", "", "", 400},
		{"unknown guid", entratest.StableID("no such tenant"), "", "", 400},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st, _, doc := e.getJSON(t, base+"/"+tc.seg+"/v2.0/.well-known/openid-configuration", nil)
			if tc.wantStatus != 200 {
				emuWantErr(t, st, doc, tc.wantStatus, "invalid_tenant", 90002)
				return
			}
			if st != 200 {
				t.Fatalf("HTTP %d: %v", st, doc)
			}
			if doc["issuer"] != tc.issuer {
				t.Errorf("issuer = %v, want %s", doc["issuer"], tc.issuer)
			}
			ep := base + "/" + tc.pathSeg
			for k, want := range map[string]string{
				"authorization_endpoint": ep + "/oauth2/v2.0/authorize",
				"token_endpoint":         ep + "/oauth2/v2.0/token",
				"jwks_uri":               ep + "/discovery/v2.0/keys",
				"end_session_endpoint":   ep + "/oauth2/v2.0/logout",
				"userinfo_endpoint":      base + "/oidc/userinfo",
			} {
				if doc[k] != want {
					t.Errorf("%s = %v, want %s", k, doc[k], want)
				}
			}
			for k, want := range map[string]string{
				"response_modes_supported":              "form_post",
				"subject_types_supported":               "pairwise",
				"id_token_signing_alg_values_supported": "RS256",
				"token_endpoint_auth_methods_supported": "private_key_jwt",
				"scopes_supported":                      "offline_access",
			} {
				if !strings.Contains(fmt.Sprint(doc[k]), want) {
					t.Errorf("%s = %v, want it to list %s", k, doc[k], want)
				}
			}
		})
	}
}

// emuFabrikam is fabrikam's domain, read from the default world so
// the test does not restate it.
func emuFabrikam() string { return entratest.Default().Tenants[1].Domain }

func TestJWKS(t *testing.T) {
	e := newEmu(t, nil)
	tests := []struct{ seg, issuer string }{
		{entratest.DemoTenantID, e.srv.Issuer(entratest.DemoTenantID)},
		{entratest.DemoTenantDomain, e.srv.Issuer(entratest.DemoTenantID)},
		{"organizations", e.srv.URL + "/{tenantid}/v2.0"},
		{"common", e.srv.URL + "/{tenantid}/v2.0"},
	}
	for _, tc := range tests {
		t.Run(tc.seg, func(t *testing.T) {
			st, _, body := e.getJSON(t, e.srv.URL+"/"+tc.seg+"/discovery/v2.0/keys", nil)
			if st != 200 {
				t.Fatalf("HTTP %d", st)
			}
			keys, _ := body["keys"].([]any)
			if len(keys) == 0 {
				t.Fatalf("no keys: %v", body)
			}
			for _, k := range keys {
				m := k.(map[string]any)
				if m["kty"] != "RSA" || m["use"] != "sig" {
					t.Errorf("kty/use = %v/%v", m["kty"], m["use"])
				}
				if m["kid"] == nil || m["kid"] != m["x5t"] {
					t.Errorf("kid %v != x5t %v", m["kid"], m["x5t"])
				}
				if m["issuer"] != tc.issuer {
					t.Errorf("issuer = %v, want %s", m["issuer"], tc.issuer)
				}
				x5c, _ := m["x5c"].([]any)
				if len(x5c) == 0 {
					t.Fatalf("no x5c: %v", m)
				}
				der, err := base64.StdEncoding.DecodeString(fmt.Sprint(x5c[0]))
				if err != nil {
					t.Fatalf("x5c is not standard base64: %v", err)
				}
				cert, err := x509.ParseCertificate(der)
				if err != nil {
					t.Fatal(err)
				}
				sum := sha1.Sum(der)
				if got := base64.RawURLEncoding.EncodeToString(sum[:]); got != m["x5t"] {
					t.Errorf("x5t %v is not the certificate's SHA-1 thumbprint %s", m["x5t"], got)
				}
				pub := e.jwks(t)[fmt.Sprint(m["kid"])]
				if pub == nil || !pub.Equal(cert.PublicKey) {
					t.Error("n/e do not match the certificate's key")
				}
			}
		})
	}
	st, _, body := e.getJSON(t, e.srv.URL+"/nowhere.example/discovery/v2.0/keys", nil)
	emuWantErr(t, st, body, 400, "invalid_tenant", 90002)
}

func TestInstanceDiscovery(t *testing.T) {
	e := newEmu(t, nil)
	host := strings.TrimPrefix(e.srv.URL, "https://")
	tests := []struct {
		name, authzEndpoint string
		ok                  bool
	}{
		{"own host", e.srv.Authority() + "/oauth2/v2.0/authorize", true},
		{"own host, organizations", e.srv.AuthorityFor("organizations") + "/oauth2/v2.0/authorize", true},
		{"microsoft", "https://login.microsoftonline.com/common/oauth2/v2.0/authorize", false},
		{"http own host", "http://" + host + "/common/oauth2/v2.0/authorize", false},
		{"empty", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u := e.srv.URL + "/common/discovery/instance?api-version=1.1&authorization_endpoint=" + url.QueryEscape(tc.authzEndpoint)
			st, _, body := e.getJSON(t, u, nil)
			if !tc.ok {
				if st != http.StatusBadRequest || body["error"] != "invalid_instance" {
					t.Errorf("HTTP %d %v, want 400 invalid_instance", st, body)
				}
				return
			}
			if st != 200 || body["api-version"] != "1.1" {
				t.Fatalf("HTTP %d %v", st, body)
			}
			tde, _ := body["tenant_discovery_endpoint"].(string)
			if !strings.HasPrefix(tde, e.srv.URL+"/") || !strings.HasSuffix(tde, "/v2.0/.well-known/openid-configuration") {
				t.Errorf("tenant_discovery_endpoint = %q", tde)
			}
			md, _ := body["metadata"].([]any)
			if len(md) != 1 || !strings.Contains(fmt.Sprint(md[0]), host) {
				t.Errorf("metadata = %v, want the emulator's host", body["metadata"])
			}
		})
	}
}
