package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/linedesk/linedesk/connectors/cti/ctitest"
	"github.com/linedesk/linedesk/store"
)

type callView struct {
	ID        int64  `json:"id"`
	State     string `json:"state"`
	Direction string `json:"direction"`
	From      string `json:"from"`
	Missed    bool   `json:"missed"`
	Contact   *struct {
		ID    int64  `json:"id"`
		Name  string `json:"name"`
		Phone string `json:"phone"`
	} `json:"contact"`
	AnsweredBy *struct {
		ID int64 `json:"id"`
	} `json:"answered_by"`
	Conversation *int64 `json:"conversation"`
	RecordingURL string `json:"recording_url"`
	Cause        string `json:"cause"`
}

func (a *app) calls(c *http.Client, query string) []callView {
	a.t.Helper()
	res := a.do(c, "GET", "/api/v1/calls"+query, nil, nil)
	require.Equal(a.t, http.StatusOK, res.status, res.text)
	var out struct {
		Calls []callView `json:"calls"`
	}
	res.json(a.t, &out)
	return out.Calls
}

// phoneHook connects a phone channel and returns the secret URL its PBX posts call events to.
func (a *app) phoneHook(channelID int64) string {
	a.t.Helper()
	res := a.do(a.http, "POST", fmt.Sprintf("/api/v1/channels/%d/connect", channelID), nil, nil)
	require.Equal(a.t, http.StatusOK, res.status, res.text)
	var conn struct {
		Steps []string `json:"steps"`
	}
	res.json(a.t, &conn)
	for _, s := range conn.Steps {
		if _, u, ok := strings.Cut(s, "set the endpoint: "); ok {
			return u
		}
	}
	a.t.Fatalf("connect named no endpoint: %v", conn.Steps)
	return ""
}

// TestPhoneChannelCalls: a PBX posts Zammad-style call events to the phone channel's secret URL.
// A known number's call is linked to its contact as it rings; the answer names the operator; the
// hangup's recording is fetched into the desk; events repeated or out of order change nothing; an
// unknown number is offered a new contact card; an operator makes a conversation from the call
// with its type and solution, the recording reachable from it; a missed call is listed as such;
// and nobody off the line sees any of it.
func TestPhoneChannelCalls(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{})
	pbx := ctitest.New(t)
	_, ch := a.messengerLine("phone", map[string]any{}, nil)
	id := ch.Channel.ID
	require.Empty(t, ch.Channel.WebhookURL, "the URL holding the secret is shown by connect only")
	hook := a.phoneHook(id)
	require.True(t, strings.HasPrefix(hook, fmt.Sprintf("%s/hooks/%d/", a.url, id)), hook)

	_, err := a.store.Pool().Exec(t.Context(), `INSERT INTO contacts (name, phone) VALUES ('Иван Петров', '+7 916 123-45-67')`)
	require.NoError(t, err)
	mira, op := a.newOperator("mira.phone@example.com", "Mira")

	// A known number rings: the call is linked to Ivan at once.
	require.Equal(t, http.StatusOK, ctitest.Post(t, hook, ctitest.NewCall("c-100", "89161234567", "74950000000", "in"), false))
	calls := a.calls(op, "")
	require.Len(t, calls, 1)
	require.Equal(t, "ringing", calls[0].State)
	require.NotNil(t, calls[0].Contact)
	require.Equal(t, "Иван Петров", calls[0].Contact.Name)
	callID := calls[0].ID

	// Mira answers; the hangup brings the recording, which the desk keeps.
	require.Equal(t, http.StatusOK, ctitest.Post(t, hook, ctitest.Answer("c-100", "89161234567", "74950000000", "in", "mira.phone@example.com"), true))
	recording := []byte("ID3 an mp3 recording of the call")
	rec := pbx.AddRecording(recording)
	hangup := ctitest.Hangup("c-100", "89161234567", "74950000000", "in", "normalClearing", rec)
	require.Equal(t, http.StatusOK, ctitest.Post(t, hook, hangup, false))
	// Repeated, and an answer arriving late: nothing changes, and the recording is stored once.
	require.Equal(t, http.StatusOK, ctitest.Post(t, hook, hangup, false))
	require.Equal(t, http.StatusOK, ctitest.Post(t, hook, ctitest.Answer("c-100", "89161234567", "74950000000", "in", "someone-else"), false))
	var call callView
	res := a.do(op, "GET", fmt.Sprintf("/api/v1/calls/%d", callID), nil, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)
	res.json(t, &call)
	require.Equal(t, "ended", call.State)
	require.False(t, call.Missed)
	require.Equal(t, mira.ID, call.AnsweredBy.ID)
	require.NotEmpty(t, call.RecordingURL)
	require.Equal(t, 1, a.queryInt(`SELECT count(*) FROM calls`))
	require.Equal(t, 1, a.queryInt(`SELECT count(*) FROM files WHERE name LIKE 'call-%'`))
	got := a.do(op, "GET", strings.TrimPrefix(call.RecordingURL, a.url), nil, nil)
	require.Equal(t, http.StatusOK, got.status, got.text)
	require.Equal(t, string(recording), got.text)

	// Forged, malformed: refused, nothing stored.
	require.Equal(t, http.StatusForbidden, ctitest.Post(t, fmt.Sprintf("%s/hooks/%d/guess", a.url, id), ctitest.NewCall("c-x", "1", "2", "in"), false))
	require.Equal(t, http.StatusBadRequest, ctitest.Post(t, hook, ctitest.Event{"event": "ring", "callId": "c-y"}, false))
	require.Equal(t, 1, a.queryInt(`SELECT count(*) FROM calls`))

	// Someone off the line sees neither the call nor its recording.
	a.newUser("outsider.phone@example.com", "Olga", store.RoleOperator)
	outsider := a.login("outsider.phone@example.com", "pw-Olga")
	require.Equal(t, http.StatusNotFound, a.do(outsider, "GET", fmt.Sprintf("/api/v1/calls/%d", callID), nil, nil).status)
	require.Empty(t, a.calls(outsider, ""))
	require.Equal(t, http.StatusNotFound, a.do(outsider, "GET", strings.TrimPrefix(call.RecordingURL, a.url), nil, nil).status)

	// The operator makes a conversation from the call: resolved, with type and solution.
	res = a.do(op, "POST", fmt.Sprintf("/api/v1/calls/%d/conversation", callID), map[string]any{"type": "Support", "solution": "Explained the tariff", "resolved": true}, nil)
	require.Equal(t, http.StatusCreated, res.status, res.text)
	var conv conversationView
	res.json(t, &conv)
	require.Equal(t, "closed", conv.Status)
	require.Equal(t, "Support", conv.Type)
	require.Equal(t, "Иван Петров", conv.Contact.Name)
	require.Equal(t, "phone", conv.Channel.Kind)
	res = a.do(op, "GET", fmt.Sprintf("/api/v1/conversations/%d/messages", conv.Number), nil, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)
	require.Contains(t, res.text, "Incoming call from 89161234567")
	require.Contains(t, res.text, "answered by Mira")
	require.Contains(t, res.text, strings.TrimPrefix(call.RecordingURL, a.url), "the recording is in the conversation")
	linked := a.calls(op, fmt.Sprintf("?conversation=%d", conv.Number))
	require.Len(t, linked, 1)
	require.Equal(t, callID, linked[0].ID)
	res = a.do(op, "POST", fmt.Sprintf("/api/v1/calls/%d/conversation", callID), map[string]any{"resolved": false}, nil)
	require.Equal(t, http.StatusConflict, res.status, res.text)
	require.Equal(t, "call_has_conversation", res.errorCode(t))

	// An unknown number: no contact; the operator makes a card, the number's calls join it.
	require.Equal(t, http.StatusOK, ctitest.Post(t, hook, ctitest.NewCall("c-200", "+7 999 000-00-01", "74950000000", "in"), false))
	require.Equal(t, http.StatusOK, ctitest.Post(t, hook, ctitest.Hangup("c-200", "+7 999 000-00-01", "74950000000", "in", "noAnswer", ""), false))
	missed := a.calls(op, "?missed=true")
	require.Len(t, missed, 1)
	require.True(t, missed[0].Missed)
	require.Equal(t, "noAnswer", missed[0].Cause)
	require.Nil(t, missed[0].Contact, "an unknown number is offered a card, not matched")
	res = a.do(op, "POST", fmt.Sprintf("/api/v1/calls/%d/contact", missed[0].ID), map[string]any{"name": ""}, nil)
	require.Equal(t, http.StatusBadRequest, res.status, res.text)
	res = a.do(op, "POST", fmt.Sprintf("/api/v1/calls/%d/contact", missed[0].ID), map[string]any{"name": "Пётр", "email": "petr@example.com"}, nil)
	require.Equal(t, http.StatusCreated, res.status, res.text)
	var withCard callView
	res.json(t, &withCard)
	require.Equal(t, "Пётр", withCard.Contact.Name)
	require.Equal(t, "+79990000001", withCard.Contact.Phone)
	require.Equal(t, http.StatusConflict, a.do(op, "POST", fmt.Sprintf("/api/v1/calls/%d/contact", missed[0].ID), map[string]any{"name": "Again"}, nil).status)
	// His next call is linked to the card as it rings.
	require.Equal(t, http.StatusOK, ctitest.Post(t, hook, ctitest.NewCall("c-201", "89990000001", "74950000000", "in"), false))
	byContact := a.calls(op, fmt.Sprintf("?contact_id=%d", withCard.Contact.ID))
	require.Len(t, byContact, 2)
	require.Equal(t, "Пётр", byContact[0].Contact.Name)

	// Not resolved: the operator keeps the conversation.
	res = a.do(op, "POST", fmt.Sprintf("/api/v1/calls/%d/conversation", byContact[0].ID), map[string]any{"solution": "Call back tomorrow"}, nil)
	require.Equal(t, http.StatusCreated, res.status, res.text)
	res.json(t, &conv)
	require.Equal(t, "active", conv.Status)
	require.Equal(t, mira.ID, conv.Assignee.ID)
	require.Equal(t, "Пётр", conv.Contact.Name)
	// A phone conversation takes no written reply: the operator is told at once.
	res = a.do(op, "POST", fmt.Sprintf("/api/v1/conversations/%d/messages", conv.Number), map[string]string{"text": "hello"}, nil)
	require.Equal(t, http.StatusConflict, res.status, res.text)
	require.Equal(t, "channel_takes_no_replies", res.errorCode(t))

	// Another call from Пётр while Mira handles his conversation: a colleague's attempt joins the
	// log to Mira's conversation and says so.
	_, pavel := a.newOperator("pavel.phone@example.com", "Pavel")
	require.Equal(t, http.StatusOK, ctitest.Post(t, hook, ctitest.NewCall("c-202", "89990000001", "74950000000", "in"), false))
	third := a.calls(pavel, "?limit=1")[0]
	res = a.do(pavel, "POST", fmt.Sprintf("/api/v1/calls/%d/conversation", third.ID), map[string]any{"resolved": false}, nil)
	require.Equal(t, http.StatusConflict, res.status, res.text)
	require.Equal(t, "conversation_handled_by_other", res.errorCode(t))
	require.Contains(t, res.text, "Mira")

	// An answer before its newCall, without a direction: the client is known only once the
	// direction is, and an outgoing call's client is the callee.
	ans := ctitest.Answer("c-300", "201", "+7 916 123-45-67", "", "mira.phone@example.com")
	delete(ans, "direction")
	require.Equal(t, http.StatusOK, ctitest.Post(t, hook, ans, false))
	require.Equal(t, http.StatusOK, ctitest.Post(t, hook, ctitest.NewCall("c-300", "201", "+7 916 123-45-67", "out"), false))
	out := a.calls(op, "?limit=1")[0]
	require.Equal(t, "out", out.Direction)
	require.Equal(t, "Иван Петров", out.Contact.Name, "the callee's card")
	require.Equal(t, "answered", out.State)

	// Bad query values are refused.
	require.Equal(t, http.StatusBadRequest, a.do(op, "GET", "/api/v1/calls?missed=maybe", nil, nil).status)
	require.Equal(t, http.StatusBadRequest, a.do(op, "GET", "/api/v1/calls?contact_id=x", nil, nil).status)
}
