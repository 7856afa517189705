package api_test

import (
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/linedesk/linedesk/connectors/apichannel/apichanneltest"
	"github.com/linedesk/linedesk/workflows"
)

// channelSetup is a line with an `api` channel whose callback is a fake integrator.
type channelSetup struct {
	lineID    int64
	channelID int64
	token     string
	fake      *apichanneltest.Server
}

func (a *app) setupChannel(line map[string]any) channelSetup {
	a.t.Helper()
	res := a.do(a.http, "POST", "/api/v1/lines", line, nil)
	require.Equal(a.t, http.StatusCreated, res.status, res.text)
	var l struct {
		ID int64 `json:"id"`
	}
	res.json(a.t, &l)
	res = a.do(a.http, "POST", "/api/v1/channels", map[string]any{"kind": "api", "name": "Site API", "line_id": l.ID,
		"settings": map[string]string{"callback_url": "http://127.0.0.1:1/not-yet"}}, nil)
	require.Equal(a.t, http.StatusCreated, res.status, res.text)
	var ch struct {
		Channel struct {
			ID int64 `json:"id"`
		} `json:"channel"`
		InboundToken string `json:"inbound_token"`
		Secret       string `json:"secret"`
	}
	res.json(a.t, &ch)
	fake := apichanneltest.New(a.t, ch.Secret)
	res = a.do(a.http, "PATCH", "/api/v1/channels/"+strconv.FormatInt(ch.Channel.ID, 10),
		map[string]any{"settings": map[string]string{"callback_url": fake.URL()}}, nil)
	require.Equal(a.t, http.StatusOK, res.status, res.text)
	g := a.deskOperators()
	g.LineIDs = append(g.LineIDs, l.ID)
	_, err := a.store.SaveGroup(a.t.Context(), g)
	require.NoError(a.t, err)
	return channelSetup{lineID: l.ID, channelID: ch.Channel.ID, token: ch.InboundToken, fake: fake}
}

type inboundAnswer struct {
	ChatID       string `json:"chat_id"`
	MessageID    string `json:"message_id"`
	Conversation *int64 `json:"conversation"`
}

// inbound sends a client message and waits for its routing (Prefer: wait), so the answer names
// its conversation.
func (a *app) inbound(cs channelSetup, key string, body map[string]any) (response, inboundAnswer) {
	a.t.Helper()
	return a.inboundWith(cs, key, body, map[string]string{"Prefer": "wait=20"})
}

// inboundWith sends a client message with extra headers.
func (a *app) inboundWith(cs channelSetup, key string, body map[string]any, header map[string]string) (response, inboundAnswer) {
	a.t.Helper()
	h := map[string]string{"Authorization": "Bearer " + cs.token, "Idempotency-Key": key}
	for k, v := range header {
		h[k] = v
	}
	res := a.do(&http.Client{}, "POST", fmt.Sprintf("/api/v1/channels/%d/inbound", cs.channelID), body, h)
	var ans inboundAnswer
	if res.status == http.StatusAccepted {
		res.json(a.t, &ans)
	}
	return res, ans
}

func clientText(externalID, text string) map[string]any {
	return map[string]any{"contact": map[string]any{"external_id": externalID, "name": "Ann", "email": "ann@example.com"}, "text": text}
}

type conversationView struct {
	Number       int64  `json:"number"`
	Status       string `json:"status"`
	ChatID       string `json:"chat_id"`
	Unread       int    `json:"unread"`
	CSAT         *int   `json:"csat"`
	ClientRating *int   `json:"client_rating"`
	Type         string `json:"type"`
	Assignee     *struct {
		ID   int64  `json:"id"`
		Name string `json:"name"`
	} `json:"assignee"`
	Channel struct {
		ID   int64  `json:"id"`
		Kind string `json:"kind"`
	} `json:"channel"`
	Contact struct {
		Name  string `json:"name"`
		Email string `json:"email"`
	} `json:"contact"`
}

func (a *app) conversation(n int64) conversationView {
	a.t.Helper()
	res := a.do(a.http, "GET", fmt.Sprintf("/api/v1/conversations/%d", n), nil, nil)
	require.Equal(a.t, http.StatusOK, res.status, res.text)
	var v conversationView
	res.json(a.t, &v)
	return v
}

type messageView struct {
	ID        string `json:"id"`
	Direction string `json:"direction"`
	Text      string `json:"text"`
	Status    string `json:"status"`
	Kind      string `json:"kind"`
}

func (a *app) messages(n int64) []messageView {
	a.t.Helper()
	res := a.do(a.http, "GET", fmt.Sprintf("/api/v1/conversations/%d/messages", n), nil, nil)
	require.Equal(a.t, http.StatusOK, res.status, res.text)
	var v struct {
		Items []messageView `json:"items"`
	}
	res.json(a.t, &v)
	return v.Items
}

func TestConcurrentMessagesOpenOneConversation(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{})
	cs := a.setupChannel(map[string]any{"name": "Support", "auto_open": true})

	const n = 50
	answers := make([]inboundAnswer, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			res, ans := a.inbound(cs, fmt.Sprintf("m-%d", i), clientText("u-1", fmt.Sprintf("hello %d", i)))
			require.Equal(t, http.StatusAccepted, res.status, res.text)
			answers[i] = ans
		})
	}
	wg.Wait()
	number := answers[0].Conversation
	require.NotNil(t, number)
	for _, ans := range answers {
		require.Equal(t, answers[0].ChatID, ans.ChatID)
		require.NotNil(t, ans.Conversation)
		require.Equal(t, *number, *ans.Conversation)
	}
	require.Len(t, a.messages(*number), n)
	conv := a.conversation(*number)
	require.Equal(t, workflows.StatusQueued, conv.Status)
	require.Equal(t, n, conv.Unread)
	require.Equal(t, "api", conv.Channel.Kind)
	require.Equal(t, "Ann", conv.Contact.Name)

	var count int
	require.NoError(t, a.store.Pool().QueryRow(t.Context(), `SELECT count(*) FROM conversations`).Scan(&count))
	require.Equal(t, 1, count)
}

func TestRepeatedIdempotencyKeyStoresOneMessage(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{})
	cs := a.setupChannel(map[string]any{"name": "Support", "auto_open": true})
	res1, first := a.inbound(cs, "evt-1", clientText("u-7", "hi"))
	require.Equal(t, http.StatusAccepted, res1.status, res1.text)
	res2, second := a.inbound(cs, "evt-1", clientText("u-7", "hi"))
	require.Equal(t, http.StatusAccepted, res2.status, res2.text)
	require.Equal(t, res1.text, res2.text, "a redelivery gets the first answer byte for byte")
	require.Equal(t, first.MessageID, second.MessageID)
	require.Len(t, a.messages(*first.Conversation), 1)

	// Without the key, or with a wrong token, nothing is stored.
	res := a.do(&http.Client{}, "POST", fmt.Sprintf("/api/v1/channels/%d/inbound", cs.channelID), clientText("u-7", "x"),
		map[string]string{"Authorization": "Bearer " + cs.token})
	require.Equal(t, http.StatusBadRequest, res.status)
	res = a.do(&http.Client{}, "POST", fmt.Sprintf("/api/v1/channels/%d/inbound", cs.channelID), clientText("u-7", "x"),
		map[string]string{"Authorization": "Bearer nope", "Idempotency-Key": "k"})
	require.Equal(t, http.StatusUnauthorized, res.status)
	res, _ = a.inbound(cs, "evt-2", map[string]any{"contact": map[string]any{"external_id": ""}, "text": "x"})
	require.Equal(t, http.StatusBadRequest, res.status)
	require.Equal(t, "invalid_fields", res.errorCode(t))
	var stored int
	require.NoError(t, a.store.Pool().QueryRow(t.Context(), `SELECT count(*) FROM messages`).Scan(&stored))
	require.Equal(t, 1, stored)
}

func TestLineWithoutAutoOpenKeepsMessagesInTheChat(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{})
	cs := a.setupChannel(map[string]any{"name": "Sales", "auto_open": false})
	res, ans := a.inbound(cs, "1", clientText("u-2", "hello"))
	require.Equal(t, http.StatusAccepted, res.status, res.text)
	require.Nil(t, ans.Conversation)
	require.Contains(t, res.text, `"conversation":null`)

	// An operator opens a dialog in the chat; a second one is refused while it is active.
	res = a.do(a.http, "POST", "/api/v1/conversations", map[string]any{"chat_id": ans.ChatID, "title": "Order 42"}, nil)
	require.Equal(t, http.StatusCreated, res.status, res.text)
	var dialog conversationView
	res.json(t, &dialog)
	require.Equal(t, workflows.StatusActive, dialog.Status)
	require.Equal(t, a.admin.ID, dialog.Assignee.ID)
	res = a.do(a.http, "POST", "/api/v1/conversations", map[string]any{"chat_id": ans.ChatID}, nil)
	require.Equal(t, http.StatusConflict, res.status, res.text)
	require.Equal(t, workflows.CodeActiveDialogExists, res.errorCode(t))

	// Writing in the chat outside the active dialog is refused.
	res = a.do(a.http, "POST", "/api/v1/chats/"+ans.ChatID+"/messages", map[string]any{"text": "psst"}, nil)
	require.Equal(t, http.StatusConflict, res.status, res.text)
	require.Equal(t, workflows.CodeActiveDialogExists, res.errorCode(t))
}

func TestConversationLifecycle(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{})
	cs := a.setupChannel(map[string]any{"name": "Support", "auto_open": true})
	_, ann := a.newOperator("ann@desk.example", "Ann Operator")
	_, bob := a.newOperator("bob@desk.example", "Bob Operator")

	res, in := a.inbound(cs, "c-1", clientText("u-3", "my order is late"))
	require.Equal(t, http.StatusAccepted, res.status, res.text)
	n := *in.Conversation
	path := fmt.Sprintf("/api/v1/conversations/%d", n)

	// Unassigned view lists it.
	res = a.do(ann, "GET", "/api/v1/conversations?view=unassigned", nil, nil)
	require.Equal(t, http.StatusOK, res.status)
	require.Contains(t, res.text, fmt.Sprintf(`"number":%d`, n))

	// Replying before taking is refused; Ann takes it; Bob's take is refused with who has it.
	res = a.do(ann, "POST", path+"/messages", map[string]string{"text": "hi"}, nil)
	require.Equal(t, http.StatusConflict, res.status)
	require.Equal(t, workflows.CodeNotTaken, res.errorCode(t))
	res = a.do(ann, "POST", path+"/take", nil, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)
	res = a.do(bob, "POST", path+"/take", nil, nil)
	require.Equal(t, http.StatusConflict, res.status)
	require.Equal(t, workflows.CodeAlreadyTaken, res.errorCode(t))
	require.Contains(t, res.text, "Ann Operator")

	// Ann replies; the client's integration receives it, signed.
	res = a.do(ann, "POST", path+"/messages", map[string]string{"text": "Looking into it"}, nil)
	require.Equal(t, http.StatusCreated, res.status, res.text)
	got := cs.fake.WaitFor(t, 1, 20*time.Second)
	require.Equal(t, "Looking into it", got[0].Outbound.Message.Text)
	require.Equal(t, n, got[0].Outbound.Message.Conversation)
	require.Equal(t, "u-3", got[0].Outbound.Contact.ExternalID)
	require.Zero(t, a.conversation(n).Unread)

	// Pause: replies are refused; resume: they go through again.
	require.Equal(t, http.StatusOK, a.do(ann, "POST", path+"/pause", nil, nil).status)
	res = a.do(ann, "POST", path+"/messages", map[string]string{"text": "still there?"}, nil)
	require.Equal(t, http.StatusConflict, res.status)
	require.Equal(t, workflows.CodeConversationPaused, res.errorCode(t))
	require.Equal(t, http.StatusOK, a.do(ann, "POST", path+"/resume", nil, nil).status)

	// The client writes; closing now needs confirmation of the unread message.
	res, _ = a.inbound(cs, "c-2", clientText("u-3", "thanks!"))
	require.Equal(t, http.StatusAccepted, res.status)
	res = a.do(ann, "POST", path+"/close", map[string]any{"solution": "Shipped today"}, nil)
	require.Equal(t, http.StatusConflict, res.status)
	require.Equal(t, workflows.CodeUnreadMessages, res.errorCode(t))

	res = a.do(ann, "POST", path+"/close", map[string]any{"type": "Support", "solution": "Shipped today", "client_rating": 3,
		"send_csat": true, "confirm_unread": true}, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)
	closed := a.conversation(n)
	require.Equal(t, workflows.StatusClosed, closed.Status)
	require.Equal(t, 3, *closed.ClientRating)

	// The CSAT question reaches the client with three buttons; the client presses "Excellent".
	deliveries := cs.fake.WaitFor(t, 2, 20*time.Second)
	csat := deliveries[1].Outbound.Message
	require.Len(t, csat.Buttons, 3)
	require.Equal(t, workflows.CSATPayload(n, 3), csat.Buttons[2].Payload)
	res, _ = a.inbound(cs, "c-3", map[string]any{"contact": map[string]any{"external_id": "u-3"},
		"button": map[string]any{"payload": csat.Buttons[2].Payload}})
	require.Equal(t, http.StatusAccepted, res.status, res.text)
	require.Eventually(t, func() bool {
		c := a.conversation(n)
		return c.CSAT != nil && *c.CSAT == 3
	}, 20*time.Second, 50*time.Millisecond)
	thanks := cs.fake.WaitFor(t, 3, 20*time.Second)
	require.Equal(t, workflows.DefaultStandardMessages().CSATThanks, thanks[2].Outbound.Message.Text)

	// Closed is read-only; the next client message opens a new conversation.
	res = a.do(ann, "POST", path+"/messages", map[string]string{"text": "one more thing"}, nil)
	require.Equal(t, http.StatusConflict, res.status)
	require.Equal(t, workflows.CodeConversationClosed, res.errorCode(t))
	res, next := a.inbound(cs, "c-4", clientText("u-3", "another question"))
	require.Equal(t, http.StatusAccepted, res.status, res.text)
	require.NotNil(t, next.Conversation)
	require.NotEqual(t, n, *next.Conversation)
	require.Equal(t, in.ChatID, next.ChatID)

	// The history tells the story in order.
	res = a.do(a.http, "GET", path+"/history", nil, nil)
	require.Equal(t, http.StatusOK, res.status)
	var hist struct {
		Items []struct {
			Kind  string `json:"kind"`
			Actor *struct {
				Name string `json:"name"`
			} `json:"actor"`
		} `json:"items"`
	}
	res.json(t, &hist)
	var kinds []string
	for _, e := range hist.Items {
		kinds = append(kinds, e.Kind)
	}
	require.Equal(t, []string{"opened", "taken", "replied", "paused", "resumed", "closed"}, kinds[:6])
	require.ElementsMatch(t, []string{"csat_answered", "solution_emailed"}, kinds[6:])
	require.Equal(t, "Ann Operator", hist.Items[1].Actor.Name)
}
