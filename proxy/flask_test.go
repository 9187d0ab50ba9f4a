package proxy_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/entraweb/entraweb/internal/testenv"

	"github.com/entraweb/entraweb/entratest"
	"github.com/entraweb/entraweb/proxy"
)

// flaskApp is examples/proxy-flask/app.py running under Flask's own
// server.
type flaskApp struct {
	url string
	out *syncBuffer
}

// needFlask returns /usr/bin/python3 when it imports Flask and PyJWT,
// and skips (fails under CI=true) when it does not.
func needFlask(t *testing.T) string {
	t.Helper()
	const py = "/usr/bin/python3"
	if exec.Command(py, "-c", "import flask, jwt, cryptography").Run() != nil {
		testenv.Missing(t, "/usr/bin/python3 with Flask, PyJWT and cryptography", "apt-get install -y python3-flask python3-jwt")
	}
	return py
}

// freeLoopbackAddr returns a loopback address no one listens on now.
func freeLoopbackAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// startFlask runs the example on addr, trusting the keys at keysURL and
// the issuer, and waits (at most 20 seconds) until it accepts
// connections. It is killed when the test ends.
func startFlask(t *testing.T, py, addr, keysURL, issuer string) *flaskApp {
	t.Helper()
	host, port, _ := net.SplitHostPort(addr)
	f := &flaskApp{url: "http://" + addr, out: &syncBuffer{}}
	cmd := exec.Command(py, "../examples/proxy-flask/app.py")
	cmd.Env = append(os.Environ(),
		"HOST="+host, "PORT="+port,
		"ENTRAWEB_KEYS_URL="+keysURL,
		"APP_ORIGIN="+f.url,
		"ENTRAWEB_ISSUER="+issuer,
		"PYTHONUNBUFFERED=1",
	)
	cmd.Stdout, cmd.Stderr = f.out, f.out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cmd.Process.Kill()
			select {
			case <-exited:
			case <-time.After(10 * time.Second):
				t.Errorf("the Flask app (pid %d) did not exit after kill", cmd.Process.Pid)
			}
		})
	}
	t.Cleanup(stop)
	deadline := time.Now().Add(20 * time.Second)
	for {
		select {
		case <-exited:
			t.Fatalf("the Flask app exited before it listened:\n%s", f.out)
		default:
		}
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			return f
		}
		if time.Now().After(deadline) {
			stop()
			t.Fatalf("the Flask app did not listen on %s within 20s:\n%s", addr, f.out)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// flaskEnv is the emulator, the Flask example and the proxy in front of
// it, built as newEnv builds it.
type flaskEnv struct {
	srv   *entratest.Server
	flask *flaskApp
	url   string
}

func newFlaskEnv(t *testing.T) *flaskEnv {
	t.Helper()
	py := needFlask(t)
	srv := newEmulator(t)
	addr := freeLoopbackAddr(t)
	logs := &syncBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	h, err := proxy.New(context.Background(), proxy.Config{Entra: testEntraConfig(srv, logger), Upstream: "http://" + addr})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	ps := httptest.NewServer(h)
	t.Cleanup(ps.Close)
	f := startFlask(t, py, addr, ps.URL+proxy.KeysPath, ps.URL)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("Flask's output:\n%s\nthe proxy's log:\n%s", f.out, logs)
		}
	})
	return &flaskEnv{srv: srv, flask: f, url: ps.URL}
}

// TestFlaskExampleBehindTheProxy signs alice in through the proxy in
// front of examples/proxy-flask: the app verifies her assertion with
// PyJWT against the proxy's keys and shows her name and roles from
// X-MS-CLIENT-PRINCIPAL.
func TestFlaskExampleBehindTheProxy(t *testing.T) {
	e := newFlaskEnv(t)
	b := (&env{srv: e.srv, url: e.url}).signIn(t, alice)
	c := client(b)
	for i := range 2 { // the second request uses PyJWKClient's cached keys
		resp, body := do(t, c, "GET", e.url+"/", navigationHeaders...)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("request %d: the Flask app answered %d: %.400s", i, resp.StatusCode, body)
		}
		page := string(body)
		for _, want := range []string{"Hello, Alice Admin", alice, "<li>DemoApp.Admin</li>"} {
			if !strings.Contains(page, want) {
				t.Errorf("request %d: the page lacks %q:\n%s", i, want, page)
			}
		}
	}
	// Without a session the proxy, not the app, answers.
	resp, _ := do(t, client(nil), "GET", e.url+"/", fetchHeaders...)
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("a script without a session got %d through the proxy, want 401", resp.StatusCode)
	}
}

// TestFlaskExampleRefusesForgedHeaders goes around the proxy, straight to
// the Flask app, with a forged X-MS-CLIENT-PRINCIPAL: without an
// assertion, with a garbage one, and with one signed by a key the proxy
// does not publish, the app answers 403 and shows no one.
func TestFlaskExampleRefusesForgedHeaders(t *testing.T) {
	e := newFlaskEnv(t)
	p := fmt.Sprintf(`{"auth_typ":"aad","claims":[{"typ":"name","val":"Mallory Forged"},{"typ":%q,"val":"00000000-0000-0000-0000-000000000001"},{"typ":"roles","val":"DemoApp.Admin"}],"name_typ":"name","role_typ":"roles"}`,
		"http://schemas.microsoft.com/identity/claims/objectidentifier")
	forged := base64.StdEncoding.EncodeToString([]byte(p))
	// A key of the attacker's under the kid the proxy publishes: only the
	// signature gives it away.
	resp, body := do(t, client(nil), "GET", e.url+proxy.KeysPath)
	var ks struct {
		Keys []struct {
			Kid string `json:"kid"`
		} `json:"keys"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &ks) != nil || len(ks.Keys) == 0 {
		t.Fatalf("the proxy's keys: %d %.300s", resp.StatusCode, body)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	alien := sign(t, key, ks.Keys[0].Kid, time.Now())
	for _, tc := range []struct{ name, assertion string }{
		{"no assertion", ""},
		{"garbage assertion", "not.a.jwt"},
		{"assertion signed by another key under the proxy's kid", alien},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := []string{"X-MS-CLIENT-PRINCIPAL", forged, "X-MS-CLIENT-PRINCIPAL-NAME", "mallory@example.com"}
			if tc.assertion != "" {
				h = append(h, proxy.AssertionHeader, tc.assertion)
			}
			resp, body := do(t, client(nil), "GET", e.flask.url+"/", h...)
			if resp.StatusCode != http.StatusForbidden {
				t.Errorf("straight to Flask with a forged principal: %d, want 403: %.300s", resp.StatusCode, body)
			}
			if bytes.Contains(body, []byte("Mallory")) || bytes.Contains(body, []byte("DemoApp.Admin")) {
				t.Errorf("the 403 shows the forged identity: %s", body)
			}
		})
	}
}
