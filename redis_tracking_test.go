package entraweb_test

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/entraweb/entraweb/entratest"
	"github.com/entraweb/entraweb/internal/redistest"
)

// The Redis store serves a session it has read before from the
// instance's memory, and Redis tells every instance when the key changes
// (client-side caching with CLIENT TRACKING). These tests check both
// halves end to end: the read is free, and a sign-out still reaches every
// instance at once.

// TestSignOutReachesOtherInstances: a user signed in, and instance B
// serving the session from memory (no Redis command per request). The
// user signs out on A; B answers 401 for the same cookie within 200ms.
func TestSignOutReachesOtherInstances(t *testing.T) {
	rs := redistest.Start(t, redistest.Options{})
	srv := entratest.NewServer(t, nil)
	c := newCluster(t, srv, rs)
	b := signInThroughCluster(t, srv, c)
	old := sessionCookieOf(b, c.url)
	if old == nil {
		t.Fatal("no session cookie")
	}
	onB := func() int {
		t.Helper()
		req, _ := http.NewRequest("GET", c.inst[1].url+"/auth/me", nil)
		req.AddCookie(old)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	onB() // B may not have read the session since the callback
	rs.ResetStats()
	for range 10 {
		if code := onB(); code != 200 {
			t.Fatalf("B before the sign-out: %d", code)
		}
	}
	if calls := rs.Calls(); calls["get"] != 0 {
		t.Fatalf("B read Redis to serve a session it had read before: %v", calls)
	}

	// Sign out on A.
	c.routeAll(0)
	_, page := get(t, b, c.url+"/auth/logout", true)
	csrf := between(page, `name="csrf" value="`, `"`)
	if csrf == "" {
		t.Fatalf("no sign-out form: %.300s", page)
	}
	if resp := navigate(t, noFollow(b.AppClient().Jar), "POST", c.url+"/auth/logout", url.Values{"csrf": {csrf}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-out on A: %d", resp.StatusCode)
	}
	signedOut := time.Now()

	// A liveness bound, not a speed claim: the time it took is logged
	// (milliseconds here), and only a sign-out never seen fails.
	const bound = 5 * time.Second
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	polls := 0
	for {
		polls++
		code := onB()
		if code == http.StatusUnauthorized {
			t.Logf("B answered 401 %v after the sign-out on A returned (poll %d)", time.Since(signedOut), polls)
			break
		}
		if code != 200 {
			t.Fatalf("B after the sign-out on A: %d, want 200 then 401", code)
		}
		if time.Since(signedOut) > bound {
			t.Fatalf("B still serves the session %v after the sign-out on A", time.Since(signedOut))
		}
		<-tick.C
	}
}

// TestSteadyStateCostsNoRedisCommand counts with Redis's own statistics
// what signed-in requests cost on three instances: each instance reads
// the session from Redis once, and from then on a request costs no
// command at all (the last-seen time is written at most once per
// TouchInterval).
func TestSteadyStateCostsNoRedisCommand(t *testing.T) {
	rs := redistest.Start(t, redistest.Options{})
	srv := entratest.NewServer(t, nil)
	c := newCluster(t, srv, rs)
	b := signInThroughCluster(t, srv, c)
	rs.ResetStats()
	// Every instance's first request reads Redis: B finished the sign-in
	// and C served a page since, but nothing was read on A.
	for i := range c.inst {
		c.routeAll(i)
		if resp, _ := get(t, b, c.url+"/", true); resp.StatusCode != 200 {
			t.Fatalf("instance %s: %d", c.inst[i].name, resp.StatusCode)
		}
	}
	first := rs.Calls()
	t.Logf("first request on each of 3 instances: %v", first)
	if first["get"] > 3 {
		t.Errorf("the first request on each instance cost %v; want at most one GET each", first)
	}

	rs.ResetStats()
	const n = 60
	for i := range n {
		c.routeAll(i % 3)
		if resp, _ := get(t, b, c.url+"/", true); resp.StatusCode != 200 {
			t.Fatalf("status %d", resp.StatusCode)
		}
	}
	calls := rs.Calls()
	total := 0
	for _, k := range calls {
		total += k
	}
	t.Logf("%d steady-state requests over 3 instances: %v (%.3f commands per request)", n, calls, float64(total)/n)
	if total != 0 {
		t.Errorf("%d signed-in requests cost %v; want no Redis command", n, calls)
	}
}
