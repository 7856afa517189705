// Package telemetry holds linedesk's own Prometheus metrics and the log context that carries
// request and conversation ids into every log line of a request or an activity.
//
// The metrics are process-wide (one api or worker process is one Prometheus target), so they
// are package variables the code paths that count them update directly; cmd/linedesk registers
// them with the process's registry next to the Go runtime's and the Temporal SDK's.
package telemetry

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Results of an inbound message at the hand-off.
const (
	InboundAccepted  = "accepted"  // new and durable
	InboundDuplicate = "duplicate" // a redelivery of one already stored
	InboundBlocked   = "blocked"   // from a blocked client: not stored
)

var (
	// InboundMessages counts messages the channels handed in, by channel kind and result.
	InboundMessages = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "linedesk_inbound_messages_total",
		Help: "Inbound messages by channel kind and result (accepted, duplicate, blocked).",
	}, []string{"channel", "result"})

	// HandoffLag is the time from a message's commit in PostgreSQL to its chat workflow
	// accepting it (the durable outbox's delay).
	HandoffLag = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "linedesk_handoff_lag_seconds",
		Help:    "Time from an inbound message's commit to its chat workflow accepting it.",
		Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300},
	})

	// Deliveries counts outbound messages a channel took, by channel kind.
	Deliveries = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "linedesk_deliveries_total",
		Help: "Outbound messages handed to their channel, by channel kind.",
	}, []string{"channel"})

	// DeliveryFailures counts failed delivery attempts (each retry counts), by channel kind.
	DeliveryFailures = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "linedesk_delivery_failures_total",
		Help: "Failed outbound delivery attempts (every retry counts), by channel kind.",
	}, []string{"channel"})

	// SLABreaches counts SLA clocks that ran out, by clock (first_response, next_response, resolution).
	SLABreaches = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "linedesk_sla_breaches_total",
		Help: "SLA deadlines missed, by clock.",
	}, []string{"kind"})

	// RoutingWait is how long a conversation waited in its line's queue before an operator had it.
	RoutingWait = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "linedesk_routing_wait_seconds",
		Help:    "Time a conversation waited in the queue until an operator took it or was given it.",
		Buckets: []float64{.1, .25, .5, 1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 4 * 3600},
	})

	// HTTPRequests counts requests by method, route template and status code.
	HTTPRequests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "linedesk_http_requests_total",
		Help: "HTTP requests by method, route and status code.",
	}, []string{"method", "route", "code"})

	// HTTPDuration is the requests' latency by route template (SSE streams excluded).
	HTTPDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "linedesk_http_request_duration_seconds",
		Help:    "HTTP request latency by route (event streams excluded).",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	}, []string{"route"})
)

// Collectors returns linedesk's metrics for a registry.
func Collectors() []prometheus.Collector {
	return []prometheus.Collector{InboundMessages, HandoffLag, Deliveries, DeliveryFailures, SLABreaches,
		RoutingWait, HTTPRequests, HTTPDuration}
}

// Since observes the seconds from t until now in h, ignoring a t in the future (clock skew
// between processes) and a zero t.
func Since(h prometheus.Observer, t time.Time) {
	if t.IsZero() {
		return
	}
	if d := time.Since(t); d >= 0 {
		h.Observe(d.Seconds())
	}
}
