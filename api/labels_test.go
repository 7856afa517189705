package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestConversationTagsAndPriority: operators tag a conversation and set its priority, also once
// it is closed; the list filters by both; bad labels are a 400 and change nothing.
func TestConversationTagsAndPriority(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{})
	cs := a.setupChannel(map[string]any{"name": "Support", "auto_open": true})
	_, olga := a.newOperator("olga@desk.example", "Olga")
	open := func(who string) int64 {
		r, in := a.inbound(cs, who, clientText(who, "hello"))
		require.Equal(t, http.StatusAccepted, r.status, r.text)
		return *in.Conversation
	}
	n1, n2 := open("u-1"), open("u-2")
	type labels struct {
		Tags     []string `json:"tags"`
		Priority string   `json:"priority"`
		Title    string   `json:"title"`
	}
	patch := func(n int64, body map[string]any) (response, labels) {
		t.Helper()
		res := a.do(olga, "PATCH", fmt.Sprintf("/api/v1/conversations/%d", n), body, nil)
		var l labels
		if res.status == http.StatusOK {
			res.json(t, &l)
		}
		return res, l
	}
	watch := openStream(t, a.url, a.http, "")
	defer watch.close()
	res, l := patch(n1, map[string]any{"tags": []string{" VIP ", "refund", "vip"}, "priority": "urgent"})
	require.Equal(t, http.StatusOK, res.status, res.text)
	// Other consoles hear of it at once.
	e := watch.waitFor("conversation.labeled", func(e liveEvent) bool { return e.Kind == "conversation.labeled" && e.Conversation == n1 })
	require.Contains(t, string(e.Data), `"priority":"urgent"`)
	require.Equal(t, []string{"vip", "refund"}, l.Tags)
	require.Equal(t, "urgent", l.Priority)
	_, l = patch(n2, map[string]any{"tags": []string{"refund"}})
	require.Equal(t, "normal", l.Priority, "a new conversation is of normal priority")
	// Labels and a title together: the title goes through the conversation's workflow.
	res, l = patch(n2, map[string]any{"title": "Money back", "priority": "low"})
	require.Equal(t, http.StatusOK, res.status, res.text)
	require.Equal(t, labels{Tags: []string{"refund"}, Priority: "low", Title: "Money back"}, l)

	list := func(query string) []int64 {
		t.Helper()
		res := a.do(olga, "GET", "/api/v1/conversations?"+query, nil, nil)
		require.Equal(t, http.StatusOK, res.status, res.text)
		var page struct {
			Items []struct {
				Number int64 `json:"number"`
			} `json:"items"`
		}
		res.json(t, &page)
		var ns []int64
		for _, c := range page.Items {
			ns = append(ns, c.Number)
		}
		return ns
	}
	require.Equal(t, []int64{n2, n1}, list("tag=refund"))
	require.Equal(t, []int64{n1}, list("tag=VIP"))
	require.Equal(t, []int64{n1}, list("priority=urgent"))
	require.Empty(t, list("tag=refund&priority=high"))

	// A closed conversation keeps taking labels.
	require.Equal(t, http.StatusOK, a.do(a.http, "POST", fmt.Sprintf("/api/v1/conversations/%d/close", n1), map[string]any{"confirm_unread": true}, nil).status)
	res, l = patch(n1, map[string]any{"tags": []string{}})
	require.Equal(t, http.StatusOK, res.status, res.text)
	require.Empty(t, l.Tags)

	for _, body := range []map[string]any{{"priority": "asap"}, {"tags": []string{strings.Repeat("x", 41)}}, {"tags": []string{"a,b"}},
		{"tags": strings.Split("a b c d e f g h i j k l m n o p q r s t u", " ")}} {
		res, _ := patch(n2, body)
		require.Equal(t, http.StatusBadRequest, res.status, res.text)
	}
	require.Equal(t, http.StatusBadRequest, a.do(olga, "GET", "/api/v1/conversations?priority=asap", nil, nil).status)

	// Custom attributes: set, merged, removed with "", and filters of the list; the client's
	// custom fields filter too.
	res = a.do(olga, "PATCH", fmt.Sprintf("/api/v1/conversations/%d", n2), map[string]any{"attributes": map[string]string{"plan": "gold", "city": "kazan"}}, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)
	res = a.do(olga, "PATCH", fmt.Sprintf("/api/v1/conversations/%d", n2), map[string]any{"attributes": map[string]string{"city": "", "order": "A-17"}}, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)
	var attrs struct {
		Attributes map[string]string `json:"attributes"`
	}
	res.json(t, &attrs)
	require.Equal(t, map[string]string{"plan": "gold", "order": "A-17"}, attrs.Attributes)
	require.Equal(t, []int64{n2}, list("attr.plan=gold"))
	require.Empty(t, list("attr.plan=gold&attr.city=kazan"))
	_, err := a.store.Pool().Exec(t.Context(), `UPDATE contacts SET fields = '{"Loyalty": "Gold"}' WHERE id = (SELECT contact_id FROM conversations WHERE number = $1)`, n1)
	require.NoError(t, err)
	require.Equal(t, []int64{n1}, list("field.Loyalty=Gold"))
	for _, body := range []map[string]any{{"attributes": map[string]string{"Bad Key": "x"}}, {"attributes": map[string]string{"k": strings.Repeat("v", 501)}}} {
		res, _ := patch(n2, body)
		require.Equal(t, http.StatusBadRequest, res.status, res.text)
	}
	_, l = patch(n2, map[string]any{})
	require.Equal(t, labels{Tags: []string{"refund"}, Priority: "low", Title: "Money back"}, l, "nothing changed")
}
