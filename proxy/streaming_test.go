package proxy_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/entraweb/entraweb/proxy"
)

func TestWebSocketThroughProxy(t *testing.T) {
	e := newEnv(t, nil)
	b := e.signIn(t, alice)
	jar := b.AppClient().Jar

	t.Run("echo", func(t *testing.T) {
		resp, conn, br := wsDial(t, e.url, "/ws", jar, e.url)
		if conn == nil {
			t.Fatalf("handshake: %d", resp.StatusCode)
		}
		if msg, err := wsRead(br); err != nil || msg != "hello "+alice {
			t.Fatalf("greeting %q, %v", msg, err)
		}
		for _, m := range []string{"ping", "pong", strings.Repeat("x", 100)} {
			if err := wsWrite(conn, m, true); err != nil {
				t.Fatal(err)
			}
			if got, err := wsRead(br); err != nil || got != m {
				t.Fatalf("echo %q, %v; want %q", got, err, m)
			}
		}
	})
	t.Run("another origin is refused", func(t *testing.T) {
		for _, o := range []string{"https://evil.example", "null", strings.Replace(e.url, "127.0.0.1", "localhost", 1)} {
			if resp, conn, _ := wsDial(t, e.url, "/ws", jar, o); conn != nil || resp.StatusCode != http.StatusForbidden {
				t.Errorf("Origin %s: %d, want 403", o, resp.StatusCode)
			}
		}
	})
	t.Run("anonymous is refused", func(t *testing.T) {
		if resp, conn, _ := wsDial(t, e.url, "/ws", nil, e.url); conn != nil || resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%d, want 401", resp.StatusCode)
		}
	})
	t.Run("h2c is refused", func(t *testing.T) {
		resp, _ := do(t, client(b), "GET", e.url+"/x", "Connection", "Upgrade, HTTP2-Settings", "Upgrade", "h2c", "HTTP2-Settings", "AAMAAABkAARAAAAAAAIAAAAA")
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%d, want 400", resp.StatusCode)
		}
	})
}

func TestStreamsArriveUnbuffered(t *testing.T) {
	e := newEnv(t, nil)
	b := e.signIn(t, alice)
	for _, tt := range []struct{ path, accept, first, second string }{
		{"/events", "text/event-stream", "data: one", "data: two"},
		{"/chunks", "*/*", "part one", "part two"},
	} {
		t.Run(tt.path, func(t *testing.T) {
			req, _ := http.NewRequest("GET", e.url+tt.path, nil)
			req.Header.Set("Accept", tt.accept)
			resp, err := client(b).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != 200 || resp.ContentLength != -1 {
				t.Fatalf("%d, length %d", resp.StatusCode, resp.ContentLength)
			}
			lines := make(chan string)
			go func() {
				defer close(lines)
				sc := bufio.NewScanner(resp.Body)
				for sc.Scan() {
					if l := sc.Text(); l != "" {
						lines <- l
					}
				}
			}()
			next := func() string {
				t.Helper()
				select {
				case l := <-lines:
					return l
				case <-time.After(10 * time.Second):
					t.Fatal("nothing arrived: the stream is being buffered")
					return ""
				}
			}
			// The upstream sends its second part only once the first has
			// arrived here.
			if l := next(); l != tt.first {
				t.Fatalf("first line %q", l)
			}
			close(e.up.release[tt.path])
			if l := next(); l != tt.second {
				t.Fatalf("second line %q", l)
			}
		})
	}
}

// Each write to a client has WriteIdleTimeout: a client that stops
// reading is dropped (and the upstream request with it), while a download
// that keeps moving is never cut, however long it takes in all.
func TestWriteDeadlines(t *testing.T) {
	e := newEnv(t, func(c *proxy.Config) {
		c.PublicPaths = []string{"/big", "/slow"}
		c.WriteIdleTimeout = 200 * time.Millisecond
	})
	t.Run("a client that reads nothing is dropped", func(t *testing.T) {
		conn, err := net.Dial("tcp", strings.TrimPrefix(e.url, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		fmt.Fprintf(conn, "GET /big HTTP/1.1\r\nHost: %s\r\n\r\n", strings.TrimPrefix(e.url, "http://"))
		select {
		case <-e.up.bigEnded:
		case <-time.After(20 * time.Second):
			t.Fatal("the upstream is still writing to a client that reads nothing")
		}
	})
	t.Run("a slow download that keeps moving is not cut", func(t *testing.T) {
		resp, body := do(t, client(nil), "GET", e.url+"/slow")
		if resp.StatusCode != 200 || len(body) != slowChunks*64<<10 {
			t.Errorf("%d, %d bytes of %d", resp.StatusCode, len(body), slowChunks*64<<10)
		}
	})
}

func TestUpstreamDown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := "http://" + ln.Addr().String()
	ln.Close()
	e := newEnv(t, func(c *proxy.Config) { c.Upstream = down })
	b := e.signIn(t, alice)

	start := time.Now()
	resp, body := do(t, client(b), "GET", e.url+"/page", navigationHeaders...)
	if resp.StatusCode != http.StatusBadGateway || !strings.Contains(resp.Header.Get("Content-Type"), "text/html") || !strings.Contains(string(body), "not answering") {
		t.Errorf("page load: %d %s %.300s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	resp, body = do(t, client(b), "GET", e.url+"/api?secret=s3cr3t", fetchHeaders...)
	var got map[string]string
	if resp.StatusCode != http.StatusBadGateway || json.Unmarshal(body, &got) != nil || got["error"] != "upstream_unavailable" {
		t.Errorf("fetch: %d %s", resp.StatusCode, body)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v", d)
	}
	if strings.Contains(e.logs.String(), "s3cr3t") {
		t.Errorf("the log holds a query string:\n%s", e.logs.String())
	}

	t.Run("a silent upstream times out", func(t *testing.T) {
		hang := make(chan struct{})
		defer close(hang)
		slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-hang:
			case <-r.Context().Done():
			}
		}))
		defer slow.Close()
		e := newEnv(t, func(c *proxy.Config) { c.Upstream = slow.URL; c.UpstreamTimeout = 300 * time.Millisecond })
		b := e.signIn(t, alice)
		resp, body := do(t, client(b), "GET", e.url+"/slow", fetchHeaders...)
		if resp.StatusCode != http.StatusGatewayTimeout || !strings.Contains(string(body), "upstream_timeout") {
			t.Errorf("%d %s, want 504", resp.StatusCode, body)
		}
	})
}
