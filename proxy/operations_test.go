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
	type report struct {
		Status string
		Checks []struct{ Name, Status, Message string }
	}
	ready := func() (int, report, map[string]string) {
		resp, body := do(t, client(nil), "GET", e.url+"/readyz")
		var got report
		if err := json.Unmarshal(body, &got); err != nil {
			t.Fatalf("/readyz: %v: %s", err, body)
		}
		checks := map[string]string{}
		for _, c := range got.Checks {
			checks[c.Name] = c.Status
		}
		return resp.StatusCode, got, checks
	}
	e.srv.SetOutage(entratest.Outage503)
	if code, got, checks := ready(); code != http.StatusServiceUnavailable || got.Status != "unavailable" || checks["authority"] != "fail" {
		t.Errorf("/readyz with the provider down: %d %+v", code, got)
	}
	e.srv.SetOutage(entratest.OutageNone)
	code, got, checks := ready()
	if code != 200 || got.Status != "ready" || checks["authority"] != "ok" || checks["session store"] != "ok" || checks["clock"] != "ok" {
		t.Errorf("/readyz: %d %+v", code, got)
	}
	// A ready report is kept for a few seconds: probes from many
	// instances do not each cost a discovery request.
	calls := e.srv.Calls(entratest.EndpointDiscovery)
	if code, _, _ := ready(); code != 200 || e.srv.Calls(entratest.EndpointDiscovery) != calls {
		t.Errorf("a second probe at once: %d, discovery calls +%d", code, e.srv.Calls(entratest.EndpointDiscovery)-calls)
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
