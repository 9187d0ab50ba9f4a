package entraweb_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/entraweb/entraweb"
	"github.com/entraweb/entraweb/entratest"
	"github.com/entraweb/entraweb/internal/redistest"
)

// doctorConfig is DemoApp as an app on http://localhost:8080 that names
// its roles, against the emulator.
func doctorConfig(srv *entratest.Server) entraweb.Config {
	cfg := testConfig(srv)
	cfg.PublicBaseURL = "http://localhost:8080"
	cfg.Roles = []string{"DemoApp.Read", "DemoApp.Write", "DemoApp.Admin"}
	cfg.MinimumRole = "DemoApp.Read"
	return cfg
}

// result finds the check named name.
func result(t *testing.T, rep entraweb.Report, name string) entraweb.CheckResult {
	t.Helper()
	for _, c := range rep.Checks {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no check %q in %s", name, dump(rep))
	return entraweb.CheckResult{}
}

func dump(rep entraweb.Report) string {
	var b strings.Builder
	for _, c := range rep.Checks {
		fmt.Fprintf(&b, "\n  %s %s: %s | %s", c.Status, c.Name, c.Message, c.Fix)
	}
	return b.String()
}

// noSecrets fails if the report, as JSON, holds a secret or a token.
func noSecrets(t *testing.T, rep entraweb.Report, secrets ...string) {
	t.Helper()
	b, _ := json.Marshal(rep)
	for _, s := range append(secrets, entratest.DemoClientSecret, "eyJ") {
		if s != "" && strings.Contains(string(b), s) {
			t.Errorf("the report holds %q: %s", s, b)
		}
	}
}

func TestCheckDemoApp(t *testing.T) {
	srv := entratest.NewServer(t, nil)
	rep := entraweb.Check(context.Background(), doctorConfig(srv), nil)
	if !rep.OK() {
		t.Fatalf("checks failed:%s", dump(rep))
	}
	for _, name := range []string{"configuration", "authority", "clock", "credential", "redirect URI", "session key",
		"session store", "registered redirect URIs", "app roles"} {
		if c := result(t, rep, name); c.Status != entraweb.CheckOK {
			t.Errorf("%s: %s %s", name, c.Status, c.Message)
		}
	}
	if c := result(t, rep, "app roles"); !strings.Contains(c.Message, "DemoApp.Admin") {
		t.Errorf("app roles: %s", c.Message)
	}
	noSecrets(t, rep)
}

// TestCheckBroken breaks one thing at a time, in the configuration or in
// the registration, and expects the named check to say so with a fix.
func TestCheckBroken(t *testing.T) {
	expired := "expired-secret-value"
	tests := []struct {
		name   string
		emu    func(*entratest.Server)
		cfg    func(*entraweb.Config)
		check  string
		status entraweb.CheckStatus
		want   string
	}{
		{"unknown app", nil, func(c *entraweb.Config) { c.ClientID = entratest.StableID("no such app") },
			"credential", entraweb.CheckFail, "The application was not found in the tenant. (AADSTS700016)"},
		{"wrong secret", nil, func(c *entraweb.Config) { c.ClientSecret = "wrong-secret-value" },
			"credential", entraweb.CheckFail, "The client secret is wrong. (AADSTS7000215)"},
		{"expired secret", func(s *entratest.Server) {
			s.Update(func(c *entratest.Config) {
				c.Tenants[0].Apps[0].Secrets = append(c.Tenants[0].Apps[0].Secrets, entratest.Secret{Value: expired, Expires: time.Now().Add(-time.Hour)})
			})
		}, func(c *entraweb.Config) { c.ClientSecret = entraweb.Secret(expired) },
			"credential", entraweb.CheckFail, "The client secret has expired. (AADSTS7000222)"},
		{"unknown tenant", nil, func(c *entraweb.Config) { c.TenantID = entratest.StableID("no such tenant") },
			"authority", entraweb.CheckFail, "The tenant was not found. (AADSTS90002)"},
		{"app not in that tenant", nil, func(c *entraweb.Config) { c.TenantID = entratest.OtherTenantID },
			"credential", entraweb.CheckFail, "AADSTS700016"},
		{"unreachable authority", nil, func(c *entraweb.Config) { c.Instance = "https://127.0.0.1:1/" },
			"authority", entraweb.CheckFail, "does not answer discovery"},
		{"unregistered redirect URI", nil, func(c *entraweb.Config) { c.PublicBaseURL = "https://app.example.com" },
			"registered redirect URIs", entraweb.CheckFail, "https://app.example.com/auth/callback is not a redirect URI of the registration"},
		{"sign-out URL not registered", nil, func(c *entraweb.Config) { c.SignedOutCallbackPath = "/bye" },
			"registered redirect URIs", entraweb.CheckWarn, "http://localhost:8080/bye (where sign-out ends) is not"},
		{"http outside loopback", nil, func(c *entraweb.Config) { c.PublicBaseURL = "http://app.example.com" },
			"redirect URI", entraweb.CheckFail, "plain http outside loopback"},
		{"role missing", nil, func(c *entraweb.Config) { c.Roles = append(c.Roles, "DemoApp.Audit") },
			"app roles", entraweb.CheckFail, "DemoApp.Audit not defined"},
		{"role disabled", func(s *entratest.Server) {
			s.Update(func(c *entratest.Config) { c.Tenants[0].Apps[0].AppRoles[2].Disabled = true })
		}, nil, "app roles", entraweb.CheckFail, "DemoApp.Admin disabled"},
		{"clock skewed 5 minutes", func(s *entratest.Server) { s.SetClockSkew(5 * time.Minute) }, nil,
			"clock", entraweb.CheckFail, "this machine's clock is about 5m0s behind the identity provider's"},
		{"Production without a session key", nil, func(c *entraweb.Config) { c.Environment = "Production" },
			"session key", entraweb.CheckFail, "Production"},
		{"bolt file in a missing directory", nil, func(c *entraweb.Config) {
			c.Session = entraweb.SessionConfig{Store: "bolt", Path: filepath.Join(os.TempDir(), "entraweb-no-such-dir", "x", "s.db")}
		}, "session store", entraweb.CheckFail, "cannot be written"},
		{"invalid configuration", nil, func(c *entraweb.Config) { c.ClientID = "" },
			"configuration", entraweb.CheckFail, "AzureAd:ClientId: missing"},
		{"Graph refuses to show the registration", func(s *entratest.Server) {
			s.Update(func(c *entratest.Config) { c.Tenants[0].Apps[0].ApplicationPermissions = nil })
		}, nil, "registration", entraweb.CheckSkip, "does not let the app read its own registration"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := entratest.NewServer(t, nil)
			if tt.emu != nil {
				tt.emu(srv)
			}
			cfg := doctorConfig(srv)
			if tt.cfg != nil {
				tt.cfg(&cfg)
			}
			rep := entraweb.Check(context.Background(), cfg, nil)
			c := result(t, rep, tt.check)
			if c.Status != tt.status || !strings.Contains(c.Message, tt.want) {
				t.Errorf("%s: %s %q; want %s mentioning %q%s", tt.check, c.Status, c.Message, tt.status, tt.want, dump(rep))
			}
			if c.Status != entraweb.CheckOK && c.Fix == "" {
				t.Errorf("%s: no fix", tt.check)
			}
			if rep.OK() != (tt.status != entraweb.CheckFail) {
				t.Errorf("OK() = %v with %s", rep.OK(), tt.status)
			}
			noSecrets(t, rep, "wrong-secret-value", expired)
		})
	}
}

// TestCheckQuick: the readiness variant asks nothing of the token
// endpoint or Graph: one discovery request.
func TestCheckQuick(t *testing.T) {
	srv := entratest.NewServer(t, nil)
	rep := entraweb.Check(context.Background(), doctorConfig(srv), &entraweb.CheckOptions{Quick: true})
	if !rep.OK() {
		t.Fatalf("quick checks failed:%s", dump(rep))
	}
	for ep, want := range map[entratest.Endpoint]int64{entratest.EndpointDiscovery: 1, entratest.EndpointToken: 0, entratest.EndpointGraph: 0} {
		if got := srv.Calls(ep); got != want {
			t.Errorf("%v calls = %d, want %d", ep, got, want)
		}
	}
	for _, name := range []string{"credential", "registration"} {
		if c := result(t, rep, name); c.Status != entraweb.CheckSkip {
			t.Errorf("%s: %s, want skip", name, c.Status)
		}
	}
}

func TestCheckCertificateExpiry(t *testing.T) {
	tests := []struct {
		name   string
		life   time.Duration
		status entraweb.CheckStatus
		want   string
	}{
		{"valid", 90 * 24 * time.Hour, entraweb.CheckOK, "is valid until"},
		{"expires in 10 days", 10*24*time.Hour + time.Hour, entraweb.CheckWarn, "in 10 days"},
		{"expired", -time.Hour, entraweb.CheckFail, "expired on"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := entratest.NewServer(t, nil)
			pemFile, _, certPEM := makeCert(t, time.Now().Add(-48*time.Hour), time.Now().Add(tt.life))
			srv.Update(func(c *entratest.Config) { c.Tenants[0].Apps[0].Certificates = []string{certPEM} })
			cfg := doctorConfig(srv)
			cfg.ClientSecret = ""
			cfg.ClientCertificate = entraweb.CertificateSource{Path: pemFile}
			rep := entraweb.Check(context.Background(), cfg, nil)
			c := result(t, rep, "certificate")
			if c.Status != tt.status || !strings.Contains(c.Message, tt.want) {
				t.Errorf("certificate: %s %q, want %s %q", c.Status, c.Message, tt.status, tt.want)
			}
			// A warning does not fail the report; the credential works.
			if tt.status != entraweb.CheckFail {
				if !rep.OK() || result(t, rep, "credential").Status != entraweb.CheckOK {
					t.Errorf("report:%s", dump(rep))
				}
			}
		})
	}
}

// TestCheckCertificateNotRegistered: a valid certificate the app does not
// know is refused, in plain words.
func TestCheckCertificateNotRegistered(t *testing.T) {
	srv := entratest.NewServer(t, nil)
	pemFile, _, _ := makeCert(t, time.Now().Add(-time.Hour), time.Now().Add(90*24*time.Hour))
	cfg := doctorConfig(srv)
	cfg.ClientSecret = ""
	cfg.ClientCertificate = entraweb.CertificateSource{Path: pemFile}
	rep := entraweb.Check(context.Background(), cfg, nil)
	c := result(t, rep, "credential")
	if c.Status != entraweb.CheckFail || !strings.Contains(c.Message, "its certificate is not registered. (AADSTS700027)") || !strings.Contains(c.Fix, "Upload the certificate") {
		t.Errorf("credential: %s %q %q", c.Status, c.Message, c.Fix)
	}
	if c := result(t, rep, "certificate"); c.Status != entraweb.CheckOK {
		t.Errorf("certificate: %s %s", c.Status, c.Message)
	}
}

func TestCheckRedis(t *testing.T) {
	srv := entratest.NewServer(t, nil)
	rs := redistest.Start(t, redistest.Options{Password: "redis-pass-word"})
	cfg := doctorConfig(srv)
	cfg.Session = entraweb.SessionConfig{Store: "redis", RedisURL: entraweb.Secret("redis://:redis-pass-word@" + rs.Addr + "/0"),
		Key: "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="}
	rep := entraweb.Check(context.Background(), cfg, nil)
	for _, name := range []string{"session store", "redis client-side caching", "session key"} {
		if c := result(t, rep, name); c.Status != entraweb.CheckOK {
			t.Errorf("%s: %s %s", name, c.Status, c.Message)
		}
	}
	noSecrets(t, rep, "redis-pass-word", "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=")

	cfg.Session.RedisURL = "redis://:redis-pass-word@127.0.0.1:1/0"
	rep = entraweb.Check(context.Background(), cfg, &entraweb.CheckOptions{Quick: true})
	if c := result(t, rep, "session store"); c.Status != entraweb.CheckFail || rep.OK() {
		t.Errorf("redis down: %s %s", c.Status, c.Message)
	}
	noSecrets(t, rep, "redis-pass-word")
}

// ExampleCheck runs the doctor's checks from code, here against the
// emulator's DemoApp; an app would pass the Config it gives New.
func ExampleCheck() {
	srv, err := entratest.Start(entratest.Options{})
	if err != nil {
		panic(err)
	}
	defer srv.Close()
	cfg := entraweb.Config{
		Instance: srv.URL + "/", TenantID: entratest.DemoTenantID,
		ClientID: entratest.DemoClientID, ClientSecret: entratest.DemoClientSecret,
		HTTPClient: srv.Client(), GraphURL: srv.GraphURL(),
		PublicBaseURL: "http://localhost:8080", MinimumRole: "DemoApp.Read",
	}
	rep := entraweb.Check(context.Background(), cfg, nil)
	for _, c := range rep.Checks {
		fmt.Println(c.Status, c.Name)
	}
	fmt.Println("passed:", rep.OK())
	// Output:
	// ok configuration
	// ok authority
	// ok clock
	// ok credential
	// ok redirect URI
	// ok session key
	// ok session store
	// ok registered redirect URIs
	// ok app roles
	// passed: true
}
