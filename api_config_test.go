package entraweb

import (
	"slices"
	"strings"
	"testing"
	"testing/fstest"
)

// TestAPISettings: Microsoft.Identity.Web's web API keys of the AzureAd
// section fill APIConfig; a malformed audience is named by its key.
func TestAPISettings(t *testing.T) {
	for _, tt := range []struct {
		json      string
		audiences []string
		allow     bool
		problem   string
	}{
		{`{"AzureAd": {"Audience": "api://contoso.com/orders"}}`, []string{"api://contoso.com/orders"}, false, ""},
		{`{"AzureAd": {"Audiences": ["a", "b"], "Audience": "c"}}`, []string{"c", "a", "b"}, false, ""},
		{`{"AzureAd": {"AllowWebApiToBeAuthorizedByACL": true}}`, nil, true, ""},
		{`{"AzureAd": {"Audiences": ["api://x y"]}}`, []string{"api://x y"}, false, "AzureAd:Audiences:0"},
	} {
		cfg, err := loadConfig(fstest.MapFS{"appsettings.json": {Data: []byte(tt.json)}}, nil)
		if err != nil {
			t.Fatalf("%s: %v", tt.json, err)
		}
		if len(cfg.ignored) != 0 {
			t.Errorf("%s: ignored %v", tt.json, cfg.ignored)
		}
		slices.Sort(cfg.API.Audiences)
		slices.Sort(tt.audiences)
		if !slices.Equal(cfg.API.Audiences, tt.audiences) || cfg.API.AllowTokensWithoutPermissions != tt.allow {
			t.Errorf("%s: %+v", tt.json, cfg.API)
		}
		err = cfg.Validate()
		if tt.problem != "" && (err == nil || !strings.Contains(err.Error(), tt.problem)) {
			t.Errorf("%s: want a problem with %s: %v", tt.json, tt.problem, err)
		}
	}
}
