// Package servertest checks that an http.Server a program builds sets
// every limit and that its timeouts really disconnect clients that would
// hold a connection open. Every server the repository ships is tested
// with it.
package servertest

import (
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"testing"
	"time"
)

// Limits checks the servers newServer builds: every limit is set, and the
// timeouts close the connections of clients that would otherwise hold them
// open (an idle keep-alive connection, headers and a body dripped a byte
// at a time). Each case shortens only the timeout it is about, so the
// connection can only have been closed by that one.
func Limits(t *testing.T, newServer func(http.Handler) *http.Server) {
	t.Helper()
	srv := newServer(http.NotFoundHandler())
	for _, f := range []struct {
		name  string
		value int64
	}{
		{"ReadHeaderTimeout", int64(srv.ReadHeaderTimeout)},
		{"ReadTimeout", int64(srv.ReadTimeout)},
		{"WriteTimeout", int64(srv.WriteTimeout)},
		{"IdleTimeout", int64(srv.IdleTimeout)},
		{"MaxHeaderBytes", int64(srv.MaxHeaderBytes)},
	} {
		if f.value <= 0 {
			t.Errorf("%s = %d, want it set", f.name, f.value)
		}
	}

	const short = 200 * time.Millisecond
	tests := []struct {
		name    string
		shorten func(*http.Server)
		send    string // written at once
		drip    bool   // then one byte at a time, never finishing
	}{
		{
			name:    "idle keep-alive",
			shorten: func(s *http.Server) { s.IdleTimeout = short },
			send:    "GET / HTTP/1.1\r\nHost: app\r\n\r\n",
		},
		{
			name:    "slow headers",
			shorten: func(s *http.Server) { s.ReadHeaderTimeout = short },
			send:    "GET / HTTP/1.1\r\nHost: app\r\nX-Drip: ",
			drip:    true,
		},
		{
			name:    "slow body",
			shorten: func(s *http.Server) { s.ReadTimeout = short },
			send: "POST /auth/callback HTTP/1.1\r\nHost: app\r\n" +
				"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000000\r\n\r\ncode=",
			drip: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The handler reads the whole body, as the callback's form
			// parsing would.
			srv := newServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				io.Copy(io.Discard, r.Body)
			}))
			tt.shorten(srv)
			addr := start(t, srv)

			conn, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			if _, err := io.WriteString(conn, tt.send); err != nil {
				t.Fatal(err)
			}
			if tt.drip {
				stop := drip(conn)
				defer stop()
			}
			// Read whatever the server answers until it hangs up; only
			// our own deadline passing means it kept the connection.
			conn.SetReadDeadline(time.Now().Add(10 * time.Second))
			if _, err := io.Copy(io.Discard, conn); errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatal("the server still held the connection open after 10s")
			}
		})
	}
}

// start runs srv on a loopback port until the test ends and returns its
// address.
func start(t *testing.T, srv *http.Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		srv.Serve(ln)
		close(done)
	}()
	t.Cleanup(func() {
		srv.Close()
		<-done
	})
	return ln.Addr().String()
}

// drip writes one byte to conn every few milliseconds, like a client
// trickling a request to keep it alive, until the server hangs up or stop
// is called.
func drip(conn net.Conn) (stop func()) {
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-quit:
				return
			case <-tick.C:
				if _, err := conn.Write([]byte("a")); err != nil {
					return
				}
			}
		}
	}()
	return func() {
		close(quit)
		<-done
	}
}
