package proxy

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/entraweb/entraweb"
)

// metrics are the proxy's Prometheus metrics, in a registry of the
// Handler's own (two proxies in one process never collide). The
// library's part (sign-ins, refreshes, refusals, the store) comes through
// entraweb.Config.Observe; the proxy adds requests and the upstream.
type metrics struct {
	reg *prometheus.Registry

	requests       *prometheus.CounterVec // by class and status
	requestsCached sync.Map               // "class status" → prometheus.Counter
	upstream       prometheus.Histogram
	upstreamErrors prometheus.Counter
	signIns        prometheus.Counter
	signInFailures *prometheus.CounterVec // by reason and AADSTS code
	refreshes      *prometheus.CounterVec // by result
	refreshTime    prometheus.Histogram
	refusals       *prometheus.CounterVec // by reason and status
	storeTime      *prometheus.HistogramVec
	storeOps       map[string]prometheus.Observer // storeTime's series for find, commit, delete, resolved once
	storeErrors    *prometheus.CounterVec

	// Label values that hostile input can choose, each set bounded on
	// its own, so that invented AADSTS codes cannot crowd out the
	// reasons of real failures.
	reasons, codes labelGuard
}

// latencyBuckets cover a loopback upstream (a fraction of a
// millisecond) to a slow one (seconds).
var latencyBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "entraweb", Subsystem: "proxy", Name: "requests_total",
			Help: "Requests answered, by class (upstream, auth for /.auth/, health) and HTTP status.",
		}, []string{"class", "code"}),
		upstream: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: "entraweb", Subsystem: "proxy", Name: "upstream_duration_seconds",
			Help:    "Time from sending a request to the upstream to its response headers.",
			Buckets: latencyBuckets,
		}),
		upstreamErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "entraweb", Subsystem: "proxy", Name: "upstream_errors_total",
			Help: "Requests the upstream did not answer (refused, reset, timed out).",
		}),
		signIns: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "entraweb", Name: "sign_ins_total",
			Help: "Sign-ins that ended in a session.",
		}),
		signInFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "entraweb", Name: "sign_in_failures_total",
			Help: "Sign-ins that did not end in a session, by reason and Entra ID's AADSTS code (empty when none).",
		}, []string{"reason", "aadsts"}),
		refreshes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "entraweb", Name: "token_refreshes_total",
			Help: "Access token refreshes with the refresh token, by result (ok, or the failure's reason).",
		}, []string{"result"}),
		refreshTime: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: "entraweb", Name: "token_refresh_duration_seconds",
			Help:    "Time of a token refresh at the token endpoint.",
			Buckets: latencyBuckets,
		}),
		refusals: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "entraweb", Name: "refusals_total",
			Help: "Requests of signed-in users refused (a missing role or group) or failed (an outage), by reason and status.",
		}, []string{"reason", "code"}),
		storeTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "entraweb", Name: "store_duration_seconds",
			Help:    "Time of session store calls, by operation.",
			Buckets: []float64{.00005, .0001, .00025, .0005, .001, .0025, .005, .01, .025, .1, .5, 2},
		}, []string{"op"}),
		storeErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "entraweb", Name: "store_errors_total",
			Help: "Session store calls that failed, by operation.",
		}, []string{"op"}),
		reasons: labelGuard{max: 64},
		codes:   labelGuard{max: 64},
	}
	// Every request makes a store call: its series is looked up here once,
	// not hashed from its label on each call.
	m.storeOps = map[string]prometheus.Observer{}
	for _, op := range []string{"find", "commit", "delete"} {
		m.storeOps[op] = m.storeTime.WithLabelValues(op)
	}
	m.reg.MustRegister(m.requests, m.upstream, m.upstreamErrors, m.signIns, m.signInFailures,
		m.refreshes, m.refreshTime, m.refusals, m.storeTime, m.storeErrors,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{Namespace: "entraweb"}))
	return m
}

// observe is the library's hook (entraweb.Config.Observe).
func (m *metrics) observe(_ context.Context, e entraweb.Event) {
	switch e.Kind {
	case entraweb.EventSignIn:
		m.signIns.Inc()
	case entraweb.EventSignInFailed:
		m.signInFailures.WithLabelValues(m.reasons.word(e.Reason), m.codes.aadsts(e.AADSTS)).Inc()
	case entraweb.EventTokenRefresh:
		result := "ok"
		if e.Err != nil {
			result = m.reasons.word(e.Reason)
		}
		m.refreshes.WithLabelValues(result).Inc()
		m.refreshTime.Observe(e.Duration.Seconds())
	case entraweb.EventRefused:
		m.refusals.WithLabelValues(m.reasons.word(e.Reason), strconv.Itoa(e.Status)).Inc()
	case entraweb.EventStore:
		if o, ok := m.storeOps[e.Op]; ok {
			o.Observe(e.Duration.Seconds())
		} else {
			m.storeTime.WithLabelValues(e.Op).Observe(e.Duration.Seconds())
		}
		if e.Err != nil {
			m.storeErrors.WithLabelValues(e.Op).Inc()
		}
	}
}

// request counts one answered request. The counter of each class and
// status is looked up once, not hashed from its labels every time.
func (m *metrics) request(class string, status int) {
	key := requestKey{class, status}
	if c, ok := m.requestsCached.Load(key); ok {
		c.(prometheus.Counter).Inc()
		return
	}
	c := m.requests.WithLabelValues(class, strconv.Itoa(status))
	m.requestsCached.Store(key, c)
	c.Inc()
}

type requestKey struct {
	class  string
	status int
}

// handler serves the metrics in Prometheus' formats.
func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorLog: nil})
}

// timedTransport times the upstream's answers.
type timedTransport struct {
	rt http.RoundTripper
	m  *metrics
}

func (t timedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	start := time.Now()
	resp, err := t.rt.RoundTrip(r)
	if err != nil {
		t.m.upstreamErrors.Inc()
		return nil, err
	}
	t.m.upstream.Observe(time.Since(start).Seconds())
	return resp, nil
}

// labelGuard keeps label values few: a failed sign-in's AADSTS code and
// reason come partly from the callback's query, which anyone can send
// with a state of their own, so an unbounded set of label values could
// be made to grow without end. Past max distinct values, new ones are
// counted as "other".
type labelGuard struct {
	mu   sync.Mutex
	max  int
	seen map[string]bool
}

func (g *labelGuard) keep(v string) string {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.seen[v] {
		return v
	}
	if len(g.seen) >= g.max {
		return "other"
	}
	if g.seen == nil {
		g.seen = map[string]bool{}
	}
	g.seen[v] = true
	return v
}

// word passes a reason on when it is a short code word (entraweb's are).
func (g *labelGuard) word(v string) string {
	if v == "" || len(v) > 40 {
		return "other"
	}
	for _, c := range v {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '_' {
			return "other"
		}
	}
	return g.keep(v)
}

// aadsts passes a code of up to 9 digits on.
func (g *labelGuard) aadsts(v string) string {
	if v == "" {
		return ""
	}
	if len(v) > 9 {
		return "other"
	}
	for _, c := range v {
		if c < '0' || c > '9' {
			return "other"
		}
	}
	return g.keep(v)
}
