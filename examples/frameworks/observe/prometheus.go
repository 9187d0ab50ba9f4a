// Package observe wires entraweb's Config.Observe hook to Prometheus and
// to OpenTelemetry metrics: the few lines the README shows, compiled and
// tested here, in a module of their own, so the core never names either.
package observe

import (
	"context"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/entraweb/entraweb"
)

// Prometheus counts entraweb's events in reg and returns the hook for
// entraweb.Config.Observe.
func Prometheus(reg prometheus.Registerer) func(context.Context, entraweb.Event) {
	// Kind and reason are words of entraweb's own; the AADSTS code of a
	// failed sign-in can be chosen by whoever sends the callback, so it
	// is not a label here (log it instead).
	events := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "entraweb_events_total", Help: "entraweb events by kind and reason.",
	}, []string{"kind", "reason"})
	latency := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "entraweb_latency_seconds", Help: "Token refreshes and session store calls.",
	}, []string{"kind", "op"})
	reg.MustRegister(events, latency)
	return func(_ context.Context, e entraweb.Event) {
		events.WithLabelValues(e.Kind.String(), e.Reason).Inc()
		if e.Duration > 0 {
			latency.WithLabelValues(e.Kind.String(), e.Op).Observe(e.Duration.Seconds())
		}
	}
}
