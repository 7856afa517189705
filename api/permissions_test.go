package api_test

import (
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/linedesk/linedesk/api"
	"github.com/linedesk/linedesk/store"
)

// TestEveryRouteHasARule: a route registered around the route table (without a rule) fails here.
func TestEveryRouteHasARule(t *testing.T) {
	rules := api.RouteRules()
	e := api.New(api.Deps{Metrics: http.NotFoundHandler()})
	var missing []string
	for _, r := range e.Routes() {
		if strings.Contains(r.Path, "*") || r.Method == "echo_route_not_found" {
			continue
		}
		if _, ok := rules[r.Method+" "+r.Path]; !ok {
			missing = append(missing, r.Method+" "+r.Path)
		}
	}
	slices.Sort(missing)
	require.Empty(t, missing, "routes without a permission rule")
}

// TestPermissionMatrix calls every route as nobody, an operator, a supervisor and an admin, and
// checks that each is let through or refused as the route's rule says: 401 without sign-in, 403
// for a role below the rule, and for everyone allowed an answer that is neither (a 400 or 404 for
// the placeholder ids and bodies is fine: the request got past the permission check).
func TestPermissionMatrix(t *testing.T) {
	a := newApp(t, appOptions{})
	_, operator := a.newOperator("op@example.com", "Olga")
	_, err := a.store.CreateUser(t.Context(), store.NewUser{Email: "sup@example.com", Name: "Semyon", Password: "pw-Semyon", Role: store.RoleSupervisor})
	require.NoError(t, err)
	supervisor := a.login("sup@example.com", "pw-Semyon")
	callers := []struct {
		name   string
		client *http.Client
		level  int // 0 nobody, 1 signed in, 2 supervisor, 3 admin
	}{
		{"nobody", &http.Client{}, 0}, {"operator", operator, 1}, {"supervisor", supervisor, 2}, {"admin", a.http, 3},
	}
	need := map[string]int{"public": 0, "channel_token": 0, "file_link": 0, "signed_in": 1, "conversation": 1, "chat": 1, "call": 1, "supervisor": 2, "admin": 3,
		// The matrix's supervisor supervises no line; TestOperatorsSeeAndActOnlyOnTheirLines has one who does.
		"line_supervisor": 3, "omni_settings": 2, "dialog_settings": 3,
		// Likewise for a channel's line: TestChannelHistoryShowsOnlyThatChannel has a supervisor of one.
		"channel_supervisor": 3,
		// A platform's webhook: only the platform's signature counts (TestTelegramChannelEndToEnd);
		// no session opens it, and an unknown channel is 404 for everyone.
		"platform_signature": 0,
		// The website widget's calls: only a visitor token of the site counts (api widget tests);
		// no session opens them.
		"visitor_token": 0}
	param := regexp.MustCompile(`:(\w+)`)
	rules := api.RouteRules()
	keys := make([]string, 0, len(rules))
	for k := range rules {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, key := range keys {
		rule := rules[key]
		method, path, _ := strings.Cut(key, " ")
		if method == http.MethodPost && path == "/api/v1/auth/logout" {
			continue // it would end the callers' sessions; it needs no sign-in and is tested with login
		}
		path = param.ReplaceAllStringFunc(path, func(p string) string {
			if p == ":id" && strings.HasPrefix(path, "/api/v1/chats/") {
				return "00000000-0000-4000-8000-000000000000"
			}
			return "999999"
		})
		if path == "/api/v1/events" {
			path += "?last_event_id=not-an-id" // a stream never ends: a refused id answers at once, after the permission check
		}
		level, ok := need[rule]
		require.True(t, ok, "%s: unknown rule %q", key, rule)
		for _, c := range callers {
			var body any
			if method != http.MethodGet && method != http.MethodDelete {
				body = "{}"
			}
			res := a.do(c.client, method, path, body, nil)
			switch {
			case rule == "platform_signature":
				require.Equal(t, http.StatusNotFound, res.status, "%s as %s: a webhook for no channel: %s", key, c.name, res.text)
			case rule == "visitor_token":
				require.Equal(t, http.StatusUnauthorized, res.status, "%s as %s: a widget call wants a visitor token: %s", key, c.name, res.text)
			case rule == "channel_token":
				require.Equal(t, http.StatusUnauthorized, res.status, "%s as %s: a channel endpoint wants the channel's token: %s", key, c.name, res.text)
			case c.level < level && c.level == 0:
				require.Equal(t, http.StatusUnauthorized, res.status, "%s as %s: %s", key, c.name, res.text)
			case c.level < level:
				require.Equal(t, http.StatusForbidden, res.status, "%s as %s: %s", key, c.name, res.text)
			default:
				require.NotContains(t, []int{http.StatusUnauthorized, http.StatusForbidden}, res.status,
					"%s as %s (rule %s) was refused: %s", key, c.name, rule, res.text)
			}
		}
	}
}

// TestOperatorsSeeAndActOnlyOnTheirLines: each operator sees and acts on their own line's
// conversations only (another line's are 404, in lists, reads, actions and chats); the
// unassigned queue needs its permission; a line's supervisor assigns its conversations, and
// nothing of another line.
func TestOperatorsSeeAndActOnlyOnTheirLines(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{})
	sales := a.setupChannel(map[string]any{"name": "Sales", "auto_open": true})
	support := a.setupChannel(map[string]any{"name": "Support", "auto_open": true})
	ctx := t.Context()
	group := func(name, kind string, perms []string, line int64, members ...int64) {
		_, err := a.store.SaveGroup(ctx, store.Group{Name: name, Kind: kind, Permissions: perms, LineIDs: []int64{line}, MemberIDs: members})
		require.NoError(t, err)
	}
	olga := a.newUser("olga@desk.example", "Olga", store.RoleOperator)
	pavel := a.newUser("pavel@desk.example", "Pavel", store.RoleOperator)
	nina := a.newUser("nina@desk.example", "Nina", store.RoleOperator) // Sales, without the unassigned queue
	sam := a.newUser("sam@desk.example", "Sam", store.RoleSupervisor)
	a.newUser("idle@desk.example", "Idle", store.RoleSupervisor) // a supervisor of no line
	group("Sales operators", store.GroupOperators, []string{store.PermOmni, store.PermUnassignedQueue}, sales.lineID, olga.ID)
	group("Sales juniors", store.GroupOperators, []string{store.PermOmni}, sales.lineID, nina.ID)
	group("Support operators", store.GroupOperators, []string{store.PermOmni, store.PermUnassignedQueue}, support.lineID, pavel.ID)
	group("Sales supervisors", store.GroupSupervisors, nil, sales.lineID, sam.ID)
	// Nina also works Support's queue: that opens Support's queue to her, not Sales'.
	group("Support juniors", store.GroupOperators, []string{store.PermOmni, store.PermUnassignedQueue}, support.lineID, nina.ID)
	outsider := a.newUser("out@desk.example", "Out", store.RoleOperator)
	olgaC, pavelC, ninaC := a.login("olga@desk.example", "pw-Olga"), a.login("pavel@desk.example", "pw-Pavel"), a.login("nina@desk.example", "pw-Nina")
	samC, idleC := a.login("sam@desk.example", "pw-Sam"), a.login("idle@desk.example", "pw-Idle")

	_, inSales := a.inbound(sales, "s1", clientText("u-s1", "price?"))
	_, inSupport := a.inbound(support, "p1", clientText("u-p1", "broken"))
	s1, p1 := *inSales.Conversation, *inSupport.Conversation
	conv := func(n int64) string { return "/api/v1/conversations/" + strconv.FormatInt(n, 10) }
	listed := func(c *http.Client, view string) []int64 {
		var l struct{ Items []struct{ Number int64 } }
		res := a.do(c, "GET", "/api/v1/conversations?view="+view, nil, nil)
		require.Equal(t, http.StatusOK, res.status, res.text)
		res.json(t, &l)
		var out []int64
		for _, it := range l.Items {
			out = append(out, it.Number)
		}
		return out
	}
	require.Equal(t, []int64{s1}, listed(olgaC, "all"))
	require.Equal(t, []int64{s1}, listed(olgaC, "unassigned"))
	require.Equal(t, []int64{p1}, listed(pavelC, "all"))
	require.Equal(t, []int64{p1}, listed(ninaC, "unassigned"), "Support's queue only: Sales' needs the permission on a Sales group")
	require.Empty(t, listed(idleC, "all"), "a supervisor of no line sees nothing")
	require.Equal(t, []int64{s1}, listed(samC, "unassigned"))
	require.ElementsMatch(t, []int64{s1, p1}, listed(a.http, "all"), "the admin sees every line")

	notThere := func(c *http.Client, method, path string, body any) {
		t.Helper()
		res := a.do(c, method, path, body, nil)
		require.Equal(t, http.StatusNotFound, res.status, "%s %s: %s", method, path, res.text)
	}
	notThere(olgaC, "GET", conv(p1), nil)
	notThere(olgaC, "GET", conv(p1)+"/messages", nil)
	notThere(olgaC, "POST", conv(p1)+"/take", nil)
	notThere(olgaC, "GET", "/api/v1/chats/"+inSupport.ChatID, nil)
	notThere(olgaC, "POST", "/api/v1/conversations", map[string]any{"chat_id": inSupport.ChatID})
	notThere(ninaC, "GET", conv(s1), nil)
	notThere(ninaC, "POST", conv(s1)+"/take", nil)
	notThere(ninaC, "GET", "/api/v1/chats/"+inSales.ChatID+"/messages", nil)
	notThere(samC, "POST", conv(p1)+"/assign", map[string]any{"assignee_id": pavel.ID})
	notThere(idleC, "GET", conv(s1), nil)

	// Operators may not add participants to a queued conversation, nor hand it to someone off the
	// line, nor post automated messages.
	res := a.do(olgaC, "PATCH", conv(s1), map[string]any{"participants": []int64{olga.ID, pavel.ID}}, nil)
	require.Equal(t, http.StatusConflict, res.status, res.text)
	res = a.do(olgaC, "POST", conv(s1)+"/assign", map[string]any{"assignee_id": outsider.ID}, nil)
	require.Equal(t, http.StatusBadRequest, res.status, res.text)
	require.Contains(t, res.text, "does not work on line")
	res = a.do(olgaC, "POST", "/api/v1/chats/"+inSales.ChatID+"/automated", map[string]any{"kind": "broadcast", "text": "sale!"}, nil)
	require.Equal(t, http.StatusForbidden, res.status, res.text)

	// Sam supervises Sales: he assigns its conversation to Nina, who then sees and answers it.
	res = a.do(samC, "POST", conv(s1)+"/assign", map[string]any{"assignee_id": nina.ID}, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)
	require.Equal(t, []int64{s1}, listed(ninaC, "mine"))
	require.ElementsMatch(t, []int64{s1, p1}, listed(ninaC, "all"))
	require.Equal(t, http.StatusOK, a.do(ninaC, "GET", "/api/v1/chats/"+inSales.ChatID+"/messages", nil, nil).status, "her conversation's chat")
	res = a.do(ninaC, "POST", conv(s1)+"/messages", map[string]any{"text": "It costs 10"}, nil)
	require.Equal(t, http.StatusCreated, res.status, res.text)
	// Olga works on Sales too, but the conversation is Nina's: she reads it, may not change it.
	require.Equal(t, http.StatusOK, a.do(olgaC, "GET", conv(s1), nil, nil).status)
	res = a.do(olgaC, "POST", conv(s1)+"/transfer", map[string]any{"assignee_id": olga.ID}, nil)
	require.Equal(t, http.StatusConflict, res.status, res.text)
	// As the line's supervisor Sam may take it back to the queue; as an operator of Sales the
	// same request from Olga is refused.
	require.Equal(t, http.StatusConflict, a.do(olgaC, "POST", conv(s1)+"/return", nil, nil).status)
	res = a.do(samC, "POST", conv(s1)+"/return", nil, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)
	res = a.do(samC, "POST", "/api/v1/chats/"+inSales.ChatID+"/automated", map[string]any{"kind": "broadcast", "text": "sale!"}, nil)
	require.Equal(t, http.StatusOK, res.status, "a line supervisor's integration posts automated messages: %s", res.text)

	// Sam changes his line's settings, not another line's; operators change none.
	line := func(id int64) string { return "/api/v1/lines/" + strconv.FormatInt(id, 10) }
	res = a.do(samC, "PATCH", line(sales.lineID), map[string]any{"auto_close_minutes": 45}, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)
	require.Equal(t, http.StatusForbidden, a.do(samC, "PATCH", line(support.lineID), map[string]any{"auto_close_minutes": 45}, nil).status)
	require.Equal(t, http.StatusForbidden, a.do(olgaC, "PATCH", line(sales.lineID), map[string]any{"auto_close_minutes": 5}, nil).status)
	require.Equal(t, http.StatusForbidden, a.do(samC, "POST", "/api/v1/lines", map[string]any{"name": "Mine"}, nil).status, "only admins create lines")
}

// TestOmniPermissionOpensTheModule: an operator group without "omni" gives its members none of
// its lines — no conversations, no routing to them, not in the line's operators — and ticking
// it gives them back; a group created without permissions gets it.
func TestOmniPermissionOpensTheModule(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{})
	cs := a.setupChannel(map[string]any{"name": "Omni", "auto_open": true})
	nina := a.newUser("nina@example.com", "Nina", store.RoleOperator)
	res := a.do(a.http, "POST", "/api/v1/groups", map[string]any{"name": "Omni desk", "member_ids": []int64{nina.ID}, "line_ids": []int64{cs.lineID}}, nil)
	require.Equal(t, http.StatusCreated, res.status, res.text)
	var g struct {
		ID          int64    `json:"id"`
		Permissions []string `json:"permissions"`
	}
	res.json(t, &g)
	require.Equal(t, []string{"omni"}, g.Permissions, "a new group works in the module unless told otherwise")
	res = a.do(a.http, "PATCH", fmt.Sprintf("/api/v1/groups/%d", g.ID), map[string]any{"permissions": []string{"omni", "unassigned_queue"}}, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)
	ninaHTTP := a.login("nina@example.com", "pw-Nina")
	_, in := a.inbound(cs, "o-1", clientText("u-omni", "hello"))
	conv := fmt.Sprintf("/api/v1/conversations/%d", *in.Conversation)
	require.Equal(t, http.StatusOK, a.do(ninaHTTP, "POST", conv+"/take", nil, nil).status)

	// Without "omni" the line is closed to her: her conversation, the list, the line's operators.
	res = a.do(a.http, "PATCH", fmt.Sprintf("/api/v1/groups/%d", g.ID), map[string]any{"permissions": []string{"unassigned_queue"}}, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)
	_, in2 := a.inbound(cs, "o-2", clientText("u-omni-2", "another"))
	require.Equal(t, http.StatusNotFound, a.do(ninaHTTP, "GET", fmt.Sprintf("/api/v1/conversations/%d", *in2.Conversation), nil, nil).status)
	var page struct {
		Items []struct {
			Number int64 `json:"number"`
		} `json:"items"`
	}
	a.do(ninaHTTP, "GET", "/api/v1/conversations?view=unassigned", nil, nil).json(t, &page)
	require.Empty(t, page.Items)
	res = a.do(a.http, "POST", fmt.Sprintf("/api/v1/conversations/%d/assign", *in2.Conversation), map[string]any{"assignee_id": nina.ID}, nil)
	require.Equal(t, http.StatusBadRequest, res.status, "she no longer works on the line: %s", res.text)
	res = a.do(a.http, "GET", conv+"/operators", nil, nil)
	require.NotContains(t, res.text, `"Nina"`)

	// Ticked again, the line is hers again.
	res = a.do(a.http, "PATCH", fmt.Sprintf("/api/v1/groups/%d", g.ID), map[string]any{"permissions": []string{"omni", "unassigned_queue"}}, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)
	require.Equal(t, http.StatusOK, a.do(ninaHTTP, "GET", fmt.Sprintf("/api/v1/conversations/%d", *in2.Conversation), nil, nil).status)
}
