package api_test

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/linedesk/linedesk/store"
	"github.com/linedesk/linedesk/workflows"
)

type templateView struct {
	ID         int64    `json:"id"`
	Name       string   `json:"name"`
	Tags       []string `json:"tags"`
	ChannelIDs []int64  `json:"channel_ids"`
}

// TestTemplateTagLookupIsFilteredByChannel: the composer's /tag lookup finds templates by the
// start of a tag and offers only those allowed in the conversation's channel.
func TestTemplateTagLookupIsFilteredByChannel(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{})
	sales := a.setupChannel(map[string]any{"name": "Sales"})
	support := a.setupChannel(map[string]any{"name": "Support"})
	_, opClient := a.newOperator("op@desk.example", "Olga")

	create := func(body map[string]any) templateView {
		t.Helper()
		res := a.do(a.http, "POST", "/api/v1/templates", body, nil)
		require.Equal(t, http.StatusCreated, res.status, res.text)
		var v templateView
		res.json(t, &v)
		return v
	}
	create(map[string]any{"name": "Greeting", "body": "Hello! How can I help?", "tags": []string{"hello", "hi"}})
	create(map[string]any{"name": "Sales hello", "body": "Hello from sales", "tags": []string{"Hello-Sales"},
		"channel_ids": []int64{sales.channelID}})
	sup := create(map[string]any{"name": "Support hello", "body": "Hello from support", "tags": []string{"/hello-support"},
		"channel_ids": []int64{support.channelID}})
	create(map[string]any{"name": "Bye", "body": "Bye!", "tags": []string{"bye"}})
	require.Equal(t, []string{"hello-support"}, sup.Tags, "tags are stored lower-case without the slash")

	lookup := func(query string) []string {
		t.Helper()
		res := a.do(opClient, "GET", "/api/v1/templates?"+query, nil, nil)
		require.Equal(t, http.StatusOK, res.status, res.text)
		var l struct{ Items []templateView }
		res.json(t, &l)
		names := []string{}
		for _, it := range l.Items {
			names = append(names, it.Name)
		}
		return names
	}
	id := func(cs channelSetup) string { return strconv.FormatInt(cs.channelID, 10) }
	require.Equal(t, []string{"Greeting", "Sales hello"}, lookup("tag=/hel&channel="+id(sales)))
	require.Equal(t, []string{"Greeting", "Support hello"}, lookup("tag=HEL&channel="+id(support)))
	require.Equal(t, []string{"Greeting", "Sales hello", "Support hello"}, lookup("tag=hel&channel=api"), "both channels are api channels")
	require.Equal(t, []string{"Greeting"}, lookup("tag=hel&channel=telegram"))
	require.Equal(t, []string{"Greeting"}, lookup("tag=hi&channel="+id(sales)))
	require.Equal(t, []string{"Bye"}, lookup("tag=b"))
	require.Empty(t, lookup("tag=ello"), "a tag matches from its start")
	require.Len(t, lookup(""), 4)

	// Bad lookups name the parameter.
	for _, q := range []string{"channel=999999", "channel=fax", "channel=-1"} {
		res := a.do(opClient, "GET", "/api/v1/templates?"+q, nil, nil)
		require.Equal(t, http.StatusBadRequest, res.status, "%s: %s", q, res.text)
		require.Contains(t, res.text, "channel")
	}

	// Names are unique ignoring case; bad fields are 400 naming them; nothing is saved.
	res := a.do(a.http, "POST", "/api/v1/templates", map[string]any{"name": "greeting", "body": "x"}, nil)
	require.Equal(t, http.StatusConflict, res.status, res.text)
	require.Equal(t, "name_taken", res.errorCode(t))
	tooMany := make([]string, 21)
	for i := range tooMany {
		tooMany[i] = fmt.Sprintf("t%d", i)
	}
	for _, tc := range []struct {
		body any
		says string
	}{
		{map[string]any{"name": "New", "body": "x", "channel_ids": []int64{999999}}, "channel_ids: channel 999999"},
		{map[string]any{"name": "New", "body": "x", "tags": tooMany}, "tags: at most 20"},
		{map[string]any{"name": "New", "body": "x", "tags": []string{"two words"}}, "tags[0]"},
		{map[string]any{"name": "", "body": "x"}, "name is required"},
		{map[string]any{"name": "New"}, "body is required"},
		{map[string]any{"name": strings.Repeat("n", 201), "body": "x"}, "name is required, at most 200"},
		{[]byte("{\"name\":\"New \xff\",\"body\":\"x\"}"), "UTF-8"},
	} {
		res := a.do(a.http, "POST", "/api/v1/templates", tc.body, nil)
		require.Equal(t, http.StatusBadRequest, res.status, res.text)
		require.Contains(t, res.text, tc.says)
	}
	require.Len(t, lookup(""), 4, "no refused template was saved")

	// Operators read templates but do not change them; a group with the omni settings
	// permission does.
	res = a.do(opClient, "POST", "/api/v1/templates", map[string]any{"name": "Mine", "body": "x"}, nil)
	require.Equal(t, http.StatusForbidden, res.status, res.text)
	editor := a.newUser("ed@desk.example", "Ed", store.RoleOperator)
	_, err := a.store.SaveGroup(t.Context(), store.Group{Name: "Editors", Kind: store.GroupOperators,
		Permissions: []string{store.PermOmniSettings}, MemberIDs: []int64{editor.ID}})
	require.NoError(t, err)
	edClient := a.login("ed@desk.example", "pw-Ed")
	path := "/api/v1/templates/" + strconv.FormatInt(sup.ID, 10)
	res = a.do(edClient, "PATCH", path, map[string]any{"channel_ids": []int64{}}, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)
	require.Equal(t, []string{"Greeting", "Sales hello", "Support hello"}, lookup("tag=hel&channel="+id(sales)), "now allowed everywhere")
	res = a.do(edClient, "PATCH", path, map[string]any{"name": "GREETING"}, nil)
	require.Equal(t, "name_taken", res.errorCode(t))
	require.Equal(t, http.StatusNoContent, a.do(edClient, "DELETE", path, nil, nil).status)
	require.Equal(t, http.StatusNotFound, a.do(opClient, "GET", path, nil, nil).status)
	require.Equal(t, http.StatusNotFound, a.do(edClient, "DELETE", path, nil, nil).status)
}

type taskView struct {
	ID           int64      `json:"id"`
	Kind         string     `json:"kind"`
	Conversation int64      `json:"conversation"`
	DoneAt       *time.Time `json:"done_at"`
}

func (a *app) tasks(c *http.Client, status string) []taskView {
	a.t.Helper()
	res := a.do(c, "GET", "/api/v1/tasks?status="+status, nil, nil)
	require.Equal(a.t, http.StatusOK, res.status, res.text)
	var l struct{ Items []taskView }
	res.json(a.t, &l)
	return l.Items
}

// taskFor returns the user's assignment task for conversation n in the list, if any.
func taskFor(tasks []taskView, n int64) *taskView {
	for i, t := range tasks {
		if t.Conversation == n && t.Kind == store.TaskAssignment {
			return &tasks[i]
		}
	}
	return nil
}

// TestAssignedConversationIsMyTaskUntilClosed: a conversation assigned to me is in my task list;
// passed on, it moves to the new assignee's; closed, it is done; I complete my own tasks only.
func TestAssignedConversationIsMyTaskUntilClosed(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{})
	cs := a.setupChannel(map[string]any{"name": "Support", "auto_open": true})
	ann, annClient := a.newOperator("ann@desk.example", "Ann")
	bob, bobClient := a.newOperator("bob@desk.example", "Bob")
	_, in1 := a.inbound(cs, "1", clientText("u-1", "hi"))
	_, in2 := a.inbound(cs, "2", clientText("u-2", "hello"))
	n1, n2 := *in1.Conversation, *in2.Conversation
	conv := func(n int64) string { return fmt.Sprintf("/api/v1/conversations/%d", n) }
	require.Nil(t, taskFor(a.tasks(annClient, "open"), n1), "a queued conversation is nobody's task")

	res := a.do(a.http, "POST", conv(n1)+"/assign", map[string]any{"assignee_id": ann.ID}, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)
	require.NotNil(t, taskFor(a.tasks(annClient, "open"), n1))
	require.Nil(t, taskFor(a.tasks(bobClient, "open"), n1))

	res = a.do(annClient, "POST", conv(n1)+"/transfer", map[string]any{"assignee_id": bob.ID}, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)
	require.Nil(t, taskFor(a.tasks(annClient, ""), n1), "passed on: the task left Ann")
	require.NotNil(t, taskFor(a.tasks(bobClient, "open"), n1))

	res = a.do(bobClient, "POST", conv(n1)+"/close", map[string]any{"confirm_unread": true}, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)
	require.Nil(t, taskFor(a.tasks(bobClient, "open"), n1))
	done := taskFor(a.tasks(bobClient, "done"), n1)
	require.NotNil(t, done, "closing completes the task")
	require.NotNil(t, done.DoneAt)
	res = a.do(bobClient, "POST", fmt.Sprintf("/api/v1/tasks/%d/complete", done.ID), nil, nil)
	require.Equal(t, http.StatusConflict, res.status, res.text)
	require.Equal(t, "task_done", res.errorCode(t))

	// Ann completes her task herself; Bob cannot complete it for her.
	res = a.do(a.http, "POST", conv(n2)+"/assign", map[string]any{"assignee_id": ann.ID}, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)
	task := taskFor(a.tasks(annClient, "open"), n2)
	require.NotNil(t, task)
	complete := fmt.Sprintf("/api/v1/tasks/%d/complete", task.ID)
	require.Equal(t, http.StatusNotFound, a.do(bobClient, "POST", complete, nil, nil).status)
	require.NotNil(t, taskFor(a.tasks(annClient, "open"), n2), "Bob's attempt changed nothing")
	res = a.do(annClient, "POST", complete, nil, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)
	require.Nil(t, taskFor(a.tasks(annClient, "open"), n2))
	require.Equal(t, "task_done", a.do(annClient, "POST", complete, nil, nil).errorCode(t))
	res = a.do(annClient, "GET", "/api/v1/tasks?status=later", nil, nil)
	require.Equal(t, http.StatusBadRequest, res.status, res.text)
	require.Contains(t, res.text, "status")
}

type leadView struct {
	ID            int64   `json:"id"`
	LineID        int64   `json:"line_id"`
	Topic         string  `json:"topic"`
	Conversations []int64 `json:"conversations"`
}

type outcomeView struct {
	Number int64  `json:"number"`
	Status int    `json:"status"`
	Code   string `json:"code"`
	LeadID *int64 `json:"lead_id"`
}

func outcomes(t *testing.T, res response) map[int64]outcomeView {
	t.Helper()
	var v struct{ Results []outcomeView }
	res.json(t, &v)
	out := map[int64]outcomeView{}
	for _, r := range v.Results {
		out[r.Number] = r
	}
	return out
}

// TestConvertToLeadsMakesOneLeadPerContactAndLine: the conversations of one contact on one line
// become one lead; a conversation the caller may not see is reported, not converted; a lead is
// listed to the people of its line.
func TestConvertToLeadsMakesOneLeadPerContactAndLine(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{})
	sales := a.setupChannel(map[string]any{"name": "Sales", "auto_open": true})
	support := a.setupChannel(map[string]any{"name": "Support", "auto_open": true})
	olga := a.newUser("olga@desk.example", "Olga", store.RoleOperator)
	_, err := a.store.SaveGroup(t.Context(), store.Group{Name: "Sales operators", Kind: store.GroupOperators,
		Permissions: []string{store.PermOmni, store.PermUnassignedQueue}, LineIDs: []int64{sales.lineID}, MemberIDs: []int64{olga.ID}})
	require.NoError(t, err)
	olgaC := a.login("olga@desk.example", "pw-Olga")

	// Ann writes to Sales twice (the first conversation closed in between), Ben once, and Ann
	// also writes to Support.
	_, in := a.inbound(sales, "a1", clientText("ann", "price?"))
	annFirst := *in.Conversation
	res := a.do(a.http, "POST", fmt.Sprintf("/api/v1/conversations/%d/close", annFirst), map[string]any{"confirm_unread": true}, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)
	_, in = a.inbound(sales, "a2", clientText("ann", "and delivery?"))
	annSecond := *in.Conversation
	require.NotEqual(t, annFirst, annSecond)
	_, in = a.inbound(sales, "b1", clientText("ben", "discount?"))
	ben := *in.Conversation
	_, in = a.inbound(support, "a3", clientText("ann", "broken"))
	annSupport := *in.Conversation

	// Olga works on Sales only: Support's conversation is not hers to see, nor to convert.
	res = a.do(olgaC, "POST", "/api/v1/conversations/convert-to-leads",
		map[string]any{"numbers": []int64{annFirst, annSecond, ben, annSupport, 999999}, "topic": "Spring offer"}, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)
	var made struct{ Leads []leadView }
	res.json(t, &made)
	require.Len(t, made.Leads, 2, "one lead for Ann and one for Ben on Sales: %s", res.text)
	got := outcomes(t, res)
	require.Equal(t, "ok", got[annFirst].Code)
	require.Equal(t, *got[annFirst].LeadID, *got[annSecond].LeadID, "Ann's conversations on one line: one lead")
	require.NotEqual(t, *got[annFirst].LeadID, *got[ben].LeadID)
	require.Equal(t, http.StatusNotFound, got[annSupport].Status)
	require.Equal(t, http.StatusNotFound, got[999999].Status)
	for _, l := range made.Leads {
		require.Equal(t, sales.lineID, l.LineID)
		require.Equal(t, "Spring offer", l.Topic)
	}

	// The admin converts the rest through the bulk action: Support's conversation becomes a
	// lead of its own line; the converted ones stay in their leads.
	res = a.do(a.http, "POST", "/api/v1/conversations/bulk",
		map[string]any{"action": "convert", "numbers": []int64{annSupport, ben}, "topic": "Repair"}, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)
	got2 := outcomes(t, res)
	require.Equal(t, "ok", got2[annSupport].Code)
	require.Equal(t, "already_converted", got2[ben].Code)
	require.Equal(t, *got[ben].LeadID, *got2[ben].LeadID)

	list := func(c *http.Client, query string) ([]leadView, *string) {
		t.Helper()
		res := a.do(c, "GET", "/api/v1/leads"+query, nil, nil)
		require.Equal(t, http.StatusOK, res.status, res.text)
		var l struct {
			Items      []leadView
			NextCursor *string `json:"next_cursor"`
		}
		res.json(t, &l)
		return l.Items, l.NextCursor
	}
	all, _ := list(a.http, "")
	require.Len(t, all, 3)
	mine, _ := list(olgaC, "")
	require.Len(t, mine, 2, "Olga sees Sales' leads only")
	for _, l := range mine {
		require.Equal(t, sales.lineID, l.LineID)
		if slices.Contains(l.Conversations, annFirst) {
			require.ElementsMatch(t, []int64{annFirst, annSecond}, l.Conversations)
		}
	}
	// Paging: one at a time, newest first, nothing lost or repeated.
	page, next := list(a.http, "?limit=1")
	seen := []int64{page[0].ID}
	for next != nil {
		page, next = list(a.http, "?limit=1&cursor="+*next)
		seen = append(seen, page[0].ID)
	}
	require.Equal(t, []int64{all[0].ID, all[1].ID, all[2].ID}, seen)

	// Bad requests are 400 and convert nothing.
	for _, body := range []any{map[string]any{}, map[string]any{"numbers": []int64{0}},
		map[string]any{"numbers": manyNumbers(101)}, map[string]any{"numbers": []int64{annSupport}, "topic": strings.Repeat("t", 501)}} {
		res := a.do(a.http, "POST", "/api/v1/conversations/convert-to-leads", body, nil)
		require.Equal(t, http.StatusBadRequest, res.status, res.text)
	}
	require.Equal(t, http.StatusBadRequest, a.do(a.http, "GET", "/api/v1/leads?cursor=nonsense", nil, nil).status)
	// A line id past 32 bits is no line, not a server error.
	res = a.do(a.http, "GET", "/api/v1/leads?line=2147483648", nil, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)
	require.JSONEq(t, `{"items":[],"next_cursor":null}`, res.text)
	all, _ = list(a.http, "")
	require.Len(t, all, 3)
}

// TestBulkAssignAndCloseReportEachConversation: a bulk action does to each conversation what
// its single route would, and says so per conversation, including the ones the caller may not
// touch.
func TestBulkAssignAndCloseReportEachConversation(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{})
	sales := a.setupChannel(map[string]any{"name": "Sales", "auto_open": true})
	support := a.setupChannel(map[string]any{"name": "Support", "auto_open": true})
	olga := a.newUser("olga@desk.example", "Olga", store.RoleOperator)
	sam := a.newUser("sam@desk.example", "Sam", store.RoleSupervisor)
	ctx := t.Context()
	_, err := a.store.SaveGroup(ctx, store.Group{Name: "Sales operators", Kind: store.GroupOperators,
		Permissions: []string{store.PermOmni, store.PermUnassignedQueue}, LineIDs: []int64{sales.lineID}, MemberIDs: []int64{olga.ID}})
	require.NoError(t, err)
	_, err = a.store.SaveGroup(ctx, store.Group{Name: "Sales supervisors", Kind: store.GroupSupervisors,
		LineIDs: []int64{sales.lineID}, MemberIDs: []int64{sam.ID}})
	require.NoError(t, err)
	samC, olgaC := a.login("sam@desk.example", "pw-Sam"), a.login("olga@desk.example", "pw-Olga")
	_, in := a.inbound(sales, "1", clientText("u-1", "one"))
	s1 := *in.Conversation
	_, in = a.inbound(sales, "2", clientText("u-2", "two"))
	s2 := *in.Conversation
	_, in = a.inbound(support, "3", clientText("u-3", "three"))
	p1 := *in.Conversation
	const bulk = "/api/v1/conversations/bulk"

	// Refused as a whole: nothing is done.
	for _, body := range []map[string]any{
		{"action": "assign", "numbers": []int64{s1}},
		{"action": "assign", "numbers": []int64{s1}, "assignee_id": 999999},
		{"action": "archive", "numbers": []int64{s1}},
		{"action": "close", "numbers": []int64{}},
		{"action": "close", "numbers": manyNumbers(101)},
		{"action": "close", "numbers": []int64{s1}, "reasons": []string{"no such reason"}},
	} {
		res := a.do(samC, "POST", bulk, body, nil)
		require.Equal(t, http.StatusBadRequest, res.status, res.text)
	}
	require.Equal(t, workflows.StatusQueued, a.conversation(s1).Status)

	// Sam supervises Sales: he assigns its conversations to Olga; Support's is not his to see.
	res := a.do(samC, "POST", bulk, map[string]any{"action": "assign", "numbers": []int64{s1, p1, s2, 999999}, "assignee_id": olga.ID}, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)
	got := outcomes(t, res)
	require.Equal(t, outcomeView{Number: s1, Status: http.StatusOK, Code: "ok"}, got[s1])
	require.Equal(t, outcomeView{Number: s2, Status: http.StatusOK, Code: "ok"}, got[s2])
	require.Equal(t, http.StatusNotFound, got[p1].Status)
	require.Equal(t, "not_found", got[p1].Code)
	require.Equal(t, http.StatusNotFound, got[999999].Status)
	for _, n := range []int64{s1, s2} {
		c := a.conversation(n)
		require.Equal(t, workflows.StatusActive, c.Status)
		require.Equal(t, olga.ID, c.Assignee.ID)
	}
	require.Equal(t, workflows.StatusQueued, a.conversation(p1).Status, "untouched")

	// Olga's bulk assign answers what her single assign answers.
	single := a.do(olgaC, "POST", fmt.Sprintf("/api/v1/conversations/%d/assign", s1), map[string]any{"assignee_id": olga.ID}, nil)
	res = a.do(olgaC, "POST", bulk, map[string]any{"action": "assign", "numbers": []int64{s1}, "assignee_id": olga.ID}, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)
	got = outcomes(t, res)
	require.Equal(t, single.status, got[s1].Status, single.text)
	if single.status != http.StatusOK {
		require.Equal(t, single.errorCode(t), got[s1].Code)
	}

	// Olga closes hers; Support's is reported, not closed; a second close says what the single
	// route says about a closed conversation.
	res = a.do(olgaC, "POST", bulk, map[string]any{"action": "close", "numbers": []int64{s1, s2, p1}, "confirm_unread": true,
		"solution": "Answered"}, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)
	got = outcomes(t, res)
	require.Equal(t, "ok", got[s1].Code, res.text)
	require.Equal(t, "ok", got[s2].Code, res.text)
	require.Equal(t, http.StatusNotFound, got[p1].Status)
	require.Equal(t, workflows.StatusClosed, a.conversation(s1).Status)
	require.Equal(t, workflows.StatusClosed, a.conversation(s2).Status)
	require.Equal(t, workflows.StatusQueued, a.conversation(p1).Status)
	single = a.do(olgaC, "POST", fmt.Sprintf("/api/v1/conversations/%d/close", s1), map[string]any{"confirm_unread": true}, nil)
	require.Equal(t, http.StatusConflict, single.status, single.text)
	res = a.do(olgaC, "POST", bulk, map[string]any{"action": "close", "numbers": []int64{s2}, "confirm_unread": true}, nil)
	got = outcomes(t, res)
	require.Equal(t, http.StatusConflict, got[s2].Status)
	require.Equal(t, single.errorCode(t), got[s2].Code)
}

// manyNumbers returns 1..n.
func manyNumbers(n int) []int64 {
	out := make([]int64, n)
	for i := range out {
		out[i] = int64(i + 1)
	}
	return out
}
