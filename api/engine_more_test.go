package api_test

import (
	"context"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/linedesk/linedesk/connectors/smtpmail"
	"github.com/linedesk/linedesk/connectors/smtpmail/smtpmailtest"
	"github.com/linedesk/linedesk/inbound"
	"github.com/linedesk/linedesk/store"
	"github.com/linedesk/linedesk/workflows"
)

func TestClosingEmailsTheSolution(t *testing.T) {
	t.Parallel()
	smtpd := smtpmailtest.New(t)
	mailer, err := smtpmail.New(smtpmail.Config{Host: "127.0.0.1", Port: smtpd.Port(), TLS: smtpmail.TLSNone,
		From: "Поддержка <support@desk.example>"})
	require.NoError(t, err)
	a := newApp(t, appOptions{mail: mailer})
	cs := a.setupChannel(map[string]any{"name": "Support", "auto_open": true})
	_, in := a.inbound(cs, "1", clientText("u-1", "Где мой заказ?"))
	path := fmt.Sprintf("/api/v1/conversations/%d", *in.Conversation)
	require.Equal(t, http.StatusOK, a.do(a.http, "POST", path+"/take", nil, nil).status)
	res := a.do(a.http, "POST", path+"/close", map[string]any{"solution": "Заказ отправлен сегодня.", "confirm_unread": true}, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)

	got := smtpd.WaitFor(t, 1, 20*time.Second)
	require.Equal(t, []string{"ann@example.com"}, got[0].To)
	require.Contains(t, got[0].Body, "Заказ отправлен сегодня.")
	subject, err := new(mime.WordDecoder).DecodeHeader(got[0].Message.Header.Get("Subject"))
	require.NoError(t, err)
	require.Contains(t, subject, fmt.Sprintf("#%d", *in.Conversation))
	require.Eventually(t, func() bool {
		res := a.do(a.http, "GET", path+"/history", nil, nil)
		return res.status == http.StatusOK && strings.Contains(res.text, `"kind":"solution_emailed"`) && strings.Contains(res.text, `"outcome":"sent"`)
	}, 20*time.Second, 50*time.Millisecond)
}

func TestParticipantsGetATaskAndANotification(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{})
	cs := a.setupChannel(map[string]any{"name": "Sales", "auto_open": false})
	ann, annClient := a.newOperator("ann@desk.example", "Ann")
	_, in := a.inbound(cs, "1", clientText("u-1", "hi"))
	res := a.do(a.http, "POST", "/api/v1/conversations", map[string]any{"chat_id": in.ChatID, "title": "Refund for order 7"}, nil)
	require.Equal(t, http.StatusCreated, res.status, res.text)
	var dialog conversationView
	res.json(t, &dialog)

	before := time.Now()
	res = a.do(a.http, "PATCH", fmt.Sprintf("/api/v1/conversations/%d", dialog.Number),
		map[string]any{"participants": []int64{a.admin.ID, ann.ID}, "reasons": []string{}}, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)

	var tasks struct {
		Items []struct {
			Kind         string    `json:"kind"`
			Title        string    `json:"title"`
			Conversation int64     `json:"conversation"`
			StartsAt     time.Time `json:"starts_at"`
		} `json:"items"`
	}
	require.Eventually(t, func() bool {
		a.do(annClient, "GET", "/api/v1/tasks?assignee=me", nil, nil).json(t, &tasks)
		return len(tasks.Items) == 1
	}, 20*time.Second, 50*time.Millisecond)
	require.Equal(t, "Refund for order 7", tasks.Items[0].Title)
	require.Equal(t, dialog.Number, tasks.Items[0].Conversation)
	require.WithinDuration(t, before.Add(5*time.Minute), tasks.Items[0].StartsAt, 30*time.Second)
	res = a.do(annClient, "GET", "/api/v1/notifications", nil, nil)
	require.Contains(t, res.text, "starts in 5 minutes")

	// The admin was already in the dialog: no participant task for them, only the dialog they
	// handle.
	a.do(a.http, "GET", "/api/v1/tasks?assignee=me", nil, nil).json(t, &tasks)
	require.Len(t, tasks.Items, 1)
	require.Equal(t, store.TaskAssignment, tasks.Items[0].Kind)

	// A participant is not a user: 400, nothing changes.
	res = a.do(a.http, "PATCH", fmt.Sprintf("/api/v1/conversations/%d", dialog.Number), map[string]any{"participants": []int64{999}}, nil)
	require.Equal(t, http.StatusBadRequest, res.status)
}

func TestAutomatedMessagesWaitWhileAConversationIsActive(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{})
	cs := a.setupChannel(map[string]any{"name": "Bots", "auto_open": true})
	_, in := a.inbound(cs, "1", clientText("u-1", "hi"))
	automated := func(kind, text string) string {
		res := a.do(a.http, "POST", "/api/v1/chats/"+in.ChatID+"/automated", map[string]string{"kind": kind, "text": text}, nil)
		require.Equal(t, http.StatusOK, res.status, res.text)
		var out struct {
			Outcome string `json:"outcome"`
		}
		res.json(t, &out)
		return out.Outcome
	}
	// Queued (not active): automated messages go out at once.
	require.Equal(t, workflows.OutcomeSent, automated(workflows.AutomatedBroadcast, "promo 0"))
	cs.fake.WaitFor(t, 1, 20*time.Second)

	path := fmt.Sprintf("/api/v1/conversations/%d", *in.Conversation)
	require.Equal(t, http.StatusOK, a.do(a.http, "POST", path+"/take", nil, nil).status)
	require.Equal(t, workflows.OutcomeQueued, automated(workflows.AutomatedTunnel, "funnel 1"))
	require.Equal(t, workflows.OutcomeDropped, automated(workflows.AutomatedAI, "ai answer"))
	require.Equal(t, workflows.OutcomeQueued, automated(workflows.AutomatedBroadcast, "promo 2"))
	res := a.do(a.http, "POST", path+"/messages", map[string]string{"text": "operator reply"}, nil)
	require.Equal(t, http.StatusCreated, res.status, res.text)
	require.Len(t, cs.fake.WaitFor(t, 2, 20*time.Second), 2)

	// Pausing releases the held messages, in order; the AI answer never goes out.
	require.Equal(t, http.StatusOK, a.do(a.http, "POST", path+"/pause", nil, nil).status)
	got := cs.fake.WaitFor(t, 4, 20*time.Second)
	var texts []string
	for _, d := range got {
		texts = append(texts, d.Outbound.Message.Text)
	}
	require.Equal(t, []string{"promo 0", "operator reply", "funnel 1", "promo 2"}, texts)
	time.Sleep(200 * time.Millisecond)
	require.Len(t, cs.fake.Deliveries(), 4)

	res = a.do(a.http, "POST", "/api/v1/chats/"+in.ChatID+"/automated", map[string]string{"kind": "spam", "text": "x"}, nil)
	require.Equal(t, http.StatusBadRequest, res.status)
}

func TestConversationListsFilterSortAndPage(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{})
	cs := a.setupChannel(map[string]any{"name": "Support", "auto_open": true})
	ann, annClient := a.newOperator("ann@desk.example", "Ann")
	var numbers []int64
	for i := range 5 {
		_, in := a.inbound(cs, fmt.Sprint(i), clientText(fmt.Sprintf("u-%d", i), "hi"))
		numbers = append(numbers, *in.Conversation)
	}
	res := a.do(annClient, "POST", fmt.Sprintf("/api/v1/conversations/%d/take", numbers[1]), nil, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)

	list := func(c *http.Client, query string) ([]int64, *string) {
		res := a.do(c, "GET", "/api/v1/conversations?"+query, nil, nil)
		require.Equal(t, http.StatusOK, res.status, res.text)
		var page struct {
			Items []struct {
				Number int64 `json:"number"`
			} `json:"items"`
			NextCursor *string `json:"next_cursor"`
		}
		res.json(t, &page)
		var out []int64
		for _, it := range page.Items {
			out = append(out, it.Number)
		}
		return out, page.NextCursor
	}
	mine, _ := list(annClient, "view=mine")
	require.Equal(t, []int64{numbers[1]}, mine)
	unassigned, _ := list(annClient, "view=unassigned")
	require.Equal(t, []int64{numbers[4], numbers[3], numbers[2], numbers[0]}, unassigned)

	// Newest first, two at a time, every conversation exactly once.
	var all []int64
	cursor := ""
	for {
		q := "view=all&limit=2"
		if cursor != "" {
			q += "&cursor=" + cursor
		}
		page, next := list(a.http, q)
		all = append(all, page...)
		if next == nil {
			break
		}
		cursor = *next
	}
	require.Equal(t, []int64{numbers[4], numbers[3], numbers[2], numbers[1], numbers[0]}, all)
	active, _ := list(a.http, "status=active")
	require.Equal(t, []int64{numbers[1]}, active)
	byChannel, _ := list(a.http, fmt.Sprintf("channel=%d&sort=activity", cs.channelID))
	require.Len(t, byChannel, 5)

	for _, q := range []string{"view=bogus", "sort=size", "status=open", "cursor=bm9wZQ", "channel=x"} {
		res := a.do(a.http, "GET", "/api/v1/conversations?"+q, nil, nil)
		require.Equal(t, http.StatusBadRequest, res.status, q)
	}
	require.Equal(t, http.StatusNotFound, a.do(a.http, "GET", "/api/v1/conversations/999999", nil, nil).status)
	_ = ann
}

func TestRegulationSetsDueTimesAndRearms(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{})
	res := a.do(a.http, "POST", "/api/v1/regulations", map[string]any{"name": "24/7", "first_response_minutes": 30,
		"resolution_minutes": 240, "warn_before_minutes": 5}, nil)
	require.Equal(t, http.StatusCreated, res.status, res.text)
	var reg struct {
		ID int64 `json:"id"`
	}
	res.json(t, &reg)
	cs := a.setupChannel(map[string]any{"name": "Support", "auto_open": true, "regulation_id": reg.ID})
	start := time.Now()
	_, in := a.inbound(cs, "1", clientText("u-1", "hi"))
	path := fmt.Sprintf("/api/v1/conversations/%d", *in.Conversation)

	type dueView struct {
		Due struct {
			FirstResponse *time.Time `json:"first_response"`
			Resolution    *time.Time `json:"resolution"`
		} `json:"due"`
	}
	// The conversation's workflow projects its due times right after it starts.
	var v dueView
	require.Eventually(t, func() bool {
		a.do(a.http, "GET", path, nil, nil).json(t, &v)
		return v.Due.FirstResponse != nil
	}, 20*time.Second, 20*time.Millisecond)
	require.WithinDuration(t, start.Add(30*time.Minute), *v.Due.FirstResponse, 10*time.Second)
	require.WithinDuration(t, start.Add(4*time.Hour), *v.Due.Resolution, 10*time.Second)

	// The due order lists it; a changed target re-arms the open conversation.
	res = a.do(a.http, "PATCH", fmt.Sprintf("/api/v1/regulations/%d", reg.ID), map[string]any{"first_response_minutes": 60}, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)
	require.Eventually(t, func() bool {
		a.do(a.http, "GET", path, nil, nil).json(t, &v)
		return v.Due.FirstResponse != nil && v.Due.FirstResponse.Sub(start) > 50*time.Minute
	}, 20*time.Second, 50*time.Millisecond)

	// Answering stops the first-response clock.
	require.Equal(t, http.StatusOK, a.do(a.http, "POST", path+"/take", nil, nil).status)
	require.Equal(t, http.StatusCreated, a.do(a.http, "POST", path+"/messages", map[string]string{"text": "hello"}, nil).status)
	a.do(a.http, "GET", path, nil, nil).json(t, &v)
	require.Nil(t, v.Due.FirstResponse)
	require.NotNil(t, v.Due.Resolution)

	// Editing the line reaches its open conversations too.
	res = a.do(a.http, "PATCH", fmt.Sprintf("/api/v1/lines/%d", cs.lineID), map[string]any{"auto_close_minutes": 90}, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)
	require.Eventually(t, func() bool {
		return strings.Contains(a.do(a.http, "GET", path+"/history", nil, nil).text, `"kind":"line_changed"`)
	}, 20*time.Second, 50*time.Millisecond)

	// A broken calendar is refused and changes nothing.
	res = a.do(a.http, "PATCH", fmt.Sprintf("/api/v1/regulations/%d", reg.ID), map[string]any{
		"calendar": map[string]any{"time_zone": "Mars/Olympus", "week": map[string]any{"mon": []map[string]string{{"start": "18:00", "end": "09:00"}}}}}, nil)
	require.Equal(t, http.StatusBadRequest, res.status)
	require.Contains(t, res.text, "Mars/Olympus")
}

func TestConfigurationIsValidatedAndAdminOnly(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{noTemporal: true})
	_, op := a.newOperator("op@desk.example", "Op")
	res := a.do(op, "POST", "/api/v1/lines", map[string]any{"name": "X"}, nil)
	require.Equal(t, http.StatusForbidden, res.status)

	for _, body := range []map[string]any{
		{},
		{"name": "X", "paused_client_message": "maybe"},
		{"name": "X", "regulation_id": 42},
		{"name": "X", "auto_close_minutes": -1},
		{"name": "X", "default_type": "Nope"},
	} {
		res := a.do(a.http, "POST", "/api/v1/lines", body, nil)
		require.Equal(t, http.StatusBadRequest, res.status, "%v: %s", body, res.text)
	}
	res = a.do(a.http, "POST", "/api/v1/channels", map[string]any{"kind": "telegram", "name": "TG", "line_id": 1}, nil)
	require.Equal(t, http.StatusBadRequest, res.status)

	// Dialog settings and standard messages round-trip.
	res = a.do(a.http, "GET", "/api/v1/dialog-settings", nil, nil)
	require.JSONEq(t, `{"types":["Support","Refund"],"reasons":[],"components":[]}`, res.text)
	res = a.do(a.http, "PUT", "/api/v1/dialog-settings", map[string]any{"types": []string{"Support", "Refund", "Bug"},
		"reasons": []string{"Late delivery"}, "components": []string{"Billing"}}, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)
	res = a.do(a.http, "PUT", "/api/v1/dialog-settings", map[string]any{"types": []string{}}, nil)
	require.Equal(t, http.StatusBadRequest, res.status)
	// Seed 003: changing the lists takes "can edit dialog settings"; a supervisor without it may not.
	edit := map[string]any{"types": []string{"Support", "Refund", "Bug", "Question"}}
	sup := a.newUser("sup@desk.example", "Sup", store.RoleSupervisor)
	res = a.do(a.login(sup.Email, "pw-Sup"), "PUT", "/api/v1/dialog-settings", edit, nil)
	require.Equal(t, http.StatusForbidden, res.status, res.text)
	editor := a.newUser("ed@desk.example", "Ed", store.RoleOperator)
	_, err := a.store.SaveGroup(t.Context(), store.Group{Name: "Wrap-up editors", Kind: store.GroupOperators,
		Permissions: []string{store.PermDialogSettings}, MemberIDs: []int64{editor.ID}})
	require.NoError(t, err)
	res = a.do(a.login(editor.Email, "pw-Ed"), "PUT", "/api/v1/dialog-settings", edit, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)
	require.Contains(t, res.text, `"Question"`)
	res = a.do(a.http, "PUT", "/api/v1/standard-messages", map[string]any{"csat_question": "Оцените ответ", "csat_bad": "Плохо"}, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)
	require.Contains(t, res.text, `"csat_question":"Оцените ответ"`)
	require.Contains(t, res.text, `"csat_excellent":"Excellent"`)
	res = a.do(a.http, "PUT", "/api/v1/standard-messages", map[string]any{"csat_bad": "a very long label for a button"}, nil)
	require.Equal(t, http.StatusBadRequest, res.status)
}

func TestOutboundDeliveryIsRetriedAndEachAttemptLogged(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{})
	cs := a.setupChannel(map[string]any{"name": "Support", "auto_open": true})
	_, in := a.inbound(cs, "1", clientText("u-1", "hi"))
	path := fmt.Sprintf("/api/v1/conversations/%d", *in.Conversation)
	require.Equal(t, http.StatusOK, a.do(a.http, "POST", path+"/take", nil, nil).status)

	// The integrator is down twice, then takes the message: one delivery, three attempts.
	cs.fake.FailNext(2, http.StatusServiceUnavailable)
	var sent struct {
		ID string `json:"id"`
	}
	a.do(a.http, "POST", path+"/messages", map[string]string{"text": "are you there?"}, nil).json(t, &sent)
	got := cs.fake.WaitFor(t, 1, 30*time.Second)
	require.Equal(t, sent.ID, got[0].Outbound.Message.ID)
	attempts := func(id string) []int {
		rows, err := a.store.Pool().Query(t.Context(), `SELECT coalesce(status_code, 0) FROM delivery_attempts WHERE message_id = $1 ORDER BY id`, id)
		require.NoError(t, err)
		defer rows.Close()
		var codes []int
		for rows.Next() {
			var c int
			require.NoError(t, rows.Scan(&c))
			codes = append(codes, c)
		}
		return codes
	}
	require.Eventually(t, func() bool { return len(attempts(sent.ID)) == 3 }, 10*time.Second, 50*time.Millisecond)
	require.Equal(t, []int{503, 503, 200}, attempts(sent.ID))
	require.Eventually(t, func() bool {
		for _, m := range a.messages(*in.Conversation) {
			if m.ID == sent.ID {
				return m.Status == workflows.MessageSent
			}
		}
		return false
	}, 10*time.Second, 50*time.Millisecond)

	// A refusal (4xx) is final: the message is marked failed and not tried again.
	cs.fake.FailNext(1, http.StatusUnprocessableEntity)
	a.do(a.http, "POST", path+"/messages", map[string]string{"text": "refused"}, nil).json(t, &sent)
	require.Eventually(t, func() bool {
		for _, m := range a.messages(*in.Conversation) {
			if m.ID == sent.ID {
				return m.Status == workflows.MessageFailed
			}
		}
		return false
	}, 20*time.Second, 50*time.Millisecond)
	time.Sleep(1500 * time.Millisecond)
	require.Equal(t, []int{422}, attempts(sent.ID))
}

// TestInboundAcceptedWhileNoDispatcherRuns: the process that accepted messages stopped before
// handing them to their chat (no dispatcher runs). The sender got 202 for each; a dispatcher
// started later hands them all over: one conversation holds every message once, in order, and a
// redelivery by the sender then names that conversation.
func TestInboundAcceptedWhileNoDispatcherRuns(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{noDispatch: true})
	cs := a.setupChannel(map[string]any{"name": "Support", "auto_open": true})
	var ids []string
	for i := range 5 {
		res, ans := a.inboundWith(cs, fmt.Sprint("lost-", i), clientText("u-9", fmt.Sprint("message ", i)), nil)
		require.Equal(t, http.StatusAccepted, res.status, res.text)
		require.Nil(t, ans.Conversation, "nothing has routed the message yet")
		ids = append(ids, ans.MessageID)
	}
	// A sender that waits for the decision gets null when the wait runs out.
	res, ans := a.inboundWith(cs, "lost-0", clientText("u-9", "message 0"), map[string]string{"Prefer": "wait=0.2"})
	require.Equal(t, http.StatusAccepted, res.status, res.text)
	require.Nil(t, ans.Conversation)
	require.Equal(t, ids[0], ans.MessageID)

	hand := inbound.New(a.store, a.temporal, slog.New(slog.DiscardHandler))
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { defer close(done); hand.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })

	res, ans = a.inbound(cs, "lost-0", clientText("u-9", "message 0"))
	require.Equal(t, http.StatusAccepted, res.status, res.text)
	require.NotNil(t, ans.Conversation)
	require.Eventually(t, func() bool { return len(a.messages(*ans.Conversation)) == 5 }, 20*time.Second, 50*time.Millisecond)
	msgs := a.messages(*ans.Conversation)
	for i, m := range msgs {
		require.Equal(t, ids[i], m.ID)
		require.Equal(t, fmt.Sprint("message ", i), m.Text)
	}
	require.Equal(t, 5, a.conversation(*ans.Conversation).Unread)
}

// TestInboundIdempotencyKeyReuse: the same key with the same message is a redelivery; with
// another text or another contact it is refused, and nothing is stored for it.
func TestInboundIdempotencyKeyReuse(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{})
	cs := a.setupChannel(map[string]any{"name": "Support", "auto_open": true})
	res, first := a.inbound(cs, "k-1", clientText("u-1", "hello"))
	require.Equal(t, http.StatusAccepted, res.status, res.text)
	res, again := a.inbound(cs, "k-1", clientText("u-1", "hello"))
	require.Equal(t, http.StatusAccepted, res.status, res.text)
	require.Equal(t, first, again)
	for _, body := range []map[string]any{clientText("u-1", "another text"), clientText("u-2", "hello")} {
		res, _ = a.inboundWith(cs, "k-1", body, nil)
		require.Equal(t, http.StatusUnprocessableEntity, res.status, res.text)
		require.Equal(t, "idempotency_key_reused", res.errorCode(t))
	}
	require.Len(t, a.messages(*first.Conversation), 1)
}

// TestInboundWithinAClientTurnIsRoutedAtOnce: once the chat's workflow has the client's turn open,
// the next messages join the conversation in the ingest itself: the first answer already names
// the conversation and the message is visible in it.
func TestInboundWithinAClientTurnIsRoutedAtOnce(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{})
	cs := a.setupChannel(map[string]any{"name": "Support", "auto_open": true})
	res, first := a.inbound(cs, "k-1", clientText("u-1", "hello"))
	require.Equal(t, http.StatusAccepted, res.status, res.text)
	require.NotNil(t, first.Conversation)
	// The chat publishes the turn right after routing the first message.
	var next inboundAnswer
	for i := 0; ; i++ {
		res, next = a.inboundWith(cs, fmt.Sprint("k-next-", i), clientText("u-1", fmt.Sprint("more ", i)), nil)
		require.Equal(t, http.StatusAccepted, res.status, res.text)
		if next.Conversation != nil || i == 50 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	require.NotNil(t, next.Conversation, "a message within the turn is routed by the ingest")
	require.Equal(t, *first.Conversation, *next.Conversation)
	msgs := a.messages(*first.Conversation)
	require.Equal(t, next.MessageID, msgs[len(msgs)-1].ID)
	require.Equal(t, len(msgs), a.conversation(*first.Conversation).Unread)
}

// TestAParticipantCannotTakeOverAColleaguesConversation: the three-request takeover (add yourself
// as a participant, reply, transfer to yourself) and every other change by a colleague are
// refused; a participant added by the owner may write, and only write.
func TestAParticipantCannotTakeOverAColleaguesConversation(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{})
	cs := a.setupChannel(map[string]any{"name": "Support", "auto_open": true})
	olga, olgaClient := a.newOperator("olga@desk.example", "Olga")
	boris, borisClient := a.newOperator("boris@desk.example", "Boris")
	_, in := a.inbound(cs, "1", clientText("u-1", "my order is late"))
	require.NotNil(t, in.Conversation)
	path := fmt.Sprintf("/api/v1/conversations/%d", *in.Conversation)
	res := a.do(olgaClient, "POST", path+"/take", nil, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)

	refused := func(method, p string, body any) {
		t.Helper()
		res := a.do(borisClient, method, path+p, body, nil)
		require.Equal(t, http.StatusConflict, res.status, "%s %s by Boris: %s", method, p, res.text)
		require.Equal(t, "not_assignee", res.errorCode(t), res.text)
	}
	refused("PATCH", "", map[string]any{"participants": []int64{olga.ID, boris.ID}})
	refused("POST", "/messages", map[string]any{"text": "I'll take it from here"})
	refused("POST", "/transfer", map[string]any{"assignee_id": boris.ID})

	// Olga adds Boris to help: he may write, but not change the conversation.
	res = a.do(olgaClient, "PATCH", path, map[string]any{"participants": []int64{olga.ID, boris.ID}}, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)
	res = a.do(borisClient, "POST", path+"/messages", map[string]any{"text": "Checking the warehouse"}, nil)
	require.Equal(t, http.StatusCreated, res.status, res.text)
	res = a.do(borisClient, "POST", path+"/notes", map[string]any{"text": "parcel found"}, nil)
	require.Equal(t, http.StatusCreated, res.status, res.text)
	refused("POST", "/transfer", map[string]any{"assignee_id": boris.ID})
	refused("POST", "/assign", map[string]any{"assignee_id": boris.ID})
	refused("PATCH", "", map[string]any{"participants": []int64{boris.ID}})
	refused("POST", "/pause", nil)
	refused("POST", "/return", nil)
	refused("POST", "/close", map[string]any{"confirm_unread": true})

	c := a.conversation(*in.Conversation)
	require.NotNil(t, c.Assignee)
	require.Equal(t, olga.ID, c.Assignee.ID)
	require.Equal(t, "active", c.Status)
	var full struct {
		Participants []struct {
			ID int64 `json:"id"`
		} `json:"participants"`
	}
	a.do(a.http, "GET", path, nil, nil).json(t, &full)
	require.Len(t, full.Participants, 2, "Olga and Boris")
}
