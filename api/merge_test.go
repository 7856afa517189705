package api_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestContactMergeKeepsBothHistories: the same person on two channels is two cards until a
// supervisor merges them; then one card holds both conversations, the next message from either
// channel is that client's, search finds only the kept card, and a second merge is refused.
func TestContactMergeKeepsBothHistories(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{})
	site := a.setupChannel(map[string]any{"name": "Site", "auto_open": true})
	shop := a.setupChannel(map[string]any{"name": "Shop", "auto_open": true})
	_, olga := a.newOperator("olga@desk.example", "Olga")
	write := func(cs channelSetup, key string, contact map[string]any, text string) int64 {
		t.Helper()
		r, in := a.inbound(cs, key, map[string]any{"contact": contact, "text": text})
		require.Equal(t, http.StatusAccepted, r.status, r.text)
		return *in.Conversation
	}
	contactOf := func(n int64) int64 {
		t.Helper()
		var c struct {
			Contact struct {
				ID int64 `json:"id"`
			} `json:"contact"`
		}
		a.do(a.http, "GET", fmt.Sprintf("/api/v1/conversations/%d", n), nil, nil).json(t, &c)
		return c.Contact.ID
	}
	n1 := write(site, "s-1", map[string]any{"external_id": "tg-77", "name": "Иван Петров"}, "Где мой заказ?")
	n2 := write(shop, "p-1", map[string]any{"external_id": "ivan@example.com", "email": "ivan@example.com", "phone": "+7 916 123-45-67"}, "Order question")
	keep, gone := contactOf(n1), contactOf(n2)
	require.NotEqual(t, keep, gone)

	merge := func(c *http.Client, into, from int64) response {
		return a.do(c, "POST", fmt.Sprintf("/api/v1/contacts/%d/merge", into), map[string]any{"contact_id": from}, nil)
	}
	require.Equal(t, http.StatusForbidden, merge(olga, keep, gone).status)
	res := merge(a.http, keep, gone)
	require.Equal(t, http.StatusOK, res.status, res.text)
	var card struct {
		Name  string `json:"name"`
		Email string `json:"email"`
		Phone string `json:"phone"`
	}
	res.json(t, &card)
	require.Equal(t, "Иван Петров", card.Name, "the kept card's own name")
	require.Equal(t, "ivan@example.com", card.Email, "taken from the merged card")
	require.Equal(t, "+7 916 123-45-67", card.Phone)

	// Both conversations are the client's; the next message from the shop is theirs too.
	list := func() []int64 {
		var page struct {
			Items []struct {
				Number int64 `json:"number"`
			} `json:"items"`
		}
		a.do(a.http, "GET", fmt.Sprintf("/api/v1/contacts/%d/conversations", keep), nil, nil).json(t, &page)
		var ns []int64
		for _, c := range page.Items {
			ns = append(ns, c.Number)
		}
		return ns
	}
	require.Equal(t, []int64{n2, n1}, list())
	require.Equal(t, keep, contactOf(n2))
	res = a.do(a.http, "POST", fmt.Sprintf("/api/v1/conversations/%d/close", n2), map[string]any{"confirm_unread": true}, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)
	n3 := write(shop, "p-2", map[string]any{"external_id": "ivan@example.com"}, "Another question")
	require.Equal(t, keep, contactOf(n3))

	// Search finds the kept card only; the merged one says where it went.
	res = a.do(a.http, "GET", "/api/v1/search?kind=contacts&q=ivan@example", nil, nil)
	require.Contains(t, res.text, fmt.Sprintf(`"id":%d`, keep))
	require.NotContains(t, res.text, fmt.Sprintf(`"id":%d,`, gone))
	res = a.do(a.http, "GET", fmt.Sprintf("/api/v1/contacts/%d", gone), nil, nil)
	require.Contains(t, res.text, fmt.Sprintf(`"merged_into":%d`, keep))

	require.Equal(t, http.StatusConflict, merge(a.http, keep, gone).status, "merged already")
	require.Equal(t, http.StatusConflict, merge(a.http, keep, keep).status, "with itself")
	require.Equal(t, http.StatusNotFound, merge(a.http, keep, 999999).status)
	require.Equal(t, http.StatusBadRequest, a.do(a.http, "POST", fmt.Sprintf("/api/v1/contacts/%d/merge", keep), map[string]any{}, nil).status)

	// An operator who sees the client edits the card: its custom fields filter the list.
	res = a.do(olga, "PATCH", fmt.Sprintf("/api/v1/contacts/%d", keep), map[string]any{"phone": "+7 900 000-00-01", "fields": map[string]string{"plan": "gold"}}, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)
	require.Contains(t, res.text, `"plan":"gold"`)
	res = a.do(olga, "GET", "/api/v1/conversations?field.plan=gold", nil, nil)
	require.Contains(t, res.text, fmt.Sprintf(`"number":%d`, n1))
	for _, body := range []map[string]any{{"email": "not an address"}, {"fields": map[string]string{"": "x"}}} {
		res := a.do(olga, "PATCH", fmt.Sprintf("/api/v1/contacts/%d", keep), body, nil)
		require.Equal(t, http.StatusBadRequest, res.status, res.text)
	}
	require.Equal(t, http.StatusNotFound, a.do(olga, "PATCH", "/api/v1/contacts/999999", map[string]any{"name": "x"}, nil).status)
}
