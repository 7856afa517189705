package api_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestBlockedClientIsNotTaken: an operator marks a client as spam; the intake takes nothing more
// from them (the API channel says so) while others still write; unblocked, they are taken again.
func TestBlockedClientIsNotTaken(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{})
	cs := a.setupChannel(map[string]any{"name": "Support", "auto_open": true})
	_, olga := a.newOperator("olga@desk.example", "Olga")
	r, in := a.inbound(cs, "s-1", clientText("spammer", "Buy followers"))
	require.Equal(t, http.StatusAccepted, r.status, r.text)
	var conv struct {
		Contact struct {
			ID int64 `json:"id"`
		} `json:"contact"`
	}
	a.do(a.http, "GET", fmt.Sprintf("/api/v1/conversations/%d", *in.Conversation), nil, nil).json(t, &conv)
	block := func(reason string) response {
		return a.do(olga, "PUT", fmt.Sprintf("/api/v1/contacts/%d/block", conv.Contact.ID), map[string]any{"reason": reason}, nil)
	}
	res := block("spam")
	require.Equal(t, http.StatusOK, res.status, res.text)
	require.Contains(t, res.text, `"blocked":"spam"`)

	r, _ = a.inbound(cs, "s-2", clientText("spammer", "Buy more followers"))
	require.Equal(t, http.StatusForbidden, r.status, r.text)
	require.Contains(t, r.text, "contact_blocked")
	r, _ = a.inbound(cs, "o-1", clientText("someone-else", "A real question"))
	require.Equal(t, http.StatusAccepted, r.status, r.text)
	var count int
	require.NoError(t, a.store.Pool().QueryRow(t.Context(), `SELECT count(*) FROM messages WHERE text = 'Buy more followers'`).Scan(&count))
	require.Zero(t, count, "nothing stored")

	require.Equal(t, http.StatusForbidden, block("").status, "an operator does not lift a block")
	res = a.do(a.http, "PUT", fmt.Sprintf("/api/v1/contacts/%d/block", conv.Contact.ID), map[string]any{"reason": ""}, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)
	r, _ = a.inbound(cs, "s-3", clientText("spammer", "Sorry, a real question now"))
	require.Equal(t, http.StatusAccepted, r.status, r.text)

	require.Equal(t, http.StatusBadRequest, block("annoying").status)
	require.Equal(t, http.StatusBadRequest, a.do(olga, "PUT", fmt.Sprintf("/api/v1/contacts/%d/block", conv.Contact.ID), map[string]any{}, nil).status)
	require.Equal(t, http.StatusNotFound, a.do(olga, "PUT", "/api/v1/contacts/999999/block", map[string]any{"reason": "spam"}, nil).status)
}
