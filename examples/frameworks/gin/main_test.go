package main

import (
	"bytes"
	"io"
	"sync"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/entraweb/entraweb/examples/frameworks/internal/signintest"
)

// lockedBuffer collects what gin's handlers write from the server's
// goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestSignIn(t *testing.T) {
	// gin.Recovery turns a panic into a log line; a handler that ran
	// after the middleware refused the request would panic on the nil
	// user, so any line here is a failure.
	var errs lockedBuffer
	gin.DefaultWriter, gin.DefaultErrorWriter = io.Discard, &errs
	signintest.Run(t, newHandler)
	if s := errs.String(); s != "" {
		t.Errorf("gin reported:\n%s", s)
	}
}
