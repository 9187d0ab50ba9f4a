package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/entraweb/entraweb/internal/testenv"

	"github.com/chromedp/chromedp"
)

// The README section a newcomer follows to see the example sign in, and
// what it tells them to type on the emulator's page and expect to see.
const (
	readmeHeading  = "### Run the basic example against the emulator"
	readmeUser     = "alice@contoso.onmicrosoft.com"
	readmePassword = "Passw0rd!"
	readmeGreeting = "Hello, Alice Admin"
)

// TestReadmeWalkthrough does what README's "Run the basic example against
// the emulator" says, in the order it says it, with a real browser: it
// runs the two commands of the section (built once rather than through
// go run), pastes the export lines the emulator printed into a shell that
// starts the example, opens the app in a fresh Chromium that was given no
// certificate flag, signs in on the emulator's page as the section's user
// and sees the app's greeting.
//
// It passes the port flags the section names, with 127.0.0.1:0, so that it
// cannot collide with an emulator or app already running on the default
// ports, and -ca-file, so that it leaves the developer's CA file alone;
// that the section's default addresses are the commands' defaults is
// checked against their -h output instead.
func TestReadmeWalkthrough(t *testing.T) {
	chromium := chromiumPath(t)
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	section := readmeSection(t, string(readme))
	for _, want := range []string{
		"`export SSL_CERT_FILE=...`", "`export AZURE_...`", "`App \"DemoApp\":`", "`basic: listening`",
		"`" + readmeUser + "`", "`" + readmePassword + "`", readmeGreeting,
		"`-listen`", "`-browser-listen`", "`127.0.0.1:0`",
	} {
		if !strings.Contains(section, want) {
			t.Errorf("the README section no longer says %s, which this test relies on; update the test with the README", want)
		}
	}
	cmds := shellCommands(section)
	if len(cmds) != 2 || !hasPrefix(cmds[0], "go", "run", "./cmd/entraweb", "emulator") || !hasPrefix(cmds[1], "go", "run", "./examples/basic") {
		t.Fatalf("the README section's commands are %q; want `go run ./cmd/entraweb emulator ...`, then `go run ./examples/basic ...`", cmds)
	}
	if t.Failed() {
		t.FailNow()
	}
	bins := t.TempDir()
	emulatorBin := goBuild(t, root, cmds[0][2], filepath.Join(bins, "entraweb"))
	basicBin := goBuild(t, root, cmds[1][2], filepath.Join(bins, "basic"))
	checkReadmeDefaults(t, section, emulatorBin, basicBin)

	// First terminal: the emulator.
	emulator := startProcess(t, "emulator", exec.Command(emulatorBin, append(cmds[0][3:],
		"-listen", "127.0.0.1:0", "-browser-listen", "127.0.0.1:0", "-ca-file", filepath.Join(t.TempDir(), "emulator-ca.pem"))...), root)
	var banner []string
	emulator.waitLine(t, "the emulator's banner", func(line string) bool {
		banner = append(banner, line)
		return strings.HasPrefix(line, "Press Ctrl-C")
	})
	exports, browserPages := pastedLines(t, banner)

	// Second terminal: the pasted lines, then the example.
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skipf("SKIPPING: no sh to paste the emulator's export lines into: %v", err)
	}
	script := strings.Join(exports, "\n") + "\nexec \"$0\" \"$@\"\n"
	example := exec.Command(sh, append([]string{"-c", script, basicBin}, append(cmds[1][3:], "-listen", "127.0.0.1:0")...)...)
	example.Env = env() // none of the test's own AZURE_* or SSL_CERT_FILE
	app := startProcess(t, "example", example, root)
	listening := regexp.MustCompile(`basic: listening url=(http://\S+/)`)
	appURL := listening.FindStringSubmatch(app.waitLine(t, "the example's `basic: listening` line", listening.MatchString))[1]

	// The browser.
	b := newReadmeBrowser(t, chromium)
	b.do("opening the app at "+appURL, chromedp.Navigate(appURL))
	b.do("waiting for the emulator's sign-in page", chromedp.WaitVisible(chromedp.ID("password")))
	if loc := b.location(); !strings.HasPrefix(loc, browserPages+"/") {
		t.Fatalf("the sign-in page is at %s, not at the emulator's browser pages %s", loc, browserPages)
	}
	b.do("signing in as "+readmeUser,
		chromedp.SendKeys(chromedp.ID("username"), readmeUser),
		chromedp.SendKeys(chromedp.ID("password"), readmePassword),
		chromedp.Click(chromedp.CSS("button.btn[type=submit]")))
	b.waitFor("waiting for the app's greeting", fmt.Sprintf(`(h => h !== null && h.textContent === %q)(document.querySelector("h1"))`, readmeGreeting))
	if loc := b.location(); loc != appURL {
		t.Errorf("signed in at %s, want the app's %s", loc, appURL)
	}
	if got := b.text("b"); got != readmeUser {
		t.Errorf("the app says the user is signed in as %q, want %q", got, readmeUser)
	}
}

// readmeSection is the text of the README section under readmeHeading.
func readmeSection(t *testing.T, readme string) string {
	t.Helper()
	_, rest, ok := strings.Cut(readme, "\n"+readmeHeading+"\n")
	if !ok {
		t.Fatalf("README.md has no section %q", readmeHeading)
	}
	if i := strings.Index(rest, "\n#"); i >= 0 {
		rest = rest[:i]
	}
	return rest
}

// shellCommands are the commands of a text's sh code blocks, split into
// words, without comments.
func shellCommands(text string) [][]string {
	var cmds [][]string
	inBlock := false
	for line := range strings.Lines(text) {
		line = strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "```"):
			inBlock = !inBlock && line == "```sh"
		case inBlock:
			line, _, _ = strings.Cut(line, "#")
			if words := strings.Fields(line); len(words) > 0 {
				cmds = append(cmds, words)
			}
		}
	}
	return cmds
}

func hasPrefix(words []string, prefix ...string) bool {
	return len(words) >= len(prefix) && strings.Join(words[:len(prefix)], " ") == strings.Join(prefix, " ")
}

// goBuild builds the package that `go run pkg` would run, from the
// repository's root, into out.
func goBuild(t *testing.T, root, pkg, out string) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("SKIPPING: no go command to build the README's commands with")
	}
	cmd := exec.Command(goTool, "build", "-o", out, pkg)
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, b)
	}
	return out
}

// checkReadmeDefaults checks the addresses the section gives for the
// default ports against the defaults the two commands print with -h: the
// emulator's -listen, the browser pages on the port after it, and the
// example's -listen.
func checkReadmeDefaults(t *testing.T, section, emulatorBin, basicBin string) {
	t.Helper()
	emulatorListen := flagDefault(t, emulatorBin, "emulator", "-h")
	basicListen := flagDefault(t, basicBin, "-h")
	host, port, ok := strings.Cut(emulatorListen, ":")
	n, err := strconv.Atoi(port)
	if !ok || err != nil {
		t.Fatalf("the emulator's default -listen is %q", emulatorListen)
	}
	for _, want := range []string{
		"https://" + emulatorListen,
		"http://" + host + ":" + strconv.Itoa(n+1),
		"http://" + basicListen + "/",
	} {
		if !strings.Contains(section, want) {
			t.Errorf("the README section does not give the default address %s", want)
		}
	}
}

var listenDefaultRE = regexp.MustCompile(`(?m)^\s*-listen address\n[^\n]*\(default "([^"]+)"\)`)

// flagDefault is the default of -listen in a command's -h output.
func flagDefault(t *testing.T, bin string, args ...string) string {
	t.Helper()
	out, _ := exec.Command(bin, args...).CombinedOutput() // only the usage text matters here
	m := listenDefaultRE.FindSubmatch(out)
	if m == nil {
		t.Fatalf("%s %s prints no default for -listen:\n%s", filepath.Base(bin), strings.Join(args, " "), out)
	}
	return string(m[1])
}

// pastedLines are the lines of the emulator's banner that the section
// says to paste, and the address of its browser pages.
func pastedLines(t *testing.T, banner []string) (exports []string, browserPages string) {
	t.Helper()
	var sslCertFile, azure []string
	app := ""
	for _, line := range banner {
		trimmed := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "App "):
			app = line
		case line == "":
			app = ""
		case strings.HasPrefix(trimmed, "export SSL_CERT_FILE="):
			sslCertFile = append(sslCertFile, trimmed)
		case app == `App "DemoApp":` && strings.HasPrefix(trimmed, "export AZURE_"):
			azure = append(azure, trimmed)
		case strings.HasPrefix(line, "Browser:"):
			browserPages, _, _ = strings.Cut(strings.TrimSpace(strings.TrimPrefix(line, "Browser:")), " ")
		}
	}
	if len(sslCertFile) != 1 || len(azure) != 4 {
		t.Fatalf("the banner has %d `export SSL_CERT_FILE=` lines and %d `export AZURE_` lines under App \"DemoApp\":, want 1 and 4:\n%s",
			len(sslCertFile), len(azure), strings.Join(banner, "\n"))
	}
	if !strings.HasPrefix(browserPages, "http://127.0.0.1:") {
		t.Fatalf("the banner's browser pages are at %q, want plain HTTP on loopback:\n%s", browserPages, strings.Join(banner, "\n"))
	}
	return append(sslCertFile, azure...), browserPages
}

// process is a command the test runs as a person would in a terminal.
type process struct {
	name   string
	lines  chan string // its output, line by line, as far as the test reads it
	exited chan error

	mu     sync.Mutex
	output strings.Builder
}

// startProcess starts cmd in dir and kills it when the test ends, logging
// its output if the test failed.
func startProcess(t *testing.T, name string, cmd *exec.Cmd, dir string) *process {
	t.Helper()
	p := &process{name: name, lines: make(chan string, 1024), exited: make(chan error, 1)}
	cmd.Dir = dir
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting the %s: %v", name, err)
	}
	var readers sync.WaitGroup
	for _, r := range []io.Reader{stdout, stderr} {
		readers.Go(func() { p.read(r) })
	}
	go func() {
		readers.Wait() // Wait closes the pipes: read them to the end first
		p.exited <- cmd.Wait()
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		select {
		case <-p.exited:
		case <-time.After(10 * time.Second):
			t.Errorf("the %s did not end within 10s of being killed", name)
		}
		if t.Failed() {
			t.Logf("output of the %s:\n%s", name, p.String())
		}
	})
	return p
}

func (p *process) read(r io.Reader) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		p.mu.Lock()
		p.output.WriteString(sc.Text() + "\n")
		p.mu.Unlock()
		select {
		case p.lines <- sc.Text():
		default: // past what the test waits for
		}
	}
}

func (p *process) String() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.output.String()
}

// waitLine reads the process's output until match accepts a line, which it
// returns; it fails the test if the process exits first or a minute passes.
func (p *process) waitLine(t *testing.T, what string, match func(string) bool) string {
	t.Helper()
	timeout := time.After(time.Minute)
	for {
		select {
		case line := <-p.lines:
			if match(line) {
				return line
			}
		case err := <-p.exited:
			p.exited <- err
			t.Fatalf("the %s exited (%v) before printing %s", p.name, err, what)
		case <-timeout:
			t.Fatalf("the %s did not print %s within a minute", p.name, what)
		}
	}
}

// chromiumPath finds Chromium; without it the test skips, loudly, and
// under CI it fails.
func chromiumPath(t *testing.T) string {
	t.Helper()
	return testenv.LookPath(t, "Debian: apt-get install -y chromium", "chromium", "chromium-browser")
}

// readmeBrowser is a tab of a headless Chromium with a fresh profile and
// no certificate flag: it trusts what a newcomer's browser trusts.
type readmeBrowser struct {
	t   *testing.T
	ctx context.Context
}

func newReadmeBrowser(t *testing.T, chromium string) *readmeBrowser {
	t.Helper()
	alloc, cancel := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromium),
		chromedp.Headless,
		chromedp.NoSandbox, // containers run tests as root, where the sandbox cannot start
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.NoFirstRun,
		chromedp.UserDataDir(t.TempDir()),
	)
	t.Cleanup(cancel)
	ctx, cancelTab := chromedp.NewContext(alloc)
	b := &readmeBrowser{t: t, ctx: ctx}
	t.Cleanup(func() {
		if t.Failed() {
			b.logPage()
		}
		cancelTab()
	})
	// The first run starts the browser, which lives as long as the
	// context of that run: so it gets the tab's own context, bounded here.
	started := make(chan error, 1)
	go func() { started <- chromedp.Do(ctx) }()
	select {
	case err := <-started:
		if err != nil {
			t.Fatalf("starting Chromium: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Chromium did not start within 30s")
	}
	return b
}

// do runs steps, allowing them 30 seconds.
func (b *readmeBrowser) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.t.Fatalf("%s (at %s): %v", what, b.location(), err)
	}
}

// waitFor waits up to 30 seconds for a JavaScript expression to be true,
// across the navigations of a sign-in (each one ends a poll early).
func (b *readmeBrowser) waitFor(what, expr string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	for {
		_, err := chromedp.Run(ctx, chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(30*time.Second)))
		if err == nil {
			return
		}
		select {
		case <-ctx.Done():
			b.t.Fatalf("%s (at %s): %v", what, b.location(), err)
		case <-time.After(50 * time.Millisecond): // navigated away: poll the next page
		}
	}
}

func (b *readmeBrowser) text(sel string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("reading %s (at %s): %v", sel, b.location(), err)
	}
	return strings.TrimSpace(s)
}

// location is the tab's address, or why it is unknown.
func (b *readmeBrowser) location() string {
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		return "an unknown address: " + err.Error()
	}
	return loc
}

// logPage logs the text of the page the tab shows.
func (b *readmeBrowser) logPage() {
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	text, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
	if err != nil {
		b.t.Logf("the page at the failure could not be read: %v", err)
		return
	}
	b.t.Logf("the page at the failure (%s):\n%s", b.location(), text)
}
