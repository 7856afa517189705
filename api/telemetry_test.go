package api_test

import (
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/require"

	"github.com/linedesk/linedesk/telemetry"
)

// observations is how many values a histogram has taken.
func observations(t *testing.T, h prometheus.Histogram) uint64 {
	t.Helper()
	var m dto.Metric
	require.NoError(t, h.(prometheus.Metric).Write(&m))
	return m.GetHistogram().GetSampleCount()
}

// TestMetricsCountTheDesksWork: a client's message, its redelivery, the operator taking the
// conversation from the queue and replying move linedesk's own metrics. The metrics are the
// process's: the test does not run in parallel with others (it runs before the parallel ones
// resume), and asserts that they grew by at least what this conversation did.
func TestMetricsCountTheDesksWork(t *testing.T) {
	a := newApp(t, appOptions{})
	cs := a.setupChannel(map[string]any{"name": "Support", "auto_open": true})
	_, ann := a.newOperator("ann@desk.example", "Ann Operator")

	accepted := testutil.ToFloat64(telemetry.InboundMessages.WithLabelValues("api", telemetry.InboundAccepted))
	duplicates := testutil.ToFloat64(telemetry.InboundMessages.WithLabelValues("api", telemetry.InboundDuplicate))
	lags := observations(t, telemetry.HandoffLag)
	waits := observations(t, telemetry.RoutingWait)
	delivered := testutil.ToFloat64(telemetry.Deliveries.WithLabelValues("api"))
	takes := testutil.ToFloat64(telemetry.HTTPRequests.WithLabelValues("POST", "/api/v1/conversations/:number/take", "200"))

	res, in := a.inbound(cs, "m-1", clientText("u-1", "where is my order?"))
	require.Equal(t, http.StatusAccepted, res.status, res.text)
	res, _ = a.inbound(cs, "m-1", clientText("u-1", "where is my order?"))
	require.Equal(t, http.StatusAccepted, res.status, res.text)
	require.GreaterOrEqual(t, testutil.ToFloat64(telemetry.InboundMessages.WithLabelValues("api", telemetry.InboundAccepted)), accepted+1)
	require.GreaterOrEqual(t, testutil.ToFloat64(telemetry.InboundMessages.WithLabelValues("api", telemetry.InboundDuplicate)), duplicates+1)
	require.Eventually(t, func() bool { return observations(t, telemetry.HandoffLag) >= lags+1 }, 20*time.Second, 50*time.Millisecond,
		"the hand-off reported its lag")

	path := fmt.Sprintf("/api/v1/conversations/%d", *in.Conversation)
	res = a.do(ann, "POST", path+"/take", nil, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)
	require.GreaterOrEqual(t, testutil.ToFloat64(telemetry.HTTPRequests.WithLabelValues("POST", "/api/v1/conversations/:number/take", "200")), takes+1,
		"requests are counted by their route, not their path")
	require.Eventually(t, func() bool { return observations(t, telemetry.RoutingWait) > waits }, 20*time.Second, 50*time.Millisecond,
		"taking the conversation out of the queue reports its wait")

	res = a.do(ann, "POST", path+"/messages", map[string]string{"text": "Looking into it"}, nil)
	require.Equal(t, http.StatusCreated, res.status, res.text)
	cs.fake.WaitFor(t, 1, 20*time.Second)
	require.Eventually(t, func() bool { return testutil.ToFloat64(telemetry.Deliveries.WithLabelValues("api")) > delivered },
		20*time.Second, 50*time.Millisecond, "the delivery is counted")
}

// TestRequestIDs: every answer carries a request id — the caller's when it is a plain token,
// else a new one — so a client's report can be found in the logs.
func TestRequestIDs(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{noTemporal: true})
	res := a.do(a.http, "GET", "/api/v1/me", nil, map[string]string{"X-Request-Id": "support-ticket-77"})
	require.Equal(t, "support-ticket-77", res.header.Get("X-Request-Id"))
	res = a.do(a.http, "GET", "/api/v1/me", nil, map[string]string{"X-Request-Id": "bad id\twith spaces"})
	require.Regexp(t, `^[0-9a-f]{24}$`, res.header.Get("X-Request-Id"), "an id that could forge log lines is replaced")
	res = a.do(a.http, "GET", "/api/v1/me", nil, nil)
	require.Regexp(t, `^[0-9a-f]{24}$`, res.header.Get("X-Request-Id"))

	// Any token is a method to HTTP; the metrics count the unknown ones as one series.
	other := testutil.ToFloat64(telemetry.HTTPRequests.WithLabelValues("other", "/api/v1/me", "405"))
	res = a.do(a.http, "BREW", "/api/v1/me", nil, nil)
	require.Equal(t, http.StatusMethodNotAllowed, res.status, res.text)
	require.NotEmpty(t, res.header.Get("X-Request-Id"), "a refusal carries an id too")
	require.Equal(t, other+1, testutil.ToFloat64(telemetry.HTTPRequests.WithLabelValues("other", "/api/v1/me", "405")))
}

// TestActivityLogLinesNameTheirConversation: a failing delivery's log lines, written by the
// worker's activity, name the conversation and its workflow, so an operator's report of a
// message that did not arrive leads to them.
func TestActivityLogLinesNameTheirConversation(t *testing.T) {
	if os.Getenv("LINEDESK_TEST_LOG") != "" {
		t.Skip("the server log goes to stderr")
	}
	t.Parallel()
	a := newApp(t, appOptions{})
	cs := a.setupChannel(map[string]any{"name": "Support", "auto_open": true})
	res := a.do(a.http, "PATCH", fmt.Sprintf("/api/v1/channels/%d", cs.channelID),
		map[string]any{"settings": map[string]string{"callback_url": "http://127.0.0.1:9/hook"}}, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)
	res, in := a.inbound(cs, "m-1", clientText("u-1", "hello"))
	require.Equal(t, http.StatusAccepted, res.status, res.text)
	path := fmt.Sprintf("/api/v1/conversations/%d", *in.Conversation)
	require.Equal(t, http.StatusOK, a.do(a.http, "POST", path+"/take", nil, nil).status)
	require.Equal(t, http.StatusCreated, a.do(a.http, "POST", path+"/messages", map[string]string{"text": "hi"}, nil).status)
	want := fmt.Sprintf("workflow_id=conversation:%d activity=DeliverMessage conversation=%d", *in.Conversation, *in.Conversation)
	require.Eventually(t, func() bool {
		for _, line := range strings.Split(a.logs.String(), "\n") {
			if strings.Contains(line, "delivery attempt failed") && strings.Contains(line, want) {
				return true
			}
		}
		return false
	}, 20*time.Second, 100*time.Millisecond, "a delivery failure's line naming %q", want)
}
