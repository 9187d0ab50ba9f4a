package proxy_test

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/entraweb/entraweb/internal/testenv"

	"github.com/entraweb/entraweb/proxy"
)

// The forward-auth tests run the nginx and Caddy snippets of
// docs/forward-auth.md, as written there, in front of the echo upstream,
// with the proxy's /.auth/verify as their auth endpoint. The doc names
// entraweb 127.0.0.1:4180 and the app 127.0.0.1:8050; the tests put their
// own loopback ports in.
const (
	forwardAuthDoc  = "../docs/forward-auth.md"
	docProxyAddr    = "127.0.0.1:4180"
	docUpstreamAddr = "127.0.0.1:8050"
)

func TestForwardAuthNginx(t *testing.T) {
	bin := needFrontServer(t, "nginx", "nginx")
	e := newForwardAuthEnv(t)
	dir := t.TempDir()
	port := freeLoopbackPort(t)
	server := docSnippet(t, "nginx", e, map[string]string{"listen 80;": fmt.Sprintf("listen 127.0.0.1:%d;", port)})
	conf := fmt.Sprintf(`pid %[1]s/nginx.pid;
error_log %[1]s/error.log info;
worker_processes 1;
events { worker_connections 64; }
http {
    access_log %[1]s/access.log;
    client_body_temp_path %[1]s/client_body;
    proxy_temp_path %[1]s/proxy;
    fastcgi_temp_path %[1]s/fastcgi;
    uwsgi_temp_path %[1]s/uwsgi;
    scgi_temp_path %[1]s/scgi;
%[2]s
}
`, dir, server)
	writeFile(t, filepath.Join(dir, "nginx.conf"), conf)
	front := startFrontServer(t, dir, port, nil, bin, "-p", dir, "-e", filepath.Join(dir, "error.log"), "-c", filepath.Join(dir, "nginx.conf"), "-g", "daemon off;")
	checkForwardAuth(t, e, front, func(resp *http.Response, body []byte) {
		// nginx answers a 401 from the subrequest with its own page.
		if !strings.Contains(string(body), "401") {
			t.Errorf("nginx's 401 page: %.200s", body)
		}
	})
}

func TestForwardAuthCaddy(t *testing.T) {
	bin := needFrontServer(t, "caddy", "caddy")
	e := newForwardAuthEnv(t)
	dir := t.TempDir()
	port := freeLoopbackPort(t)
	site := docSnippet(t, "caddyfile", e, map[string]string{
		"app.example.com {": fmt.Sprintf("http://127.0.0.1:%d {\n\tbind 127.0.0.1", port),
	})
	conf := fmt.Sprintf("{\n\tadmin off\n\tstorage file_system {\n\t\troot %s\n\t}\n}\n\n%s", filepath.Join(dir, "storage"), site)
	writeFile(t, filepath.Join(dir, "Caddyfile"), conf)
	envv := []string{"HOME=" + dir, "XDG_DATA_HOME=" + filepath.Join(dir, "data"), "XDG_CONFIG_HOME=" + filepath.Join(dir, "config")}
	front := startFrontServer(t, dir, port, envv, bin, "run", "--config", filepath.Join(dir, "Caddyfile"), "--adapter", "caddyfile")
	checkForwardAuth(t, e, front, func(resp *http.Response, body []byte) {
		// Caddy passes the 401 on as /.auth/verify wrote it.
		var got map[string]string
		if json.Unmarshal(body, &got) != nil || !strings.Contains(got["login_url"], "/.auth/login/aad?post_login_redirect_uri=") {
			t.Errorf("401 body %.300s", body)
		}
	})
}

// newForwardAuthEnv is the proxy with a path rule and a public path, which
// believes X-Original-URL and X-Forwarded-Uri from loopback, where nginx
// and Caddy run.
func newForwardAuthEnv(t *testing.T) *env {
	t.Helper()
	return newEnv(t, func(c *proxy.Config) {
		c.Rules = []proxy.Rule{{Path: "/admin", Role: "DemoApp.Admin"}}
		c.PublicPaths = []string{"/public/"}
		c.Entra.TrustedProxies = []string{"127.0.0.1"}
	})
}

// spoofed are identity headers a client sends, hoping the upstream reads
// them.
var spoofed = []string{
	"X-MS-CLIENT-PRINCIPAL-NAME", "admin@evil.example",
	"X-MS-CLIENT-PRINCIPAL-ID", "00000000-0000-0000-0000-000000000000",
	"X-MS-CLIENT-PRINCIPAL", "eyJhdXRoX3R5cCI6ImFhZCJ9",
	"X-MS-TOKEN-AAD-ACCESS-TOKEN", "forged",
	"X-Forwarded-User", "admin",
	"X-Forwarded-Roles", "DemoApp.Admin",
	"X-Entraweb-Assertion", "forged",
	// Read as X-MS-CLIENT-PRINCIPAL-NAME by upstreams that fold "_" and
	// "-" (CGI, WSGI: Flask, Dash).
	"X-MS-CLIENT_PRINCIPAL_NAME", "underscore@evil.example",
	"X_Forwarded_User", "underscore",
}

// checkForwardAuth sends requests through the front server at front and
// checks what reaches the upstream; anon401 checks the body of an
// anonymous request's 401.
func checkForwardAuth(t *testing.T, e *env, front string, anon401 func(*http.Response, []byte)) {
	// alice signs in through the front server (its /.auth/ location),
	// carol directly at the proxy: the cookie is the same for both, as
	// cookies do not depend on the port.
	fe := *e
	fe.url = front
	asAlice := client(fe.signIn(t, alice))
	asCarol := client(e.signIn(t, carol))
	anon := client(nil)

	upstreamSaw := func(t *testing.T, resp *http.Response, body []byte, user string) {
		t.Helper()
		s := echoed(t, resp, body)
		if got := s.Header.Get("X-Ms-Client-Principal-Name"); got != user {
			t.Errorf("X-MS-CLIENT-PRINCIPAL-NAME %q reached the upstream, want %q", got, user)
		}
		if user != "" {
			if p := principal(t, s.Header); p.AuthTyp != "aad" || len(p.Claims) == 0 {
				t.Errorf("X-MS-CLIENT-PRINCIPAL: %+v", p)
			}
			if s.Header.Get("X-Ms-Client-Principal-Id") == spoofed[3] || s.Header.Get("X-Ms-Client-Principal-Idp") != "aad" {
				t.Errorf("X-MS-CLIENT-PRINCIPAL-ID %q, -IDP %q", s.Header.Get("X-Ms-Client-Principal-Id"), s.Header.Get("X-Ms-Client-Principal-Idp"))
			}
		} else {
			for _, k := range []string{"X-Ms-Client-Principal", "X-Ms-Client-Principal-Id", "X-Ms-Client-Principal-Idp"} {
				if v := s.Header.Get(k); v != "" {
					t.Errorf("anonymous request reached the upstream with %s: %q", k, v)
				}
			}
		}
		for k, vs := range s.Header {
			for i := 0; i < len(spoofed); i += 2 {
				if strings.EqualFold(strings.ReplaceAll(k, "_", "-"), strings.ReplaceAll(spoofed[i], "_", "-")) && slices.Contains(vs, spoofed[i+1]) {
					t.Errorf("the client's %s: %q reached the upstream as %s", spoofed[i], spoofed[i+1], k)
				}
			}
		}
	}

	t.Run("signed in, identity headers copied", func(t *testing.T) {
		resp, body := do(t, asAlice, "GET", front+"/admin/x?q=1", spoofed...)
		upstreamSaw(t, resp, body, alice)
	})
	t.Run("original URL believed from the front server", func(t *testing.T) {
		// carol lacks DemoApp.Admin: were the URL unknown, the /admin rule
		// would apply to every path and she would get 403 here.
		resp, body := do(t, asCarol, "GET", front+"/docs", spoofed...)
		upstreamSaw(t, resp, body, carol)
	})
	t.Run("without the role of a path rule, 403", func(t *testing.T) {
		resp, body := do(t, asCarol, "GET", front+"/Admin/x", fetchHeaders...)
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("%d, want 403: %.300s", resp.StatusCode, body)
		}
	})
	t.Run("anonymous, 401 never a redirect", func(t *testing.T) {
		// nginx answers 500 when the auth endpoint redirects: a 401 here
		// shows /.auth/verify did not, for a page load as for a script.
		for _, h := range [][]string{navigationHeaders, fetchHeaders} {
			resp, body := do(t, anon, "GET", front+"/docs", h...)
			if resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("%d, want 401: %.300s", resp.StatusCode, body)
			}
			if l := resp.Header.Get("Location"); l != "" {
				t.Errorf("Location %q", l)
			}
			anon401(resp, body)
		}
	})
	t.Run("anonymous on a public path, spoofed headers removed", func(t *testing.T) {
		resp, body := do(t, anon, "GET", front+"/public/app.js", spoofed...)
		upstreamSaw(t, resp, body, "")
	})
	t.Run("signed in on a public path, spoofed headers replaced", func(t *testing.T) {
		resp, body := do(t, asCarol, "GET", front+"/public/app.js", spoofed...)
		upstreamSaw(t, resp, body, carol)
	})
}

// docSnippet is the first fenced block of language lang in
// docs/forward-auth.md, with e's proxy and upstream addresses in place of
// the doc's and the other replacements made; each must occur.
func docSnippet(t *testing.T, lang string, e *env, repl map[string]string) string {
	t.Helper()
	doc, err := os.ReadFile(forwardAuthDoc)
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(doc), "\n```"+lang+"\n")
	block, _, ok2 := strings.Cut(rest, "\n```\n")
	if !ok || !ok2 {
		t.Fatalf("%s has no ```%s block", forwardAuthDoc, lang)
	}
	repl[docProxyAddr] = strings.TrimPrefix(e.url, "http://")
	repl[docUpstreamAddr] = strings.TrimPrefix(e.up.URL, "http://")
	for from, to := range repl {
		if !strings.Contains(block, from) {
			t.Fatalf("the %s snippet in %s no longer contains %q, which the test replaces", lang, forwardAuthDoc, from)
		}
		block = strings.ReplaceAll(block, from, to)
	}
	return block + "\n"
}

// needFrontServer returns the path of bin, which Debian's package pkg
// installs. Without it the test is skipped, loudly, except under CI,
// where it fails.
func needFrontServer(t *testing.T, bin, pkg string) string {
	t.Helper()
	return testenv.LookPath(t, "apt-get install -y "+pkg, bin)
}

func freeLoopbackPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func writeFile(t *testing.T, name, content string) {
	t.Helper()
	if err := os.WriteFile(name, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// startFrontServer runs a front server in its own process group, waits
// (10s at most) until it accepts connections on port, and stops it in
// t.Cleanup: SIGTERM, then after 5s SIGKILL to its group. Its output goes
// to dir/output.log, shown when the test fails.
func startFrontServer(t *testing.T, dir string, port int, env []string, bin string, args ...string) string {
	t.Helper()
	out, err := os.Create(filepath.Join(dir, "output.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = out, out
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	logs := func() string {
		var b strings.Builder
		for _, f := range []string{"output.log", "error.log"} {
			if c, err := os.ReadFile(filepath.Join(dir, f)); err == nil {
				fmt.Fprintf(&b, "--- %s:\n%s", f, c)
			}
		}
		return b.String()
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
		out.Close()
		if t.Failed() {
			t.Logf("%s's logs:\n%s", filepath.Base(bin), logs())
		}
	})
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return (&url.URL{Scheme: "http", Host: addr}).String()
		}
		select {
		case <-exited:
			t.Fatalf("%s exited before listening on %s:\n%s", bin, addr, logs())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s does not listen on %s after 10s: %v\n%s", bin, addr, err, logs())
		}
	}
}
