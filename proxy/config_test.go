package proxy_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/entraweb/entraweb"
	"github.com/entraweb/entraweb/entratest"
	"github.com/entraweb/entraweb/proxy"
)

func TestConfigReportsEveryProblem(t *testing.T) {
	cfg := proxy.Config{
		Entra: entraweb.Config{
			TenantID: entratest.DemoTenantID, ClientSecret: "x",
			CallbackPath: "/signin-oidc", RoutePrefix: "/auth/",
		},
		Upstream:    "ftp://files.example",
		Rules:       []proxy.Rule{{Path: "admin", Role: "DemoApp.Admin"}, {Path: "/x", Role: "A", Group: staffGroup}, {Path: "/g", Group: "staff"}},
		PublicPaths: []string{"/static/../admin", "/.auth/me"},
		Headers:     []string{"EasyAuth", "Pomerium"},
		TokensInMe:  true,
		NoAssertion: true, AssertionKeyFile: "key.pem",
	}
	err := cfg.Validate()
	if err == nil {
		t.Fatal("no error")
	}
	for _, key := range []string{
		"Proxy:Upstream", "Proxy:Rules:0:Path", "Proxy:Rules:1: set exactly one", "Proxy:Rules:2:Group",
		"Proxy:PublicPaths:0", "Proxy:PublicPaths:1", "Proxy:Headers:1", "Proxy:TokensInMe",
		"AzureAd:CallbackPath", "Entraweb:RoutePrefix", "AzureAd:ClientId", "Proxy:NoAssertion",
	} {
		if !strings.Contains(err.Error(), key) {
			t.Errorf("the error does not name %s:\n%v", key, err)
		}
	}

	ok := proxy.Config{Entra: testEntraConfig(newEmulator(t), nil), Upstream: "http://127.0.0.1:8050"}
	ok.Entra.CallbackPath = proxy.CallbackPath // the proxy's own value is fine
	if err := ok.Validate(); err != nil {
		t.Errorf("a good configuration: %v", err)
	}
}

func TestLoadConfigReadsTheProxySection(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	for _, k := range []string{"AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_AUTHORITY_HOST", "ENTRAWEB_REDIS_URL", "ASPNETCORE_ENVIRONMENT", "DOTNET_ENVIRONMENT", "ENTRAWEB_ENVIRONMENT"} {
		t.Setenv(k, "")
	}
	settings := `{
	  // as an ASP.NET Core app's file would hold it
	  "AzureAd": {"TenantId": "` + entratest.DemoTenantID + `", "ClientId": "` + entratest.DemoClientID + `"},
	  "Entraweb": {"MinimumRole": "DemoApp.Read"},
	  "Proxy": {
	    "Upstream": "http://127.0.0.1:8050",
	    "Rules": [{"Path": "/admin", "Role": "DemoApp.Admin"}, {"path": "/team", "group": "` + staffGroup + `"}],
	    "PublicPaths": ["/static/"],
	    "Headers": ["EasyAuth", "OAuth2Proxy"],
	    "UpstreamTimeout": "00:02:00",
	    "AccessLog": true,
	    "AssertionKeyFile": "/var/lib/entraweb/assertion-key.pem",
	    "ApiPaths": ["/api"],
	    "ApiScope": "access_as_user",
	    "MetricsAddress": "127.0.0.1:9090",
	  }
	}`
	if err := os.WriteFile(filepath.Join(dir, "appsettings.json"), []byte(settings), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("Proxy__PublicPaths__0", "/assets/")
	t.Setenv("Proxy__PublicPaths__1", "/healthcheck")
	t.Setenv("PROXY__TOKENSINME", "false")
	t.Setenv("Proxy__NoAssertion", "true")
	t.Setenv("Proxy__ApiAppRole", "DemoApp.Write")
	cfg, err := proxy.LoadConfig()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Upstream != "http://127.0.0.1:8050" || cfg.UpstreamTimeout != 2*time.Minute || !cfg.AccessLog ||
		!slices.Equal(cfg.PublicPaths, []string{"/assets/", "/healthcheck"}) ||
		!slices.Equal(cfg.Headers, []string{"EasyAuth", "OAuth2Proxy"}) ||
		!slices.Equal(cfg.Rules, []proxy.Rule{{Path: "/admin", Role: "DemoApp.Admin"}, {Path: "/team", Group: staffGroup}}) ||
		!cfg.NoAssertion || cfg.AssertionKeyFile != "/var/lib/entraweb/assertion-key.pem" ||
		!slices.Equal(cfg.ApiPaths, []string{"/api"}) || cfg.ApiScope != "access_as_user" || cfg.ApiAppRole != "DemoApp.Write" ||
		cfg.MetricsAddress != "127.0.0.1:9090" {
		t.Errorf("Proxy section read as %+v", cfg)
	}
	if cfg.Entra.ClientID != entratest.DemoClientID || cfg.Entra.MinimumRole != "DemoApp.Read" {
		t.Errorf("Entra read as %+v", cfg.Entra)
	}

	t.Setenv("Proxy__Upstrem", "http://typo")
	t.Setenv("Proxy__Rules__0__Roles", "x")
	_, err = proxy.LoadConfig()
	for _, key := range []string{"Proxy:Upstrem: unknown key", "Proxy:Rules:0:Roles: unknown key"} {
		if err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("want an error naming %s, got %v", key, err)
		}
	}
}
