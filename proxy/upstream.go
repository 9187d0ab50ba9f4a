package proxy

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/entraweb/entraweb"
)

// newTransport is the connection pool to the upstream. Go's default
// keeps 2 idle connections per host, so under load most requests would
// open a new connection (and leave one in TIME_WAIT): a single upstream
// needs many.
func newTransport(responseHeaderTimeout time.Duration) *http.Transport {
	return &http.Transport{
		Proxy:                 nil, // the upstream is reached directly, never through HTTP_PROXY
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: responseHeaderTimeout,
		ExpectContinueTimeout: time.Second,
		MaxIdleConns:          1024,
		MaxIdleConnsPerHost:   256,
		IdleConnTimeout:       90 * time.Second,
		// Bodies pass through as the upstream encoded them.
		DisableCompression: true,
	}
}

// bufferPool lends ReverseProxy its copy buffers, so a response costs no
// 32 KB allocation. Arrays are pooled by pointer: putting a slice into a
// sync.Pool would allocate.
type bufferPool struct{ p sync.Pool }

const copyBufferSize = 32 << 10

func (b *bufferPool) Get() []byte {
	if a, ok := b.p.Get().(*[copyBufferSize]byte); ok {
		return a[:]
	}
	return new([copyBufferSize]byte)[:]
}

func (b *bufferPool) Put(buf []byte) {
	if cap(buf) == copyBufferSize {
		b.p.Put((*[copyBufferSize]byte)(buf[:copyBufferSize]))
	}
}

// newReverseProxy builds the ReverseProxy. It uses Rewrite, never
// Director: Rewrite receives the request after ReverseProxy has removed
// the hop-by-hop headers and the client's X-Forwarded-For, -Host, -Proto
// and Forwarded, so nothing the proxy adds can be dropped by a client's
// Connection header.
func (h *Handler) newReverseProxy() *httputil.ReverseProxy {
	t := h.s.transport
	if t == nil {
		t = newTransport(h.s.upstreamTimeout)
	}
	if h.metrics != nil {
		t = timedTransport{rt: t, m: h.metrics}
	}
	return &httputil.ReverseProxy{
		Rewrite:    h.rewrite,
		Transport:  t,
		BufferPool: &bufferPool{},
		// Zero: ReverseProxy flushes every write of a response without a
		// Content-Length or of type text/event-stream at once (an
		// interval of -1), and buffers only responses of known length.
		FlushInterval:  0,
		ModifyResponse: keepOwnCookies,
		ErrorHandler:   h.upstreamError,
		ErrorLog:       errorLog(h.log),
	}
}

// rewrite turns the client's request into the upstream's.
func (h *Handler) rewrite(pr *httputil.ProxyRequest) {
	in, out := pr.In, pr.Out
	trusted := h.trust.FromTrustedProxy(in)
	u := entraweb.UserFrom(in.Context())
	var id *identity
	if u != nil {
		id = h.ids.get(h.s, u)
	}
	// The client's headers go into a map made big enough for what the
	// proxy adds: a map that grows while the identity headers go in is
	// rebuilt, which costs more than this copy. Identity headers, and
	// forwarding headers from anyone but a trusted proxy, stay behind.
	hdr := make(http.Header, len(out.Header)+addedHeaders(id))
	for name, v := range out.Header {
		if keepClientHeader(name, trusted) {
			hdr[name] = v
		}
	}
	out.Header = hdr
	if _, ok := hdr["User-Agent"]; !ok {
		// What ReverseProxy would set (so that Go's own User-Agent is not
		// sent), without a slice for every request.
		hdr["User-Agent"] = noUserAgent
	}
	stripOwnCookies(hdr)
	pr.SetURL(h.s.upstream)
	if h.s.preserveHost {
		out.Host = in.Host
	}
	// The URL the browser used, as entraweb works it out for redirects:
	// the configured public URL, or a trusted proxy's word, or the
	// request itself.
	base := h.trust.BaseURL(in)
	h.setForwarded(hdr, in, base, trusted)
	if u == nil {
		return
	}
	setAll(hdr, id.headers)
	if h.signer != nil {
		if a, err := h.assertion(u, base); err == nil {
			hdr[AssertionHeader] = a
		} else {
			h.log.Error("proxy: signing the identity assertion", "user_oid", u.ObjectID, "err", err)
		}
	}
	if t := tokenFrom(in.Context()); t != nil {
		hdr["X-Ms-Token-Aad-Access-Token"] = []string{t.token}
		if t.expiresOn != "" {
			hdr["X-Ms-Token-Aad-Expires-On"] = []string{t.expiresOn}
		}
	}
}

// addedHeaders is how many headers rewrite may add: the four forwarding
// headers, User-Agent, the identity's, the assertion and the access
// token's two.
func addedHeaders(id *identity) int {
	n := 5
	if id != nil {
		n += len(id.headers) + 3
	}
	return n
}

// setForwarded sets X-Forwarded-For, -Host, -Proto and -Prefix for the
// upstream, as httputil.ProxyRequest.SetXForwarded would, but with the
// host and scheme the browser used (base) and with value slices made once
// for a given base rather than for every request. A trusted proxy's
// X-Forwarded-For chain is kept, with that proxy's own address added.
func (h *Handler) setForwarded(hdr http.Header, in *http.Request, base *url.URL, trusted bool) {
	if ip, _, err := net.SplitHostPort(in.RemoteAddr); err == nil {
		if prior := in.Header["X-Forwarded-For"]; trusted && len(prior) > 0 {
			ip = strings.Join(prior, ", ") + ", " + ip
		}
		hdr["X-Forwarded-For"] = []string{ip}
	}
	f := h.forwarded.Load()
	if f == nil || f.host != base.Host || f.scheme != base.Scheme || f.prefix != base.Path {
		f = &forwardedValues{host: base.Host, scheme: base.Scheme, prefix: base.Path,
			hostVals: []string{base.Host}, schemeVals: []string{base.Scheme}, prefixVals: []string{base.Path}}
		h.forwarded.Store(f)
	}
	hdr["X-Forwarded-Host"] = f.hostVals
	hdr["X-Forwarded-Proto"] = f.schemeVals
	if f.prefix != "" {
		hdr["X-Forwarded-Prefix"] = f.prefixVals
	} else {
		// A trusted proxy's prefix that BaseURL did not take (invalid, or
		// Forwarded present, which alone then decides) must not reach the
		// upstream as if entraweb had: the upstream would build its URLs
		// on another base than entraweb's redirects.
		delete(hdr, "X-Forwarded-Prefix")
	}
}

var noUserAgent = []string{""}

// forwardedValues are the forwarding headers' values for one base URL,
// shared by the requests that have it (nothing downstream changes them).
type forwardedValues struct {
	host, scheme, prefix             string
	hostVals, schemeVals, prefixVals []string
}

// keepOwnCookies drops what an upstream's Set-Cookie would do to
// entraweb's cookies: the app behind the proxy may not replace or end the
// user's session, or plant one.
func keepOwnCookies(resp *http.Response) error {
	sc := resp.Header["Set-Cookie"]
	if len(sc) == 0 {
		return nil
	}
	kept := sc[:0:0]
	for _, c := range sc {
		name, _, _ := strings.Cut(c, "=")
		if !ownCookie(strings.TrimSpace(name)) {
			kept = append(kept, c)
		}
	}
	if len(kept) != len(sc) {
		resp.Header["Set-Cookie"] = kept
	}
	return nil
}

// statusClientClosed is what the access log shows for a request whose
// client left before the answer (nginx's 499); it is never sent.
const statusClientClosed = 499

// upstreamError answers when the upstream cannot be reached or does not
// answer in time: 502 or 504, as a page for a browser and JSON for
// scripts, never a hang.
func (h *Handler) upstreamError(w http.ResponseWriter, r *http.Request, err error) {
	if r.Context().Err() != nil {
		// The client went away; nobody reads an answer. The access log
		// says so as nginx does.
		if rw, ok := w.(*respWriter); ok && rw.status == 0 {
			rw.status = statusClientClosed
		}
		return
	}
	status, code := http.StatusBadGateway, "upstream_unavailable"
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout() {
		status, code = http.StatusGatewayTimeout, "upstream_timeout"
	}
	// A *url.Error would quote the URL with its query, which may hold
	// codes or tokens: log only what failed.
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	h.log.Warn("proxy: the upstream did not answer", "upstream", h.s.upstream.Host, "method", r.Method, "path", r.URL.Path, "status", status, "err", err)
	msg := "The app behind this sign-in is not answering. Try again in a moment."
	if status == http.StatusGatewayTimeout {
		msg = "The app behind this sign-in took too long to answer. Try again in a moment."
	}
	writeProblem(w, r, status, code, "The app is unavailable", msg)
}

// respWriter is the ResponseWriter every request gets: it sets a write
// deadline before each write, so a client that stops reading is dropped
// after WriteIdleTimeout while a stream that flows is never cut, and it
// records what the access log needs. Hijacking (WebSockets) goes through
// Unwrap; the server clears the deadlines of a hijacked connection.
type respWriter struct {
	http.ResponseWriter
	rc      http.ResponseController
	idle    time.Duration
	dl      time.Time // the write deadline last set
	noDL    bool      // the writer cannot take deadlines (a test recorder)
	status  int
	bytes   int64
	userOID string
	class   string // for the metrics: upstream, auth or health
}

func (w *respWriter) deadline() {
	if w.noDL {
		return
	}
	// Setting a deadline re-arms a runtime timer; a response is written
	// in a few writes within microseconds, so the deadline is moved only
	// when it was set more than deadlineSlack ago. A client that stops
	// reading is dropped between WriteIdleTimeout minus the slack and
	// WriteIdleTimeout after the last write it took.
	now := time.Now()
	if !w.dl.IsZero() && w.dl.Sub(now) > w.idle-deadlineSlack(w.idle) {
		return
	}
	w.dl = now.Add(w.idle)
	// ErrNotSupported: a writer without deadlines (a test's recorder);
	// after a hijack there is no deadline to set either.
	if err := w.rc.SetWriteDeadline(w.dl); err != nil {
		w.noDL = true
	}
}

// deadlineSlack is how long a write deadline may go unmoved: a second,
// or a tenth of a shorter WriteIdleTimeout.
func deadlineSlack(idle time.Duration) time.Duration {
	return min(time.Second, idle/10)
}

func (w *respWriter) WriteHeader(code int) {
	if w.status == 0 && code >= 200 {
		w.status = code
	}
	w.deadline()
	w.ResponseWriter.WriteHeader(code)
}

func (w *respWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	w.deadline()
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

// FlushError flushes, as http.ResponseController asks of a writer.
func (w *respWriter) FlushError() error {
	w.deadline()
	return w.rc.Flush()
}

// Flush flushes, for handlers that look for http.Flusher.
func (w *respWriter) Flush() { w.FlushError() }

// Unwrap exposes the server's writer to http.ResponseController.
func (w *respWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// isUpgrade reports whether r asks to switch protocols (only WebSocket
// gets this far).
func isUpgrade(r *http.Request) bool { return r.Header.Get("Upgrade") != "" }

// checkUpgrade refuses every protocol switch but WebSocket (h2c above
// all: a connection switched to HTTP/2 cleartext would carry further
// requests straight to the upstream, past every check), and a WebSocket
// opened by a page of another origin (cross-site WebSocket hijacking: the
// browser would send the user's cookie along).
func (h *Handler) checkUpgrade(w http.ResponseWriter, r *http.Request) bool {
	up := r.Header.Values("Upgrade")
	if len(up) == 0 {
		return true
	}
	if len(up) != 1 || !strings.EqualFold(strings.TrimSpace(up[0]), "websocket") {
		writeProblem(w, r, http.StatusBadRequest, "upgrade_refused", "Protocol switch refused", "Only WebSocket upgrades pass this proxy.")
		return false
	}
	if o := r.Header.Get("Origin"); o != "" && !sameOrigin(o, h.trust.BaseURL(r)) {
		h.log.Info("proxy: refused a WebSocket from another origin", "origin", clip(o), "path", r.URL.Path)
		writeProblem(w, r, http.StatusForbidden, "origin_refused", "WebSocket refused", "This WebSocket was opened by a page of another site.")
		return false
	}
	return true
}

// sameOrigin reports whether an Origin header names the app's own
// scheme, host and port (default ports compared as such).
func sameOrigin(o string, base *url.URL) bool {
	u, err := url.Parse(o)
	if err != nil || u.Host == "" || u.Path != "" && u.Path != "/" {
		return false
	}
	return strings.EqualFold(u.Scheme, base.Scheme) && strings.EqualFold(hostPort(u), hostPort(base))
}

func hostPort(u *url.URL) string {
	if u.Port() != "" {
		return u.Host
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
		return u.Host + ":443"
	case "http":
		return u.Host + ":80"
	}
	return u.Host
}

func clip(s string) string {
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
}
