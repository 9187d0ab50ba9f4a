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
// ID. A report that is not ready is kept only for notReadyFor, so
// readiness comes back within a second of the first good check.
const (
	readyFor    = 10 * time.Second
	notReadyFor = time.Second
)

// readinessGates are the checks whose failure takes the proxy out of
// rotation: without the provider nobody can sign in, without the store
// nobody is signed in. The others (a session key, a redirect URI, the
// clock) are reported but do not get better by waiting, and an instance
// taken out of every load balancer for them would turn a warning into an
// outage.
var readinessGates = map[string]bool{"authority": true, "session store": true}

// readiness holds the last report and the check under way, which
// concurrent probes wait for instead of each starting one.
type readiness struct {
	mu      sync.Mutex
	report  entraweb.Report
	ready   bool
	at      time.Time
	running chan struct{} // closed when the check under way ends
}

// serveHealth is /healthz: the process answers. It checks nothing else,
// so an orchestrator never restarts the proxy for a dependency's outage.
func (h *Handler) serveHealth(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	io.WriteString(w, "ok\n")
}

// serveReady is /readyz: 200 when entraweb.Check's quick checks find the
// provider and the store answering, else 503. The answer names each
// check and its status only: their messages (addresses, the tenant, the
// configuration) go to the log, never to whoever can reach the probe.
func (h *Handler) serveReady(w http.ResponseWriter, r *http.Request) {
	rep, ready := h.readyReport(r.Context())
	status, state := http.StatusOK, "ready"
	if !ready {
		status, state = http.StatusServiceUnavailable, "unavailable"
	}
	checks := make(map[string]string, len(rep.Checks))
	for _, c := range rep.Checks {
		checks[c.Name] = string(c.Status)
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, status, map[string]any{"status": state, "checks": checks})
}

// readyReport returns a recent report, or runs the checks, once for any
// number of concurrent probes.
func (h *Handler) readyReport(ctx context.Context) (entraweb.Report, bool) {
	rd := &h.ready
	for {
		rd.mu.Lock()
		life := notReadyFor
		if rd.ready {
			life = readyFor
		}
		if !rd.at.IsZero() && time.Since(rd.at) < life {
			rep, ready := rd.report, rd.ready
			rd.mu.Unlock()
			return rep, ready
		}
		if wait := rd.running; wait != nil {
			rd.mu.Unlock()
			select {
			case <-wait:
				continue
			case <-ctx.Done():
				return entraweb.Report{}, false
			}
		}
		done := make(chan struct{})
		rd.running = done
		rd.mu.Unlock()

		// The check runs on a context of its own: a probe that gives up
		// must not cut short the check others wait for.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		rep := h.auth.Check(cctx, &entraweb.CheckOptions{Quick: true})
		cancel()
		ready := true
		for _, c := range rep.Checks {
			if c.Status == entraweb.CheckFail && readinessGates[c.Name] {
				ready = false
				h.log.Warn("proxy: not ready", "check", c.Name, "message", c.Message)
			}
		}
		rd.mu.Lock()
		rd.report, rd.ready, rd.at, rd.running = rep, ready, time.Now(), nil
		rd.mu.Unlock()
		close(done)
		return rep, ready
	}
}
