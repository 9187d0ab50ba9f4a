package demo_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/entraweb/entraweb/internal/testenv"

	"github.com/chromedp/chromedp"

	"github.com/entraweb/entraweb/entratest"
)

// The browser tests drive Debian's Chromium, headless, through the demo
// and the emulator's real sign-in page. Without Chromium they skip, loudly;
// under CI they fail instead.

// failureDir keeps the screenshots of failed browser tests (git ignores it).
const failureDir = "testdata/failures"

func chromiumPath(t testing.TB) string {
	t.Helper()
	return testenv.LookPath(t, "Debian: apt-get install -y chromium", "chromium", "chromium-browser")
}

// newBrowser starts a headless Chromium with a fresh profile that closes
// when the test ends, and returns a context of its first tab.
func newBrowser(t *testing.T, st *stack, extra ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.Headless,
		chromedp.NoSandbox, // containers run tests as root, where the sandbox cannot start
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.NoFirstRun,
		chromedp.UserDataDir(t.TempDir()),
		// No certificate flag: like the demo command, the stack serves the
		// emulator's pages over plain HTTP on loopback, so the browser never
		// meets the emulator's own CA.
		chromedp.WindowSize(1280, 800),
	}
	opts = append(opts, extra...)
	alloc, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancelTab := chromedp.NewContext(alloc)
	t.Cleanup(cancelTab)
	start, cancelStart := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancelStart()
	done := make(chan error, 1)
	go func() { done <- chromedp.Do(ctx) }() // the first run starts the browser
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("starting Chromium: %v", err)
		}
	case <-start.Done():
		t.Fatal("Chromium did not start within 30s")
	}
	return ctx
}

// tab is one browser tab in a test, with each step bounded in time and
// a screenshot saved when the test fails.
type tab struct {
	t   *testing.T
	ctx context.Context
	st  *stack
}

// newTab opens a tab in a browser context of its own: its own cookies, as
// a new private window has.
func newTab(t *testing.T, browser context.Context, st *stack) *tab {
	ctx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	b := &tab{t: t, ctx: ctx, st: st}
	t.Cleanup(func() {
		if t.Failed() {
			b.screenshot()
		}
		cancel()
	})
	if err := chromedp.Do(ctx); err != nil {
		t.Fatal(err)
	}
	return b
}

func (b *tab) screenshot() {
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		b.t.Logf("no screenshot of the failure: %v", err)
		return
	}
	name := regexp.MustCompile(`[^A-Za-z0-9_.-]+`).ReplaceAllString(b.t.Name(), "_")
	path, _ := filepath.Abs(filepath.Join(failureDir, name+".png"))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		b.t.Logf("no screenshot of the failure: %v", err)
		return
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Logf("no screenshot of the failure: %v", err)
		return
	}
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	b.t.Logf("screenshot of the page at the failure (%s): %s", loc, path)
}

// do runs steps, allowing them 20 seconds, and fails the test otherwise.
func (b *tab) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		loc, _ := chromedp.Run(b.ctx, chromedp.Location())
		b.t.Fatalf("%s (at %s): %v", what, loc, err)
	}
}

func run[T any](b *tab, what string, a chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		loc, _ := chromedp.Run(b.ctx, chromedp.Location())
		b.t.Fatalf("%s (at %s): %v", what, loc, err)
	}
	return v
}

// waitFor waits until a JavaScript expression is true, across the
// navigations a sign-in makes (each one ends a poll early).
func (b *tab) waitFor(what, expr string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	for {
		_, err := chromedp.Run(ctx, chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(20*time.Second)))
		if err == nil {
			return
		}
		if ctx.Err() != nil {
			loc, _ := chromedp.Run(b.ctx, chromedp.Location())
			b.t.Fatalf("%s (at %s): %v", what, loc, err)
		}
		select { // navigated away: poll the next page
		case <-time.After(50 * time.Millisecond):
		case <-ctx.Done():
		}
	}
}

func (b *tab) text(sel string) string {
	b.t.Helper()
	return strings.TrimSpace(run(b, "reading "+sel, chromedp.Text(chromedp.CSS(sel))))
}

func (b *tab) location() string {
	b.t.Helper()
	return run(b, "reading the location", chromedp.Location())
}

// signIn fills in the emulator's sign-in page, where the browser must be.
func (b *tab) signIn(u user) {
	b.t.Helper()
	b.do("waiting for the emulator's sign-in page", chromedp.WaitVisible(chromedp.ID("password")))
	if loc := b.location(); !strings.HasPrefix(loc, b.st.emu.BrowserURL()+"/") {
		b.t.Fatalf("the sign-in page is at %s, not on the emulator", loc)
	}
	b.do("signing in as "+u.name,
		chromedp.SendKeys(chromedp.ID("username"), u.username()),
		chromedp.SendKeys(chromedp.ID("password"), entratest.DemoPassword),
		chromedp.Click(chromedp.CSS("button.btn[type=submit]")))
}

// pickTile signs in by the account tile instead of the password form.
func (b *tab) pickTile(u user) {
	b.t.Helper()
	b.do("waiting for the emulator's account tiles", chromedp.WaitVisible(chromedp.CSS("button[name=pick]")))
	b.do("picking "+u.name, chromedp.Evaluate[chromedp.Void](fmt.Sprintf(
		`[...document.querySelectorAll("button[name=pick]")].find(b => b.textContent.includes(%q)).click()`, u.username())))
}

func (b *tab) authorizeCalls() int64 { return b.st.emu.Calls(entratest.EndpointAuthorize) }

// browserClock is the demo's clock in the browser tests: the last day of
// a month, when the dashboard's month axis used to repeat months.
var browserClock = time.Date(2026, 12, 31, 23, 0, 0, 0, time.UTC)

func TestBrowser(t *testing.T) {
	st := startStackWith(t, stackOptions{now: func() time.Time { return browserClock }})
	browser := newBrowser(t, st)

	t.Run("each user", func(t *testing.T) {
		for _, u := range demoUsers {
			t.Run(u.name, func(t *testing.T) {
				b := newTab(t, browser, st)
				b.do("opening the app", chromedp.Navigate(st.url+"/"), chromedp.WaitVisible(chromedp.ID("sign-in")))
				b.do("pressing Sign in", chromedp.Click(chromedp.ID("sign-in")))
				if u.name == "carol" {
					b.pickTile(u)
				} else {
					b.signIn(u)
				}
				b.do("waiting for the home page", chromedp.WaitVisible(chromedp.ID("user-name")))
				if loc := b.location(); loc != st.url+"/" {
					t.Errorf("signed in at %s, want %s/", loc, st.url)
				}
				if got := b.text("#user-name"); got != u.display {
					t.Errorf("navbar name = %q, want %q", got, u.display)
				}
				if got := b.text("#username"); got != u.username() {
					t.Errorf("username = %q", got)
				}
				roles := b.text("#roles")
				for _, r := range u.roles {
					if !strings.Contains(roles, r) {
						t.Errorf("roles %q lack %s", roles, r)
					}
				}
				if u.roles == nil && !strings.Contains(roles, "no app role") {
					t.Errorf("roles of a user without one: %q", roles)
				}
				if v := b.text("#versions"); !strings.Contains(v, "MSAL Go") || !strings.Contains(v, "entraweb") {
					t.Errorf("versions: %q", v)
				}

				for _, path := range []string{"/read", "/write", "/admin"} {
					b.do("opening "+path, chromedp.Navigate(st.url+path), chromedp.WaitVisible(chromedp.CSS("h1")))
					h1 := b.text("h1")
					if slices.Contains(u.opens, path) {
						if want := strings.ToUpper(path[1:2]) + path[2:] + " page"; h1 != want {
							t.Errorf("%s: heading %q, want %q", path, h1, want)
						}
					} else if want := "You need the role " + rolePaths[path]; h1 != want {
						t.Errorf("%s: heading %q, want the 403 page's %q", path, h1, want)
					}
				}

				b.do("opening the profile", chromedp.Navigate(st.url+"/profile"), chromedp.WaitVisible(chromedp.ID("profile")))
				if p := b.text("#profile"); !strings.Contains(p, u.display) || !strings.Contains(p, u.username()) {
					t.Errorf("profile from Graph: %q", p)
				}

				b.do("opening home", chromedp.Navigate(st.url+"/"), chromedp.WaitVisible(chromedp.ID("sign-out")))
				b.do("pressing Sign out", chromedp.Click(chromedp.ID("sign-out")))
				b.do("waiting for the signed-out home page", chromedp.WaitVisible(chromedp.ID("sign-in")))
				if loc := b.location(); loc != st.url+"/" {
					t.Errorf("signed out at %s, want %s/", loc, st.url)
				}
				// Signed out at the emulator too: the next sign-in asks.
				b.do("pressing Sign in again", chromedp.Click(chromedp.ID("sign-in")), chromedp.WaitVisible(chromedp.ID("password")))
			})
		}
	})

	t.Run("entraweb's sign-out confirmation page", func(t *testing.T) {
		// Chromium applies the page's form-action to the redirects after
		// the post as well: the policy must name the authority, or the
		// 303 to Entra ID's end-session endpoint is blocked.
		b := newTab(t, browser, st)
		b.do("opening the app", chromedp.Navigate(st.url+"/auth/login"))
		b.signIn(demoUsers[3])
		b.do("waiting for the home page", chromedp.WaitVisible(chromedp.ID("user-name")))
		b.do("opening the sign-out page", chromedp.Navigate(st.url+"/auth/logout"), chromedp.WaitVisible(chromedp.CSS("form button[type=submit]")))
		b.do("confirming sign-out", chromedp.Click(chromedp.CSS("form button[type=submit]")), chromedp.WaitVisible(chromedp.ID("sign-in")))
		if loc := b.location(); loc != st.url+"/" {
			t.Errorf("after confirming sign-out the browser is at %s, want %s/", loc, st.url)
		}
	})

	t.Run("front-channel logout", func(t *testing.T) {
		// Signing out at Entra ID (from another app of the same Entra
		// session, say) loads the demo's front-channel logout URL in a
		// hidden iframe of the identity provider's page, which ends the
		// demo's session: the iframe must be allowed to load.
		b := newTab(t, browser, st)
		b.do("opening the app", chromedp.Navigate(st.url+"/auth/login"))
		b.signIn(demoUsers[2])
		b.do("waiting for the home page", chromedp.WaitVisible(chromedp.ID("user-name")))
		b.do("signing out at the emulator", chromedp.Navigate(st.emu.BrowserURL()+"/"+entratest.DemoTenantID+"/oauth2/v2.0/logout"))
		if frames := run(b, "counting frames", chromedp.Evaluate[int](`document.querySelectorAll("iframe").length`)); frames != 1 {
			t.Fatalf("the emulator's logout page has %d front-channel iframes, want 1", frames)
		}
		// Navigate waited for the page's load event, which waits for its
		// frames: the demo's front-channel page has been requested.
		b.do("opening the app again", chromedp.Navigate(st.url+"/"), chromedp.WaitVisible(chromedp.ID("sign-in")))
		// The demo sends X-Frame-Options: DENY on every page; this one
		// page must be framable by the identity provider, or the browser
		// refuses to show it (the request itself has then already ended
		// the session, which is why this is checked on its own).
		resp, err := http.Get(st.url + "/auth/frontchannel-logout?sid=none")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if xfo, csp := resp.Header.Get("X-Frame-Options"), resp.Header.Get("Content-Security-Policy"); xfo != "" ||
			!strings.Contains(csp, "frame-ancestors ") || !strings.Contains(csp, st.emu.BrowserURL()) {
			t.Errorf("the front-channel page cannot be framed by the provider: X-Frame-Options %q, CSP %q", xfo, csp)
		}
	})

	t.Run("silent sign-in", func(t *testing.T) {
		b := newTab(t, browser, st)
		bob := demoUsers[1]
		b.do("opening /write", chromedp.Navigate(st.url+"/write"))
		b.signIn(bob)
		b.do("waiting for the Write page", chromedp.WaitVisible(chromedp.ID("page-title")))
		if loc := b.location(); loc != st.url+"/write" {
			t.Errorf("signed in at %s, want /write", loc)
		}
		// The app's session ends; the emulator's does not, so the next
		// sign-in needs no page at all.
		st.store.endSessions(t)
		before := b.authorizeCalls()
		b.do("opening /read", chromedp.Navigate(st.url+"/read"), chromedp.WaitVisible(chromedp.ID("page-title")))
		if loc := b.location(); loc != st.url+"/read" {
			t.Errorf("silent sign-in ended at %s, want /read", loc)
		}
		if n := b.authorizeCalls() - before; n != 1 {
			t.Errorf("silent sign-in took %d requests to the emulator's sign-in endpoints, want 1 (authorize only)", n)
		}
		if got := b.text("#user-name"); got != bob.display {
			t.Errorf("signed in silently as %q", got)
		}
	})

	t.Run("dashboard", func(t *testing.T) {
		b := newTab(t, browser, st)
		alice := demoUsers[0]
		b.do("opening the dashboard", chromedp.Navigate(st.url+"/dash/"))
		b.signIn(alice)
		waitChart := func(what string) {
			t.Helper()
			b.waitFor(what, `document.body.dataset.state === "ready" && document.querySelectorAll("#bars rect.bar").length === 4`)
		}
		waitChart("waiting for the chart")
		if loc := b.location(); loc != st.url+"/dash/" {
			t.Errorf("signed in at %s, want /dash/", loc)
		}
		if got := b.text("#navbar-user"); got != alice.display {
			t.Errorf("dashboard navbar name = %q, want %q", got, alice.display)
		}

		// The session ends while the dashboard is open. Its next fetch
		// gets 401 JSON; the page signs in again (silently, through the
		// emulator's session) and comes back to the dashboard.
		st.store.endSessions(t)
		before := b.authorizeCalls()
		b.do("marking the page", chromedp.Evaluate[chromedp.Void](`window.oldPage = true`))
		b.do("pressing Refresh", chromedp.Click(chromedp.ID("refresh")))
		b.waitFor("waiting for a new dashboard page", `!window.oldPage && location.pathname === "/dash/"`)
		waitChart("waiting for the chart after signing in again")
		if loc := b.location(); loc != st.url+"/dash/" {
			t.Errorf("after the session ended, the dashboard came back at %s", loc)
		}
		if n := b.authorizeCalls() - before; n != 1 {
			t.Errorf("recovering took %d requests to the emulator's sign-in endpoints, want 1", n)
		}

		// If the data is still refused right after signing in again, the
		// page stops and asks instead of looping.
		st.hideDataCookies.Store(true)
		defer st.hideDataCookies.Store(false)
		before = b.authorizeCalls()
		b.do("marking the page", chromedp.Evaluate[chromedp.Void](`window.oldPage = true`))
		b.do("pressing Refresh", chromedp.Click(chromedp.ID("refresh")))
		b.waitFor("waiting for the dashboard to give up", `!window.oldPage && document.body.dataset.state === "signed-out"`)
		b.do("looking for the sign-in link", chromedp.WaitVisible(chromedp.ID("sign-in-again")))
		if n := b.authorizeCalls() - before; n != 1 {
			t.Errorf("a data endpoint that keeps refusing caused %d sign-ins, want exactly 1", n)
		}
	})

	t.Run("dashboard filters", func(t *testing.T) {
		regions := []string{"Europe", "North America", "Asia Pacific", "Latin America"}
		apps := []string{"Portal", "Reports", "Mobile", "Admin console", "API"}
		b := newTab(t, browser, st)
		b.do("opening the dashboard", chromedp.Navigate(st.url+"/dash/"))
		b.signIn(demoUsers[1])
		b.waitFor("waiting for the charts", `document.body.dataset.state === "ready"`)
		// The clock says 31 December: the axis holds each month of 2026
		// once, in order.
		b.checkDash("by region", "from=2026-01&to=2026-12&group=region", regions, strings.Fields("Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec"))
		if h := b.text("#group-heading"); h != "Region" {
			t.Errorf("the table's first column is %q", h)
		}

		b.do("grouping by app", chromedp.Click(chromedp.ID("group-app")))
		b.waitFor("waiting for the charts by app", `document.body.dataset.state === "ready" && document.querySelectorAll("#bars rect.bar").length === 5`)
		b.checkDash("by app", "from=2026-01&to=2026-12&group=app", apps, strings.Fields("Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec"))
		if h, k := b.text("#group-heading"), b.text("#kpi-top-label"); h != "App" || k != "Top app" {
			t.Errorf("by app, the table's first column is %q and the key figure %q", h, k)
		}

		b.pick("from", "2026-07")
		b.waitFor("waiting for the second half of 2026", `document.body.dataset.state === "ready" && document.querySelectorAll("#lines .month-label").length === 6`)
		b.checkDash("from July", "from=2026-07&to=2026-12&group=app", apps, strings.Fields("Jul Aug Sep Oct Nov Dec"))
		if q := run(b, "reading the address", chromedp.Evaluate[string](`location.search`)); q != "?from=2026-07&to=2026-12&group=app" {
			t.Errorf("the address keeps the filters as %q", q)
		}

		// The server checks the filters and says what it refuses; the
		// page shows it and keeps the charts it had.
		b.pick("to", "2026-03")
		b.waitFor("waiting for the refusal", `document.body.dataset.state === "invalid"`)
		if n := b.text("#notice"); !strings.Contains(n, "to: 2026-03 is before from, 2026-07") {
			t.Errorf("the refusal reads %q", n)
		}
		b.checkDash("after a refusal", "from=2026-07&to=2026-12&group=app", apps, strings.Fields("Jul Aug Sep Oct Nov Dec"))
		b.pick("to", "2026-09")
		b.waitFor("waiting for July to September", `document.body.dataset.state === "ready" && document.querySelectorAll("#lines .month-label").length === 3`)
		b.checkDash("July to September", "from=2026-07&to=2026-09&group=app", apps, strings.Fields("Jul Aug Sep"))
		if n := b.text("#notice"); n != "" {
			t.Errorf("the refusal stays: %q", n)
		}

		// A reload (or a new sign-in, which returns to this address)
		// comes back to the same filters.
		b.do("reloading", chromedp.Reload())
		b.waitFor("waiting for the charts after a reload", `document.body.dataset.state === "ready"`)
		b.checkDash("reloaded", "from=2026-07&to=2026-09&group=app", apps, strings.Fields("Jul Aug Sep"))
		if got := run(b, "reading the filters", chromedp.Evaluate[[]string](`[from.value, to.value, document.querySelector("input[name=group]:checked").value]`)); !slices.Equal(got, []string{"2026-07", "2026-09", "app"}) {
			t.Errorf("after a reload the filters are %v", got)
		}

		// The navbar's Sign out is entraweb's one-click POST.
		b.do("pressing Sign out", chromedp.Click(chromedp.ID("sign-out")))
		b.do("waiting for the signed-out home page", chromedp.WaitVisible(chromedp.ID("sign-in")))
		if loc := b.location(); loc != st.url+"/" {
			t.Errorf("signed out from the dashboard at %s, want %s/", loc, st.url)
		}
	})

	t.Run("phone", func(t *testing.T) {
		// dave's navigation is the widest: three of its links carry a lock.
		for _, u := range []user{demoUsers[0], demoUsers[3]} {
			t.Run(u.name, func(t *testing.T) {
				b := newTab(t, browser, st)
				b.do("sizing as a phone", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
				b.do("opening the app", chromedp.Navigate(st.url+"/"), chromedp.WaitVisible(chromedp.ID("sign-in")))
				b.noSidewaysScroll("the landing page")
				cells := run(b, "measuring the passwords", chromedp.Evaluate[[]box](
					`[...document.querySelectorAll("main table tbody td:nth-child(2)")].map(td => { const r = td.getBoundingClientRect(), c = td.querySelector("code");
					  return {text: td.textContent, left: r.left, right: r.right, clipped: c.scrollWidth > c.clientWidth} })`))
				if len(cells) != len(st.emu.Config().Tenants[0].Users)-countDisabled(st) {
					t.Errorf("%d password cells", len(cells))
				}
				for _, c := range cells {
					if c.Left < 0 || c.Right > 390 || c.Clipped || c.Text != entratest.DemoPassword {
						t.Errorf("a password cell is cut: %+v in a 390 px viewport", c)
					}
				}

				b.do("pressing Sign in", chromedp.Click(chromedp.ID("sign-in")))
				b.signIn(u)
				b.do("waiting for home", chromedp.WaitVisible(chromedp.ID("user-name")))
				b.noSidewaysScroll("the home page")
				tops := run(b, "measuring the navigation", chromedp.Evaluate[[]float64](`[...document.querySelectorAll(".nav a")].map(a => a.offsetTop)`))
				if len(tops) != 6 || slices.ContainsFunc(tops, func(top float64) bool { return top != tops[0] }) {
					t.Errorf("the navigation's links sit at heights %v: not one line", tops)
				}
				if hidden := run(b, "measuring the navigation", chromedp.Evaluate[bool](`(u => u.scrollWidth > u.clientWidth)(document.querySelector(".nav ul"))`)); hidden {
					t.Errorf("some links of the navigation are scrolled out of view")
				}

				b.do("opening the dashboard", chromedp.Navigate(st.url+"/dash/"))
				b.waitFor("waiting for the charts", `document.body.dataset.state === "ready"`)
				b.noSidewaysScroll("the dashboard")
				labels := run(b, "measuring the month labels", chromedp.Evaluate[[]box](
					`[...document.querySelectorAll("#lines .month-label")].map(t => { const r = t.getBoundingClientRect(); return {text: t.textContent, left: r.left, right: r.right} })`))
				if len(labels) < 4 {
					t.Fatalf("only %d month labels: %+v", len(labels), labels)
				}
				seen := map[string]bool{}
				for i, l := range labels {
					if len(l.Text) != 3 || seen[l.Text] {
						t.Errorf("the month labels are not distinct months' abbreviations: %+v", labels)
						break
					}
					seen[l.Text] = true
					if i > 0 && l.Left < labels[i-1].Right+2 {
						t.Errorf("month labels %q and %q overlap", labels[i-1].Text, l.Text)
					}
				}
				if last := labels[len(labels)-1].Text; last != "Dec" {
					t.Errorf("the last month labelled is %s, want the current month, Dec", last)
				}
				if cut := run(b, "measuring the key figures", chromedp.Evaluate[[]string](
					`[...document.querySelectorAll(".kpi-label, .kpi-value, #navbar-user, #sign-out")].filter(e => e.scrollWidth > e.clientWidth).map(e => e.textContent)`)); len(cut) > 0 {
					t.Errorf("cut short on a phone: %q", cut)
				}
				if wrapped := run(b, "measuring the key figures", chromedp.Evaluate[[]string](
					`[...document.querySelectorAll(".kpi-label")].filter(e => e.getBoundingClientRect().height > 1.5 * parseFloat(getComputedStyle(e).lineHeight)).map(e => e.textContent)`)); len(wrapped) > 0 {
					t.Errorf("key figures' labels take two lines on a phone: %q", wrapped)
				}
			})
		}
	})
}
