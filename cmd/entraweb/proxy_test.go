package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/entraweb/entraweb/entratest"
	"github.com/entraweb/entraweb/proxy"
)

// cleanEnv is the test process's environment without anything that
// configures entraweb, so a child sees only what a test gives it.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		u := strings.ToUpper(k)
		if strings.HasPrefix(u, "AZURE") || strings.HasPrefix(u, "ENTRAWEB") || strings.HasPrefix(u, "PROXY__") ||
			strings.HasSuffix(u, "_ENVIRONMENT") || u == "SSL_CERT_FILE" || u == "XDG_CACHE_HOME" {
			continue
		}
		env = append(env, kv)
	}
	return env
}

// TestProxyHelperProcess is not a test of its own: startProxy runs the
// test binary again with it, to run `entraweb proxy` in a process of its
// own, which trusts the emulator's CA through SSL_CERT_FILE as a deployed
// proxy would (the Go runtime reads that variable once per process).
func TestProxyHelperProcess(t *testing.T) {
	if os.Getenv("ENTRAWEB_TEST_PROXY_CHILD") != "1" {
		t.Skip("runs only as startProxy's child")
	}
	args := os.Args
	if i := slices.Index(args, "--"); i >= 0 {
		args = args[i+1:]
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	os.Exit(run(ctx, args, os.Stdout, os.Stderr))
}

// child is a running `entraweb proxy`.
type child struct {
	cmd    *exec.Cmd
	url    string
	banner string
	stdout *syncBuf
	stderr *syncBuf
	done   chan error
}

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startProxy runs `entraweb <args>` in a child process with env, in dir,
// and waits for its banner.
func startProxy(t *testing.T, dir string, env []string, args ...string) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"-test.run=^TestProxyHelperProcess$", "--"}, args...)...)
	cmd.Env = append(env, "ENTRAWEB_TEST_PROXY_CHILD=1")
	cmd.Dir = dir
	c := &child{cmd: cmd, stdout: &syncBuf{}, stderr: &syncBuf{}, done: make(chan error, 1)}
	cmd.Stderr = c.stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			c.stdout.Write([]byte(sc.Text() + "\n"))
			lines <- sc.Text()
		}
		close(lines)
		c.done <- cmd.Wait()
	}()
	timeout := time.After(60 * time.Second)
	var banner strings.Builder
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("the proxy stopped before it was ready:\n%s%s", banner.String(), c.stderr.String())
			}
			banner.WriteString(l + "\n")
			if rest, ok := strings.CutPrefix(l, "entraweb proxy: listening on "); ok {
				c.url, _, _ = strings.Cut(rest, ",")
			}
			if strings.HasPrefix(l, "Press Ctrl-C") {
				c.banner = banner.String()
				go func() {
					for range lines {
					}
				}()
				return c
			}
		case <-timeout:
			t.Fatalf("no banner after a minute:\n%s%s", banner.String(), c.stderr.String())
		}
	}
}

// stop ends the proxy as a service manager would, and expects it to stop
// cleanly.
func (c *child) stop(t *testing.T) {
	t.Helper()
	c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-c.done:
		if err != nil {
			t.Errorf("the proxy exited with %v:\n%s", err, c.stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("the proxy did not stop after SIGTERM:\n%s", c.stderr.String())
	}
	if !strings.Contains(c.stdout.String(), "entraweb proxy: stopped") {
		t.Errorf("no word that it stopped:\n%s", c.stdout.String())
	}
}

// TestProxyCommandKeepsUsersSignedInAcrossRestarts runs `entraweb proxy`
// as an operator would, against the emulator: it prints its state
// directory, signs a user in, and after a restart on the same directory
// the user is still signed in (the default bolt store and its key file).
func TestProxyCommandKeepsUsersSignedInAcrossRestarts(t *testing.T) {
	cfg := entratest.Default()
	app := &cfg.Tenants[0].Apps[0]
	app.RedirectURIs = append(app.RedirectURIs, "http://127.0.0.1"+proxy.CallbackPath)
	srv := entratest.NewServer(t, &entratest.Options{Config: cfg})
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]string{"path": r.URL.Path, "user": r.Header.Get("X-Ms-Client-Principal-Name"), "assertion": r.Header.Get(proxy.AssertionHeader)})
	}))
	defer up.Close()
	work := t.TempDir()
	caFile := filepath.Join(work, "ca.pem")
	if err := os.WriteFile(caFile, srv.CACertPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(work, "state")
	env := append(cleanEnv(),
		"SSL_CERT_FILE="+caFile,
		"AZURE_AUTHORITY_HOST="+srv.URL+"/",
		"AZURE_TENANT_ID="+entratest.DemoTenantID,
		"AZURE_CLIENT_ID="+entratest.DemoClientID,
		"AZURE_CLIENT_SECRET="+entratest.DemoClientSecret,
	)
	args := []string{"proxy", "-upstream", up.URL, "-listen", "127.0.0.1:0", "-state-dir", state}

	first := startProxy(t, work, env, args...)
	if !strings.Contains(first.banner, "entraweb proxy: state directory "+state+" ") {
		t.Errorf("the banner does not name the state directory %s:\n%s", state, first.banner)
	}
	if !strings.Contains(first.banner, first.url+proxy.CallbackPath) {
		t.Errorf("the banner does not name the redirect URI to register:\n%s", first.banner)
	}
	if fi, err := os.Stat(state); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("state directory: %v, mode %v, want 0700", err, fi.Mode().Perm())
	}
	b := srv.Browser()
	resp, body, err := b.Visit(context.Background(), first.url+"/hello", "alice@"+entratest.DemoTenantDomain, entratest.DemoPassword)
	if err != nil || resp.StatusCode != 200 || !strings.Contains(body, `"user":"alice@`) {
		t.Fatalf("sign-in through the proxy: %v %v %s\n%s", err, resp, body, first.stderr.String())
	}
	var echo struct{ Assertion string }
	json.Unmarshal([]byte(body), &echo)
	keys := func(c *child) string {
		t.Helper()
		resp, err := http.Get(c.url + proxy.KeysPath)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	firstKeys := keys(first)
	first.stop(t)
	if !strings.Contains(first.stderr.String(), `msg="proxy: request" method=GET path=/hello status=200`) {
		t.Errorf("no access log line for /hello:\n%s", first.stderr.String())
	}
	for _, f := range []string{"sessions.db", "sessions.db.key", "assertion-key.pem"} {
		if fi, err := os.Stat(filepath.Join(state, f)); err != nil {
			t.Errorf("state directory: %v", err)
		} else if f == "assertion-key.pem" && fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, want 0600", f, fi.Mode().Perm())
		}
	}

	// The second run also serves metrics, on a listener of its own.
	second := startProxy(t, work, env, append(args, "-metrics-listen", "127.0.0.1:0")...)
	defer second.stop(t)
	c := &http.Client{Jar: b.AppClient().Jar, Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, _ := http.NewRequest("GET", second.url+"/hello", nil)
	req.Header.Set("Sec-Fetch-Mode", "cors")
	resp, err = c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(got), `"user":"alice@`) {
		t.Errorf("after a restart: %d %s, want alice still signed in\n%s", resp.StatusCode, got, second.stderr.String())
	}
	_, rest, ok := strings.Cut(second.banner, "entraweb proxy: metrics on ")
	metricsURL, _, _ := strings.Cut(rest, "\n")
	if !ok || !strings.HasSuffix(metricsURL, "/metrics") || strings.HasPrefix(metricsURL, second.url) {
		t.Errorf("the banner does not name a metrics URL apart from the proxy's (%s):\n%s", second.url, second.banner)
	} else if resp, err := http.Get(metricsURL); err != nil {
		t.Error(err)
	} else {
		m, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(m), `entraweb_proxy_requests_total{class="upstream",code="200"} 1`) {
			t.Errorf("metrics after one request:\n%s", m)
		}
	}
	// The signing key was kept: an upstream that cached the keys before
	// the restart needs nothing new, and the first process's assertion
	// verifies with the second's keys.
	if k := keys(second); k != firstKeys || !strings.Contains(k, `"kty":"EC"`) {
		t.Errorf("the keys changed across a restart:\n%s\n%s", firstKeys, k)
	}
	v := proxy.NewAssertionVerifier(second.url+proxy.KeysPath, up.URL, nil)
	if _, err := v.VerifyToken(context.Background(), echo.Assertion); err != nil {
		t.Errorf("the first process's assertion, with the second's keys: %v", err)
	}
}

// TestProxyCommandDefaultStateDir: without -state-dir the sessions go in
// the user's cache directory, which the banner names. The authority is a
// closed port, so the command ends at discovery.
func TestProxyCommandDefaultStateDir(t *testing.T) {
	t.Chdir(t.TempDir())
	cache := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", cache)
	t.Setenv("AZURE_TENANT_ID", entratest.DemoTenantID)
	t.Setenv("AZURE_CLIENT_ID", entratest.DemoClientID)
	t.Setenv("AZURE_CLIENT_SECRET", "not-a-real-secret")
	t.Setenv("AZURE_AUTHORITY_HOST", "https://127.0.0.1:1/")
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"proxy", "-upstream", "http://127.0.0.1:8050", "-listen", "127.0.0.1:0"}, &out, &errOut)
	if code != 1 {
		t.Fatalf("exit %d, want 1 (the authority is unreachable)\n%s%s", code, out.String(), errOut.String())
	}
	dir := filepath.Join(cache, "entraweb", "proxy")
	if !strings.Contains(out.String(), "state directory "+dir) {
		t.Errorf("the state directory %s is not named:\n%s", dir, out.String())
	}
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("state directory: %v %v", err, fi)
	}
}

func TestProxyCommandUsage(t *testing.T) {
	t.Chdir(t.TempDir())
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	for _, k := range []string{"AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "Proxy__Upstream"} {
		t.Setenv(k, "")
	}
	tests := []struct {
		name string
		args []string
		code int
		out  string
	}{
		{"listed", []string{"-h"}, 0, "proxy"},
		{"help", []string{"proxy", "-h"}, 0, "-upstream"},
		{"bad flag", []string{"proxy", "-bogus"}, 2, "flag provided but not defined"},
		{"stray argument", []string{"proxy", "-upstream", "http://127.0.0.1:1", "extra"}, 2, `unexpected argument "extra"`},
		{"no upstream", []string{"proxy"}, 2, "-upstream is required"},
		{"every configuration problem at once", []string{"proxy", "-upstream", "ftp://x"}, 1, "Proxy:Upstream"},
		{"every configuration problem at once names the tenant", []string{"proxy", "-upstream", "ftp://x"}, 1, "AzureAd:TenantId"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			code := run(context.Background(), tt.args, &out, &out)
			if code != tt.code || !strings.Contains(out.String(), tt.out) {
				t.Errorf("exit %d, want %d; output lacks %q?\n%s", code, tt.code, tt.out, out.String())
			}
		})
	}
}
