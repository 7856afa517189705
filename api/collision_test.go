package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestCollisionNoticeTellsWhoElseIsHere: an operator with a conversation open says so, and a
// colleague's console hears who it is, and who is typing, on any channel.
func TestCollisionNoticeTellsWhoElseIsHere(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{})
	cs := a.setupChannel(map[string]any{"name": "Support", "auto_open": true})
	anna, annaC := a.newOperator("anna@desk.example", "Anna")
	_, borisC := a.newOperator("boris@desk.example", "Boris")
	r, in := a.inbound(cs, "c-1", clientText("u-c", "hello"))
	require.Equal(t, http.StatusAccepted, r.status, r.text)
	n := *in.Conversation
	boris := openStream(t, a.url, borisC, "")
	defer boris.close()

	require.Equal(t, http.StatusNoContent, a.do(annaC, "POST", fmt.Sprintf("/api/v1/conversations/%d/viewing", n), nil, nil).status)
	require.Equal(t, http.StatusNoContent, a.do(annaC, "POST", fmt.Sprintf("/api/v1/conversations/%d/typing", n), nil, nil).status)
	for _, kind := range []string{"viewing", "typing"} {
		e := boris.waitFor(kind, func(e liveEvent) bool { return e.Kind == kind && e.Conversation == n })
		var d struct {
			UserID int64  `json:"user_id"`
			Name   string `json:"name"`
		}
		require.NoError(t, json.Unmarshal(e.Data, &d))
		require.Equal(t, anna.ID, d.UserID, kind)
		require.Equal(t, "Anna", d.Name, kind)
	}
	require.Equal(t, http.StatusNotFound, a.do(annaC, "POST", "/api/v1/conversations/999999/viewing", nil, nil).status)
}
