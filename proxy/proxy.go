package proxy

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/entraweb/entraweb"
	"github.com/entraweb/entraweb/internal/origin"
)

// Handler is the authenticating reverse proxy: App Service's /.auth/
// endpoints, sign-in in front of every other path, and the request passed
// on to the upstream with the user's identity in headers. It is safe for
// concurrent use.
type Handler struct {
	s     *settings
	auth  *entraweb.Auth
	log   *slog.Logger
	trust origin.Trust
	rp    *httputil.ReverseProxy

	routes     http.Handler // entraweb's own routes under /.auth/
	signedIn   http.Handler // RequireLogin in front of serveSignedIn
	refresh    http.Handler // RequireLogin in front of serveRefresh
	api        http.Handler // RequireScopeOrAppRole in front of serveAPI
	ids        identityCache
	expiries   expiryCache
	signer     *signer // nil when the assertion is off
	assertions assertionCache
	forwarded  atomic.Pointer[forwardedValues] // the last base URL's forwarding headers
	now        func() time.Time
	ready      readiness
	metrics    *metrics // nil when off

	untrustedVerify sync.Once // the log's note about forward auth from an untrusted peer
}

// New validates cfg (every problem at once), signs the app in to Entra ID
// as entraweb.New does (reading the provider's metadata under ctx) and
// prepares the proxy. Close releases it.
func New(ctx context.Context, cfg Config) (*Handler, error) {
	s, err := cfg.settings()
	if err != nil {
		return nil, fmt.Errorf("proxy: configuration:\n%w", err)
	}
	var m *metrics
	if s.metrics {
		m = newMetrics()
		if own := s.entra.Observe; own != nil {
			s.entra.Observe = func(ctx context.Context, e entraweb.Event) { m.observe(ctx, e); own(ctx, e) }
		} else {
			s.entra.Observe = m.observe
		}
	}
	auth, err := entraweb.New(ctx, s.entra)
	if err != nil {
		return nil, err
	}
	h := &Handler{s: s, auth: auth, log: s.entra.Logger, metrics: m}
	if h.log == nil {
		h.log = slog.Default()
	}
	// The same view of the browser's URL that entraweb takes: Validate
	// has checked both settings.
	if pb := s.entra.PublicBaseURL; pb != "" {
		u, _ := url.Parse(pb)
		u.Path = strings.TrimSuffix(u.Path, "/")
		h.trust.PublicBase = u
	}
	for _, p := range s.entra.TrustedProxies {
		pf, err := netip.ParsePrefix(p)
		if err != nil {
			a, _ := netip.ParseAddr(p)
			pf = netip.PrefixFrom(a, a.BitLen())
		}
		h.trust.Proxies = append(h.trust.Proxies, pf.Masked())
	}
	if s.assertion {
		key := cfg.AssertionKey
		if key == nil && cfg.AssertionKeyFile != "" {
			if key, err = LoadAssertionKeyFile(cfg.AssertionKeyFile); err != nil {
				auth.Close()
				return nil, fmt.Errorf("proxy: Proxy:AssertionKeyFile: %w", err)
			}
		}
		if key == nil {
			if key, err = GenerateAssertionKey(); err != nil {
				auth.Close()
				return nil, err
			}
		}
		if h.signer, err = newSigner(key); err != nil {
			auth.Close()
			return nil, fmt.Errorf("proxy: assertion key: %w", err)
		}
	}
	h.now = time.Now
	h.rp = h.newReverseProxy()
	for i := range s.rules {
		r := &s.rules[i]
		if r.role != "" {
			r.deny = auth.RequireRole(r.role, http.HandlerFunc(h.ruleRaced))
		} else {
			r.deny = auth.RequireGroup(r.group, http.HandlerFunc(h.ruleRaced))
		}
	}
	h.routes = auth.Routes()
	h.signedIn = auth.RequireLogin(http.HandlerFunc(h.serveSignedIn))
	h.refresh = auth.RequireLogin(http.HandlerFunc(h.serveRefresh))
	h.api = auth.RequireScopeOrAppRole(s.apiScope, s.apiRole, http.HandlerFunc(h.serveAPI))
	return h, nil
}

// Auth returns the entraweb.Auth the proxy signs users in with.
func (h *Handler) Auth() *entraweb.Auth { return h.auth }

// Metrics serves the proxy's Prometheus metrics; nil unless
// Config.MetricsAddress is set. Serve it on its own listener, not through
// the proxy: the proxy never answers /metrics itself (the path belongs to
// the upstream).
func (h *Handler) Metrics() http.Handler {
	if h.metrics == nil {
		return nil
	}
	return h.metrics.handler()
}

// Close releases the session store. Requests in flight should have ended
// (http.Server.Shutdown) before.
func (h *Handler) Close() error { return h.auth.Close() }

// ServeHTTP serves the proxy's own endpoints and passes everything else
// on to the upstream, signed in unless the path is public.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rw := &respWriter{ResponseWriter: w, rc: *http.NewResponseController(w), idle: h.s.writeIdle}
	if h.s.accessLog {
		defer h.logAccess(rw, r, time.Now())
	}
	if h.metrics != nil {
		defer h.countRequest(rw, r)
	}
	h.serve(rw, r)
	// Every write of the handler had its deadline; what the server writes
	// once the handler returns (the end of a chunked body, a response
	// without one) gets one too, however long the handler took since.
	rw.deadline()
}

func (h *Handler) serve(w *respWriter, r *http.Request) {
	p := r.URL.Path
	clean := cleanPath(p)
	// The metrics' class of the request, from the path read once.
	switch {
	case p == "/healthz" || p == "/readyz":
		w.class = "health"
	case reserved(clean):
		w.class = "auth"
	default:
		w.class = "upstream"
	}
	switch r.Method {
	case http.MethodConnect, http.MethodTrace:
		w.Header().Set("Allow", "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS")
		writeProblem(w, r, http.StatusMethodNotAllowed, "method_not_allowed", "Method not allowed", r.Method+" is not served here.")
		return
	}
	if !strings.HasPrefix(p, "/") {
		writeProblem(w, r, http.StatusBadRequest, "bad_request", "Bad request", "The request's path must start with /.")
		return
	}
	if w.class == "auth" {
		h.serveAuthRoute(w, r)
		return
	}
	switch p {
	case "/healthz":
		h.serveHealth(w, r)
		return
	case "/readyz":
		h.serveReady(w, r)
		return
	}
	if !h.checkUpgrade(w, r) {
		return
	}
	if len(h.s.api) > 0 && len(r.Header.Values("Authorization")) > 0 && h.s.isAPI(clean) {
		// Any Authorization header on an API path is checked (another
		// scheme, a malformed or a second header is refused), so that
		// what reaches the upstream there in Authorization was validated.
		h.api.ServeHTTP(w, r)
		return
	}
	if h.s.isPublic(r) {
		h.servePublic(w, r)
		return
	}
	h.signedIn.ServeHTTP(w, r)
}

// servePublic passes a public path on without asking anyone to sign in,
// with the identity of a user who is signed in anyway.
func (h *Handler) servePublic(w *respWriter, r *http.Request) {
	u, err := h.auth.User(r)
	if err != nil {
		// The store is down: a public path still works, anonymously.
		h.log.Warn("proxy: could not read the session for a public path", "path", r.URL.Path, "err", err)
	}
	if u != nil {
		w.userOID = u.ObjectID
		r = r.WithContext(entraweb.WithUser(r.Context(), u))
	}
	h.rp.ServeHTTP(w, r)
}

// serveSignedIn runs behind RequireLogin (which has checked the minimum
// role): it applies the path's rules, gets the access token if one is
// configured, and passes the request on.
func (h *Handler) serveSignedIn(w http.ResponseWriter, r *http.Request) {
	u := entraweb.UserFrom(r.Context())
	if rw, ok := w.(*respWriter); ok {
		rw.userOID = u.ObjectID
	}
	if len(h.s.rules) > 0 {
		clean := cleanPath(r.URL.Path)
		for i := range h.s.rules {
			if rl := &h.s.rules[i]; rl.covers(clean) && !rl.met(u) {
				rl.deny.ServeHTTP(w, r)
				return
			}
		}
	}
	if h.s.accessTokenHeader {
		t, err := h.token(r)
		if h.auth.Challenge(w, r, err) {
			return
		}
		r = r.WithContext(withToken(r.Context(), t))
	}
	h.rp.ServeHTTP(w, r)
}

// serveAPI runs behind entraweb's bearer-token check, which has put the
// token's caller (a user or an app) in the context: it applies the
// minimum role and the path's rules, and passes the request on, the
// token in Authorization.
func (h *Handler) serveAPI(w http.ResponseWriter, r *http.Request) {
	u := entraweb.UserFrom(r.Context())
	if rw, ok := w.(*respWriter); ok {
		rw.userOID = u.ObjectID
	}
	need := ""
	if m := h.s.minimumRole; m != "" && !u.HasRole(m) {
		need = m
	}
	if need == "" && len(h.s.rules) > 0 {
		clean := cleanPath(r.URL.Path)
		for i := range h.s.rules {
			if rl := &h.s.rules[i]; rl.covers(clean) && !rl.met(u) {
				need = rl.role
				if need == "" {
					need = "membership of group " + rl.group
				}
				break
			}
		}
	}
	if need != "" {
		if obs := h.s.entra.Observe; obs != nil {
			obs(r.Context(), entraweb.Event{Kind: entraweb.EventRefused, Reason: "insufficient_scope", Status: http.StatusForbidden})
		}
		w.Header().Set("WWW-Authenticate", `Bearer error="insufficient_scope", error_description="the caller lacks `+headerSafe(strings.ReplaceAll(need, `"`, ""))+`"`)
		writeJSON(w, http.StatusForbidden, map[string]string{"error": "insufficient_scope", "message": "The caller's token lacks " + need + "."})
		return
	}
	h.rp.ServeHTTP(w, r)
}

// ruleRaced answers when entraweb's own check let through a request that
// the proxy's check of a rule had just refused: the session changed in
// between. Refusing is the safe answer; the next request sees the new
// session.
func (h *Handler) ruleRaced(w http.ResponseWriter, r *http.Request) {
	writeProblem(w, r, http.StatusForbidden, "forbidden", "Access denied", "Your access changed while this request was checked. Try again.")
}

// logAccess writes the access log line: never the query (it may carry
// codes or tokens), cookies or headers.
func (h *Handler) logAccess(w *respWriter, r *http.Request, start time.Time) {
	status := w.finalStatus(r)
	peer, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		peer = r.RemoteAddr
	}
	attrs := []slog.Attr{
		slog.String("method", r.Method),
		slog.String("path", r.URL.Path),
		slog.Int("status", status),
		slog.Int64("bytes", w.bytes),
		slog.Duration("duration", time.Since(start)),
		slog.String("peer", peer),
	}
	if w.userOID != "" {
		attrs = append(attrs, slog.String("user_oid", w.userOID))
	}
	h.log.LogAttrs(r.Context(), slog.LevelInfo, "proxy: request", attrs...)
}

// finalStatus is the status the client got.
func (w *respWriter) finalStatus(r *http.Request) int {
	if w.status != 0 {
		return w.status
	}
	if isUpgrade(r) {
		return http.StatusSwitchingProtocols // written by ReverseProxy on the hijacked connection
	}
	return http.StatusOK
}

// countRequest counts the request for the metrics, by the class serve
// gave it: the proxy's own endpoints, the health checks, or the upstream.
func (h *Handler) countRequest(w *respWriter, r *http.Request) {
	h.metrics.request(w.class, w.finalStatus(r))
}
