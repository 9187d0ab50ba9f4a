package entratest

import (
	"bufio"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestServersHaveTimeouts: both servers of an emulator bound every phase
// of a connection by default.
func TestServersHaveTimeouts(t *testing.T) {
	s := NewServer(t, &Options{BrowserAddr: "127.0.0.1:0"})
	for name, srv := range map[string]*http.Server{"TLS": s.srv, "browser": s.browser} {
		if srv.ReadHeaderTimeout <= 0 || srv.ReadTimeout <= 0 || srv.ReadTimeout > 30*time.Second ||
			srv.WriteTimeout <= 0 || srv.IdleTimeout <= 0 || srv.MaxHeaderBytes <= 0 {
			t.Errorf("%s server: ReadHeaderTimeout %v, ReadTimeout %v, WriteTimeout %v, IdleTimeout %v, MaxHeaderBytes %d",
				name, srv.ReadHeaderTimeout, srv.ReadTimeout, srv.WriteTimeout, srv.IdleTimeout, srv.MaxHeaderBytes)
		}
	}
}

// TestServersCloseSlowConnections: an idle keep-alive connection and a
// request whose body trickles in are both closed by the server, on its TLS
// listener and on its plain-HTTP browser listener. The timeouts are short
// here so the test is quick; what is checked is that the server closes
// the connection, not when.
func TestServersCloseSlowConnections(t *testing.T) {
	s := NewServer(t, &Options{BrowserAddr: "127.0.0.1:0",
		// Long enough for any honest request on a loaded machine, short
		// for the idle and trickling ones.
		timeouts: &serverTimeouts{readHeader: 10 * time.Second, read: time.Second, write: 10 * time.Second, idle: 300 * time.Millisecond}})
	dialTLS := func(t *testing.T) net.Conn {
		c, err := tls.Dial("tcp", strings.TrimPrefix(s.URL, "https://"), &tls.Config{RootCAs: s.pool, NextProtos: []string{"http/1.1"}})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	dialBrowser := func(t *testing.T) net.Conn {
		c, err := net.Dial("tcp", strings.TrimPrefix(s.browserURL, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	listeners := []struct {
		name string
		dial func(*testing.T) net.Conn
		// post is a form endpoint of that listener, which reads the body
		post string
	}{
		{"TLS", dialTLS, "/" + DemoTenantID + "/oauth2/v2.0/token"},
		{"browser", dialBrowser, "/" + DemoTenantID + "/login"},
	}
	for _, l := range listeners {
		t.Run(l.name+"/idle keep-alive", func(t *testing.T) {
			t.Parallel()
			c := l.dial(t)
			defer c.Close()
			if _, err := io.WriteString(c, "GET /"+DemoTenantID+"/v2.0/.well-known/openid-configuration HTTP/1.1\r\nHost: emulator\r\n\r\n"); err != nil {
				t.Fatal(err)
			}
			br := bufio.NewReader(c)
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || resp.Close {
				t.Fatalf("discovery: HTTP %d, close %v; want 200 on a kept-alive connection", resp.StatusCode, resp.Close)
			}
			// Now send nothing: the server must hang up.
			wantClosed(t, c, br)
		})
		t.Run(l.name+"/trickled body", func(t *testing.T) {
			t.Parallel()
			c := l.dial(t)
			defer c.Close()
			if _, err := io.WriteString(c, "POST "+l.post+" HTTP/1.1\r\nHost: emulator\r\n"+
				"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 50000\r\n\r\nctx="); err != nil {
				t.Fatal(err)
			}
			// A byte now and then keeps every single read short, so only a
			// bound on the whole request ends it.
			stop := make(chan struct{})
			done := make(chan struct{})
			go func() {
				defer close(done)
				tick := time.NewTicker(20 * time.Millisecond)
				defer tick.Stop()
				for {
					select {
					case <-stop:
						return
					case <-tick.C:
						if _, err := c.Write([]byte("a")); err != nil {
							return
						}
					}
				}
			}()
			wantClosed(t, c, bufio.NewReader(c))
			close(stop)
			<-done
		})
	}
}

// wantClosed reads c until the server closes it (an answer before that is
// fine). The deadline only keeps a failing test from hanging: reaching it
// means the server kept the connection open.
func wantClosed(t *testing.T, c net.Conn, br *bufio.Reader) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(time.Minute))
	_, err := io.Copy(io.Discard, br)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("the server kept the connection open: %v", err)
	}
	// io.Copy reports a clean close (EOF) as nil; a reset is a close too.
}
