package api_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/linedesk/linedesk/store"
)

// TestInternalClientWritesToTheHelpdesk: an employee of the office group writes to the IT
// helpdesk from inside linedesk; the request is a conversation of the helpdesk's line with the
// employee as the client; the operator's reply (not the note) reaches the employee; someone
// outside the group cannot write there, nor read another's request.
func TestInternalClientWritesToTheHelpdesk(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{})
	it := a.deskLine("IT helpdesk")
	office, err := a.store.SaveGroup(t.Context(), store.Group{Name: "Office", Kind: store.GroupOperators})
	require.NoError(t, err)
	res := a.do(a.http, "POST", "/api/v1/channels", map[string]any{"kind": "internal", "name": "IT requests", "line_id": it,
		"settings": map[string]any{"group_ids": []int64{office.ID}}}, nil)
	require.Equal(t, http.StatusCreated, res.status, res.text)
	var ch struct {
		Channel struct {
			ID int64 `json:"id"`
		} `json:"channel"`
	}
	res.json(t, &ch)
	res = a.do(a.http, "POST", "/api/v1/channels", map[string]any{"kind": "internal", "name": "Bad", "line_id": it,
		"settings": map[string]any{"group_ids": []int64{999999}}}, nil)
	require.Equal(t, http.StatusBadRequest, res.status, res.text)

	mark := a.newUser("mark@desk.example", "Mark Employee", store.RoleOperator)
	office.MemberIDs = []int64{mark.ID}
	_, err = a.store.SaveGroup(t.Context(), office)
	require.NoError(t, err)
	markC := a.login("mark@desk.example", "pw-Mark Employee")
	a.newUser("eve@desk.example", "Eve", store.RoleOperator)
	eveC := a.login("eve@desk.example", "pw-Eve")

	res = a.do(markC, "GET", "/api/v1/internal/desks", nil, nil)
	require.JSONEq(t, fmt.Sprintf(`{"items": [{"channel_id": %d, "name": "IT requests", "line_id": %d, "line_name": "IT helpdesk"}]}`, ch.Channel.ID, it), res.text)
	require.JSONEq(t, `{"items": []}`, a.do(eveC, "GET", "/api/v1/internal/desks", nil, nil).text)
	require.Equal(t, http.StatusBadRequest, a.do(eveC, "POST", "/api/v1/internal/requests", map[string]any{"channel_id": ch.Channel.ID, "text": "hi"}, nil).status)

	res = a.do(markC, "POST", "/api/v1/internal/requests", map[string]any{"channel_id": ch.Channel.ID, "text": "My laptop does not boot"},
		map[string]string{"Idempotency-Key": "r-1"})
	require.Equal(t, http.StatusCreated, res.status, res.text)
	var made struct {
		ChatID string `json:"chat_id"`
	}
	res.json(t, &made)

	// The helpdesk's operators see a conversation with Mark as the client, and answer.
	var n int64
	require.Eventually(t, func() bool {
		var page struct {
			Items []struct {
				Number int64 `json:"number"`
			} `json:"items"`
		}
		a.do(a.http, "GET", fmt.Sprintf("/api/v1/conversations?line=%d", it), nil, nil).json(t, &page)
		if len(page.Items) == 1 {
			n = page.Items[0].Number
		}
		return n != 0
	}, 15*time.Second, 100*time.Millisecond, "the request opens a conversation on the helpdesk's line")
	var conv struct {
		Contact struct {
			Name  string `json:"name"`
			Email string `json:"email"`
		} `json:"contact"`
	}
	a.do(a.http, "GET", fmt.Sprintf("/api/v1/conversations/%d", n), nil, nil).json(t, &conv)
	require.Equal(t, "Mark Employee", conv.Contact.Name)
	require.Equal(t, "mark@desk.example", conv.Contact.Email)
	require.Equal(t, http.StatusOK, a.do(a.http, "POST", fmt.Sprintf("/api/v1/conversations/%d/take", n), nil, nil).status)
	require.Equal(t, http.StatusCreated, a.do(a.http, "POST", fmt.Sprintf("/api/v1/conversations/%d/messages", n), map[string]any{"text": "Bring it to room 12"}, nil).status)
	require.Equal(t, http.StatusCreated, a.do(a.http, "POST", fmt.Sprintf("/api/v1/conversations/%d/notes", n), map[string]any{"text": "Probably the disk"}, nil).status)

	path := "/api/v1/internal/requests/" + made.ChatID + "/messages"
	var thread struct {
		Items []struct {
			Direction string `json:"direction"`
			Text      string `json:"text"`
			Author    string `json:"author"`
		} `json:"items"`
	}
	require.Eventually(t, func() bool {
		a.do(markC, "GET", path, nil, nil).json(t, &thread)
		return len(thread.Items) == 2
	}, 15*time.Second, 100*time.Millisecond, "the reply reaches the employee")
	require.Equal(t, "Bring it to room 12", thread.Items[1].Text)
	require.Equal(t, "Admin", thread.Items[1].Author)
	res = a.do(markC, "POST", path, map[string]any{"text": "On my way"}, nil)
	require.Equal(t, http.StatusCreated, res.status, res.text)
	res = a.do(markC, "GET", "/api/v1/internal/requests", nil, nil)
	require.Contains(t, res.text, `"desk":"IT helpdesk"`)
	require.Contains(t, res.text, `"status":"active"`)

	// Another user cannot read or write in Mark's request.
	require.Equal(t, http.StatusNotFound, a.do(eveC, "GET", path, nil, nil).status)
	require.Equal(t, http.StatusNotFound, a.do(eveC, "POST", path, map[string]any{"text": "x"}, nil).status)
	require.Equal(t, http.StatusBadRequest, a.do(markC, "POST", path, map[string]any{"text": "  "}, nil).status)
}
