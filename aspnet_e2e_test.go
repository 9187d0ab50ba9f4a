package entraweb_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/entraweb/entraweb"
	"github.com/entraweb/entraweb/entratest"
)

// TestASPNETTemplateSignsIn: the appsettings.json of `dotnet new webapp
// --auth SingleOrg`, unchanged, with the AZURE_* variables pointing at the
// emulator, signs a user in through ASP.NET Core's /signin-oidc, which
// Mount serves beside /auth/.
func TestASPNETTemplateSignsIn(t *testing.T) {
	srv := entratest.NewServer(t, nil)
	if err := srv.Update(func(c *entratest.Config) {
		c.Tenants[0].Apps[0].RedirectURIs = append(c.Tenants[0].Apps[0].RedirectURIs, "http://127.0.0.1/signin-oidc")
	}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	b, err := os.ReadFile("testdata/aspnet/webapp-singleorg.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "appsettings.json"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AZURE_AUTHORITY_HOST", srv.URL+"/")
	t.Setenv("AZURE_TENANT_ID", entratest.DemoTenantID)
	t.Setenv("AZURE_CLIENT_ID", entratest.DemoClientID)
	t.Setenv("AZURE_CLIENT_SECRET", entratest.DemoClientSecret)
	cfg, err := entraweb.LoadConfigDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	cfg.HTTPClient = srv.Client()
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	auth, err := entraweb.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer auth.Close()
	mux := http.NewServeMux()
	auth.Mount(mux)
	mux.Handle("/", auth.RequireLogin(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello %s", entraweb.UserFrom(r.Context()).Name)
	})))
	hs := httptest.NewServer(mux)
	defer hs.Close()
	br := srv.Browser()
	resp, body, err := br.Visit(context.Background(), hs.URL+"/", alice, entratest.DemoPassword)
	if err != nil || resp.StatusCode != 200 || body != "hello Alice Admin" {
		t.Fatalf("sign-in through /signin-oidc: %v %v %q", err, resp, body)
	}
	var callback string
	for r := resp.Request; r != nil; r = r.Response.Request {
		if strings.HasPrefix(r.URL.Path, "/signin-oidc") {
			callback = r.URL.Path
		}
		if r.Response == nil {
			break
		}
	}
	if callback != "/signin-oidc" {
		t.Errorf("the sign-in did not come back through /signin-oidc")
	}
}

// TestUnknownTenantSaysItOnce: New against a tenant the provider does not
// know names AADSTS90002, its meaning and its fix, each once.
func TestUnknownTenantSaysItOnce(t *testing.T) {
	srv := entratest.NewServer(t, nil)
	cfg := testConfig(srv)
	cfg.TenantID = "99999999-9999-9999-9999-999999999999"
	_, err := entraweb.New(context.Background(), cfg)
	if err == nil {
		t.Fatal("New accepted an unknown tenant")
	}
	msg := err.Error()
	if strings.Count(msg, "AADSTS90002") != 1 || strings.Count(msg, "What to do") != 1 || strings.Contains(msg, "..") {
		t.Errorf("error: %s", msg)
	}
}
