package proxy

import (
	"context"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/entraweb/entraweb"
)

// readyFor is how long a ready report is taken as still true: probes
// every few seconds from many instances must not become a load on Entra
// ID. A report that is not ready is never remembered, so readiness comes
// back with the first good check.
const readyFor = 10 * time.Second

// readiness remembers the last ready report.
type readiness struct {
	mu      sync.Mutex
	report  entraweb.Report
	readyAt time.Time
}

// readinessGates are the checks whose failure takes the proxy out of
// rotation: without the provider nobody can sign in, without the store
// nobody is signed in. The others (a session key, a redirect URI, the
// clock) are reported but do not get better by waiting, and an instance
// taken out of every load balancer for them would turn a warning into an
// outage.
var readinessGates = map[string]bool{"authority": true, "session store": true}

// serveHealth is /healthz: the process answers. It checks nothing else,
// so an orchestrator never restarts the proxy for a dependency's outage.
func (h *Handler) serveHealth(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	io.WriteString(w, "ok\n")
}

// serveReady is /readyz: entraweb.Check's quick checks (configuration,
// the provider's discovery with its clock, the store's ping, the session
// key and redirect URI) as JSON, with 200 when the provider and the store
// answer and 503 when either does not (the reasons also go to the log).
func (h *Handler) serveReady(w http.ResponseWriter, r *http.Request) {
	rd := &h.ready
	rd.mu.Lock()
	rep, fresh := rd.report, time.Since(rd.readyAt) < readyFor
	rd.mu.Unlock()
	if !fresh {
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		defer cancel()
		rep = h.auth.Check(ctx, &entraweb.CheckOptions{Quick: true})
	}
	status, state := http.StatusOK, "ready"
	for _, c := range rep.Checks {
		if c.Status == entraweb.CheckFail && readinessGates[c.Name] {
			status, state = http.StatusServiceUnavailable, "unavailable"
			h.log.Warn("proxy: not ready", "check", c.Name, "message", c.Message)
		}
	}
	if !fresh && status == http.StatusOK {
		rd.mu.Lock()
		rd.report, rd.readyAt = rep, time.Now()
		rd.mu.Unlock()
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, status, map[string]any{"status": state, "checks": rep.Checks})
}
