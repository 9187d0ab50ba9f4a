package proxy

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/entraweb/entraweb/session"
)

// providerCheckFor is how long a successful check of the provider is
// taken as still true: probes every few seconds from many instances must
// not become a load on Entra ID. Failures are never remembered, so
// readiness comes back with the first good check.
const providerCheckFor = 10 * time.Second

// readiness remembers the last good check of the provider.
type readiness struct {
	client *http.Client

	mu         sync.Mutex
	providerOK time.Time
}

// serveHealth is /healthz: the process answers. It checks nothing else,
// so an orchestrator never restarts the proxy for a dependency's outage.
func (h *Handler) serveHealth(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	io.WriteString(w, "ok\n")
}

// serveReady is /readyz: 200 when the session store answers and the
// provider's metadata can be read, else 503, with each check in JSON (the
// reasons go to the log).
func (h *Handler) serveReady(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	checks := map[string]string{"store": "ok", "provider": "ok"}
	status, state := http.StatusOK, "ready"
	if err := h.checkStore(ctx); err != nil {
		h.log.Warn("proxy: not ready: the session store does not answer", "err", err)
		checks["store"], status, state = "unavailable", http.StatusServiceUnavailable, "unavailable"
	}
	if err := h.checkProvider(ctx); err != nil {
		h.log.Warn("proxy: not ready: the identity provider's metadata cannot be read", "url", h.s.discoveryURL, "err", err)
		checks["provider"], status, state = "unavailable", http.StatusServiceUnavailable, "unavailable"
	}
	writeJSON(w, status, map[string]any{"status": state, "checks": checks})
}

// checkStore reads a session that does not exist, through entraweb, so
// the store itself is asked (a fresh random id misses every cache); only
// an unreachable store fails. The cookie is offered under both names
// entraweb may look for.
func (h *Handler) checkStore(ctx context.Context) error {
	var b [32]byte
	rand.Read(b[:])
	id := base64.RawURLEncoding.EncodeToString(b[:])
	r := (&http.Request{
		Method: http.MethodGet,
		URL:    &url.URL{Path: "/"},
		Host:   "localhost",
		Header: http.Header{"Cookie": {session.DefaultCookieName + "=" + id + "; __Host-" + session.DefaultCookieName + "=" + id}},
	}).WithContext(ctx)
	_, err := h.auth.User(r)
	return err
}

// checkProvider fetches the discovery document, unless it was fetched
// well recently.
func (h *Handler) checkProvider(ctx context.Context) error {
	rd := &h.ready
	rd.mu.Lock()
	fresh := time.Since(rd.providerOK) < providerCheckFor
	rd.mu.Unlock()
	if fresh {
		return nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, h.s.discoveryURL, nil)
	if err != nil {
		return err
	}
	resp, err := rd.client.Do(req)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	rd.mu.Lock()
	rd.providerOK = time.Now()
	rd.mu.Unlock()
	return nil
}
