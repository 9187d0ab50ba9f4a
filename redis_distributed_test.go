package entraweb_test

import (
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/entraweb/entraweb/entratest"
	"github.com/entraweb/entraweb/internal/redistest"
)

// The tests in this file run the app's instances on a Redis Cluster and
// on a Sentinel setup, started on loopback, through a master restart and
// a failover. They run only with ENTRAWEB_DISTRIBUTED=1 (make
// test-distributed, which CI runs).

// user is one signed-in browser, by its session cookie.
type user struct {
	b      *entratest.Browser
	cookie *http.Cookie
}

// signInMany signs n browsers in through the balancer.
func signInMany(t *testing.T, srv *entratest.Server, c *cluster, n int) []*user {
	t.Helper()
	users := make([]*user, n)
	for i := range users {
		b := signInThroughCluster(t, srv, c)
		ck := sessionCookieOf(b, c.url)
		if ck == nil {
			t.Fatal("no session cookie")
		}
		users[i] = &user{b: b, cookie: ck}
	}
	return users
}

// status asks instance in who the cookie's user is: 200 signed in, 401
// signed out, 503 the store did not answer.
func status(t *testing.T, in *instance, ck *http.Cookie) int {
	t.Helper()
	req, _ := http.NewRequest("GET", in.url+"/auth/me", nil)
	req.AddCookie(ck)
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		t.Error(err)
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// signOut signs u out on instance i.
func signOut(t *testing.T, c *cluster, u *user, i int) {
	t.Helper()
	c.routeAll(i)
	_, page := get(t, u.b, c.url+"/auth/logout", true)
	csrf := between(page, `name="csrf" value="`, `"`)
	if csrf == "" {
		t.Fatalf("no sign-out form: %.300s", page)
	}
	if resp := navigate(t, noFollow(u.b.AppClient().Jar), "POST", c.url+"/auth/logout", url.Values{"csrf": {csrf}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-out on %s: %d", c.inst[i].name, resp.StatusCode)
	}
}

// traffic asks every instance about every user, over and over, until
// stop is closed, and counts the answers.
type traffic struct {
	mu     sync.Mutex
	counts map[int]int
	// firstBad and lastBad bound the answers other than 200.
	firstBad, lastBad time.Time
	wg                sync.WaitGroup
	stop              chan struct{}
}

func startTraffic(t *testing.T, c *cluster, users []*user) *traffic {
	tr := &traffic{counts: map[int]int{}, stop: make(chan struct{})}
	for _, in := range c.inst {
		tr.wg.Go(func() {
			for {
				for _, u := range users {
					select {
					case <-tr.stop:
						return
					default:
					}
					code := status(t, in, u.cookie)
					now := time.Now()
					tr.mu.Lock()
					tr.counts[code]++
					if code != 200 {
						if tr.firstBad.IsZero() {
							tr.firstBad = now
						}
						tr.lastBad = now
					}
					tr.mu.Unlock()
					if code == http.StatusUnauthorized {
						t.Errorf("instance %s signed a user out during the outage", in.name)
					}
				}
			}
		})
	}
	return tr
}

func (tr *traffic) end() map[int]int {
	close(tr.stop)
	tr.wg.Wait()
	return tr.counts
}

// allSignedIn waits until every instance answers 200 for every user and
// returns when that was first true, failing t after timeout or on a 401.
func allSignedIn(t *testing.T, c *cluster, users []*user, timeout time.Duration) time.Time {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok := true
		for _, in := range c.inst {
			for _, u := range users {
				switch code := status(t, in, u.cookie); code {
				case 200:
				case http.StatusUnauthorized:
					t.Fatalf("instance %s answers 401 for a signed-in user", in.name)
				default:
					ok = false
				}
			}
		}
		if ok {
			return time.Now()
		}
		if time.Now().After(deadline) {
			t.Fatalf("not every user is served %v later", timeout)
		}
		time.Sleep(50 * time.Millisecond) // the poll interval
	}
}

// TestRedisClusterSessions: three instances on a three-master Redis
// Cluster. Sessions spread over the masters; users signed out on any
// instance are signed out on all; and while one master restarts, its
// users get 503 (never 401) and everyone else is served, and after it
// its users are signed in still (the master keeps an append-only file).
func TestRedisClusterSessions(t *testing.T) {
	rc := redistest.StartCluster(t)
	srv := entratest.NewServer(t, nil)
	c := newClusterOn(t, srv, rc.URL())
	users := signInMany(t, srv, c, 30)
	for _, m := range rc.Masters {
		n, err := m.Do("DBSIZE")
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("master %s holds %s keys", m.Addr, n)
		if k, _ := strconv.Atoi(n); k == 0 {
			t.Errorf("master %s holds no session", m.Addr)
		}
	}

	// Every third user signs out, on instance A, B or C in turn.
	var in, out []*user
	for i, u := range users {
		if i%3 == 0 {
			signOut(t, c, u, i/3%3)
			out = append(out, u)
		} else {
			in = append(in, u)
		}
	}
	for _, inst := range c.inst {
		for _, u := range out {
			if code := status(t, inst, u.cookie); code != http.StatusUnauthorized {
				t.Errorf("instance %s, signed-out user: %d", inst.name, code)
			}
		}
	}
	allSignedIn(t, c, in, 5*time.Second)

	// Restart one master under traffic.
	tr := startTraffic(t, c, in)
	time.Sleep(300 * time.Millisecond) // traffic before the restart
	m := rc.Masters[1]
	stopped := time.Now()
	m.Stop()
	time.Sleep(time.Second) // the master is down this long
	restarting := time.Now()
	m.Restart()
	t.Logf("the master was down %v and took %v to restart", restarting.Sub(stopped).Round(time.Millisecond), time.Since(restarting).Round(time.Millisecond))
	rc.WaitOK(20 * time.Second)
	// A restarted master answers CLUSTERDOWN for about two seconds
	// before it reports the cluster ok (Redis's own rejoin delay).
	t.Logf("the cluster was ok again %v after the restart", time.Since(restarting).Round(time.Millisecond))
	back := allSignedIn(t, c, in, 20*time.Second)
	time.Sleep(300 * time.Millisecond) // traffic after
	counts := tr.end()
	t.Logf("answers under traffic: %v; non-200 answers from %v to %v after the stop; every user was served again %v after it",
		counts, tr.firstBad.Sub(stopped).Round(time.Millisecond), tr.lastBad.Sub(stopped).Round(time.Millisecond), back.Sub(stopped).Round(time.Millisecond))
	for code := range counts {
		if code != 200 && code != http.StatusServiceUnavailable {
			t.Errorf("%d answers %d; want only 200 and 503", counts[code], code)
		}
	}
	if counts[200] == 0 {
		t.Error("no request was served while the master restarted")
	}
}

// TestRedisSentinelFailover: three instances on a master with a replica
// and a sentinel. Under traffic the master stops; requests in the
// failover window get 503, none 401, and once the sentinel has promoted
// the replica every signed-in user is served again, by every instance,
// without a restart of the app.
func TestRedisSentinelFailover(t *testing.T) {
	st := redistest.StartSentinel(t)
	srv := entratest.NewServer(t, nil)
	c := newClusterOn(t, srv, st.URL())
	users := signInMany(t, srv, c, 10)
	allSignedIn(t, c, users, 5*time.Second) // every instance has read every session

	deadline := time.Now().Add(10 * time.Second)
	for {
		m, err1 := st.Master.Do("DBSIZE")
		r, err2 := st.Replica.Do("DBSIZE")
		if err1 == nil && err2 == nil && m == r {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the replica holds %s keys, the master %s", r, m)
		}
		time.Sleep(20 * time.Millisecond)
	}

	tr := startTraffic(t, c, users)
	time.Sleep(300 * time.Millisecond) // traffic before the failover
	stopping := time.Now()
	st.Master.Stop() // SIGTERM; returns when the process has exited
	stopped := time.Now()
	back := allSignedIn(t, c, users, 30*time.Second)
	time.Sleep(300 * time.Millisecond) // traffic after
	counts := tr.end()
	t.Logf("failover window: %.1fs from SIGTERM to the master (it took %v to exit) until every instance served every user again; answers under traffic: %v; non-200 answers from %v to %v after the SIGTERM",
		back.Sub(stopping).Seconds(), stopped.Sub(stopping).Round(time.Millisecond), counts,
		tr.firstBad.Sub(stopping).Round(time.Millisecond), tr.lastBad.Sub(stopping).Round(time.Millisecond))
	if addr, err := st.MasterAddr(); err != nil || addr != st.Replica.Addr {
		t.Errorf("the sentinel reports the master at %s (%v), want the old replica %s", addr, err, st.Replica.Addr)
	}
	for code := range counts {
		if code != 200 && code != http.StatusServiceUnavailable {
			t.Errorf("%d answers %d; want only 200 and 503", counts[code], code)
		}
	}
	if counts[http.StatusServiceUnavailable] == 0 {
		t.Error("no request fell in the failover window: the test did not see one")
	}
}
