package observe

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/entraweb/entraweb"
)

// OpenTelemetry records entraweb's events with meter and returns the hook
// for entraweb.Config.Observe.
func OpenTelemetry(meter metric.Meter) (func(context.Context, entraweb.Event), error) {
	events, err := meter.Int64Counter("entraweb.events")
	if err != nil {
		return nil, err
	}
	latency, err := meter.Float64Histogram("entraweb.latency", metric.WithUnit("s"))
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context, e entraweb.Event) {
		// Not e.AADSTS: a failed sign-in's code can be chosen by whoever
		// sends the callback, and every value would be a new series.
		attrs := metric.WithAttributes(attribute.String("kind", e.Kind.String()),
			attribute.String("reason", e.Reason), attribute.String("op", e.Op))
		events.Add(ctx, 1, attrs)
		if e.Duration > 0 {
			latency.Record(ctx, e.Duration.Seconds(), attrs)
		}
	}, nil
}
