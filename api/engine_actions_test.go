package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/linedesk/linedesk/workflows"
)

func TestAssignTransferAndReturnToQueue(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{})
	cs := a.setupChannel(map[string]any{"name": "Support", "auto_open": true})
	ann, annClient := a.newOperator("ann@desk.example", "Ann")
	bob, bobClient := a.newOperator("bob@desk.example", "Bob")
	_, in := a.inbound(cs, "1", clientText("u-1", "hi"))
	path := fmt.Sprintf("/api/v1/conversations/%d", *in.Conversation)

	res := a.do(a.http, "POST", path+"/assign", map[string]any{"assignee_id": ann.ID}, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)
	c := a.conversation(*in.Conversation)
	require.Equal(t, workflows.StatusActive, c.Status)
	require.Equal(t, ann.ID, c.Assignee.ID)

	// Bob cannot act in Ann's conversation; Ann hands it to Bob, who then can.
	res = a.do(bobClient, "POST", path+"/pause", nil, nil)
	require.Equal(t, http.StatusConflict, res.status)
	require.Equal(t, workflows.CodeNotAssignee, res.errorCode(t))
	res = a.do(annClient, "POST", path+"/transfer", map[string]any{"assignee_id": ann.ID}, nil)
	require.Equal(t, workflows.CodeSameAssignee, res.errorCode(t))
	res = a.do(annClient, "POST", path+"/transfer", map[string]any{"assignee_id": bob.ID, "comment": "billing question"}, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)
	require.Equal(t, bob.ID, a.conversation(*in.Conversation).Assignee.ID)
	res = a.do(bobClient, "POST", path+"/messages", map[string]string{"text": "Bob here"}, nil)
	require.Equal(t, http.StatusCreated, res.status, res.text)

	// Back to the queue: unassigned again, and a second return is refused.
	res = a.do(bobClient, "POST", path+"/return", nil, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)
	c = a.conversation(*in.Conversation)
	require.Equal(t, workflows.StatusQueued, c.Status)
	require.Nil(t, c.Assignee)
	res = a.do(bobClient, "POST", path+"/return", nil, nil)
	require.Equal(t, workflows.CodeAlreadyQueued, res.errorCode(t))

	// Bad input: 400 and nothing changes.
	for _, body := range []any{map[string]any{}, map[string]any{"assignee_id": 12345}, `{"assignee_id":"x"}`} {
		res := a.do(a.http, "POST", path+"/assign", body, nil)
		require.Equal(t, http.StatusBadRequest, res.status, res.text)
	}
	require.Equal(t, http.StatusNotFound, a.do(a.http, "POST", "/api/v1/conversations/424242/take", nil, nil).status)
	require.Equal(t, http.StatusNotFound, a.do(a.http, "POST", "/api/v1/conversations/abc/take", nil, nil).status)
	require.Equal(t, workflows.StatusQueued, a.conversation(*in.Conversation).Status)

	res = a.do(a.http, "GET", path+"/history", nil, nil)
	require.Contains(t, res.text, `"kind":"transferred"`)
	require.Contains(t, res.text, `"comment":"billing question"`)
}

func TestCloseAndOpenTicketMergesReplies(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{})
	cs := a.setupChannel(map[string]any{"name": "Support", "auto_open": true, "merge_replies_after_close": true})
	_, in := a.inbound(cs, "1", clientText("u-1", "two questions"))
	n := *in.Conversation
	path := fmt.Sprintf("/api/v1/conversations/%d", n)
	require.Equal(t, http.StatusOK, a.do(a.http, "POST", path+"/take", nil, nil).status)
	for _, text := range []string{"First answer.", "Second answer."} {
		res := a.do(a.http, "POST", path+"/messages", map[string]string{"text": text}, nil)
		require.Equal(t, http.StatusCreated, res.status, res.text)
	}
	require.Equal(t, http.StatusCreated, a.do(a.http, "POST", path+"/notes", map[string]string{"text": "internal only"}, nil).status)

	res := a.do(a.http, "POST", path+"/close", map[string]any{"type": "Refund", "open_ticket": true}, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)

	// One combined reply record, without the note.
	require.Eventually(t, func() bool {
		res := a.do(a.http, "GET", path, nil, nil)
		return strings.Contains(res.text, `"merged_reply":"First answer.\n\nSecond answer."`)
	}, 20*time.Second, 50*time.Millisecond, "merged reply")

	// The follow-up ticket opens in the same chat, assigned to the same operator.
	var followUp conversationView
	require.Eventually(t, func() bool {
		res := a.do(a.http, "GET", "/api/v1/conversations?chat="+in.ChatID+"&status=active", nil, nil)
		var page struct {
			Items []conversationView `json:"items"`
		}
		res.json(t, &page)
		if len(page.Items) != 1 {
			return false
		}
		followUp = page.Items[0]
		return true
	}, 20*time.Second, 50*time.Millisecond, "follow-up ticket")
	require.NotEqual(t, n, followUp.Number)
	require.Equal(t, a.admin.ID, followUp.Assignee.ID)

	// The note stayed internal: the client's integration got the two replies only.
	got := cs.fake.WaitFor(t, 2, 20*time.Second)
	time.Sleep(100 * time.Millisecond)
	require.Len(t, cs.fake.Deliveries(), 2)
	require.Equal(t, "Second answer.", got[1].Outbound.Message.Text)
}

func TestClientMessageToPausedConversation(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{})
	for _, mode := range []string{workflows.PausedResume, workflows.PausedStay} {
		t.Run(mode, func(t *testing.T) {
			cs := a.setupChannel(map[string]any{"name": "Line " + mode, "auto_open": true, "paused_client_message": mode})
			_, in := a.inbound(cs, "1", clientText("u-"+mode, "hi"))
			path := fmt.Sprintf("/api/v1/conversations/%d", *in.Conversation)
			require.Equal(t, http.StatusOK, a.do(a.http, "POST", path+"/take", nil, nil).status)
			require.Equal(t, http.StatusOK, a.do(a.http, "POST", path+"/pause", nil, nil).status)
			res, next := a.inbound(cs, "2", clientText("u-"+mode, "are you there?"))
			require.Equal(t, http.StatusAccepted, res.status, res.text)
			if mode == workflows.PausedResume {
				require.Equal(t, *in.Conversation, *next.Conversation)
				require.Eventually(t, func() bool { return a.conversation(*in.Conversation).Status == workflows.StatusActive },
					20*time.Second, 50*time.Millisecond)
				require.Len(t, a.messages(*in.Conversation), 2)
			} else {
				require.Nil(t, next.Conversation)
				require.Equal(t, workflows.StatusPaused, a.conversation(*in.Conversation).Status)
				require.Len(t, a.messages(*in.Conversation), 1)
			}
		})
	}
}

func TestButtonPressesAndIdempotentActions(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{})
	cs := a.setupChannel(map[string]any{"name": "Support", "auto_open": true})
	_, in := a.inbound(cs, "1", clientText("u-1", "hi"))
	n := *in.Conversation
	path := fmt.Sprintf("/api/v1/conversations/%d", n)

	// A quick-reply press is a client message of the conversation; a forged CSAT payload for a
	// conversation of another chat is one too, and records no rating anywhere.
	for key, payload := range map[string]string{"2": "menu:delivery", "3": workflows.CSATPayload(n+500, 1)} {
		res, ans := a.inbound(cs, key, map[string]any{"contact": map[string]any{"external_id": "u-1"}, "button": map[string]any{"payload": payload}})
		require.Equal(t, http.StatusAccepted, res.status, res.text)
		require.Equal(t, n, *ans.Conversation)
	}
	require.Len(t, a.messages(n), 3)
	require.Equal(t, 3, a.conversation(n).Unread)

	// One Idempotency-Key: a retried take is the same take, the same key on pause is a pause.
	key := map[string]string{"Idempotency-Key": "op-1"}
	require.Equal(t, http.StatusOK, a.do(a.http, "POST", path+"/take", nil, key).status)
	require.Equal(t, http.StatusOK, a.do(a.http, "POST", path+"/take", nil, key).status)
	require.Equal(t, http.StatusOK, a.do(a.http, "POST", path+"/pause", nil, key).status)
	require.Equal(t, workflows.StatusPaused, a.conversation(n).Status)
	res := a.do(a.http, "GET", path+"/history", nil, nil)
	require.Equal(t, 1, strings.Count(res.text, `"kind":"taken"`))

	// A retried reply is one message.
	require.Equal(t, http.StatusOK, a.do(a.http, "POST", path+"/resume", nil, nil).status)
	var first, second struct {
		ID   string `json:"id"`
		Text string `json:"text"`
	}
	a.do(a.http, "POST", path+"/messages", map[string]string{"text": "once"}, map[string]string{"Idempotency-Key": "r-1"}).json(t, &first)
	a.do(a.http, "POST", path+"/messages", map[string]string{"text": "once"}, map[string]string{"Idempotency-Key": "r-1"}).json(t, &second)
	require.Equal(t, first.ID, second.ID)
	require.Equal(t, "once", first.Text)
	require.Len(t, a.messages(n), 4)

	require.Equal(t, http.StatusBadRequest, a.do(a.http, "GET", "/api/v1/conversations?limit=500", nil, nil).status)
}

func TestOperatorCannotAssignAColleaguesConversation(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{})
	cs := a.setupChannel(map[string]any{"name": "Support", "auto_open": true})
	_, ann := a.newOperator("ann@desk.example", "Ann")
	bob, bobClient := a.newOperator("bob@desk.example", "Bob")
	_, in := a.inbound(cs, "1", clientText("u-1", "hi"))
	path := fmt.Sprintf("/api/v1/conversations/%d", *in.Conversation)
	require.Equal(t, http.StatusOK, a.do(ann, "POST", path+"/take", nil, nil).status)

	res := a.do(bobClient, "POST", path+"/assign", map[string]any{"assignee_id": bob.ID}, nil)
	require.Equal(t, http.StatusConflict, res.status, res.text)
	require.Equal(t, workflows.CodeNotAssignee, res.errorCode(t))
	require.Contains(t, res.text, "Ann")

	// NUL in a title or an automated message is refused before it reaches the workflow.
	res = a.do(ann, "PATCH", path, `{"title":"a\u0000b"}`, nil)
	require.Equal(t, http.StatusBadRequest, res.status)
	res = a.do(a.http, "POST", "/api/v1/chats/"+in.ChatID+"/automated", `{"kind":"tunnel","text":"a\u0000b"}`, nil)
	require.Equal(t, http.StatusBadRequest, res.status)
	res, _ = a.inbound(cs, "2", map[string]any{"contact": map[string]any{"external_id": "u-1"}, "text": "a\u0000b"})
	require.Equal(t, http.StatusBadRequest, res.status)
	// The conversation still works.
	require.Equal(t, http.StatusCreated, a.do(ann, "POST", path+"/messages", map[string]string{"text": "fine"}, nil).status)
}

// TestPausedDialogsAndOneActive: seed 003 — a chat may hold several paused dialogs but only one
// active. With #1 paused a new dialog opens; resuming #1 is refused while the new one is active,
// and allowed once it is paused too.
func TestPausedDialogsAndOneActive(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{})
	cs := a.setupChannel(map[string]any{"name": "Support", "auto_open": true})
	_, in := a.inbound(cs, "1", clientText("u-1", "hi"))
	first := fmt.Sprintf("/api/v1/conversations/%d", *in.Conversation)
	require.Equal(t, http.StatusOK, a.do(a.http, "POST", first+"/take", nil, nil).status)

	res := a.do(a.http, "POST", "/api/v1/conversations", map[string]any{"chat_id": in.ChatID}, nil)
	require.Equal(t, http.StatusConflict, res.status, res.text)
	require.Equal(t, workflows.CodeActiveDialogExists, res.errorCode(t))

	require.Equal(t, http.StatusOK, a.do(a.http, "POST", first+"/pause", nil, nil).status)
	res = a.do(a.http, "POST", "/api/v1/conversations", map[string]any{"chat_id": in.ChatID, "title": "Delivery"}, nil)
	require.Equal(t, http.StatusCreated, res.status, res.text)
	var dialog conversationView
	res.json(t, &dialog)
	second := fmt.Sprintf("/api/v1/conversations/%d", dialog.Number)

	res = a.do(a.http, "POST", first+"/resume", nil, nil)
	require.Equal(t, http.StatusConflict, res.status, res.text)
	require.Equal(t, workflows.CodeActiveDialogExists, res.errorCode(t))
	require.Equal(t, workflows.StatusPaused, a.conversation(*in.Conversation).Status)

	require.Equal(t, http.StatusOK, a.do(a.http, "POST", second+"/pause", nil, nil).status)
	res = a.do(a.http, "POST", first+"/resume", nil, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)
	require.Equal(t, workflows.StatusActive, a.conversation(*in.Conversation).Status)
}
