package main

import (
	"fmt"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.temporal.io/sdk/client"
	temporalotel "go.temporal.io/sdk/contrib/opentelemetry"

	"github.com/linedesk/linedesk/store"
	"github.com/linedesk/linedesk/telemetry"
)

// metrics is linedesk's Prometheus registry: Go runtime and process collectors, linedesk's own
// (package telemetry: inbound rate, hand-off lag, deliveries, SLA breaches, routing wait, HTTP),
// plus the Temporal SDK's own metrics (workflow task latencies, activity outcomes, poller counts…).
type metrics struct {
	handler  http.Handler
	temporal client.MetricsHandler
}

func newMetrics() (*metrics, error) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "linedesk_sql_statements_total",
			Help: "SQL statements sent to PostgreSQL by this process (BEGIN and COMMIT, batch entries and COPY included).",
		}, func() float64 { return float64(store.StatementsSent()) }))
	reg.MustRegister(telemetry.Collectors()...)
	exporter, err := otelprom.New(otelprom.WithRegisterer(reg), otelprom.WithoutScopeInfo())
	if err != nil {
		return nil, fmt.Errorf("prometheus exporter: %w", err)
	}
	// The SDK's timers are histograms in seconds; OpenTelemetry's default buckets (0, 5, 10 …
	// 10000) suit milliseconds and would put every workflow task in the first one.
	seconds := sdkmetric.NewView(sdkmetric.Instrument{Kind: sdkmetric.InstrumentKindHistogram, Unit: "s"},
		sdkmetric.Stream{Aggregation: sdkmetric.AggregationExplicitBucketHistogram{
			Boundaries: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60}}})
	provider := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exporter), sdkmetric.WithView(seconds))
	return &metrics{
		handler: promhttp.HandlerFor(reg, promhttp.HandlerOpts{}),
		temporal: temporalotel.NewMetricsHandler(temporalotel.MetricsHandlerOptions{
			Meter: provider.Meter("linedesk"),
			// Counters as Prometheus counters (…_total), which rate() expects.
			UseMonotonicCounters: true,
			// A metric the meter refuses is dropped, not a panic in the worker.
			OnError: func(error) {},
		}),
	}, nil
}
