// Package shutdowntest checks that a framework example's run function shuts
// down gracefully: cancelling its context stops new connections but lets a
// request in flight finish, and run then returns 0.
package shutdowntest

import (
	"context"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"
)

// RunFunc is the shape of each example's run: serve h on ln until ctx is
// done, shut down, and return the exit status.
type RunFunc func(ctx context.Context, ln net.Listener, h http.Handler) int

// wait bounds every step, so a broken shutdown fails the test instead of
// hanging it. Nothing sleeps: each step waits on an event.
const wait = 15 * time.Second

// Run starts run with a handler that holds its one request until the test
// releases it, cancels run's context while that request is in flight, and
// checks that the listener closes, run waits for the request, the request
// gets its 200, and run returns 0.
func Run(t *testing.T, run RunFunc) {
	t.Helper()
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := &closeNotifier{Listener: inner, closed: make(chan struct{})}
	t.Cleanup(func() { inner.Close() })

	entered, release := make(chan struct{}), make(chan struct{})
	var releaseOnce sync.Once
	t.Cleanup(func() { releaseOnce.Do(func() { close(release) }) }) // never leave the handler parked
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release
		io.WriteString(w, "finished\n")
	})

	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	exited := make(chan int, 1)
	go func() { exited <- run(ctx, ln, h) }()

	type result struct {
		status int
		body   string
		err    error
	}
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	client := &http.Client{Transport: tr, Timeout: wait}
	url := "http://" + inner.Addr().String() + "/slow"
	answered := make(chan result, 1)
	go func() {
		resp, err := client.Get(url)
		if err != nil {
			answered <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		answered <- result{resp.StatusCode, string(b), err}
	}()

	select {
	case <-entered:
	case r := <-answered:
		t.Fatalf("the request ended before reaching the handler: %+v", r)
	case code := <-exited:
		t.Fatalf("run returned %d before any shutdown", code)
	case <-time.After(wait):
		t.Fatal("the request never reached the handler")
	}

	cancel()
	select {
	case <-ln.closed:
	case code := <-exited:
		t.Fatalf("run returned %d with a request still in flight", code)
	case <-time.After(wait):
		t.Fatal("cancelling the context did not close the listener")
	}
	// Shutdown has begun: no new connection is taken, and run is still
	// waiting for the request it holds.
	if c, err := net.Dial("tcp", inner.Addr().String()); err == nil {
		c.Close()
		t.Error("a new connection was accepted after shutdown began")
	}
	select {
	case code := <-exited:
		t.Fatalf("run returned %d with a request still in flight", code)
	case r := <-answered:
		t.Fatalf("the held request ended before it was released: %+v", r)
	default:
	}

	releaseOnce.Do(func() { close(release) })
	select {
	case r := <-answered:
		if r.err != nil || r.status != http.StatusOK || r.body != "finished\n" {
			t.Errorf("the request in flight got %d %q (%v), want 200 %q", r.status, r.body, r.err, "finished\n")
		}
	case <-time.After(wait):
		t.Fatal("the request in flight was not answered after it was released")
	}
	select {
	case code := <-exited:
		if code != 0 {
			t.Errorf("run returned %d after a graceful shutdown, want 0", code)
		}
	case <-time.After(wait):
		t.Fatal("run did not return after the last request finished")
	}
}

// closeNotifier closes closed once the listener itself is closed, which is
// the first thing http.Server.Shutdown does.
type closeNotifier struct {
	net.Listener
	once   sync.Once
	closed chan struct{}
}

func (l *closeNotifier) Close() error {
	err := l.Listener.Close()
	l.once.Do(func() { close(l.closed) })
	return err
}
