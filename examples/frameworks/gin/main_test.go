package main

import (
	"bytes"
	"strings"
	"sync"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/entraweb/entraweb/examples/frameworks/internal/shutdowntest"
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
	var access, errs lockedBuffer
	gin.DefaultWriter, gin.DefaultErrorWriter = &access, &errs
	codes := signintest.Run(t, newHandler)
	if s := errs.String(); s != "" {
		t.Errorf("gin reported:\n%s", s)
	}

	// The access log shows the callback, but not the code it carried.
	logged := access.String()
	if len(codes) == 0 || !strings.Contains(logged, "/auth/callback") {
		t.Fatalf("no sign-in went through the callback (%d codes); access log:\n%s", len(codes), logged)
	}
	if strings.Contains(logged, "code=") {
		t.Errorf("the access log holds a query string with a code:\n%s", logged)
	}
	for _, code := range codes {
		if strings.Contains(logged, code) {
			t.Errorf("the access log holds an authorization code:\n%s", logged)
			break
		}
	}
}

func TestGracefulShutdown(t *testing.T) { shutdowntest.Run(t, run) }
