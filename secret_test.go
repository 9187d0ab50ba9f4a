package entraweb_test

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/entraweb/entraweb"
)

// secretConfig is a Config as an app holds it, with a distinct value in
// every Secret field.
func secretConfig() (entraweb.Config, []string) {
	values := []string{"client-s3cret", "cert-b64-s3cret", "pfx-password-s3cret", "session-key-s3cret", "previous-key-s3cret", "redis-password-s3cret"}
	cfg := entraweb.Config{
		TenantID:          "contoso.onmicrosoft.com",
		ClientID:          "00000000-0000-0000-0000-000000000001",
		ClientSecret:      entraweb.Secret(values[0]),
		ClientCertificate: entraweb.CertificateSource{Base64: entraweb.Secret(values[1]), Password: entraweb.Secret(values[2])},
		Session: entraweb.SessionConfig{
			Key:          entraweb.Secret(values[3]),
			PreviousKeys: []entraweb.Secret{entraweb.Secret(values[4])},
			RedisURL:     entraweb.Secret("rediss://app:" + values[5] + "@cache:6380/0"),
		},
		ErrorPage:  func(http.ResponseWriter, *http.Request, *entraweb.Problem) {},
		HTTPClient: http.DefaultClient,
		Logger:     slog.Default(),
	}
	return cfg, values
}

// leak names the secret out shows, in clear or hex, or "".
func leak(out string, secrets []string) string {
	for _, s := range secrets {
		for _, form := range []string{s, hex.EncodeToString([]byte(s)), strings.ToUpper(hex.EncodeToString([]byte(s)))} {
			if strings.Contains(out, form) {
				return form
			}
		}
	}
	return ""
}

func TestSecretRedactedByEveryPrinter(t *testing.T) {
	cfg, secrets := secretConfig()
	s := cfg.ClientSecret
	var outputs []struct{ name, out string }
	add := func(name, out string) { outputs = append(outputs, struct{ name, out string }{name, out}) }
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%10.3s"} {
		add("fmt "+verb+" Config", fmt.Sprintf(verb, cfg))
		add("fmt "+verb+" *Config", fmt.Sprintf(verb, &cfg))
		add("fmt "+verb+" Secret", fmt.Sprintf(verb, s))
		add("fmt "+verb+" []Secret", fmt.Sprintf(verb, cfg.Session.PreviousKeys))
	}
	add("fmt.Sprint", fmt.Sprint(cfg, s))
	add("fmt.Errorf", fmt.Errorf("bad config %v: %w", cfg, fmt.Errorf("%s", s)).Error())

	js, err := json.Marshal(cfg)
	if err != nil {
		t.Fatalf("json.Marshal(Config): %v", err)
	}
	add("json Config", string(js))
	var back struct {
		ClientSecret string
		Session      struct{ PreviousKeys []string }
	}
	if err := json.Unmarshal(js, &back); err != nil || back.ClientSecret != "[redacted]" || len(back.Session.PreviousKeys) != 1 || back.Session.PreviousKeys[0] != "[redacted]" {
		t.Errorf("json.Marshal(Config) = %s (%v), want each secret as the string \"[redacted]\"", js, err)
	}
	js, _ = json.MarshalIndent(map[string]any{"secret": s, "ptr": &s}, "", " ")
	add("json map", string(js))

	// encoding/xml cannot marshal a Config (it has func fields); it does
	// the parts that hold secrets, and a Secret as element or attribute.
	//lint:ignore SA1026 on purpose: should xml ever marshal a Config, its output is checked too
	if out, err := xml.Marshal(cfg); err == nil {
		add("xml Config", string(out))
	}
	type withSecret struct {
		XMLName xml.Name        `xml:"app"`
		Attr    entraweb.Secret `xml:"key,attr"`
		Elem    entraweb.Secret `xml:"secret"`
	}
	for name, v := range map[string]any{
		"SessionConfig": cfg.Session, "CertificateSource": cfg.ClientCertificate,
		"element and attribute": withSecret{Attr: s, Elem: s},
	} {
		out, err := xml.Marshal(v)
		if err != nil {
			t.Errorf("xml.Marshal(%s): %v", name, err)
		}
		add("xml "+name, string(out))
	}
	if out, _ := xml.Marshal(withSecret{Attr: s, Elem: s}); string(out) != `<app key="[redacted]"><secret>[redacted]</secret></app>` {
		t.Errorf("xml = %s", out)
	}

	for name, h := range map[string]func(*bytes.Buffer) slog.Handler{
		"json": func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
		"text": func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
	} {
		var buf bytes.Buffer
		log := slog.New(h(&buf))
		log.Info("starting", "secret", s, "config", cfg, "config_ptr", &cfg, "keys", cfg.Session.PreviousKeys,
			slog.Group("g", "secret", s), slog.Any("any", s))
		log.With("secret", s).Error("failed", "err", fmt.Errorf("with %v", s))
		add("slog "+name, buf.String())
		if !strings.Contains(buf.String(), "[redacted]") {
			t.Errorf("slog %s: no [redacted] in %s", name, buf.String())
		}
	}

	for _, o := range outputs {
		if l := leak(o.out, secrets); l != "" {
			t.Errorf("%s printed the secret %q: %.300s", o.name, l, o.out)
		}
	}
	if got := fmt.Sprintf("%v|%q|%#v", s, s, s); got != `[redacted]|"[redacted]"|"[redacted]"` {
		t.Errorf("a Secret prints as %s", got)
	}
}

// A Secret is set from code, decoded from JSON as the string it is, and
// loaded by LoadConfig from files and the environment.
func TestSecretDecodes(t *testing.T) {
	var cfg entraweb.Config
	err := json.Unmarshal([]byte(`{
		"ClientSecret": "from-json",
		"ClientCertificate": {"Base64": "Y2VydA==", "Password": "pfx"},
		"Session": {"Key": "key", "PreviousKeys": ["old1", "old2"], "RedisURL": "redis://:pw@cache"}
	}`), &cfg)
	if err != nil {
		t.Fatal(err)
	}
	s := cfg.Session
	if cfg.ClientSecret != "from-json" || cfg.ClientCertificate.Base64 != "Y2VydA==" || cfg.ClientCertificate.Password != "pfx" ||
		s.Key != "key" || len(s.PreviousKeys) != 2 || s.PreviousKeys[1] != "old2" || s.RedisURL != "redis://:pw@cache" {
		t.Errorf("json.Unmarshal: %q %q %q %q %q %q", string(cfg.ClientSecret), string(cfg.ClientCertificate.Base64),
			string(cfg.ClientCertificate.Password), string(s.Key), fmt.Sprint(len(s.PreviousKeys)), string(s.RedisURL))
	}
	if err := json.Unmarshal([]byte(`{"ClientSecret": 5}`), &cfg); err == nil {
		t.Error("a number decoded into a Secret")
	}

	cfg.ClientSecret = "from-code"
	if string(cfg.ClientSecret) != "from-code" {
		t.Errorf("set from code: %q", string(cfg.ClientSecret))
	}

	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "appsettings.json"), []byte(`{
		"AzureAd": {"TenantId": "contoso.onmicrosoft.com", "ClientId": "00000000-0000-0000-0000-000000000001",
			"ClientCredentials": [{"SourceType": "Base64Encoded", "Base64EncodedValue": "Y2VydA==", "CertificatePassword": "pfx"}]},
		"Entraweb": {"Session": {"Key": "key", "PreviousKeys": ["old1"], "RedisUrl": "redis://:pw@cache"}}
	}`), 0o600)
	for _, k := range []string{"AZURE_CLIENT_SECRET", "AZURE_CLIENT_CERTIFICATE_PATH", "AZURE_FEDERATED_TOKEN_FILE", "ENTRAWEB_REDIS_URL",
		"ENTRAWEB_ENVIRONMENT", "ASPNETCORE_ENVIRONMENT", "DOTNET_ENVIRONMENT"} {
		t.Setenv(k, "")
	}
	loaded, err := entraweb.LoadConfigDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	s = loaded.Session
	if loaded.ClientCertificate.Base64 != "Y2VydA==" || loaded.ClientCertificate.Password != "pfx" ||
		s.Key != "key" || len(s.PreviousKeys) != 1 || s.PreviousKeys[0] != "old1" || s.RedisURL != "redis://:pw@cache" {
		t.Errorf("LoadConfigDir: %q %q %q %d %q", string(loaded.ClientCertificate.Base64), string(loaded.ClientCertificate.Password),
			string(s.Key), len(s.PreviousKeys), string(s.RedisURL))
	}
	t.Setenv("AZURE_CLIENT_SECRET", "from-env")
	if loaded, err := entraweb.LoadConfigDir(dir); err != nil || loaded.ClientSecret != "from-env" {
		t.Errorf("LoadConfigDir with AZURE_CLIENT_SECRET: %q, %v", string(loaded.ClientSecret), err)
	}
}
