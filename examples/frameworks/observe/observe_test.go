package observe

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/entraweb/entraweb"
	"github.com/entraweb/entraweb/entratest"
)

// Both hooks, wired to one app, count a sign-in, a refused page and the
// store's calls.
func TestHooks(t *testing.T) {
	reg := prometheus.NewRegistry()
	prom := Prometheus(reg)
	reader := sdkmetric.NewManualReader()
	otel, err := OpenTelemetry(sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader)).Meter("entraweb"))
	if err != nil {
		t.Fatal(err)
	}

	srv := entratest.NewServer(t, nil)
	auth, err := entraweb.New(context.Background(), entraweb.Config{
		Instance:     srv.URL + "/",
		TenantID:     entratest.DemoTenantID,
		ClientID:     entratest.DemoClientID,
		ClientSecret: entratest.DemoClientSecret,
		HTTPClient:   srv.Client(),
		Logger:       slog.New(slog.NewTextHandler(io.Discard, nil)),
		Observe: func(ctx context.Context, e entraweb.Event) {
			prom(ctx, e)
			otel(ctx, e)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer auth.Close()
	mux := http.NewServeMux()
	auth.Mount(mux)
	mux.Handle("/", auth.RequireRole("DemoApp.Admin", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "admin page")
	})))
	app := httptest.NewServer(mux)
	defer app.Close()
	resp, _, err := srv.Browser().Visit(context.Background(), app.URL+"/", "carol@"+entratest.DemoTenantDomain, entratest.DemoPassword)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("carol on the Admin page: %d", resp.StatusCode)
	}

	// Prometheus.
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			key := f.GetName()
			for _, l := range m.GetLabel() {
				if l.GetValue() != "" {
					key += " " + l.GetName() + "=" + l.GetValue()
				}
			}
			if c := m.GetCounter(); c != nil {
				got[key] = c.GetValue()
			}
			if h := m.GetHistogram(); h != nil {
				got[key] = float64(h.GetSampleCount())
			}
		}
	}
	for _, k := range []string{
		"entraweb_events_total kind=sign_in",
		"entraweb_events_total kind=refused reason=forbidden",
		"entraweb_latency_seconds kind=store op=find",
		"entraweb_latency_seconds kind=store op=commit",
	} {
		if got[k] < 1 {
			t.Errorf("Prometheus: %s = %v, want at least 1 (all: %v)", k, got[k], got)
		}
	}

	// OpenTelemetry.
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int64{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if sum, ok := m.Data.(metricdata.Sum[int64]); ok && m.Name == "entraweb.events" {
				for _, dp := range sum.DataPoints {
					k, _ := dp.Attributes.Value("kind")
					kinds[k.AsString()] += dp.Value
				}
			}
		}
	}
	if kinds["sign_in"] != 1 || kinds["refused"] != 1 || kinds["store"] < 2 {
		t.Errorf("OpenTelemetry events by kind: %v, want one sign_in, one refused, store calls", kinds)
	}
}

// The README shows these hooks: what it shows is this package's code,
// word for word, so it compiles and is tested here.
func TestREADMEShowsThisCode(t *testing.T) {
	readme, err := os.ReadFile("../../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, file := range []string{"prometheus.go", "otel.go"} {
		src, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		// The function, from its doc comment to its end.
		_, fn, ok := strings.Cut(string(src), "\n// ")
		if file == "prometheus.go" {
			_, fn, ok = strings.Cut(fn, "\n// ")
		}
		if !ok || !strings.Contains(string(readme), "// "+fn) {
			t.Errorf("README.md does not show %s's function as it is:\n// %s", file, fn)
		}
	}
}
