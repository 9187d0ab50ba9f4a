package proxy_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/entraweb/entraweb/entratest"
	"github.com/entraweb/entraweb/proxy"
	"github.com/entraweb/entraweb/session"
	"github.com/entraweb/entraweb/session/memstore"
)

func TestHealthAndReady(t *testing.T) {
	store := &switchableStore{Store: memstore.New()}
	e := newEnv(t, func(c *proxy.Config) {
		c.MetricsAddress = "127.0.0.1:0" // the store behind the metrics' observer
		c.Entra.Store = store
		c.Entra.Session.Key = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
	})
	if resp, body := do(t, client(nil), "GET", e.url+"/healthz"); resp.StatusCode != 200 || string(body) != "ok\n" {
		t.Errorf("/healthz: %d %q", resp.StatusCode, body)
	}
	type report struct {
		Status string
		Checks map[string]string
	}
	ready := func() (int, report, string) {
		resp, body := do(t, client(nil), "GET", e.url+"/readyz")
		var got report
		if err := json.Unmarshal(body, &got); err != nil {
			t.Fatalf("/readyz: %v: %s", err, body)
		}
		return resp.StatusCode, got, string(body)
	}
	// until polls /readyz until it answers code (a report is kept a
	// second when not ready, ten when ready); the bound is a liveness
	// bound, not a speed claim.
	until := func(code int) report {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			got, rep, body := ready()
			if got == code {
				if strings.Contains(body, entratest.DemoTenantID) || strings.Contains(body, e.srv.URL) || strings.Contains(body, "message") {
					t.Errorf("/readyz tells anyone about the configuration: %s", body)
				}
				return rep
			}
			if time.Now().After(deadline) {
				t.Fatalf("/readyz still answers %d (%s), want %d", got, body, code)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	if rep := until(http.StatusOK); rep.Status != "ready" || rep.Checks["authority"] != "ok" || rep.Checks["session store"] != "ok" || rep.Checks["clock"] != "ok" {
		t.Errorf("/readyz: %+v", rep)
	}

	// A ready report is kept a few seconds, and concurrent probes share
	// one check: many probes cost no discovery request each.
	calls := e.srv.Calls(entratest.EndpointDiscovery)
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() { ready() })
	}
	wg.Wait()
	if n := e.srv.Calls(entratest.EndpointDiscovery) - calls; n != 0 {
		t.Errorf("20 probes within the report's life made %d discovery requests", n)
	}

	e.srv.SetOutage(entratest.Outage503)
	if rep := until(http.StatusServiceUnavailable); rep.Status != "unavailable" || rep.Checks["authority"] != "fail" {
		t.Errorf("/readyz with the provider down: %+v", rep)
	}
	e.srv.SetOutage(entratest.OutageNone)
	until(http.StatusOK)

	store.down.Store(true)
	if rep := until(http.StatusServiceUnavailable); rep.Checks["session store"] != "fail" || rep.Checks["authority"] != "ok" {
		t.Errorf("/readyz with the store down: %+v", rep)
	}
	store.down.Store(false)
	until(http.StatusOK)
}

// switchableStore is a store that can be made to fail, as a session
// store does when its server is down.
type switchableStore struct {
	session.Store
	down atomic.Bool
}

var errStoreDown = errors.New("the store is down")

func (s *switchableStore) Find(ctx context.Context, key string) ([]byte, bool, error) {
	if s.down.Load() {
		return nil, false, errStoreDown
	}
	return s.Store.Find(ctx, key)
}

func (s *switchableStore) Commit(ctx context.Context, key string, data []byte, exp time.Time) error {
	if s.down.Load() {
		return errStoreDown
	}
	return s.Store.Commit(ctx, key, data, exp)
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
