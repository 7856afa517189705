package api_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestMacroAppliesItsStepsInOrder: a macro takes the conversation, tags it, raises its priority,
// replies, notes and closes it in one request; a retry with the same key repeats nothing; a step
// the operator may not take stops the macro and says which; bad macros are a 400.
func TestMacroAppliesItsStepsInOrder(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{})
	cs := a.setupChannel(map[string]any{"name": "Support", "auto_open": true})
	_, olga := a.newOperator("olga@desk.example", "Olga")

	res := a.do(a.http, "POST", "/api/v1/macros", map[string]any{"name": "Refund done", "actions": []map[string]any{
		{"type": "take"}, {"type": "tags", "add": []string{"Refund", "vip"}}, {"type": "priority", "value": "high"},
		{"type": "reply", "text": "Your money is on its way back."}, {"type": "note", "text": "Refunded in the shop's admin"},
		{"type": "close", "text": "Refunded"}}}, nil)
	require.Equal(t, http.StatusCreated, res.status, res.text)
	var m struct {
		ID int64 `json:"id"`
	}
	res.json(t, &m)
	require.Equal(t, http.StatusForbidden, a.do(olga, "POST", "/api/v1/macros", map[string]any{"name": "Mine", "actions": []map[string]any{{"type": "take"}}}, nil).status)

	r, in := a.inbound(cs, "m-1", clientText("u-m", "Where is my refund?"))
	require.Equal(t, http.StatusAccepted, r.status, r.text)
	n := *in.Conversation
	apply := func(key string) response {
		return a.do(olga, "POST", fmt.Sprintf("/api/v1/conversations/%d/macros/%d/apply", n, m.ID), nil, map[string]string{"Idempotency-Key": key})
	}
	res = apply("k-1")
	require.Equal(t, http.StatusOK, res.status, res.text)
	var conv struct {
		Status   string   `json:"status"`
		Tags     []string `json:"tags"`
		Priority string   `json:"priority"`
		Solution string   `json:"solution"`
		Assignee struct {
			Name string `json:"name"`
		} `json:"assignee"`
	}
	res.json(t, &conv)
	require.Equal(t, "closed", conv.Status)
	require.Equal(t, []string{"refund", "vip"}, conv.Tags)
	require.Equal(t, "high", conv.Priority)
	require.Equal(t, "Refunded", conv.Solution)
	require.Equal(t, "Olga", conv.Assignee.Name)
	messages := func() []string {
		res := a.do(olga, "GET", fmt.Sprintf("/api/v1/conversations/%d/messages", n), nil, nil)
		var page struct {
			Items []struct {
				Direction string `json:"direction"`
				Text      string `json:"text"`
			} `json:"items"`
		}
		res.json(t, &page)
		var out []string
		for _, x := range page.Items {
			if x.Direction != "system" {
				out = append(out, x.Direction+": "+x.Text)
			}
		}
		return out
	}
	want := []string{"in: Where is my refund?", "out: Your money is on its way back.", "note: Refunded in the shop's admin"}
	require.Equal(t, want, messages())
	// The same click again (a retry): nothing twice.
	res = apply("k-1")
	require.Equal(t, http.StatusOK, res.status, res.text)
	require.Equal(t, want, messages())
	// Applied anew to the closed conversation: taking it is refused, and the answer says so.
	res = apply("k-2")
	require.Equal(t, http.StatusConflict, res.status, res.text)
	require.Contains(t, res.text, "step 1 (take) of “Refund done”")

	for _, body := range []map[string]any{{"name": "", "actions": []map[string]any{{"type": "take"}}}, {"name": "X", "actions": []map[string]any{}},
		{"name": "X", "actions": []map[string]any{{"type": "dance"}}}, {"name": "X", "actions": []map[string]any{{"type": "reply"}}},
		{"name": "X", "actions": []map[string]any{{"type": "priority", "value": "asap"}}},
		{"name": "X", "actions": []map[string]any{{"type": "close"}, {"type": "note", "text": "after"}}}} {
		res := a.do(a.http, "POST", "/api/v1/macros", body, nil)
		require.Equal(t, http.StatusBadRequest, res.status, res.text)
	}
	require.Equal(t, http.StatusConflict, a.do(a.http, "POST", "/api/v1/macros", map[string]any{"name": "refund DONE", "actions": []map[string]any{{"type": "take"}}}, nil).status)
	require.Equal(t, http.StatusNotFound, a.do(olga, "POST", fmt.Sprintf("/api/v1/conversations/%d/macros/999999/apply", n), nil, nil).status)
	require.Equal(t, http.StatusForbidden, a.do(olga, "DELETE", fmt.Sprintf("/api/v1/macros/%d", m.ID), nil, nil).status)
	require.Equal(t, http.StatusNoContent, a.do(a.http, "DELETE", fmt.Sprintf("/api/v1/macros/%d", m.ID), nil, nil).status)
	require.Equal(t, http.StatusNotFound, a.do(a.http, "GET", fmt.Sprintf("/api/v1/macros/%d", m.ID), nil, nil).status)
	require.Equal(t, http.StatusNotFound, a.do(a.http, "DELETE", fmt.Sprintf("/api/v1/macros/%d", m.ID), nil, nil).status)
}
