package entratest_test

import (
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/entraweb/entraweb/entratest"
)

func TestDefaultConfigValidates(t *testing.T) {
	b, err := json.Marshal(entratest.Default())
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := entratest.ParseConfig(b)
	if err != nil {
		t.Fatalf("Default() does not validate: %v", err)
	}
	if len(cfg.Tenants) != 2 || cfg.Tenants[0].ID != entratest.DemoTenantID || cfg.Tenants[0].Apps[0].ClientID != entratest.DemoClientID {
		t.Errorf("round trip changed the world: %+v", cfg.Tenants[0].ID)
	}
}

func TestLoadConfigFile(t *testing.T) {
	cfg, err := entratest.LoadConfig(filepath.Join("testdata", "world.json"))
	if err != nil {
		t.Fatal(err)
	}
	tn := cfg.Tenants[0]
	if tn.ID != "0a1b2c3d-0000-4000-8000-000000000001" || tn.Domain != "northwind.onmicrosoft.com" {
		t.Errorf("ids are not normalized to lower case: %s %s", tn.ID, tn.Domain)
	}
	if tn.Users[0].ObjectID == "" || tn.Apps[0].IdentifierURI != "api://11111111-2222-4333-8444-555555555555" {
		t.Errorf("derived fields not filled: oid %q uri %q", tn.Users[0].ObjectID, tn.Apps[0].IdentifierURI)
	}
	if time.Duration(cfg.CodeLifetime) != 2*time.Minute {
		t.Errorf("codeLifetime = %v", time.Duration(cfg.CodeLifetime))
	}

	// The world works: a user with a role signs in, one without is refused.
	clock := newEmuClock()
	e := newEmu(t, &entratest.Options{Config: cfg, Now: clock.Now})
	const cid = "11111111-2222-4333-8444-555555555555"
	authURL := func(tenant string) string {
		return e.authURL(tenant, url.Values{"client_id": {cid}, "redirect_uri": {"http://localhost:4000/callback"}})
	}
	cb, err := e.srv.Browser().SignIn(t.Context(), authURL("Northwind.onmicrosoft.com"), "nina@northwind.onmicrosoft.com", "Nina-Passw0rd")
	if err != nil || cb.Params.Get("code") == "" {
		t.Fatalf("nina: %v %v", cb, err)
	}
	pe := e.pageErr(t, e.srv.Browser(), authURL("organizations"), "oscar@northwind.onmicrosoft.com", "Oscar-Passw0rd")
	if !strings.HasPrefix(pe.Message, "AADSTS50105:") {
		t.Errorf("oscar: %v, want AADSTS50105", pe)
	}
	f := url.Values{"grant_type": {"authorization_code"}, "client_id": {cid}, "client_secret": {"inventory-secret-value"},
		"code": {cb.Params.Get("code")}, "redirect_uri": {"http://localhost:4000/callback"}, "code_verifier": {emuVerifier},
		"scope": {"openid api://" + cid + "/items.read"}}
	clock.Add(3 * time.Minute) // past the world's 2-minute codes
	st, body := e.post(t, "northwind.onmicrosoft.com", f, nil)
	emuWantErr(t, st, body, 400, "invalid_grant", 70008)
	f.Set("client_secret", "old-inventory-secret")
	st, body = e.post(t, "northwind.onmicrosoft.com", f, nil)
	emuWantErr(t, st, body, 401, "invalid_client", 7000222)
}

func TestParseConfigErrors(t *testing.T) {
	valid := func(mod string) string {
		return `{"tenants":[{"id":"` + entratest.DemoTenantID + `","domain":"a.example","apps":[{"clientId":"` +
			entratest.DemoClientID + `","displayName":"A","appRoles":[{"value":"R"}]}],"users":[{"username":"u@a.example","password":"pw"` + mod + `}]}]}`
	}
	if _, err := entratest.ParseConfig([]byte(valid(""))); err != nil {
		t.Fatalf("the base of the table does not parse: %v", err)
	}
	tests := []struct {
		name string
		json string
		want []string // each must appear in the error
	}{
		{"unknown top-level key", `{"tenants":[],"tennants":[]}`, []string{"tennants"}},
		{"unknown nested key", strings.Replace(valid(""), `"password":"pw"`, `"password":"pw","pasword":"x"`, 1), []string{"pasword"}},
		{"trailing data", valid("") + `{}`, []string{"trailing"}},
		{"not JSON", `{`, []string{"configuration"}},
		{"no tenants", `{"tenants":[]}`, []string{"tenants"}},
		{"bad duration", `{"tenants":[],"codeLifetime":"soon"}`, []string{"soon"}},
		{"negative duration", `{"tenants":[],"codeLifetime":"-1m"}`, []string{"positive"}},
		{"unknown role", valid(`,"appRoles":{"` + entratest.DemoClientID + `":["Nope"]}`), []string{"appRoles", `"Nope"`}},
		{"role of an unknown app", valid(`,"appRoles":{"` + entratest.StableID("x") + `":["R"]}`), []string{"appRoles", "no app"}},
		{"several bad values at once", `{"tenants":[{"id":"not-a-guid","domain":"nodot","apps":[
			{"clientId":"also-bad","displayName":"A","secrets":[{"value":"short"}],"redirectUris":["http://app.example/cb","ftp://x/"],
			 "accessTokenVersion":3,"certificates":["nope"],"appRoles":[{"value":"two words"}]}],
			"users":[{"username":"nobody","password":""},{"username":"g@x.example","password":"p","groups":["g1"]}]}]}`,
			[]string{"tenants[0].id", "tenants[0].domain", "apps[0].clientId", "secrets[0]", "http://app.example/cb", "ftp://x/",
				"accessTokenVersion", "certificates[0]", "appRoles[0].value", "users[0].username", "users[0].password", "users[1].groups[0]"}},
		{"duplicates", `{"tenants":[{"id":"` + entratest.DemoTenantID + `","domain":"a.example","users":[
			{"username":"u@a.example","password":"p"},{"username":"U@A.example","password":"p"}]},
			{"id":"` + entratest.DemoTenantID + `","domain":"b.example"}]}`, []string{"used twice", "used by two tenants"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := entratest.ParseConfig([]byte(tc.json))
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not name %s:\n%v", w, err)
				}
			}
		})
	}
	t.Run("LoadConfig names the file", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "bad.json")
		if err := os.WriteFile(p, []byte(`{"tenants":[],"extra":1}`), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := entratest.LoadConfig(p); err == nil || !strings.Contains(err.Error(), p) {
			t.Errorf("err = %v, want it to name %s", err, p)
		}
		if _, err := entratest.LoadConfig(filepath.Join(t.TempDir(), "missing.json")); err == nil {
			t.Error("no error for a missing file")
		}
	})
	t.Run("Update validates", func(t *testing.T) {
		e := newEmu(t, nil)
		err := e.srv.Update(func(c *entratest.Config) {
			c.Tenants[0].Users[0].AppRoles = map[string][]string{entratest.DemoClientID: {"DemoApp.Nope"}}
		})
		if err == nil || !strings.Contains(err.Error(), "DemoApp.Nope") {
			t.Errorf("Update with an unknown role: %v", err)
		}
		if got := e.srv.Config().Tenants[0].Users[0].AppRoles[entratest.DemoClientID]; len(got) != 1 || got[0] != "DemoApp.Admin" {
			t.Errorf("a refused Update took effect: %v", got)
		}
	})
}
