package entraweb

import (
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

const (
	tid = "3c0f2e8d-9b6a-4f1e-8d2c-7a5b4e3f2a10"
	cid = "9d3b8e2a-4c1f-4a6e-b7d5-2e8f1a0c6b3d"
)

func goodConfig() Config {
	return Config{TenantID: tid, ClientID: cid, ClientSecret: "s3cret-value"}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	c := Config{
		Instance:       "http://login.example.com/",
		TenantID:       "not a tenant",
		ClientID:       "abc",
		AllowedTenants: []string{tid},
		Scopes:         []string{"openid"},
		RoutePrefix:    "auth",
		PublicBaseURL:  "ftp://x",
		TrustedProxies: []string{"10.0.0.0/8", "nonsense"},
		Roles:          []string{"A", "A"},
		MinimumRole:    "Z",
		Session:        SessionConfig{Key: "c2hvcnQ=", Store: "etcd", IdleTimeout: Duration(2 * time.Hour), Lifetime: Duration(time.Hour)},
	}
	_, err := c.validate()
	if err == nil {
		t.Fatal("no error")
	}
	for _, key := range []string{"AzureAd:Instance", "AzureAd:TenantId", "AzureAd:ClientId", "AzureAd:ClientCredentials",
		"Entraweb:AllowedTenants", "Entraweb:Scopes:0", "Entraweb:RoutePrefix", "Entraweb:PublicBaseUrl",
		"Entraweb:TrustedProxies:1", "Entraweb:Roles:1", "Entraweb:MinimumRole", "Entraweb:Session:Key",
		"Entraweb:Session:Store", "Entraweb:Session:IdleTimeout"} {
		if !strings.Contains(err.Error(), key+":") {
			t.Errorf("error does not name %s:\n%v", key, err)
		}
	}
}

func TestValidateCases(t *testing.T) {
	tests := []struct {
		name string
		mod  func(*Config)
		want string // substring of the error; empty: valid
	}{
		{"minimal", func(c *Config) {}, ""},
		{"domain tenant", func(c *Config) { c.TenantID = "contoso.onmicrosoft.com" }, ""},
		{"national cloud", func(c *Config) { c.Instance = "https://login.microsoftonline.us" }, ""},
		{"instance with path", func(c *Config) { c.Instance = "https://login.microsoftonline.com/" + tid }, "host URL only"},
		{"consumers", func(c *Config) { c.TenantID = "consumers" }, "not supported"},
		{"organizations without allow-list", func(c *Config) { c.TenantID = "organizations" }, "AllowedTenants: required"},
		{"organizations with star", func(c *Config) { c.TenantID = "organizations"; c.AllowedTenants = []string{"*"} }, ""},
		{"star mixed", func(c *Config) { c.TenantID = "common"; c.AllowedTenants = []string{"*", tid} }, "cannot be combined"},
		{"callback outside prefix (ASP.NET Core's)", func(c *Config) { c.CallbackPath = "/signin-oidc" }, ""},
		{"callback protocol-relative", func(c *Config) { c.CallbackPath = "//evil.example/cb" }, "AzureAd:CallbackPath"},
		{"callback is the prefix", func(c *Config) { c.CallbackPath = "/auth/" }, "AzureAd:CallbackPath"},
		{"callback under prefix", func(c *Config) { c.CallbackPath = "/auth/signin-oidc" }, ""},
		{"signed-out path protocol-relative", func(c *Config) { c.SignedOutCallbackPath = "//evil.example" }, "SignedOutCallbackPath"},
		{"proxy address and range", func(c *Config) { c.TrustedProxies = []string{"127.0.0.1", "::1", "10.0.0.0/8"} }, ""},
		{"good key", func(c *Config) { c.Session.Key = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=" }, ""},
		{"previous key without key", func(c *Config) {
			c.Session.PreviousKeys = []Secret{"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="}
		}, "PreviousKeys are set"},
		{"roles and minimum", func(c *Config) { c.Roles = []string{"R", "W", "A"}; c.MinimumRole = "R" }, ""},
		{"redis", func(c *Config) {
			c.Session = SessionConfig{Store: "redis", RedisURL: "rediss://:pw@cache:6380/1", KeyPrefix: "app:", Key: testKey}
		}, ""},
		{"redis url alone selects redis", func(c *Config) { c.Session = SessionConfig{RedisURL: "redis://cache", Key: testKey} }, ""},
		{"redis without key", func(c *Config) { c.Session = SessionConfig{Store: "redis", RedisURL: "redis://cache"} }, "Session:Key: required with the redis store"},
		{"redis without url", func(c *Config) { c.Session = SessionConfig{Store: "redis", Key: testKey} }, "RedisUrl: missing"},
		{"redis url of another scheme", func(c *Config) {
			c.Session = SessionConfig{Store: "redis", RedisURL: "http://u:pw@cache", Key: testKey}
		}, "must start with redis://"},
		{"redis url with bolt", func(c *Config) { c.Session = SessionConfig{Store: "bolt", RedisURL: "redis://cache"} }, "RedisUrl: only applies"},
		{"idle timeout shorter than activity recording", func(c *Config) { c.Session.IdleTimeout = Duration(time.Second) }, "Entraweb:Session:IdleTimeout: 1s is too short"},
		{"bolt without a path", func(c *Config) { c.Session = SessionConfig{Store: "bolt"} }, "Entraweb:Session:Path: required with the bolt store"},
		{"path without bolt", func(c *Config) { c.Session = SessionConfig{Path: "/tmp/x.db"} }, "Session:Path: only applies"},
		{"key prefix with memory", func(c *Config) { c.Session = SessionConfig{Store: "memory", KeyPrefix: "x:"} }, "KeyPrefix: only applies"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := goodConfig()
			tt.mod(&c)
			_, err := c.validate()
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("err = %v, want one about %q", err, tt.want)
			}
		})
	}
}

const testKey = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="

// TestValidateNeverEchoesSecrets: a malformed key or Redis URL is
// reported without its value (printing is TestSecretRedactedByEveryPrinter's).
func TestValidateNeverEchoesSecrets(t *testing.T) {
	c := goodConfig()
	c.Session.Key = "bm90IGEga2V5IGF0IGFsbA==" // wrong length: the error must not echo it
	c.Session.RedisURL = "http://:TOP-SECRET-REDIS@cache"
	_, err := c.validate()
	if err == nil || strings.Contains(err.Error(), "bm90IGEga2V5") || strings.Contains(err.Error(), "TOP-SECRET") {
		t.Errorf("err = %v", err)
	}
}

func TestLoadConfigLayers(t *testing.T) {
	fsys := fstest.MapFS{
		"appsettings.json": {Data: []byte(`{
			// comments and trailing commas are allowed, as in .NET
			"Logging": {"LogLevel": {"Default": "Information"}},
			"AzureAd": {
				"Instance": "https://login.microsoftonline.com/",
				"TenantId": "contoso.onmicrosoft.com",
				"ClientId": "` + cid + `",
				"ClientCredentials": [{"SourceType": "ClientSecret", "ClientSecret": "from-file"}],
				"CallbackPath": "/auth/callback",
			},
			"Entraweb": {"Roles": ["App.Read", "App.Write"], "Session": {"IdleTimeout": "00:30:00"}}
		}`)},
		"appsettings.Production.json": {Data: []byte(`{"azuread": {"tenantid": "` + tid + `"}, "Entraweb": {"MinimumRole": "App.Read"}}`)},
	}
	env := []string{
		"ASPNETCORE_ENVIRONMENT=Production",
		"AZURE_CLIENT_SECRET=from-env",
		"AZURE_AUTHORITY_HOST=https://login.microsoftonline.us",
		"Entraweb__Session__Lifetime=8h",
		"Entraweb__TrustedProxies__0=10.0.0.1",
		"Entraweb__TrustedProxies__1=10.0.0.2",
	}
	cfg, err := loadConfig(fsys, env)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.TenantID != tid || cfg.ClientSecret != "from-env" || cfg.Instance != "https://login.microsoftonline.us" ||
		cfg.MinimumRole != "App.Read" || len(cfg.Roles) != 2 || time.Duration(cfg.Session.IdleTimeout) != 30*time.Minute ||
		time.Duration(cfg.Session.Lifetime) != 8*time.Hour || len(cfg.TrustedProxies) != 2 || cfg.TrustedProxies[1] != "10.0.0.2" {
		t.Errorf("loaded %+v", cfg)
	}
	if _, err := cfg.validate(); err != nil {
		t.Errorf("loaded config does not validate: %v", err)
	}
}

func TestLoadConfigRedis(t *testing.T) {
	fsys := fstest.MapFS{"appsettings.json": {Data: []byte(`{"Entraweb": {"Session": {"Store": "bolt", "KeyPrefix": "myapp:"}}}`)}}
	tests := []struct {
		name  string
		env   []string
		store string
		url   Secret
	}{
		{"file only", nil, "bolt", ""},
		{"ENTRAWEB_REDIS_URL selects redis", []string{"ENTRAWEB_REDIS_URL=rediss://:pw@cache:6380/2"}, "redis", "rediss://:pw@cache:6380/2"},
		{".NET-style keys", []string{"Entraweb__Session__Store=redis", "Entraweb__Session__RedisUrl=redis://cache"}, "redis", "redis://cache"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := loadConfig(fsys, tt.env)
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Session.Store != tt.store || cfg.Session.RedisURL != tt.url || cfg.Session.KeyPrefix != "myapp:" {
				t.Errorf("Store %q, RedisURL %q, KeyPrefix %q", cfg.Session.Store, string(cfg.Session.RedisURL), cfg.Session.KeyPrefix)
			}
		})
	}
}

func TestRedisDSN(t *testing.T) {
	tests := []struct{ url, prefix, want, err string }{
		{"redis://cache:6379/0", "", "redis://cache:6379/0", ""},
		{"redis://:pw@cache:6379/0", "app:", "redis://:pw@cache:6379/0?key_prefix=app%3A", ""},
		{"redis://cache?key_prefix=app:", "app:", "redis://cache?key_prefix=app%3A", ""},
		{"redis://cache?key_prefix=one:", "two:", "", "differs"},
	}
	for _, tt := range tests {
		got, err := redisDSN(tt.url, tt.prefix)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("redisDSN(%q, %q): err %v, want %q", tt.url, tt.prefix, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("redisDSN(%q, %q) = %q, %v; want %q", tt.url, tt.prefix, got, err, tt.want)
		}
	}
}

func TestLoadConfigErrors(t *testing.T) {
	fsys := fstest.MapFS{"appsettings.json": {Data: []byte(`{
		"AzureAd": {"TenantId": 5, "ClientSecrett": "typo", "ClientCredentials": [{"SourceType": "KeyVault"}]},
		"Entraweb": {"Session": {"IdleTimeout": "soon", "Colour": "red"}, "Roles": "a,b"}
	}`)}}
	_, err := loadConfig(fsys, nil)
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"AzureAd:TenantId: must be a string", "AzureAd:ClientSecrett: unknown key",
		"AzureAd:ClientCredentials:0:SourceType", "Entraweb:Session:IdleTimeout", "Entraweb:Session:Colour: unknown key"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in:\n%v", want, err)
		}
	}
	if _, err := loadConfig(fstest.MapFS{"appsettings.json": {Data: []byte(`[1,2]`)}}, nil); err == nil {
		t.Error("a JSON array was accepted as settings")
	}
	if _, err := loadConfig(fstest.MapFS{}, []string{"ASPNETCORE_ENVIRONMENT=../etc"}); err == nil {
		t.Error("an environment name with a path was accepted")
	}
	if _, err := loadConfig(fstest.MapFS{}, nil); err != nil {
		t.Errorf("no files and no environment: %v", err)
	}
}

func FuzzLoadConfig(f *testing.F) {
	f.Add([]byte(`{"AzureAd": {"TenantId": "x", "ClientId": "y"}, "Entraweb": {"Roles": ["a"]}}`))
	f.Add([]byte(`{"AzureAd": {"ClientCredentials": {"0": {"SourceType": "ClientSecret"}}}} // c`))
	f.Add([]byte(`/* x */ {"Entraweb": {"Session": {"IdleTimeout": "1:00:00",},},}`))
	f.Add([]byte(`{"a": "\"//not a comment\""}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		cfg, err := loadConfig(fstest.MapFS{"appsettings.json": {Data: b}}, nil)
		if err != nil {
			return
		}
		cfg.validate() // must not panic whatever was loaded
	})
}
