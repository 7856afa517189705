package main

import (
	"io"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestMetricsExposition: the registry /metrics serves has linedesk's own metrics, and the
// Temporal SDK's counters as Prometheus counters and its timers in second-scale buckets, so a
// dashboard's rate() and quantiles mean something.
func TestMetricsExposition(t *testing.T) {
	m, err := newMetrics()
	require.NoError(t, err)
	m.temporal.Counter("temporal_request").Inc(3)
	m.temporal.Timer("temporal_workflow_task_execution_latency").Record(30 * time.Millisecond)

	rec := httptest.NewRecorder()
	m.handler.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	text := string(body)
	require.Contains(t, text, "# TYPE temporal_request_total counter")
	require.Contains(t, text, "temporal_request_total 3")
	require.Regexp(t, `temporal_workflow_task_execution_latency_seconds_bucket\{le="0.025"\} 0\n`, text)
	require.Regexp(t, `temporal_workflow_task_execution_latency_seconds_bucket\{le="0.05"\} 1\n`, text)
	for _, name := range []string{"linedesk_handoff_lag_seconds", "linedesk_routing_wait_seconds", "linedesk_sql_statements_total", "go_goroutines"} {
		require.Contains(t, text, name)
	}
}
