package demo_test

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/entraweb/entraweb/internal/demo"
)

var screenshotDir = flag.String("screenshots", "", "write PNGs of the demo's main pages into this `directory` (make screenshots)")

// The pictures must come out the same, byte for byte, every time they are
// taken, or every run of `make screenshots` leaves a diff. Everything they
// show that could vary is fixed here:
//
//   - the demo's clock (the dashboard's months and its "updated" time);
//   - the versions, which otherwise follow the Go toolchain's patch level;
//   - the Graph address on the profile page: the emulator listens on a
//     random port, so the demo is given the emulator's usual address
//     (`entraweb emulator` listens on 127.0.0.1:8443) and its requests are
//     sent on to the real one;
//   - the browser's time zone and locale, which format the dashboard's
//     figures and time, and its glyph positioning (below);
//   - the two values entraweb makes per request and the demo cannot
//     inject: the home page's sign-in time (entraweb's own clock) and the
//     trace id of entraweb's error pages. They are written over in the
//     page, with values a reader would expect, just before the capture.
var (
	shotClock    = time.Date(2026, 6, 15, 9, 30, 0, 0, time.UTC)
	shotGraphURL = "https://127.0.0.1:8443"
	shotTraceID  = "5e0c6b1f2a9d4873"
)

// TestScreenshots writes the README's pictures: go test ./internal/demo
// -run TestScreenshots -screenshots=DIR. Without the flag it does nothing.
func TestScreenshots(t *testing.T) {
	if *screenshotDir == "" {
		t.Skip("no -screenshots directory")
	}
	if err := os.MkdirAll(*screenshotDir, 0o755); err != nil {
		t.Fatal(err)
	}
	st := startStackWith(t, stackOptions{
		now:      func() time.Time { return shotClock },
		versions: demo.Versions{Entraweb: "(devel)", MSAL: testVersions(t).MSAL, Go: goMinor(runtime.Version())},
		graphURL: shotGraphURL,
	})
	// At a device scale of 2 (the phone pictures), Chromium positions
	// glyphs at fractional pixels in some page loads and on whole pixels
	// in others: regular-weight text that starts at a fractional offset
	// came out in two ways, about one load in three and more often on a
	// busy machine, with the layout the same to the last fraction. With
	// subpixel positioning off, every load draws every glyph alike.
	browser := newBrowser(t, st, chromedp.Flag("disable-font-subpixel-positioning", true))
	save := func(b *tab, name string) {
		t.Helper()
		b.steady()
		png := run(b, "taking "+name, chromedp.CaptureScreenshot())
		path := filepath.Join(*screenshotDir, name+".png")
		if err := os.WriteFile(path, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s", path)
	}
	desktop := chromedp.EmulateViewport(1280, 860)
	phone := chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile)

	b := newShotTab(t, browser, st)
	b.do("sizing", desktop)
	b.do("opening the app", chromedp.Navigate(st.url+"/"), chromedp.WaitVisible(chromedp.ID("sign-in")))
	save(b, "landing")
	b.do("pressing Sign in", chromedp.Click(chromedp.ID("sign-in")), chromedp.WaitVisible(chromedp.ID("password")))
	save(b, "signin")
	b.signIn(demoUsers[0])
	b.do("waiting for home", chromedp.WaitVisible(chromedp.ID("user-name")))
	b.fixText("time", shotClock.Format("2 Jan 2006 15:04:05 MST"))
	save(b, "home")
	b.do("opening Admin", chromedp.Navigate(st.url+"/admin"), chromedp.WaitVisible(chromedp.ID("page-title")))
	save(b, "admin")
	b.do("opening the profile", chromedp.Navigate(st.url+"/profile"), chromedp.WaitVisible(chromedp.ID("profile")))
	if got := b.text("main p.muted code"); got != shotGraphURL+"/v1.0/me" {
		t.Errorf("the profile page reads Graph at %q", got)
	}
	save(b, "profile")
	b.do("opening the dashboard", chromedp.Navigate(st.url+"/dash/"))
	b.waitFor("waiting for the charts", `document.body.dataset.state === "ready"`)
	save(b, "dashboard")
	b.do("sizing as a phone", phone)
	b.do("opening home", chromedp.Navigate(st.url+"/"), chromedp.WaitVisible(chromedp.ID("user-name")))
	b.fixText("time", shotClock.Format("2 Jan 2006 15:04:05 MST"))
	save(b, "home-phone")
	b.do("opening the dashboard", chromedp.Navigate(st.url+"/dash/"))
	b.waitFor("waiting for the charts", `document.body.dataset.state === "ready"`)
	save(b, "dashboard-phone")

	v := newShotTab(t, browser, st)
	v.do("sizing as a phone", phone)
	v.do("opening the app", chromedp.Navigate(st.url+"/"), chromedp.WaitVisible(chromedp.ID("sign-in")))
	save(v, "landing-phone")

	d := newShotTab(t, browser, st)
	d.do("sizing", desktop)
	d.do("opening Admin as dave", chromedp.Navigate(st.url+"/admin"))
	d.signIn(demoUsers[3])
	d.do("waiting for the 403 page", chromedp.WaitVisible(chromedp.CSS(".fix")))
	d.fixText(".trace", "Trace id: "+shotTraceID)
	save(d, "forbidden")
}

// newShotTab is a tab whose time zone, locale and motion preference are
// the same on every machine.
func newShotTab(t *testing.T, browser context.Context, st *stack) *tab {
	b := newTab(t, browser, st)
	b.do("fixing the time zone, locale and motion", chromedp.Func(func(ctx context.Context, tt *chromedp.Target) error {
		if _, err := cdp.Call(ctx, tt, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: "UTC"}); err != nil {
			return err
		}
		if _, err := cdp.Call(ctx, tt, emulation.SetLocaleOverride, emulation.SetLocaleOverrideParams{Locale: "en_US"}); err != nil {
			return err
		}
		_, err := cdp.Call(ctx, tt, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-reduced-motion", Value: "reduce"}},
		})
		return err
	}))
	return b
}

// fixText writes text over the one element sel matches; it fails if there
// is none, so a changed page cannot quietly bring a varying value back
// into the pictures.
func (b *tab) fixText(sel, text string) {
	b.t.Helper()
	n := run(b, "fixing "+sel, chromedp.Evaluate[int](fmt.Sprintf(
		`(() => { const all = document.querySelectorAll(%q); all.forEach(e => e.textContent = %q); return all.length })()`, sel, text)))
	if n != 1 {
		b.t.Fatalf("%d elements match %s, want 1 to fix for the screenshot", n, sel)
	}
}

// steady prepares a capture: the pointer parked in a corner where it
// hovers over nothing, no element focused, and the page's fonts loaded.
func (b *tab) steady() {
	b.t.Helper()
	b.do("parking the pointer", chromedp.MouseEvent(chromedp.MouseMoved, 1, 1))
	run(b, "waiting for the fonts", chromedp.Evaluate[bool](
		`document.activeElement && document.activeElement.blur && document.activeElement.blur(), document.fonts.ready.then(() => true)`,
		chromedp.EvalAwaitPromise))
}

// goMinor is a Go version without its patch level: go1.26.8 is go1.26.
func goMinor(v string) string {
	if parts := strings.SplitN(v, ".", 3); len(parts) == 3 && strings.HasPrefix(v, "go") {
		return parts[0] + "." + parts[1]
	}
	return v
}
