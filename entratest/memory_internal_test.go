package entratest

import (
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// testClock is a settable clock for the internal tests.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func internalAuthURL(s *Server, state string) string {
	q := url.Values{"client_id": {DemoClientID}, "response_type": {"code"}, "redirect_uri": {"http://localhost/auth/callback"},
		"scope": {"openid offline_access User.Read"}, "state": {state}}
	return s.Authority() + "/oauth2/v2.0/authorize?" + q.Encode()
}

func (s *Server) pending() (codes, redeemed, families int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.codes), len(s.redeemedCodes), len(s.families)
}

func TestSweepDropsExpiredCodes(t *testing.T) {
	clock := &testClock{now: time.Now()}
	s := NewServer(t, &Options{Now: clock.Now})
	b := s.Browser()
	var codes []string
	for range 5 {
		cb, err := b.SignIn(t.Context(), internalAuthURL(s, "s"), "alice@contoso.onmicrosoft.com", DemoPassword)
		if err != nil {
			t.Fatal(err)
		}
		codes = append(codes, cb.Params.Get("code"))
	}
	// Redeem one, and replay it so that its family is remembered as revoked.
	redeem := func(code string) int {
		f := url.Values{"grant_type": {"authorization_code"}, "client_id": {DemoClientID}, "client_secret": {DemoClientSecret},
			"code": {code}, "redirect_uri": {"http://localhost/auth/callback"}, "scope": {"openid offline_access User.Read"}}
		resp, err := s.Client().Post(s.Authority()+"/oauth2/v2.0/token", "application/x-www-form-urlencoded", strings.NewReader(f.Encode()))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if st := redeem(codes[0]); st != 200 {
		t.Fatalf("redeem: HTTP %d", st)
	}
	if st := redeem(codes[0]); st != 400 {
		t.Fatalf("replay: HTTP %d", st)
	}
	s.sweep()
	if c, r, f := s.pending(); c != 4 || r != 1 || f != 1 {
		t.Fatalf("before expiry: %d codes, %d redeemed, %d revoked families; want 4, 1, 1", c, r, f)
	}
	clock.Add(11 * time.Minute)
	s.sweep()
	if c, r, f := s.pending(); c != 0 || r != 0 || f != 1 {
		t.Errorf("after the codes' lifetime: %d codes, %d redeemed, %d families; want 0, 0, 1", c, r, f)
	}
	clock.Add(91 * 24 * time.Hour)
	s.sweep()
	if c, r, f := s.pending(); c+r+f != 0 {
		t.Errorf("after the refresh tokens' lifetime: %d codes, %d redeemed, %d families; want none", c, r, f)
	}
}

func TestMaxCodes(t *testing.T) {
	s := NewServer(t, &Options{MaxCodes: 2})
	b := s.Browser()
	for i := range 3 {
		cb, err := b.SignIn(t.Context(), internalAuthURL(s, "m"), "bob@contoso.onmicrosoft.com", DemoPassword)
		if err != nil {
			t.Fatal(err)
		}
		if i < 2 {
			if cb.Params.Get("code") == "" {
				t.Fatalf("sign-in %d: %v", i, cb.Params)
			}
			continue
		}
		if cb.Params.Get("error") != "temporarily_unavailable" || cb.Params.Get("state") != "m" || cb.Params.Get("code") != "" {
			t.Errorf("past MaxCodes: %v, want temporarily_unavailable", cb.Params)
		}
	}
	if c, _, _ := s.pending(); c != 2 {
		t.Errorf("%d codes held, want 2", c)
	}
}
