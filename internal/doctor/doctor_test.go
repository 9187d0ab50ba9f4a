package doctor

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

// fakeRedis answers every command of a connection with the next of
// replies, as raw RESP.
func fakeRedis(t *testing.T, replies ...string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		rd := bufio.NewReader(c)
		for _, r := range replies {
			// One command: *N then N bulk strings of two lines each.
			line, err := rd.ReadString('\n')
			if err != nil {
				return
			}
			var n int
			for _, ch := range strings.TrimSpace(line[1:]) {
				n = n*10 + int(ch-'0')
			}
			for range 2 * n {
				if _, err := rd.ReadString('\n'); err != nil {
					return
				}
			}
			c.Write([]byte(r))
		}
	}()
	return ln.Addr().String()
}

func TestTrackingProbe(t *testing.T) {
	hello3 := "%2\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nmodules\r\n*0\r\n"
	tests := []struct {
		name    string
		replies []string
		status  Status
		want    string
	}{
		{"RESP3 and tracking", []string{hello3, "+OK\r\n"}, OK, "CLIENT TRACKING accepted"},
		{"Redis 5: no HELLO, echoing the password", []string{"-ERR unknown command `HELLO`, with args beginning with: `3`, `AUTH`, `default`, `s3cret-pw`,\r\n"}, Warn, "unknown command"},
		{"tracking refused", []string{hello3, "-ERR tracking blocked by proxy\r\n"}, Warn, "tracking blocked"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr := fakeRedis(t, tt.replies...)
			r := checkTracking(context.Background(), Input{RedisURL: "redis://:s3cret-pw@" + addr + "/0"})
			if r.Status != tt.status || !strings.Contains(r.Message, tt.want) {
				t.Errorf("%s %q, want %s %q", r.Status, r.Message, tt.status, tt.want)
			}
			if strings.Contains(r.Message, "s3cret-pw") {
				t.Errorf("the password leaked: %s", r.Message)
			}
		})
	}
	for _, u := range []string{"redis://h:6379/0?master_name=m", "redis://h:6379/0?addr=h2:6379", "redis://h/0?cluster=true", "redis://h/0?client_cache=false"} {
		if r := checkTracking(context.Background(), Input{RedisURL: u}); r.Status != Skip {
			t.Errorf("%s: %s, want skip", u, r.Status)
		}
	}
}

func TestMatchRedirect(t *testing.T) {
	reg := []string{"http://localhost/auth/callback", "https://app.example.com/auth/callback", "http://127.0.0.1:9000/x"}
	tests := []struct {
		uri string
		ok  bool
	}{
		{"https://app.example.com/auth/callback", true},
		{"http://localhost:8080/auth/callback", true}, // a loopback port is ignored
		{"http://127.0.0.1:1234/x", true},
		{"https://app.example.com:8443/auth/callback", false},
		{"https://localhost:8080/auth/callback", false}, // only http loopback is port-free
		{"http://localhost:8080/auth/Callback", false},
		{"http://127.0.0.1:8080/auth/callback", false}, // hosts still compared
	}
	for _, tt := range tests {
		if got := matchRedirect(reg, tt.uri); got != tt.ok {
			t.Errorf("matchRedirect(%s) = %v, want %v", tt.uri, got, tt.ok)
		}
	}
}

func TestCheckClock(t *testing.T) {
	base := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name   string
		date   string
		status Status
		want   string
	}{
		{"same", base.Format(http.TimeFormat), OK, "within 10s"},
		{"90s off", base.Add(90 * time.Second).Format(http.TimeFormat), OK, "within 1m30s"},
		{"ahead 3 minutes", base.Add(-3 * time.Minute).Format(http.TimeFormat), Fail, "about 3m0s ahead of"},
		{"behind 5 minutes", base.Add(5 * time.Minute).Format(http.TimeFormat), Fail, "about 5m0s behind"},
		{"no Date", "", Skip, "no usable Date"},
	}
	for _, tt := range tests {
		r := checkClock(tt.date, base, base.Add(200*time.Millisecond))
		if r.Status != tt.status || !strings.Contains(r.Message, tt.want) {
			t.Errorf("%s: %s %q, want %s %q", tt.name, r.Status, r.Message, tt.status, tt.want)
		}
	}
}

func TestRunStopsAtAnInvalidConfiguration(t *testing.T) {
	rep := Run(context.Background(), Input{ConfigErr: &url.Error{Op: "x", URL: "y", Err: net.ErrClosed}})
	if rep.OK() || len(rep.Checks) != 1 || rep.Checks[0].Name != "configuration" || rep.Checks[0].Fix == "" {
		t.Errorf("report: %+v", rep)
	}
}

// TestIssuerFitsTenant serves discovery documents whose issuer names
// another tenant, or a GUID for a tenant configured by domain.
func TestIssuerFitsTenant(t *testing.T) {
	const tid, other = "3c0f2e8d-9b6a-4f1e-8d2c-7a5b4e3f2a10", "8e1d7c6b-5a49-4f38-b2e1-0d9c8b7a6f54"
	var issuerTenant string
	ts := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		base := "https://" + r.Host
		fmt.Fprintf(w, `{"issuer": %q, "authorization_endpoint": %q, "token_endpoint": %q, "jwks_uri": %q}`,
			base+"/"+issuerTenant+"/v2.0", base+"/a", base+"/t", base+"/k")
	}))
	defer ts.Close()
	tests := []struct {
		tenant, issuerTenant string
		multi                bool
		status               Status
		want                 string
	}{
		{tid, tid, false, OK, "answers discovery"},
		{tid, other, false, Fail, "does not fit the tenant"},
		{"contoso.onmicrosoft.com", tid, false, OK, "(contoso.onmicrosoft.com is the tenant " + tid + ")"},
		{"contoso.onmicrosoft.com", "contoso.onmicrosoft.com", false, Fail, "does not fit"},
		{"organizations", "{tenantid}", true, OK, "answers discovery"},
	}
	for _, tt := range tests {
		issuerTenant = tt.issuerTenant
		in := Input{Authority: ts.URL + "/" + tt.tenant, AuthorityHost: ts.URL, Tenant: tt.tenant, MultiTenant: tt.multi,
			HTTPClient: ts.Client(), Now: time.Now, Explain: func(err error) (string, string) { return err.Error(), "" }}
		disc, _, ok := checkDiscovery(context.Background(), in)
		if disc.Status != tt.status || !strings.Contains(disc.Message, tt.want) || ok != (tt.status == OK) {
			t.Errorf("%s with issuer tenant %s: %s %q (ok %v), want %s %q", tt.tenant, tt.issuerTenant, disc.Status, disc.Message, ok, tt.status, tt.want)
		}
	}
}
