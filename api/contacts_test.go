package api_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/linedesk/linedesk/store"
)

// TestContactConversationsSpanChatsAndFollowTheListsScope: the client panel lists a contact's
// conversations in every chat of theirs, newest first, paged like the list, and each user sees
// only those the conversation list would show them.
func TestContactConversationsSpanChatsAndFollowTheListsScope(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{})
	lineA := a.setupChannel(map[string]any{"name": "Line A", "auto_open": true})
	lineB := a.setupChannel(map[string]any{"name": "Line B", "auto_open": true})
	// Lena works on line A only, with its queue.
	lena := a.newUser("lena@desk.example", "Lena", store.RoleOperator)
	_, err := a.store.SaveGroup(t.Context(), store.Group{Name: "Line A only", Kind: store.GroupOperators,
		Permissions: []string{store.PermOmni, store.PermUnassignedQueue}, MemberIDs: []int64{lena.ID}, LineIDs: []int64{lineA.lineID}})
	require.NoError(t, err)
	lenaHTTP := a.login("lena@desk.example", "pw-Lena")

	type conv struct {
		Number  int64  `json:"number"`
		ChatID  string `json:"chat_id"`
		Contact struct {
			ID int64 `json:"id"`
		} `json:"contact"`
	}
	get := func(n int64) conv {
		res := a.do(a.http, "GET", fmt.Sprintf("/api/v1/conversations/%d", n), nil, nil)
		require.Equal(t, http.StatusOK, res.status, res.text)
		var c conv
		res.json(t, &c)
		return c
	}
	open := func(cs channelSetup, key string) int64 {
		res, in := a.inbound(cs, key, clientText("u-7", "hello"))
		require.Equal(t, http.StatusAccepted, res.status, res.text)
		require.NotNil(t, in.Conversation)
		return *in.Conversation
	}

	// Two requests in the client's chat on line A (the first closed), one on line B.
	n1 := open(lineA, "k-1")
	res := a.do(a.http, "POST", fmt.Sprintf("/api/v1/conversations/%d/close", n1), map[string]any{"confirm_unread": true}, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)
	n2 := open(lineA, "k-2")
	n3 := open(lineB, "k-3")
	first, third := get(n1), get(n3)
	require.Equal(t, first.ChatID, get(n2).ChatID)
	// Each channel knows the client by its own identity; here they are found to be one person.
	_, err = a.store.Pool().Exec(t.Context(), `UPDATE chats SET contact_id = $1 WHERE id = $2`, first.Contact.ID, third.ChatID)
	require.NoError(t, err)
	_, err = a.store.Pool().Exec(t.Context(), `UPDATE conversations SET contact_id = $1 WHERE number = $2`, first.Contact.ID, n3)
	require.NoError(t, err)

	list := func(c *http.Client, query string) ([]int64, *string) {
		t.Helper()
		res := a.do(c, "GET", fmt.Sprintf("/api/v1/contacts/%d/conversations%s", first.Contact.ID, query), nil, nil)
		require.Equal(t, http.StatusOK, res.status, res.text)
		var page struct {
			Items      []conv  `json:"items"`
			NextCursor *string `json:"next_cursor"`
		}
		res.json(t, &page)
		var ns []int64
		for _, c := range page.Items {
			ns = append(ns, c.Number)
		}
		return ns, page.NextCursor
	}

	all, next := list(a.http, "")
	require.Equal(t, []int64{n3, n2, n1}, all, "across both chats, newest first")
	require.Nil(t, next)
	mine, _ := list(lenaHTTP, "")
	require.Equal(t, []int64{n2, n1}, mine, "line B's conversation is not Lena's to see")
	open1, _ := list(a.http, "?status=queued&sort=activity")
	require.Equal(t, []int64{n3, n2}, open1)

	// Paged like the list.
	page1, cur := list(a.http, "?limit=2")
	require.Equal(t, []int64{n3, n2}, page1)
	require.NotNil(t, cur)
	page2, cur := list(a.http, "?limit=2&cursor="+*cur)
	require.Equal(t, []int64{n1}, page2)
	require.Nil(t, cur)

	// Bad input is a 400; an unknown contact a 404.
	res = a.do(a.http, "GET", fmt.Sprintf("/api/v1/contacts/%d/conversations?limit=500", first.Contact.ID), nil, nil)
	require.Equal(t, http.StatusBadRequest, res.status, res.text)
	res = a.do(a.http, "GET", fmt.Sprintf("/api/v1/contacts/%d/conversations?view=nope", first.Contact.ID), nil, nil)
	require.Equal(t, http.StatusBadRequest, res.status, res.text)
	for _, id := range []string{"999999", "0", "abc"} {
		res = a.do(lenaHTTP, "GET", "/api/v1/contacts/"+id+"/conversations", nil, nil)
		require.Equal(t, http.StatusNotFound, res.status, res.text)
		require.Equal(t, "not_found", res.errorCode(t))
	}
	res = a.do(&http.Client{}, "GET", fmt.Sprintf("/api/v1/contacts/%d/conversations", first.Contact.ID), nil, nil)
	require.Equal(t, http.StatusUnauthorized, res.status)
}

// TestAClientsProfileComesWithTheirMessages: the integration sends a profile link, a time zone
// and custom fields with a message; the client panel reads them; later messages change what
// they carry and keep the rest; a bad time zone or link is refused and changes nothing; a user
// of another line cannot read the contact.
func TestAClientsProfileComesWithTheirMessages(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{})
	cs := a.setupChannel(map[string]any{"name": "Profiles", "auto_open": true})
	send := func(key string, contact map[string]any) (response, inboundAnswer) {
		contact["external_id"] = "u-prof"
		return a.inbound(cs, key, map[string]any{"contact": contact, "text": "hi " + key})
	}
	res, in := send("p-1", map[string]any{"name": "Ivan", "profile_url": "https://crm.example/clients/77", "timezone": "Asia/Yekaterinburg",
		"fields": map[string]string{"plan": "Gold", "city": "Екатеринбург"}})
	require.Equal(t, http.StatusAccepted, res.status, res.text)
	var conv struct {
		Contact struct {
			ID int64 `json:"id"`
		} `json:"contact"`
	}
	a.do(a.http, "GET", fmt.Sprintf("/api/v1/conversations/%d", *in.Conversation), nil, nil).json(t, &conv)
	contactPath := fmt.Sprintf("/api/v1/contacts/%d", conv.Contact.ID)
	type contact struct {
		Name       string            `json:"name"`
		ProfileURL string            `json:"profile_url"`
		Timezone   string            `json:"timezone"`
		Fields     map[string]string `json:"fields"`
		Channels   []string          `json:"channels"`
	}
	read := func() contact {
		res := a.do(a.http, "GET", contactPath, nil, nil)
		require.Equal(t, http.StatusOK, res.status, res.text)
		var c contact
		res.json(t, &c)
		return c
	}
	require.Equal(t, contact{Name: "Ivan", ProfileURL: "https://crm.example/clients/77", Timezone: "Asia/Yekaterinburg",
		Fields: map[string]string{"plan": "Gold", "city": "Екатеринбург"}, Channels: []string{"api"}}, read())

	// A later message updates one field and adds another; what it leaves out stays.
	res, _ = send("p-2", map[string]any{"fields": map[string]string{"plan": "Platinum", "orders": "12"}})
	require.Equal(t, http.StatusAccepted, res.status, res.text)
	got := read()
	require.Equal(t, map[string]string{"plan": "Platinum", "city": "Екатеринбург", "orders": "12"}, got.Fields)
	require.Equal(t, "Asia/Yekaterinburg", got.Timezone)

	// Bad profiles are the integrator's mistake: 400, nothing stored.
	for _, bad := range []map[string]any{
		{"timezone": "Mars/Olympus"}, {"timezone": "Local"}, {"profile_url": "javascript:alert(1)"},
		{"fields": map[string]any{"plan": 5}}, {"fields": map[string]string{" ": "x"}},
	} {
		res, _ := send("p-bad", bad)
		require.Equal(t, http.StatusBadRequest, res.status, "%v: %s", bad, res.text)
	}
	require.Equal(t, got, read())

	// Another line's operator does not learn the contact exists.
	other := a.setupChannel(map[string]any{"name": "Elsewhere", "auto_open": true})
	zoya := a.newUser("zoya@example.com", "Zoya", store.RoleOperator)
	_, err := a.store.SaveGroup(t.Context(), store.Group{Name: "Elsewhere only", Kind: store.GroupOperators,
		Permissions: []string{store.PermOmni, store.PermUnassignedQueue}, MemberIDs: []int64{zoya.ID}, LineIDs: []int64{other.lineID}})
	require.NoError(t, err)
	zoyaHTTP := a.login("zoya@example.com", "pw-Zoya")
	require.Equal(t, http.StatusNotFound, a.do(zoyaHTTP, "GET", contactPath, nil, nil).status)
	require.Equal(t, http.StatusNotFound, a.do(zoyaHTTP, "GET", contactPath+"/conversations", nil, nil).status,
		"the same 404 as for an unknown contact, not an empty page")
	require.Equal(t, http.StatusNotFound, a.do(zoyaHTTP, "GET", "/api/v1/contacts/999999", nil, nil).status)
	// An operator of the line reads it.
	_, olga := a.newOperator("olga@example.com", "Olga")
	require.Equal(t, http.StatusOK, a.do(olga, "GET", contactPath, nil, nil).status)
}
