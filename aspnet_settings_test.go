package entraweb

import (
	"os"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
)

// aspnetFile loads one of the settings files of testdata/aspnet as
// appsettings.json.
func aspnetFile(t *testing.T, name string, env ...string) (Config, error) {
	t.Helper()
	b, err := os.ReadFile("testdata/aspnet/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return loadConfig(fstest.MapFS{"appsettings.json": {Data: b}}, env)
}

// TestASPNETSettingsLoadUnchanged: the settings ASP.NET Core's templates
// and Microsoft.Identity.Web's documentation produce load as they are,
// every field where it belongs; keys without a meaning here are ignored
// and named; the other sections of the file are left alone.
func TestASPNETSettingsLoadUnchanged(t *testing.T) {
	tests := []struct {
		file    string
		check   func(Config) bool
		ignored []string
	}{
		{"webapp-singleorg.json", func(c Config) bool {
			return c.Instance == "https://login.microsoftonline.com/" && c.TenantID == "22222222-2222-2222-2222-222222222222" &&
				c.ClientID == "11111111-1111-1111-11111111111111111" && c.CallbackPath == "/signin-oidc" && c.ClientSecret == ""
		}, nil},
		{"webapp-singleorg-calls-graph.json", func(c Config) bool {
			return c.ClientSecret == "secret-from-app-registration" && !c.ClientCertificate.set() && c.CallbackPath == "/signin-oidc"
		}, nil},
		{"webapi-singleorg.json", func(c Config) bool {
			return c.TenantID == "22222222-2222-2222-2222-222222222222" && len(c.Scopes) == 0
		}, []string{"AzureAd:Scopes"}},
		{"identityweb-certificate.json", func(c Config) bool {
			return c.ClientCertificate.Path == "/etc/myapp/cert.pfx" && c.ClientCertificate.Password == "pfx-password" &&
				c.ClientCertificate.SendX5C && slices.Equal(c.ClientCapabilities, []string{"cp1"}) &&
				c.SignedOutCallbackPath == "/signout-callback-oidc"
		}, []string{"AzureAd:ResponseType", "AzureAd:SaveTokens", "AzureAd:UsePkce"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			cfg, err := aspnetFile(t, tt.file)
			if err != nil {
				t.Fatalf("the file does not load: %v", err)
			}
			if !tt.check(cfg) {
				t.Errorf("loaded %+v", cfg)
			}
			if !slices.Equal(cfg.ignored, tt.ignored) {
				t.Errorf("ignored %v, want %v", cfg.ignored, tt.ignored)
			}
			// With the placeholders replaced, as the template asks, it
			// validates: /signin-oidc outside the route prefix included.
			cfg, err = aspnetFile(t, tt.file, "AZURE_CLIENT_ID=11111111-1111-1111-1111-111111111111", "AZURE_CLIENT_SECRET=s")
			if err != nil {
				t.Fatal(err)
			}
			if err := cfg.Validate(); err != nil {
				t.Errorf("does not validate once filled in: %v", err)
			}
		})
	}
}

func TestASPNETSettingsRefuseWhatTheyMust(t *testing.T) {
	for _, tt := range []struct{ json, want string }{
		{`{"AzureAd": {"CalbackPath": "/signin-oidc"}}`, "AzureAd:CalbackPath: unknown key"},
		{`{"AzureAd": {"ClientCertificate": []}}`, "AzureAd:ClientCertificate: unknown key"},
		{`{"AzureAd": {"ClientCertificates": [{"SourceType": "KeyVault", "KeyVaultUrl": "https://v.vault.azure.net", "KeyVaultCertificateName": "c"}]}}`,
			"AzureAd:ClientCertificates:0:SourceType: KeyVault: entraweb does not read Key Vault"},
		{`{"AzureAd": {"ClientCertificates": [{"SourceType": "StoreWithThumbprint", "CertificateStorePath": "CurrentUser/My", "CertificateThumbprint": "ab"}]}}`,
			"export the certificate"},
		{`{"AzureAd": {"ClientCertificates": [{"SourceType": "ClientSecret", "ClientSecret": "x"}]}}`, "is not a certificate source"},
		{`{"AzureAd": {"Authority": "not a url"}}`, "AzureAd:Authority"},
	} {
		_, err := loadConfig(fstest.MapFS{"appsettings.json": {Data: []byte(tt.json)}}, nil)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want %q", tt.json, err, tt.want)
		}
	}
	cfg, err := loadConfig(fstest.MapFS{"appsettings.json": {Data: []byte(
		`{"AzureAd": {"Authority": "https://login.microsoftonline.us/contoso.onmicrosoft.com/v2.0", "ClientCertificates": [{"SourceType": "Path", "CertificateDiskPath": "/x.pem", "Skip": true}]}}`)}}, nil)
	if err != nil || cfg.Instance != "https://login.microsoftonline.us/" || cfg.TenantID != "contoso.onmicrosoft.com" || cfg.ClientCertificate.set() {
		t.Errorf("Authority and a skipped certificate: %+v %v", cfg, err)
	}
}
