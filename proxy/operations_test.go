package proxy_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/entraweb/entraweb/entratest"
	"github.com/entraweb/entraweb/proxy"
)

func TestHealthAndReady(t *testing.T) {
	e := newEnv(t, nil)
	if resp, body := do(t, client(nil), "GET", e.url+"/healthz"); resp.StatusCode != 200 || string(body) != "ok\n" {
		t.Errorf("/healthz: %d %q", resp.StatusCode, body)
	}
	ready := func() (int, map[string]any) {
		resp, body := do(t, client(nil), "GET", e.url+"/readyz")
		var got map[string]any
		json.Unmarshal(body, &got)
		return resp.StatusCode, got
	}
	e.srv.SetOutage(entratest.Outage503)
	if code, got := ready(); code != http.StatusServiceUnavailable || got["checks"].(map[string]any)["provider"] != "unavailable" {
		t.Errorf("/readyz with the provider down: %d %v", code, got)
	}
	e.srv.SetOutage(entratest.OutageNone)
	if code, got := ready(); code != 200 || got["status"] != "ready" {
		t.Errorf("/readyz: %d %v", code, got)
	}
}

func TestAccessLogHasNoSecrets(t *testing.T) {
	e := newEnv(t, nil)
	b := e.signIn(t, alice)
	do(t, client(b), "GET", e.url+"/x?token=abc123", fetchHeaders...)
	all := e.logs.String()
	var access []string
	for l := range strings.Lines(all) {
		if strings.Contains(l, `msg="proxy: request"`) {
			access = append(access, l)
		}
	}
	logs := strings.Join(access, "")
	if !strings.Contains(logs, `msg="proxy: request" method=GET path=/x status=200`) || !strings.Contains(logs, "user_oid=") {
		t.Errorf("no access log line for /x with the user:\n%s", all)
	}
	if !strings.Contains(logs, "path="+proxy.CallbackPath+" status=303") || !strings.Contains(logs, "path=/.auth/me status=200") {
		t.Errorf("the callback was not logged:\n%s", all)
	}
	if strings.Contains(all, "abc123") {
		t.Errorf("the log holds a query string:\n%s", all)
	}
	u, _ := url.Parse(e.url)
	secrets := []string{"?", "code=", "state=", "ookie", entratest.DemoPassword}
	for _, c := range b.AppClient().Jar.Cookies(u) {
		secrets = append(secrets, c.Value)
	}
	for _, s := range secrets {
		if strings.Contains(logs, s) {
			t.Errorf("the log holds %q:\n%s", s, logs)
		}
	}
}
