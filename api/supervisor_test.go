package api_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/linedesk/linedesk/store"
)

// TestSupervisorViewsFillIn: a line's supervisor sees its conversations in progress and how its
// operators are doing today, leaves an operator a comment that reaches them as a notification,
// and sees nothing of a line they do not supervise.
func TestSupervisorViewsFillIn(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{})
	sales := a.setupChannel(map[string]any{"name": "Sales", "auto_open": true})
	support := a.setupChannel(map[string]any{"name": "Support", "auto_open": true})
	ctx := t.Context()
	group := func(name, kind string, line int64, members ...int64) {
		_, err := a.store.SaveGroup(ctx, store.Group{Name: name, Kind: kind, Permissions: []string{store.PermOmni, store.PermUnassignedQueue},
			LineIDs: []int64{line}, MemberIDs: members})
		require.NoError(t, err)
	}
	olga := a.newUser("olga@desk.example", "Olga", store.RoleOperator)
	pavel := a.newUser("pavel@desk.example", "Pavel", store.RoleOperator)
	sam := a.newUser("sam@desk.example", "Sam", store.RoleSupervisor)
	group("Sales operators", store.GroupOperators, sales.lineID, olga.ID)
	group("Support operators", store.GroupOperators, support.lineID, pavel.ID)
	group("Sales supervisors", store.GroupSupervisors, sales.lineID, sam.ID)
	olgaC, pavelC, samC := a.login("olga@desk.example", "pw-Olga"), a.login("pavel@desk.example", "pw-Pavel"), a.login("sam@desk.example", "pw-Sam")

	_, in := a.inbound(sales, "s1", clientText("u-s1", "price?"))
	s1 := *in.Conversation
	_, in = a.inbound(support, "p1", clientText("u-p1", "broken"))
	p1 := *in.Conversation
	conv := fmt.Sprintf("/api/v1/conversations/%d", s1)
	require.Equal(t, http.StatusOK, a.do(olgaC, "POST", conv+"/take", nil, nil).status)
	require.Equal(t, http.StatusCreated, a.do(olgaC, "POST", conv+"/messages", map[string]any{"text": "10 euros"}, nil).status)
	a.inbound(sales, "s2", clientText("u-s1", "and delivery?"))
	require.Equal(t, http.StatusCreated, a.do(olgaC, "POST", conv+"/messages", map[string]any{"text": "free"}, nil).status)
	require.Equal(t, http.StatusOK, a.do(pavelC, "POST", fmt.Sprintf("/api/v1/conversations/%d/take", p1), nil, nil).status)

	var convs struct {
		Items []store.SupervisedConversation `json:"items"`
	}
	res := a.do(samC, "GET", "/api/v1/supervisor/conversations", nil, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)
	res.json(t, &convs)
	require.Len(t, convs.Items, 1, "Sam supervises Sales only")
	got := convs.Items[0]
	require.Equal(t, s1, got.Number)
	require.Equal(t, "Sales", got.Line.Name)
	require.Equal(t, "api", got.ChannelKind)
	require.NotNil(t, got.Operator)
	require.Equal(t, olga.ID, got.Operator.ID)
	require.GreaterOrEqual(t, got.DurationSeconds, int64(0))

	res = a.do(a.http, "GET", fmt.Sprintf("/api/v1/supervisor/conversations?operator=%d&sort=activity", pavel.ID), nil, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)
	res.json(t, &convs)
	require.Len(t, convs.Items, 1, "the admin sees every line, filtered by operator")
	require.Equal(t, p1, convs.Items[0].Number)

	// A queued one joins the board when the supervisor asks for every open status.
	_, in = a.inbound(sales, "s3", clientText("u-s3", "hello?"))
	s3 := *in.Conversation
	res = a.do(samC, "GET", "/api/v1/supervisor/conversations?status=queued,active,paused&sort=created", nil, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)
	res.json(t, &convs)
	require.Len(t, convs.Items, 2)
	require.Equal(t, []int64{s3, s1}, []int64{convs.Items[0].Number, convs.Items[1].Number})
	require.Equal(t, "queued", convs.Items[0].Status)
	require.Equal(t, http.StatusBadRequest, a.do(samC, "GET", "/api/v1/supervisor/conversations?status=active,closed", nil, nil).status)

	require.Equal(t, http.StatusForbidden, a.do(olgaC, "GET", "/api/v1/supervisor/conversations", nil, nil).status)
	require.Equal(t, http.StatusNotFound, a.do(samC, "GET", fmt.Sprintf("/api/v1/supervisor/conversations?line=%d", support.lineID), nil, nil).status)
	require.Equal(t, http.StatusBadRequest, a.do(samC, "GET", "/api/v1/supervisor/conversations?sort=mood", nil, nil).status)
	require.Equal(t, http.StatusBadRequest, a.do(samC, "GET", "/api/v1/supervisor/operators?line=x", nil, nil).status)

	var ops struct {
		Items []store.OperatorStats `json:"items"`
	}
	res = a.do(samC, "GET", "/api/v1/supervisor/operators", nil, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)
	res.json(t, &ops)
	require.Len(t, ops.Items, 1, "Sales' operators only")
	o := ops.Items[0]
	require.Equal(t, olga.ID, o.ID)
	require.Equal(t, 1, o.Active)
	require.Equal(t, 2, o.RepliesToday)
	require.Equal(t, 1, o.FirstResponsesMeasured)
	require.Equal(t, 2, o.ResponsesMeasured, "each answered turn counts")
	require.NotNil(t, o.AvgFirstResponseSeconds)
	require.NotNil(t, o.AvgResponseSeconds)
	require.NotNil(t, o.SinceLastReplySeconds)

	// Sam leaves Olga a comment: an internal note, and a notification for her.
	res = a.do(samC, "POST", conv+"/notes", map[string]any{"text": "Offer the discount"}, nil)
	require.Equal(t, http.StatusCreated, res.status, res.text)
	var notes struct {
		Items []struct {
			ID   int64  `json:"id"`
			Kind string `json:"kind"`
		} `json:"items"`
		Unread int `json:"unread"`
	}
	res = a.do(olgaC, "GET", "/api/v1/notifications?unread=true", nil, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)
	res.json(t, &notes)
	require.Equal(t, 1, notes.Unread)
	require.Equal(t, "comment", notes.Items[0].Kind)
	// Another user's ids are not theirs to mark.
	res = a.do(pavelC, "POST", "/api/v1/notifications/read", map[string]any{"ids": []int64{notes.Items[0].ID}}, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)
	require.Contains(t, res.text, `"marked":0`)
	res = a.do(olgaC, "POST", "/api/v1/notifications/read", map[string]any{"all": true}, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)
	require.Contains(t, res.text, `"unread":0`)
	require.Equal(t, http.StatusBadRequest, a.do(olgaC, "POST", "/api/v1/notifications/read", map[string]any{}, nil).status)
}

// TestOperatorsListTheColleaguesAConversationCanGoTo: the transfer picker's list is the
// conversation's line's operators, by name with presence and load, and no performance figures;
// an operator of the line may read it, one of another line may not see the conversation at all.
func TestOperatorsListTheColleaguesAConversationCanGoTo(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{})
	cs := a.setupChannel(map[string]any{"name": "Colleagues", "auto_open": true})
	olga, olgaHTTP := a.newOperator("olga@example.com", "Olga")
	vera, _ := a.newOperator("vera@example.com", "Vera")
	_, in := a.inbound(cs, "c-1", clientText("u-col", "hello"))
	path := fmt.Sprintf("/api/v1/conversations/%d/operators", *in.Conversation)
	require.Equal(t, http.StatusOK, a.do(olgaHTTP, "POST", fmt.Sprintf("/api/v1/conversations/%d/take", *in.Conversation), nil, nil).status)

	res := a.do(olgaHTTP, "GET", path, nil, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)
	var page struct {
		Items []map[string]any `json:"items"`
	}
	res.json(t, &page)
	byName := map[string]map[string]any{}
	for _, o := range page.Items {
		byName[o["name"].(string)] = o
		require.NotContains(t, o, "replies_today", "a colleague's figures stay on the supervisor board")
	}
	require.Contains(t, byName, "Olga")
	require.Contains(t, byName, "Vera")
	require.EqualValues(t, olga.ID, byName["Olga"]["id"])
	require.EqualValues(t, vera.ID, byName["Vera"]["id"])
	require.EqualValues(t, 1, byName["Olga"]["active"])

	other := a.setupChannel(map[string]any{"name": "Other line", "auto_open": true})
	boris := a.newUser("boris@example.com", "Boris", store.RoleOperator)
	_, err := a.store.SaveGroup(t.Context(), store.Group{Name: "Other only", Kind: store.GroupOperators,
		Permissions: []string{store.PermOmni, store.PermUnassignedQueue}, MemberIDs: []int64{boris.ID}, LineIDs: []int64{other.lineID}})
	require.NoError(t, err)
	res = a.do(a.login("boris@example.com", "pw-Boris"), "GET", path, nil, nil)
	require.Equal(t, http.StatusNotFound, res.status, res.text)
}
