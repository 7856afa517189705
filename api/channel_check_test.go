package api_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestChannelConnectionTest: a supervisor of the line tests an api channel's callback with a
// signed ping the integrator verifies; a failing callback is reported with the step and the
// status, and a callback that is down with the request step.
func TestChannelConnectionTest(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{})
	cs := a.setupChannel(map[string]any{"name": "Pinged"})
	path := fmt.Sprintf("/api/v1/channels/%d/test", cs.channelID)
	type check struct {
		OK         bool   `json:"ok"`
		Step       string `json:"step"`
		StatusCode int    `json:"status_code"`
		Error      string `json:"error"`
	}
	test := func() check {
		res := a.do(a.http, "POST", path, nil, nil)
		require.Equal(t, http.StatusOK, res.status, res.text)
		var c check
		res.json(t, &c)
		return c
	}

	require.Equal(t, check{OK: true, StatusCode: http.StatusNoContent}, test())
	require.Equal(t, 1, cs.fake.Pings(), "the integrator got one signed ping")
	require.Zero(t, cs.fake.Rejected())
	require.Empty(t, cs.fake.Deliveries(), "a ping is not a message")

	cs.fake.FailNext(1, http.StatusServiceUnavailable)
	got := test()
	require.False(t, got.OK)
	require.Equal(t, "answer", got.Step)
	require.Equal(t, http.StatusServiceUnavailable, got.StatusCode)

	// The callback moves to a port nothing listens on.
	res := a.do(a.http, "PATCH", fmt.Sprintf("/api/v1/channels/%d", cs.channelID),
		map[string]any{"settings": map[string]string{"callback_url": "http://127.0.0.1:1/hook"}}, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)
	got = test()
	require.False(t, got.OK)
	require.Equal(t, "request", got.Step)
	require.Contains(t, got.Error, "refused")

	// An operator may not test channels.
	_, olga := a.newOperator("olga@example.com", "Olga")
	require.Equal(t, http.StatusForbidden, a.do(olga, "POST", path, nil, nil).status)
	require.Equal(t, http.StatusNotFound, a.do(a.http, "POST", "/api/v1/channels/999999/test", nil, nil).status)
}
