package proxy_test

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/entraweb/entraweb/entratest"
	"github.com/entraweb/entraweb/proxy"
)

// scrape reads the proxy's metrics in Prometheus' text format.
func scrape(t *testing.T, h *proxy.Handler) string {
	t.Helper()
	m := h.Metrics()
	if m == nil {
		t.Fatal("Metrics() is nil with MetricsAddress set")
	}
	w := httptest.NewRecorder()
	m.ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	if w.Code != 200 {
		t.Fatalf("/metrics: %d", w.Code)
	}
	return w.Body.String()
}

// value is the sample of series (name and labels as Prometheus writes
// them, labels sorted) in text, or -1 when it is absent.
func value(text, series string) float64 {
	for l := range strings.Lines(text) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(l), series+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return -2
			}
			return f
		}
	}
	return -1
}

func TestMetrics(t *testing.T) {
	e := newEnv(t, func(c *proxy.Config) {
		c.MetricsAddress = "127.0.0.1:0"
		c.Rules = []proxy.Rule{{Path: "/admin", Role: "DemoApp.Admin"}}
		c.AccessTokenScopes = []string{"User.Read"}
	})
	b := e.signIn(t, carol)
	c := client(b)
	for range 3 {
		if resp, body := do(t, c, "GET", e.url+"/page", fetchHeaders...); resp.StatusCode != 200 {
			t.Fatalf("/page: %d %s", resp.StatusCode, body)
		}
	}
	if resp, _ := do(t, c, "GET", e.url+"/admin", fetchHeaders...); resp.StatusCode != 403 {
		t.Fatalf("/admin as carol: %d", resp.StatusCode)
	}
	do(t, client(nil), "GET", e.url+"/healthz")
	// A sign-in Entra ID refuses, and a callback nobody started.
	e.srv.FailNextSignIn(50105)
	if resp, _, err := e.srv.Browser().Visit(t.Context(), e.url+"/.auth/login/aad", alice, entratest.DemoPassword); err != nil || resp.StatusCode == 200 {
		t.Fatalf("refused sign-in: %v %v", err, resp)
	}
	do(t, client(nil), "GET", e.url+proxy.CallbackPath+"?state=x&code=y", fetchHeaders...)
	// The upstream down.
	e.up.Close()
	if resp, _ := do(t, c, "GET", e.url+"/page", fetchHeaders...); resp.StatusCode != http.StatusBadGateway {
		t.Fatalf("upstream down: %d", resp.StatusCode)
	}

	text := scrape(t, e.h)
	for _, tt := range []struct {
		series string
		want   float64 // -3: any value > 0
	}{
		{`entraweb_proxy_requests_total{class="upstream",code="200"}`, 3},
		{`entraweb_proxy_requests_total{class="upstream",code="403"}`, 1},
		{`entraweb_proxy_requests_total{class="upstream",code="502"}`, 1},
		{`entraweb_proxy_requests_total{class="health",code="200"}`, 1},
		{`entraweb_proxy_requests_total{class="auth",code="303"}`, -3},
		{`entraweb_proxy_upstream_duration_seconds_count`, 3},
		{`entraweb_proxy_upstream_errors_total`, 1},
		{`entraweb_sign_ins_total`, 1},
		{`entraweb_sign_in_failures_total{aadsts="50105",reason="aadsts"}`, 1},
		{`entraweb_sign_in_failures_total{aadsts="",reason="unknown_state"}`, 1},
		{`entraweb_refusals_total{code="403",reason="forbidden"}`, 1},
		{`entraweb_store_duration_seconds_count{op="find"}`, -3},
		{`entraweb_store_duration_seconds_count{op="commit"}`, -3},
		{`entraweb_process_resident_memory_bytes`, -3},
		{`go_goroutines`, -3},
	} {
		got := value(text, tt.series)
		if tt.want == -3 && got > 0 || got == tt.want {
			continue
		}
		t.Errorf("%s = %v, want %v", tt.series, got, tt.want)
	}
	if t.Failed() {
		t.Logf("metrics:\n%s", text)
	}
}

// A refresh of the access token sent to the upstream is counted and
// timed; a burst of one user's requests during it makes one refresh.
func TestMetricsCountOneRefreshForABurst(t *testing.T) {
	e := newEnv(t, func(c *proxy.Config) {
		c.MetricsAddress = "127.0.0.1:0"
		c.AccessTokenScopes = []string{"User.Read"}
	})
	// The sign-in's access token is issued with less time left than the
	// refresh margin, so the first request that needs it refreshes; the
	// refreshed one lasts an hour.
	setLife := func(d time.Duration) {
		if err := e.srv.Update(func(c *entratest.Config) { c.AccessTokenLifetime = entratest.Duration(d) }); err != nil {
			t.Fatal(err)
		}
	}
	setLife(4 * time.Minute)
	b := e.signIn(t, carol)
	setLife(time.Hour)
	c := client(b)
	before := e.srv.Calls(entratest.EndpointToken)
	var wg sync.WaitGroup
	codes := make([]int, 16)
	for i := range codes {
		wg.Go(func() {
			req, _ := http.NewRequest("GET", e.url+"/burst", nil)
			req.Header.Set("Sec-Fetch-Mode", "cors")
			resp, err := c.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			codes[i] = resp.StatusCode
		})
	}
	wg.Wait()
	for i, code := range codes {
		if code != 200 {
			t.Errorf("request %d: %d (a refresh must never sign the user out)", i, code)
		}
	}
	if n := e.srv.Calls(entratest.EndpointToken) - before; n != 1 {
		t.Errorf("token endpoint calls = %d, want 1 for 16 concurrent requests", n)
	}
	text := scrape(t, e.h)
	if got := value(text, `entraweb_token_refreshes_total{result="ok"}`); got != 1 {
		t.Errorf("refreshes ok = %v, want 1", got)
	}
	if got := value(text, `entraweb_token_refresh_duration_seconds_count`); got != 1 {
		t.Errorf("refresh duration count = %v, want 1", got)
	}
}

// Without MetricsAddress there are no metrics to serve.
func TestMetricsOff(t *testing.T) {
	e := newEnv(t, nil)
	if e.h.Metrics() != nil {
		t.Error("Metrics() without MetricsAddress")
	}
	if resp, body := do(t, client(nil), "GET", e.url+"/metrics", fetchHeaders...); resp.StatusCode != 401 {
		t.Errorf("/metrics through the proxy: %d %s (it belongs to the upstream, behind sign-in)", resp.StatusCode, body)
	}
}
