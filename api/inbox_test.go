package api_test

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/linedesk/linedesk/store"
)

type countsView struct {
	Views        map[string]int64 `json:"views"`
	ChannelKinds map[string]int64 `json:"channel_kinds"`
	Lines        map[string]int64 `json:"lines"`
}

func (a *app) counts(c *http.Client) countsView {
	a.t.Helper()
	res := a.do(c, "GET", "/api/v1/conversations/counts", nil, nil)
	require.Equal(a.t, http.StatusOK, res.status, res.text)
	var v countsView
	res.json(a.t, &v)
	return v
}

// TestConversationCountsAreScopedLikeTheList: an operator of line A counts A's open
// conversations only, never B's; the admin counts both; the view counters follow the list's
// views.
func TestConversationCountsAreScopedLikeTheList(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{})
	lineA := a.setupChannel(map[string]any{"name": "A", "auto_open": true})
	lineB := a.setupChannel(map[string]any{"name": "B", "auto_open": true})
	olga := a.newUser("olga@desk.example", "Olga", store.RoleOperator)
	_, err := a.store.SaveGroup(t.Context(), store.Group{Name: "A operators", Kind: store.GroupOperators,
		Permissions: []string{store.PermOmni, store.PermUnassignedQueue}, LineIDs: []int64{lineA.lineID}, MemberIDs: []int64{olga.ID}})
	require.NoError(t, err)
	olgaC := a.login("olga@desk.example", "pw-Olga")

	_, a1 := a.inbound(lineA, "a1", clientText("u-a1", "hello from A"))
	_, a2 := a.inbound(lineA, "a2", clientText("u-a2", "another from A"))
	_, b1 := a.inbound(lineB, "b1", clientText("u-b1", "hello from B"))
	_, b2 := a.inbound(lineB, "b2", clientText("u-b2", "again from B"))
	_, b3 := a.inbound(lineB, "b3", clientText("u-b3", "and again from B"))
	for _, ans := range []inboundAnswer{a1, a2, b1, b2, b3} {
		require.NotNil(t, ans.Conversation)
	}

	la, lb := strconv.FormatInt(lineA.lineID, 10), strconv.FormatInt(lineB.lineID, 10)
	oc := a.counts(olgaC)
	require.Equal(t, int64(2), oc.Views["all"], "Olga counts line A only: %+v", oc)
	require.Equal(t, int64(2), oc.Views["unassigned"])
	require.Equal(t, int64(0), oc.Views["mine"])
	require.Equal(t, int64(2), oc.Lines[la])
	_, seesB := oc.Lines[lb]
	require.False(t, seesB, "line B is not counted for an operator of line A: %+v", oc.Lines)
	require.Equal(t, int64(2), oc.ChannelKinds["api"])

	ac := a.counts(a.http)
	require.Equal(t, int64(5), ac.Views["all"])
	require.Equal(t, int64(3), ac.Lines[lb])
	require.Equal(t, int64(5), ac.ChannelKinds["api"])

	// Olga takes one: it leaves Unassigned and counts as hers.
	res := a.do(olgaC, "POST", fmt.Sprintf("/api/v1/conversations/%d/take", *a1.Conversation), nil, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)
	a.waitFor("the take's projection", 10*time.Second, func() bool {
		c := a.counts(olgaC)
		return c.Views["mine"] == 1 && c.Views["unassigned"] == 1
	})
	require.Equal(t, http.StatusUnauthorized, a.do(&http.Client{}, "GET", "/api/v1/conversations/counts", nil, nil).status)
}

// TestConversationListShowsLastMessageAndWaiting: the list carries the latest message (cut to
// 200 characters) and since when the client waits; an operator's answer ends the wait.
func TestConversationListShowsLastMessageAndWaiting(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{})
	cs := a.setupChannel(map[string]any{"name": "Support", "auto_open": true})
	_, first := a.inbound(cs, "m1", clientText("u-1", "first question"))
	require.NotNil(t, first.Conversation)
	n := *first.Conversation
	long := strings.Repeat("я", 250)
	_, second := a.inbound(cs, "m2", clientText("u-1", long))
	require.Equal(t, n, *second.Conversation)

	type item struct {
		Number      int64 `json:"number"`
		LastMessage *struct {
			Text      string    `json:"text"`
			Direction string    `json:"direction"`
			CreatedAt time.Time `json:"created_at"`
		} `json:"last_message"`
		WaitingSince *time.Time `json:"waiting_since"`
	}
	find := func() item {
		res := a.do(a.http, "GET", "/api/v1/conversations?view=all&sort=activity", nil, nil)
		require.Equal(t, http.StatusOK, res.status, res.text)
		var l struct{ Items []item }
		res.json(t, &l)
		for _, it := range l.Items {
			if it.Number == n {
				return it
			}
		}
		t.Fatalf("conversation %d is not listed", n)
		return item{}
	}
	it := find()
	require.NotNil(t, it.LastMessage)
	require.Equal(t, "in", it.LastMessage.Direction)
	require.Equal(t, strings.Repeat("я", 200), it.LastMessage.Text, "cut to 200 characters, not bytes")
	require.NotNil(t, it.WaitingSince, "the client waits")
	firstAt := *it.WaitingSince
	require.True(t, !firstAt.After(it.LastMessage.CreatedAt), "waiting since the first unanswered message")

	res := a.do(a.http, "POST", fmt.Sprintf("/api/v1/conversations/%d/take", n), nil, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)
	res = a.do(a.http, "POST", fmt.Sprintf("/api/v1/conversations/%d/messages", n), map[string]string{"text": "On it"}, nil)
	require.Less(t, res.status, 300, res.text)
	a.waitFor("the answer in the list", 10*time.Second, func() bool {
		it := find()
		return it.WaitingSince == nil && it.LastMessage != nil && it.LastMessage.Direction == "out" && it.LastMessage.Text == "On it"
	})

	// A new client message starts a new wait, later than the first.
	_, third := a.inbound(cs, "m3", clientText("u-1", "thanks, and?"))
	require.Equal(t, n, *third.Conversation)
	a.waitFor("the new wait", 10*time.Second, func() bool {
		it := find()
		return it.WaitingSince != nil && it.WaitingSince.After(firstAt)
	})
	// GET one conversation carries the same fields.
	var one item
	res = a.do(a.http, "GET", fmt.Sprintf("/api/v1/conversations/%d", n), nil, nil)
	res.json(t, &one)
	require.NotNil(t, one.LastMessage)
	require.Equal(t, "thanks, and?", one.LastMessage.Text)
}

// TestConsoleSettings: defaults for everyone signed in; the admin saves validated settings; an
// operator may not.
func TestConsoleSettings(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{})
	_, olgaC := a.newOperator("olga@desk.example", "Olga")
	var cs map[string]any
	res := a.do(olgaC, "GET", "/api/v1/console-settings", nil, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)
	res.json(t, &cs)
	require.Equal(t, float64(120), cs["wait_warn_seconds"])
	require.Equal(t, float64(300), cs["wait_alert_seconds"])
	require.Equal(t, []any{}, cs["channel_kinds"])
	require.Equal(t, []any{"queued", "active", "paused"}, cs["statuses"])

	good := map[string]any{"wait_warn_seconds": 60, "wait_alert_seconds": 180, "channel_kinds": []string{"api", "email"}, "statuses": []string{"queued", "active"}}
	require.Equal(t, http.StatusForbidden, a.do(olgaC, "PUT", "/api/v1/console-settings", good, nil).status)
	for _, bad := range []map[string]any{
		{"wait_warn_seconds": 300, "wait_alert_seconds": 120, "channel_kinds": []string{}, "statuses": []string{"queued"}},
		{"wait_warn_seconds": 0, "wait_alert_seconds": 120, "channel_kinds": []string{}, "statuses": []string{"queued"}},
		{"wait_warn_seconds": 60, "wait_alert_seconds": 120, "channel_kinds": []string{"pigeon"}, "statuses": []string{"queued"}},
		{"wait_warn_seconds": 60, "wait_alert_seconds": 120, "channel_kinds": []string{}, "statuses": []string{"lost"}},
		{"wait_warn_seconds": 60, "wait_alert_seconds": 120, "channel_kinds": []string{}, "statuses": []string{}},
	} {
		res := a.do(a.http, "PUT", "/api/v1/console-settings", bad, nil)
		require.Equal(t, http.StatusBadRequest, res.status, "%v: %s", bad, res.text)
	}
	res = a.do(a.http, "PUT", "/api/v1/console-settings", good, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)
	res = a.do(olgaC, "GET", "/api/v1/console-settings", nil, nil)
	res.json(t, &cs)
	require.Equal(t, float64(60), cs["wait_warn_seconds"])
	require.Equal(t, []any{"api", "email"}, cs["channel_kinds"])
	require.Equal(t, []any{"queued", "active"}, cs["statuses"])
}

// TestConversationListFiltersByStatusesAndChannelKind: the inbox asks for the admin's statuses
// and a channel folder in one request.
func TestConversationListFiltersByStatusesAndChannelKind(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{})
	cs := a.setupChannel(map[string]any{"name": "Support", "auto_open": true})
	_, one := a.inbound(cs, "k1", clientText("u-k1", "hi"))
	require.NotNil(t, one.Conversation)
	listed := func(q string) int {
		res := a.do(a.http, "GET", "/api/v1/conversations?"+q, nil, nil)
		require.Equal(t, http.StatusOK, res.status, res.text)
		var l struct{ Items []struct{ Number int64 } }
		res.json(t, &l)
		return len(l.Items)
	}
	require.Equal(t, 1, listed("status=queued,active,paused&channel_kind=api"))
	require.Equal(t, 0, listed("status=active,paused"))
	require.Equal(t, 0, listed("channel_kind=email"))
	require.Equal(t, 0, listed("view=mine&status=queued,active&channel_kind=api"), "mine takes the filters too")
	require.Equal(t, http.StatusBadRequest, a.do(a.http, "GET", "/api/v1/conversations?status=queued,lost", nil, nil).status)
	require.Equal(t, http.StatusBadRequest, a.do(a.http, "GET", "/api/v1/conversations?channel_kind=pigeon", nil, nil).status)
}
