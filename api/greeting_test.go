package api_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestGreetingAndOutOfHoursReply: a line greets a client's new request at once; outside its
// regulation's business hours it sends the out-of-hours message instead; an operator's own
// dialog gets neither.
func TestGreetingAndOutOfHoursReply(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{})
	day := func(d int) string { return time.Now().In(time.UTC).AddDate(0, 0, d).Format(time.DateOnly) }
	res := a.do(a.http, "POST", "/api/v1/regulations", map[string]any{"name": "Closed today", "first_response_minutes": 60,
		"calendar": map[string]any{"time_zone": "UTC", "holidays": []string{day(-1), day(0), day(1)}}}, nil)
	require.Equal(t, http.StatusCreated, res.status, res.text)
	var reg struct {
		ID int64 `json:"id"`
	}
	res.json(t, &reg)
	open := a.setupChannel(map[string]any{"name": "Open", "auto_open": true, "greeting_text": "Hello! An operator will answer shortly.",
		"out_of_hours_text": "We are closed now."})
	closed := a.setupChannel(map[string]any{"name": "Closed", "auto_open": true, "regulation_id": reg.ID,
		"greeting_text": "Hello!", "out_of_hours_text": "We are closed today; we answer tomorrow."})
	plain := a.setupChannel(map[string]any{"name": "Plain", "auto_open": true})

	outbound := func(cs channelSetup, who string) []string {
		t.Helper()
		r, in := a.inbound(cs, who, clientText(who, "hi"))
		require.Equal(t, http.StatusAccepted, r.status, r.text)
		var texts []string
		require.Eventually(t, func() bool {
			var page struct {
				Items []struct {
					Direction string `json:"direction"`
					Text      string `json:"text"`
					Status    string `json:"status"`
				} `json:"items"`
			}
			a.do(a.http, "GET", fmt.Sprintf("/api/v1/conversations/%d/messages", *in.Conversation), nil, nil).json(t, &page)
			texts = nil
			for _, m := range page.Items {
				if m.Direction == "out" && m.Status != "pending" {
					texts = append(texts, m.Text)
				}
			}
			return len(texts) > 0
		}, 10*time.Second, 100*time.Millisecond)
		return texts
	}
	require.Equal(t, []string{"Hello! An operator will answer shortly."}, outbound(open, "u-1"), "no regulation: the greeting")
	require.Equal(t, []string{"We are closed today; we answer tomorrow."}, outbound(closed, "u-2"))
	// The client's channel got it too.
	got := closed.fake.WaitFor(t, 1, 10*time.Second)
	require.Equal(t, "We are closed today; we answer tomorrow.", got[0].Outbound.Message.Text)

	// A line without texts sends nothing.
	r, in := a.inbound(plain, "u-3", clientText("u-3", "hi"))
	require.Equal(t, http.StatusAccepted, r.status, r.text)
	time.Sleep(300 * time.Millisecond)
	res = a.do(a.http, "GET", fmt.Sprintf("/api/v1/conversations/%d/messages", *in.Conversation), nil, nil)
	require.NotContains(t, res.text, `"direction":"out"`)

	require.Equal(t, http.StatusBadRequest, a.do(a.http, "POST", "/api/v1/lines", map[string]any{"name": "X",
		"greeting_text": string(make([]rune, 2001))}, nil).status)
}
