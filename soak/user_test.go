package soak

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/entraweb/entraweb/entratest"
)

// requestTimeout bounds every request of a user, sign-ins included.
const requestTimeout = 20 * time.Second

// user is one virtual user: a person with a browser for the app and
// another for the proxied app (two tabs would share cookies by host, and
// the two apps are separate apps).
type user struct {
	r     *rig
	i     int
	want  identity
	rnd   *rand.Rand
	seen  *owners
	fails *violations

	app, px           *entratest.Browser
	appIn, pxIn       bool      // signed in, as far as the user knows
	leaving           bool      // signing out: an attempt was interrupted
	faultSince        time.Time // the first failed answer since the last good one
	faultFirst        string
	appClient, pxHTTP *http.Client
}

// violations collects broken invariants: all are counted, the first few
// of each kind are kept.
type violations struct {
	mu    sync.Mutex
	n     int
	kinds map[string]int
	msgs  []string
}

func (v *violations) add(kind, msg string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.n++
	if v.kinds == nil {
		v.kinds = map[string]int{}
	}
	v.kinds[kind]++
	if v.kinds[kind] <= 3 && len(v.msgs) < 40 {
		v.msgs = append(v.msgs, msg)
	}
}

func newUser(r *rig, i int, seen *owners, fails *violations) *user {
	name := userName(i)
	return &user{
		r: r, i: i, seen: seen, fails: fails,
		want: identity{OID: entratest.StableID("user:" + strings.ToLower(name)), Username: name},
		rnd:  rand.New(rand.NewPCG(uint64(i), 42)),
	}
}

// run is the user's life until ctx ends: sign in, browse, get tokens, go
// through the proxy, now and then sign out and in again.
func (u *user) run(ctx context.Context) {
	for ctx.Err() == nil {
		switch {
		case u.leaving:
			u.signOut(ctx)
		case !u.appIn:
			u.signIn(ctx)
		case !u.pxIn:
			u.proxySignIn(ctx)
		default:
			switch n := u.rnd.IntN(100); {
			case n < 40:
				u.get(ctx, "page", u.r.front.URL+"/page", u.appClient, pageIdentity)
			case n < 70:
				u.get(ctx, "token", u.r.front.URL+"/token", u.appClient, pageIdentity)
			case n < 97:
				u.get(ctx, "proxy", u.r.pxSrv.URL+"/echo", u.pxHTTP, headerIdentity)
			default:
				u.signOut(ctx)
			}
		}
		u.think(ctx)
	}
}

// think pauses as a person does between clicks, and longer after an
// error page (reading it before pressing "Try again").
func (u *user) think(ctx context.Context) {
	d := time.Duration(100+u.rnd.IntN(300)) * time.Millisecond
	if !u.faultSince.IsZero() {
		d += time.Duration(500+u.rnd.IntN(1000)) * time.Millisecond
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// record judges an answer, counts it and reports a broken invariant.
func (u *user) record(a answer, got *identity) bool {
	if !a.end.IsZero() && a.end.After(a.start) {
		u.r.stats.ops[opKind(a.op)].add(a.end.Sub(a.start))
	}
	v := judge(a, u.want, got, u.r.faults())
	switch {
	case v.violation != "":
		u.r.stats.outcomes.add(a.op + " VIOLATION")
		u.fails.add(a.op+" "+strconv.Itoa(a.status), u.want.Username+" "+v.violation)
	case v.fault != "":
		u.r.stats.outcomes.add(a.op + " failed during " + v.fault)
		if u.faultSince.IsZero() {
			u.faultSince, u.faultFirst = a.start, a.op+" during "+v.fault
		}
	default:
		u.r.stats.outcomes.add(a.op + " ok")
		if !u.faultSince.IsZero() {
			u.r.stats.waited(a.end.Sub(u.faultSince), fmt.Sprintf("%s: %s at %.1fs, then %s ok at %.1fs",
				u.want.Username, u.faultFirst, u.faultSince.Sub(u.r.faults().t0).Seconds(), a.op, a.end.Sub(u.r.faults().t0).Seconds()))
			u.faultSince = time.Time{}
		}
	}
	return v.ok
}

func opKind(op string) string {
	switch op {
	case "final":
		return "page"
	case "final-proxy":
		return "proxy"
	}
	return op
}

// claim checks that a session cookie or token is no one else's.
func (u *user) claim(op, what, value string) {
	if other := u.seen.claim(what, value, u.want.Username); other != "" {
		u.r.stats.outcomes.add(op + " VIOLATION")
		u.fails.add(op+" "+what, u.want.Username+" "+op+": got the "+what+" of "+other)
	}
}

// signIn visits a protected page of the app with a new browser and signs
// in at the emulator.
func (u *user) signIn(ctx context.Context) {
	u.app = u.r.srv.Browser()
	u.appClient = u.client(u.app)
	if ok, _ := u.visit(ctx, "sign-in", u.app, u.r.front.URL+"/page", pageIdentity); ok {
		u.appIn = true
		u.claim("sign-in", "session", sessionCookie(u.app, u.r.front.URL))
	}
}

// proxySignIn does the same through the proxy.
func (u *user) proxySignIn(ctx context.Context) {
	u.px = u.r.srv.Browser()
	u.pxHTTP = u.client(u.px)
	if ok, _ := u.visit(ctx, "proxy-sign-in", u.px, u.r.pxSrv.URL+"/echo", headerIdentity); ok {
		u.pxIn = true
		u.claim("proxy-sign-in", "session", sessionCookie(u.px, u.r.pxSrv.URL))
	}
}

func (u *user) visit(run context.Context, op string, b *entratest.Browser, page string, read func(string) *identity) (bool, *identity) {
	ctx, cancel := context.WithTimeout(run, requestTimeout)
	defer cancel()
	a := answer{op: op, start: time.Now()}
	resp, body, err := b.Visit(ctx, page, u.want.Username, entratest.DemoPassword)
	a.end = time.Now()
	if run.Err() != nil {
		return false, nil // the run ended, maybe in the middle of the answer
	}
	a.err, a.body = err, body
	if err == nil && ctx.Err() != nil {
		a.err = ctx.Err() // Visit keeps what it read of a body cut short
	}
	var pe *entratest.PageError
	if errors.As(err, &pe) {
		a.err, a.status, a.body = nil, pe.Status, pe.Message
	}
	var got *identity
	if resp != nil {
		a.status = resp.StatusCode
		a.fromProvider = strings.EqualFold(resp.Request.URL.Host, u.r.srvHost)
		switch p := resp.Request.URL.Path; {
		case a.status == 200 && (p == "/page" || p == "/echo"):
			got = read(body)
		case a.status == 200:
			// A sign-in that settles on some other page is no sign-in.
			a.status, a.err = 0, errors.New("the sign-in ended on "+resp.Request.URL.Redacted())
		}
	}
	if got != nil {
		u.claim(op, "token", tokenOf(got))
	}
	return u.record(a, got), got
}

// tokenOf is the digest under which a token is claimed.
func tokenOf(id *identity) string { return id.TokenSum }

// get loads a page with the user's session, not following redirects.
func (u *user) get(run context.Context, op, page string, c *http.Client, read func(string) *identity) {
	ctx, cancel := context.WithTimeout(run, requestTimeout)
	defer cancel()
	a := u.do(ctx, op, c, "GET", page, nil)
	if run.Err() != nil {
		return // the run ended
	}
	a.signedIn = true
	var got *identity
	if a.status == 200 {
		got = read(a.body)
		if got != nil {
			u.claim(op, "token", tokenOf(got))
			// The session cookie too: a rotated one must be new to everyone.
			u.claim(op, "session", sessionCookieValue(c.Jar, page))
		}
	}
	u.record(a, got)
}

// do makes one request as the browser would for a page.
func (u *user) do(ctx context.Context, op string, c *http.Client, method, target string, form url.Values) answer {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequestWithContext(ctx, method, target, body)
	req.Header.Set("Accept", "text/html")
	req.Header.Set("Sec-Fetch-Mode", "navigate")
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	a := answer{op: op, start: time.Now()}
	resp, err := c.Do(req)
	if err != nil {
		a.end, a.err = time.Now(), err
		return a
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	a.end, a.err = time.Now(), err
	a.status, a.location, a.body = resp.StatusCode, resp.Header.Get("Location"), string(b)
	return a
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// signOut signs out of the app, then of the proxy. A sign-out that a
// fault interrupted is done again at the user's next step, as a person
// presses the button again; until then the user browses nothing.
func (u *user) signOut(ctx context.Context) {
	retry := u.leaving
	u.leaving = true
	if u.appIn {
		if !u.logout(ctx, "sign-out", u.appClient, u.r.front.URL+"/auth/logout", u.r.front.URL+"/page", retry) {
			return
		}
		u.appIn = false
	}
	if u.pxIn {
		if !u.logout(ctx, "proxy-sign-out", u.pxHTTP, u.r.pxSrv.URL+"/.auth/logout", u.r.pxSrv.URL+"/echo", retry) {
			return
		}
		u.pxIn = false
	}
	u.leaving = false
	u.r.stats.signOuts.Add(1)
}

// logout signs out at one app; it reports whether the sign-out is done.
// retry says an earlier attempt was interrupted, and may have ended the
// session already.
func (u *user) logout(run context.Context, op string, c *http.Client, logoutURL, page string, retry bool) bool {
	ctx, cancel := context.WithTimeout(run, requestTimeout)
	defer cancel()
	start := time.Now()
	a := u.do(ctx, op, c, "GET", logoutURL, nil)
	a.signedIn = true
	if run.Err() != nil {
		return false
	}
	m := csrfRE.FindStringSubmatch(a.body)
	if retry && a.err == nil && m == nil && (a.status == 200 || a.status == 302) {
		// The interrupted attempt went far enough: signed out.
		u.r.stats.outcomes.add(op + " ok (on the second try)")
		return true
	}
	if a.err != nil || a.status != 200 || m == nil {
		u.record(a, nil)
		return false
	}
	old := sessionCookieOf(c.Jar, logoutURL)
	a = u.do(ctx, op, c, "POST", logoutURL, url.Values{"csrf": {m[1]}})
	a.start, a.signedIn = start, true
	if run.Err() != nil {
		return false
	}
	if a.err != nil || a.status != http.StatusSeeOther {
		u.record(a, nil)
		return false
	}
	u.r.stats.ops[op].add(a.end.Sub(a.start))
	u.r.stats.outcomes.add(op + " ok")
	if old != nil {
		// Other instances hear of the sign-out from Redis' invalidation
		// push, a few milliseconds later (session/redisstore's doc): a
		// stale read is counted, one that outlasts staleLimit is a bug.
		switch inst, stale, ended := u.replay(ctx, page, old); {
		case !ended:
			u.r.stats.outcomes.add(op + " VIOLATION")
			u.fails.add(op+" stale", fmt.Sprintf("%s %s: the old session cookie still opened %s on instance %s %v after signing out", u.want.Username, op, page, inst, staleLimit))
		case stale > 0:
			u.r.stats.outcomes.add(op + ": ended session served again (stale cache)")
			u.r.stats.stale.add(stale)
		}
	}
	return true
}

// staleLimit is how long an ended session may still open a page on
// another instance before it counts as not ended.
const staleLimit = time.Second

// replay loads page with the cookie of a session that was just ended,
// until it no longer opens (at most staleLimit). It says on which
// instance it last opened, for how long, and whether it ended.
func (u *user) replay(ctx context.Context, page string, old *http.Cookie) (inst string, stale time.Duration, ended bool) {
	c := &http.Client{Transport: u.r.transport, Timeout: requestTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	start := time.Now()
	for time.Since(start) < staleLimit {
		req, _ := http.NewRequestWithContext(ctx, "GET", page, nil)
		req.Header.Set("Accept", "text/html")
		req.AddCookie(old)
		t := time.Now()
		resp, err := c.Do(req)
		if err != nil {
			return inst, stale, true // the run ended, or a fault: nothing was opened
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			return inst, stale, true
		}
		if _, after, ok := strings.Cut(string(b), "inst="); ok {
			inst = strings.TrimSpace(after)
		}
		stale = time.Since(start)
		if stale == 0 {
			stale = time.Since(t)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return inst, stale, false
}

// final checks, after the run, that a user who did not sign out is still
// signed in at the app and the proxy.
func (u *user) final(ctx context.Context) {
	if u.leaving {
		u.r.stats.outcomes.add("final skipped: was signing out")
		return
	}
	if u.appIn {
		u.get(ctx, "final", u.r.front.URL+"/page", u.appClient, pageIdentity)
	}
	if u.pxIn {
		u.get(ctx, "final-proxy", u.r.pxSrv.URL+"/echo", u.pxHTTP, headerIdentity)
	}
}

// client is a client with b's cookies that does not follow redirects.
func (u *user) client(b *entratest.Browser) *http.Client {
	return &http.Client{
		Transport:     u.r.transport,
		Jar:           b.AppClient().Jar,
		Timeout:       requestTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// sessionCookie is the value of the entraweb session cookie b holds for
// site.
func sessionCookie(b *entratest.Browser, site string) string {
	return sessionCookieValue(b.AppClient().Jar, site)
}

func sessionCookieValue(jar http.CookieJar, site string) string {
	if c := sessionCookieOf(jar, site); c != nil {
		return c.Value
	}
	return ""
}

func sessionCookieOf(jar http.CookieJar, site string) *http.Cookie {
	su, _ := url.Parse(site)
	for _, c := range jar.Cookies(su) {
		if strings.HasSuffix(c.Name, "entraweb_session") {
			return &http.Cookie{Name: c.Name, Value: c.Value}
		}
	}
	return nil
}
