package demo_test

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"
)

var screenshotDir = flag.String("screenshots", "", "write PNGs of the demo's main pages into this `directory` (make screenshots)")

// TestScreenshots writes the README's pictures: go test ./internal/demo
// -run TestScreenshots -screenshots=DIR. Without the flag it does nothing.
func TestScreenshots(t *testing.T) {
	if *screenshotDir == "" {
		t.Skip("no -screenshots directory")
	}
	if err := os.MkdirAll(*screenshotDir, 0o755); err != nil {
		t.Fatal(err)
	}
	st := startStack(t)
	browser := newBrowser(t, st)
	save := func(b *tab, name string) {
		t.Helper()
		png := run(b, "taking "+name, chromedp.CaptureScreenshot())
		path := filepath.Join(*screenshotDir, name+".png")
		if err := os.WriteFile(path, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s", path)
	}
	desktop := chromedp.EmulateViewport(1280, 860)

	b := newTab(t, browser, st)
	b.do("sizing", desktop)
	b.do("opening the app", chromedp.Navigate(st.url+"/"), chromedp.WaitVisible(chromedp.ID("sign-in")))
	save(b, "landing")
	b.do("pressing Sign in", chromedp.Click(chromedp.ID("sign-in")), chromedp.WaitVisible(chromedp.ID("password")))
	save(b, "signin")
	b.signIn(demoUsers[0])
	b.do("waiting for home", chromedp.WaitVisible(chromedp.ID("user-name")))
	save(b, "home")
	b.do("opening Admin", chromedp.Navigate(st.url+"/admin"), chromedp.WaitVisible(chromedp.ID("page-title")))
	save(b, "admin")
	b.do("opening the profile", chromedp.Navigate(st.url+"/profile"), chromedp.WaitVisible(chromedp.ID("profile")))
	save(b, "profile")
	b.do("opening the dashboard", chromedp.Navigate(st.url+"/dash/"))
	b.waitFor("waiting for the chart", `document.body.dataset.state === "ready"`)
	save(b, "dashboard")
	b.do("sizing as a phone", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile))
	b.do("opening home", chromedp.Navigate(st.url+"/"), chromedp.WaitVisible(chromedp.ID("user-name")))
	save(b, "home-phone")
	b.do("opening the dashboard", chromedp.Navigate(st.url+"/dash/"))
	b.waitFor("waiting for the chart", `document.body.dataset.state === "ready"`)
	save(b, "dashboard-phone")

	d := newTab(t, browser, st)
	d.do("sizing", desktop)
	d.do("opening Admin as dave", chromedp.Navigate(st.url+"/admin"))
	d.signIn(demoUsers[3])
	d.do("waiting for the 403 page", chromedp.WaitVisible(chromedp.CSS(".fix")))
	save(d, "forbidden")
}
