package entraweb

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/entraweb/entraweb/entratest"
	"github.com/entraweb/entraweb/internal/oidc"
)

// A protected API request end to end (header read, validation, caller in
// the context, handler), with the cache of validated tokens on (warm: the
// same token again) and off (cold: every request verifies the signature).
// Each checks that its requests verified as many tokens as its name says.
func BenchmarkRequireAppRole(b *testing.B) {
	world := entratest.Default()
	world.Tenants[0].Apps[0].ApplicationPermissions = append(world.Tenants[0].Apps[0].ApplicationPermissions,
		"api://"+entratest.DemoClientID+"/DemoApp.Read")
	srv := entratest.NewServer(b, &entratest.Options{Config: world})
	resp, err := srv.Client().PostForm(srv.Authority()+"/oauth2/v2.0/token", url.Values{"grant_type": {"client_credentials"},
		"client_id": {entratest.DemoClientID}, "client_secret": {entratest.DemoClientSecret}, "scope": {"api://" + entratest.DemoClientID + "/.default"}})
	if err != nil {
		b.Fatal(err)
	}
	var body struct {
		AccessToken string `json:"access_token"`
	}
	json.NewDecoder(resp.Body).Decode(&body)
	resp.Body.Close()
	for _, c := range []struct {
		name  string
		cache bool
	}{{"warm", true}, {"cold", false}} {
		b.Run(c.name, func(b *testing.B) {
			a, err := New(context.Background(), hotConfig(srv, "memory", "", ""))
			if err != nil {
				b.Fatal(err)
			}
			defer a.Close()
			a.api.noCache = !c.cache
			verified := 0
			h := a.RequireAppRole("DemoApp.Read", hotBare)
			a.accessVerifier().Principal = func(ac *oidc.AccessClaims) any { verified++; return a.apiUser(ac) }
			req := httptest.NewRequest("GET", "/api", nil)
			req.Header.Set("Authorization", "Bearer "+body.AccessToken)
			n := 0
			b.ReportAllocs()
			for b.Loop() {
				w := httptest.NewRecorder()
				h.ServeHTTP(w, req)
				if w.Code != http.StatusOK {
					b.Fatalf("%d %s", w.Code, w.Body)
				}
				n++
			}
			want := 1
			if !c.cache {
				want = n
			}
			if verified != want {
				b.Fatalf("%d verifications in %d requests, want %d", verified, n, want)
			}
		})
	}
}
