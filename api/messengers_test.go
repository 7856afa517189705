package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/linedesk/linedesk/connectors/meta"
	"github.com/linedesk/linedesk/connectors/meta/metatest"
	"github.com/linedesk/linedesk/connectors/ok/oktest"
	"github.com/linedesk/linedesk/connectors/telegram"
	"github.com/linedesk/linedesk/connectors/telegram/telegramtest"
	"github.com/linedesk/linedesk/connectors/viber"
	"github.com/linedesk/linedesk/connectors/viber/vibertest"
	"github.com/linedesk/linedesk/connectors/vk"
	"github.com/linedesk/linedesk/connectors/vk/vktest"
	"github.com/linedesk/linedesk/connectors/whatsapp/whatsapptest"
	"github.com/linedesk/linedesk/workflows"
)

const testBotToken = "123456789:AAEhBOweik6ad9r_QXMENQjcrGbqCr4K-Ms"

type messengerChannel struct {
	Channel struct {
		ID             int64    `json:"id"`
		CredentialsSet []string `json:"credentials_set"`
		WebhookURL     string   `json:"webhook_url"`
	} `json:"channel"`
}

// deskLine makes an auto-open line the desk's operators work on.
func (a *app) deskLine(name string) int64 {
	a.t.Helper()
	res := a.do(a.http, "POST", "/api/v1/lines", map[string]any{"name": name, "auto_open": true}, nil)
	require.Equal(a.t, http.StatusCreated, res.status, res.text)
	var l struct {
		ID int64 `json:"id"`
	}
	res.json(a.t, &l)
	g := a.deskOperators()
	g.LineIDs = append(g.LineIDs, l.ID)
	_, err := a.store.SaveGroup(a.t.Context(), g)
	require.NoError(a.t, err)
	return l.ID
}

// messengerLine makes a line with auto-open, the desk's operators on it, and a channel of kind
// with settings and credentials.
func (a *app) messengerLine(kind string, settings map[string]any, creds map[string]string) (lineID int64, ch messengerChannel) {
	a.t.Helper()
	lineID = a.deskLine("Messengers " + kind)
	res := a.do(a.http, "POST", "/api/v1/channels", map[string]any{"kind": kind, "name": kind + " bot", "line_id": lineID,
		"settings": settings, "credentials": creds}, nil)
	require.Equal(a.t, http.StatusCreated, res.status, res.text)
	for _, v := range creds {
		require.NotContains(a.t, res.text, v, "a credential came back in the answer")
	}
	res.json(a.t, &ch)
	return lineID, ch
}

// conversationOf waits for the conversation of a messenger client and returns its number.
func (a *app) conversationOf(channelID int64, clientID string) int64 {
	a.t.Helper()
	var n int64
	a.waitFor("the client's conversation", 20*time.Second, func() bool {
		err := a.store.Pool().QueryRow(a.t.Context(), `SELECT cv.number FROM conversations cv JOIN chats c ON c.id = cv.chat_id
			WHERE c.channel_id = $1 AND c.external_id = $2 ORDER BY cv.number DESC LIMIT 1`, channelID, clientID).Scan(&n)
		return err == nil
	})
	return n
}

func postHook(t *testing.T, url string, header map[string]string, body []byte) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode
}

// TestTelegramChannelEndToEnd connects a Telegram bot against the fake Bot API and serves a
// client: webhook set with a secret, the client's message opens a conversation, a redelivery
// and forged or malformed webhooks store nothing, a photo is downloaded into the desk, the
// operator's reply reaches the chat under their name (or only the line's), a 429 is waited out,
// and CSAT goes as three inline buttons whose press rates the conversation.
func TestTelegramChannelEndToEnd(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{})
	fake := telegramtest.New(t, testBotToken)
	lineID, ch := a.messengerLine("telegram", map[string]any{"api_base_url": fake.URL()}, map[string]string{"bot_token": testBotToken})
	require.Equal(t, []string{"bot_token"}, ch.Channel.CredentialsSet)
	id := ch.Channel.ID
	require.True(t, strings.HasSuffix(ch.Channel.WebhookURL, fmt.Sprintf("/hooks/%d", id)), ch.Channel.WebhookURL)

	// The token is sealed in the database.
	var raw []byte
	require.NoError(t, a.store.Pool().QueryRow(t.Context(), `SELECT credentials FROM channels WHERE id = $1`, id).Scan(&raw))
	require.NotContains(t, string(raw), "AAEhBOweik6ad9r", "the bot token is stored in the clear")

	// Connect: getMe names the bot; setWebhook gets the URL and a secret_token.
	res := a.do(a.http, "POST", fmt.Sprintf("/api/v1/channels/%d/connect", id), nil, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)
	require.Contains(t, res.text, `"account":"@desk_bot"`)
	require.Contains(t, res.text, `"registered":true`)
	hookURL, secret := fake.Webhook()
	require.Equal(t, ch.Channel.WebhookURL, hookURL)
	require.True(t, telegram.ValidSecret(secret), "secret_token %q", secret)

	// The client writes; a conversation opens with their message and Telegram name.
	require.Equal(t, []int{http.StatusOK}, fake.DeliverUntilOK(t, telegramtest.TextUpdate(7001, 555001, "Ann", "Where is my order?"), 3))
	n := a.conversationOf(id, "555001")
	conv := a.conversation(n)
	require.Equal(t, "telegram", conv.Channel.Kind)
	require.Equal(t, "Ann", conv.Contact.Name)
	inbound := func() int {
		return a.queryInt(`SELECT count(*) FROM messages m JOIN chats c ON c.id = m.chat_id WHERE c.channel_id = $1 AND m.direction = 'in'`, id)
	}
	require.Equal(t, 1, inbound())

	// A redelivery (same update_id) answers 200 and stores nothing; a forged one (wrong or no
	// secret) is refused; a body that is not an Update is 400.
	require.Equal(t, http.StatusOK, fake.Deliver(t, telegramtest.TextUpdate(7001, 555001, "Ann", "Where is my order?")))
	forged := telegramtest.TextUpdate(7002, 555001, "Ann", "forged")
	require.Equal(t, http.StatusForbidden, postHook(t, hookURL, map[string]string{telegram.HeaderSecret: "wrong"}, forged))
	require.Equal(t, http.StatusForbidden, postHook(t, hookURL, nil, forged))
	require.Equal(t, http.StatusBadRequest, postHook(t, hookURL, map[string]string{telegram.HeaderSecret: secret}, []byte(`{"message":`)))
	require.Equal(t, http.StatusNotFound, postHook(t, strings.Replace(hookURL, fmt.Sprintf("/hooks/%d", id), "/hooks/999999", 1),
		map[string]string{telegram.HeaderSecret: secret}, forged))
	time.Sleep(300 * time.Millisecond)
	require.Equal(t, 1, inbound(), "a redelivered or forged update was stored")

	// A photo: downloaded through getFile into the desk, served from the message's link.
	photo := []byte("\xff\xd8\xff\xe0 a jpeg")
	fake.AddFile("ph-1", "photos/file_1.jpg", photo)
	require.Equal(t, http.StatusOK, fake.Deliver(t, telegramtest.PhotoUpdate(7003, 555001, "Ann", "the box", "ph-1", len(photo))))
	a.waitFor("the photo message", 20*time.Second, func() bool { return inbound() == 2 })
	var attachments []struct {
		URL         string `json:"url"`
		Name        string `json:"name"`
		ContentType string `json:"content_type"`
	}
	var atRaw []byte
	require.NoError(t, a.store.Pool().QueryRow(t.Context(), `SELECT m.attachments FROM messages m JOIN chats c ON c.id = m.chat_id
		WHERE c.channel_id = $1 AND m.text = 'the box'`, id).Scan(&atRaw))
	require.NoError(t, json.Unmarshal(atRaw, &attachments))
	require.Len(t, attachments, 1)
	require.Equal(t, "image/jpeg", attachments[0].ContentType)
	// An operator of the line opens it with their session; without one it stays closed.
	_, ann := a.newOperator("ann.op@example.com", "Anna")
	got := a.do(ann, "GET", strings.TrimPrefix(attachments[0].URL, a.url), nil, nil)
	require.Equal(t, http.StatusOK, got.status, got.text)
	require.Equal(t, string(photo), got.text)
	anon, err := http.Get(attachments[0].URL)
	require.NoError(t, err)
	anon.Body.Close()
	require.Equal(t, http.StatusUnauthorized, anon.StatusCode)
	// Redelivered, the photo is not stored twice.
	require.Equal(t, http.StatusOK, fake.Deliver(t, telegramtest.PhotoUpdate(7003, 555001, "Ann", "the box", "ph-1", len(photo))))
	require.Equal(t, 1, a.queryInt(`SELECT count(*) FROM files WHERE name = 'photo.jpg'`))

	// The operator takes it and answers; the bot sends it to the chat under the operator's name.
	path := fmt.Sprintf("/api/v1/conversations/%d", n)
	require.Equal(t, http.StatusOK, a.do(ann, "POST", path+"/take", nil, nil).status)
	res = a.do(ann, "POST", path+"/messages", map[string]string{"text": "It ships today"}, nil)
	require.Equal(t, http.StatusCreated, res.status, res.text)
	sent := waitSent(t, fake, 1)
	require.Equal(t, int64(555001), sent[0].ChatID)
	require.Equal(t, "Anna:\nIt ships today", sent[0].Text)
	a.waitFor("the reply marked sent", 10*time.Second, func() bool {
		return a.queryInt(`SELECT count(*) FROM messages WHERE conversation_number = $1 AND status = 'sent' AND external_id IS NOT NULL`, n) == 1
	})

	// The line shows only its own name: no operator name; a 429 is waited out, sent once.
	res = a.do(a.http, "PATCH", fmt.Sprintf("/api/v1/lines/%d", lineID), map[string]any{"hide_operator_name": true}, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)
	fake.RateLimitNext(1)
	res = a.do(ann, "POST", path+"/messages", map[string]string{"text": "Tracking: 42"}, nil)
	require.Equal(t, http.StatusCreated, res.status, res.text)
	sent = waitSent(t, fake, 2)
	require.Equal(t, "Tracking: 42", sent[1].Text)

	// Close with CSAT: three inline buttons; the client presses "Excellent".
	res = a.do(ann, "POST", path+"/close", map[string]any{"type": "Support", "solution": "Shipped", "send_csat": true, "confirm_unread": true}, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)
	sent = waitSent(t, fake, 3)
	var markup struct {
		InlineKeyboard [][]struct {
			Text string `json:"text"`
			Data string `json:"callback_data"`
		} `json:"inline_keyboard"`
	}
	require.NoError(t, json.Unmarshal(sent[2].ReplyMarkup, &markup), string(sent[2].ReplyMarkup))
	require.Len(t, markup.InlineKeyboard, 1)
	require.Len(t, markup.InlineKeyboard[0], 3)
	require.Equal(t, workflows.CSATPayload(n, 3), markup.InlineKeyboard[0][2].Data)
	require.Equal(t, http.StatusOK, fake.Deliver(t, telegramtest.ButtonUpdate(7004, 555001, sent[2].MessageID, markup.InlineKeyboard[0][2].Data)))
	a.waitFor("the CSAT answer", 20*time.Second, func() bool {
		c := a.conversation(n)
		return c.CSAT != nil && *c.CSAT == 3
	})
	require.Contains(t, fake.AnsweredCallbacks(), "cb-7004", "the button's spinner was not stopped")
	sent = waitSent(t, fake, 4)
	require.Equal(t, workflows.DefaultStandardMessages().CSATThanks, sent[3].Text)
}

func waitSent(t *testing.T, fake *telegramtest.Server, n int) []telegramtest.Sent {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		if s := fake.Sent(); len(s) >= n {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("the bot sent %d messages, want %d: %+v", len(fake.Sent()), n, fake.Sent())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestViberChannelEndToEnd connects a Viber bot against the fake REST API: set_webhook's signed
// check is answered, the subscriber's message opens a conversation, a redelivery or a bad
// signature stores nothing, the reply goes under the operator's name, "seen" marks it read, and
// CSAT goes as a reply keyboard whose press (a text with our tracking_data) rates the
// conversation.
func TestViberChannelEndToEnd(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{})
	const token = "4453b6ac1s345678-e02c5f12174805f9-daec9cbb5448c51f"
	fake := vibertest.New(t, token)
	_, ch := a.messengerLine("viber", map[string]any{"api_base_url": fake.URL()}, map[string]string{"auth_token": token})
	id := ch.Channel.ID

	res := a.do(a.http, "POST", fmt.Sprintf("/api/v1/channels/%d/connect", id), nil, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)
	require.Equal(t, ch.Channel.WebhookURL, fake.Webhook(), "set_webhook's check callback was not answered 200")

	msg, msgToken := vibertest.TextCallback("01234567890A=", "Boris", "Привет, где заказ?")
	require.Equal(t, []int{http.StatusOK}, fake.DeliverUntilOK(t, msg, 3))
	n := a.conversationOf(id, "01234567890A=")
	require.Equal(t, "Boris", a.conversation(n).Contact.Name)
	require.Equal(t, http.StatusOK, fake.Deliver(t, msg))
	forged, _ := vibertest.TextCallback("01234567890A=", "Boris", "forged")
	require.Equal(t, http.StatusForbidden, postHook(t, fake.Webhook(), map[string]string{viber.HeaderSignature: viber.Sign("another-token", forged)}, forged))
	time.Sleep(300 * time.Millisecond)
	require.Equal(t, 1, a.queryInt(`SELECT count(*) FROM messages WHERE conversation_number = $1 AND direction = 'in'`, n), "token %d", msgToken)

	_, op := a.newOperator("vera@example.com", "Vera")
	path := fmt.Sprintf("/api/v1/conversations/%d", n)
	require.Equal(t, http.StatusOK, a.do(op, "POST", path+"/take", nil, nil).status)
	res = a.do(op, "POST", path+"/messages", map[string]string{"text": "Заказ в пути"}, nil)
	require.Equal(t, http.StatusCreated, res.status, res.text)
	var sent []vibertest.Sent
	a.waitFor("the reply at Viber", 20*time.Second, func() bool { sent = fake.Sent(); return len(sent) == 1 })
	require.Equal(t, "01234567890A=", sent[0].Receiver)
	require.Equal(t, "Vera", sent[0].Sender.Name)
	require.Equal(t, "Заказ в пути", sent[0].Text)

	// Viber reports the message seen: the reply shows as read.
	var ext string
	a.waitFor("the reply's message token", 10*time.Second, func() bool {
		return a.store.Pool().QueryRow(t.Context(), `SELECT external_id FROM messages WHERE conversation_number = $1 AND direction = 'out' AND external_id IS NOT NULL`, n).Scan(&ext) == nil
	})
	tok, err := strconv.ParseInt(ext, 10, 64)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, fake.Deliver(t, vibertest.SeenCallback("01234567890A=", tok)))
	require.Equal(t, 1, a.queryInt(`SELECT count(*) FROM messages WHERE conversation_number = $1 AND status = 'read'`, n))
	// A late "delivered" does not undo "read".
	delivered, _ := json.Marshal(map[string]any{"event": "delivered", "timestamp": time.Now().UnixMilli(), "message_token": tok, "user_id": "01234567890A="})
	require.Equal(t, http.StatusOK, fake.Deliver(t, delivered))
	require.Equal(t, 1, a.queryInt(`SELECT count(*) FROM messages WHERE conversation_number = $1 AND status = 'read'`, n))

	// CSAT as a keyboard; the press comes back as text with our tracking_data.
	res = a.do(op, "POST", path+"/close", map[string]any{"type": "Support", "solution": "Delivered", "send_csat": true, "confirm_unread": true}, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)
	a.waitFor("the CSAT keyboard", 20*time.Second, func() bool { sent = fake.Sent(); return len(sent) == 2 })
	var kb struct {
		Buttons []struct {
			ActionBody string `json:"ActionBody"`
			Text       string `json:"Text"`
		} `json:"Buttons"`
	}
	require.NoError(t, json.Unmarshal(sent[1].Keyboard, &kb), string(sent[1].Keyboard))
	require.Len(t, kb.Buttons, 3)
	require.Equal(t, workflows.CSATPayload(n, 1), kb.Buttons[0].ActionBody)
	press, _ := json.Marshal(map[string]any{"event": "message", "timestamp": time.Now().UnixMilli(), "message_token": vibertest.NewToken(),
		"sender":  map[string]any{"id": "01234567890A=", "name": "Boris"},
		"message": map[string]any{"type": "text", "text": kb.Buttons[0].ActionBody, "tracking_data": sent[1].TrackingData}})
	require.Equal(t, http.StatusOK, fake.Deliver(t, press))
	a.waitFor("the CSAT answer", 20*time.Second, func() bool {
		c := a.conversation(n)
		return c.CSAT != nil && *c.CSAT == 1
	})
}

// TestTelegramLongPolling: a channel set to long polling takes its updates with getUpdates
// (connect removes the webhook first), stores each once, keeps its offset across a restart of
// the puller, and answers through sendMessage as a webhook channel does.
func TestTelegramLongPolling(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{})
	fake := telegramtest.New(t, testBotToken)
	_, ch := a.messengerLine("telegram", map[string]any{"api_base_url": fake.URL(), "receive": "polling"}, map[string]string{"bot_token": testBotToken})
	id := ch.Channel.ID
	res := a.do(a.http, "POST", fmt.Sprintf("/api/v1/channels/%d/connect", id), nil, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)
	require.Contains(t, res.text, "getUpdates")
	url, _ := fake.Webhook()
	require.Empty(t, url, "a polling bot keeps no webhook")

	poll := a.runPullers
	stop := poll()
	fake.Queue(telegramtest.TextUpdate(500, 8801, "Olga", "first over polling"))
	fake.Queue(telegramtest.TextUpdate(501, 8801, "Olga", "second over polling"))
	n := a.conversationOf(id, "8801")
	a.waitFor("both messages", 20*time.Second, func() bool {
		return a.queryInt(`SELECT count(*) FROM messages WHERE conversation_number = $1 AND direction = 'in'`, n) == 2
	})
	a.waitFor("the offset stored", 10*time.Second, func() bool {
		return a.queryInt(`SELECT count(*) FROM channel_cursors WHERE channel_id = $1 AND cursor = '502'`, id) == 1
	})
	stop()

	// Restarted, the puller goes on from the stored offset; an update Telegram hands out again
	// (its offset was never confirmed) is stored once.
	fake.Queue(telegramtest.TextUpdate(501, 8801, "Olga", "second over polling"))
	fake.Queue(telegramtest.TextUpdate(502, 8801, "Olga", "third over polling"))
	stop = poll()
	defer stop()
	a.waitFor("the third message", 20*time.Second, func() bool {
		return a.queryInt(`SELECT count(*) FROM messages WHERE conversation_number = $1 AND direction = 'in'`, n) == 3
	})
	offsets := fake.Offsets()
	require.Contains(t, offsets, int64(502), "the restarted puller did not go on from the stored offset: %v", offsets)
	require.Equal(t, 1, a.queryInt(`SELECT count(*) FROM messages WHERE text = 'second over polling'`))

	_, op := a.newOperator("pol@example.com", "Pol")
	path := fmt.Sprintf("/api/v1/conversations/%d", n)
	require.Equal(t, http.StatusOK, a.do(op, "POST", path+"/take", nil, nil).status)
	require.Equal(t, http.StatusCreated, a.do(op, "POST", path+"/messages", map[string]string{"text": "Got all three"}, nil).status)
	sent := waitSent(t, fake, 1)
	require.Equal(t, "Pol:\nGot all three", sent[0].Text)
}

// TestVKChannelEndToEnd: a community connects (connect fetches the confirmation code and says
// what to paste in VK); VK's confirmation is answered with the code; the client's message opens
// a conversation and is answered "ok"; a wrong secret is refused and stores nothing; a redelivery
// stores nothing; the reply goes through messages.send with a random_id from linedesk's message
// id, so a retry after a rate limit sends nothing twice; CSAT goes as a keyboard whose press
// rates the conversation.
func TestVKChannelEndToEnd(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{})
	const token = "vk1.a.community-token-for-tests-0123456789"
	fake := vktest.New(t, token, 214167102, "6f2b1c9d")
	_, ch := a.messengerLine("vk", map[string]any{"api_base_url": fake.URL(), "group_id": 214167102}, map[string]string{"access_token": token})
	id := ch.Channel.ID
	var created struct {
		Secret string `json:"secret"`
	}
	// The channel's secret is the community's secret key: the connect steps give it.
	res := a.do(a.http, "POST", fmt.Sprintf("/api/v1/channels/%d/connect", id), nil, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)
	require.Contains(t, res.text, `"account":"Shop community"`)
	require.Contains(t, res.text, ch.Channel.WebhookURL)
	var conn struct {
		Steps []string `json:"steps"`
	}
	res.json(t, &conn)
	for _, s := range conn.Steps {
		if v, ok := strings.CutPrefix(s, "Secret key: "); ok {
			created.Secret = v
		}
	}
	require.NotEmpty(t, created.Secret, "the steps give the secret key: %v", conn.Steps)
	audit := a.do(a.http, "GET", fmt.Sprintf("/api/v1/channels/%d/history", id), nil, nil)
	require.NotContains(t, audit.text, created.Secret, "the channel history holds the secret key")

	status, body := vktest.Post(t, ch.Channel.WebhookURL, fake.Confirmation(created.Secret))
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, "6f2b1c9d", body)

	msg := fake.MessageNew(created.Secret, 612444319, "Здравствуйте, где мой заказ?", "")
	status, body = vktest.Post(t, ch.Channel.WebhookURL, msg)
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, "ok", body)
	n := a.conversationOf(id, "612444319")
	// VK's webhook gives only the id: users.get names the client.
	a.waitFor("the client's VK name", 10*time.Second, func() bool { return a.conversation(n).Contact.Name == "Ivan Id612444319" })
	status, _ = vktest.Post(t, ch.Channel.WebhookURL, msg)
	require.Equal(t, http.StatusOK, status)
	status, _ = vktest.Post(t, ch.Channel.WebhookURL, fake.MessageNew("wrong-secret", 612444319, "forged", ""))
	require.Equal(t, http.StatusForbidden, status)
	time.Sleep(300 * time.Millisecond)
	require.Equal(t, 1, a.queryInt(`SELECT count(*) FROM messages WHERE conversation_number = $1 AND direction = 'in'`, n))

	_, op := a.newOperator("inna@example.com", "Inna")
	path := fmt.Sprintf("/api/v1/conversations/%d", n)
	require.Equal(t, http.StatusOK, a.do(op, "POST", path+"/take", nil, nil).status)
	fake.RateLimitNext(1)
	res = a.do(op, "POST", path+"/messages", map[string]string{"text": "Заказ в пути"}, nil)
	require.Equal(t, http.StatusCreated, res.status, res.text)
	var sent []vktest.Sent
	a.waitFor("the reply at VK", 20*time.Second, func() bool { sent = fake.Sent(); return len(sent) == 1 })
	require.Equal(t, int64(612444319), sent[0].PeerID)
	require.Equal(t, "Inna:\nЗаказ в пути", sent[0].Text)
	var replyID string
	require.NoError(t, a.store.Pool().QueryRow(t.Context(), `SELECT id::text FROM messages WHERE conversation_number = $1 AND direction = 'out'`, n).Scan(&replyID))
	require.Equal(t, vk.RandomID(replyID), sent[0].RandomID)

	res = a.do(op, "POST", path+"/close", map[string]any{"type": "Support", "solution": "Shipped", "send_csat": true, "confirm_unread": true}, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)
	a.waitFor("the CSAT keyboard", 20*time.Second, func() bool { sent = fake.Sent(); return len(sent) == 2 })
	var kb struct {
		OneTime bool `json:"one_time"`
		Buttons [][]struct {
			Action struct {
				Label   string `json:"label"`
				Payload string `json:"payload"`
			} `json:"action"`
		} `json:"buttons"`
	}
	require.NoError(t, json.Unmarshal([]byte(sent[1].Keyboard), &kb), sent[1].Keyboard)
	require.Len(t, kb.Buttons, 1)
	require.Len(t, kb.Buttons[0], 3)
	press := fake.MessageNew(created.Secret, 612444319, kb.Buttons[0][1].Action.Label, kb.Buttons[0][1].Action.Payload)
	status, _ = vktest.Post(t, ch.Channel.WebhookURL, press)
	require.Equal(t, http.StatusOK, status)
	a.waitFor("the CSAT answer", 20*time.Second, func() bool {
		c := a.conversation(n)
		return c.CSAT != nil && *c.CSAT == 2
	})
}

// TestMetaChannelsEndToEnd, for Messenger and Instagram: connect checks the page token and
// subscribes the page; Meta's GET verification is answered with the challenge only for the
// channel's verify token; a signed message opens a conversation, a redelivery (same mid) and a
// wrong signature store nothing; the reply goes through /me/messages as RESPONSE inside the
// window and with the HUMAN_AGENT tag after 24 hours; after 7 days the operator's reply is
// refused at once (409) and nothing is sent; a delivery receipt marks a reply delivered; CSAT
// goes as quick replies whose press rates the conversation.
func TestMetaChannelsEndToEnd(t *testing.T) {
	t.Parallel()
	for _, kind := range []string{"facebook", "instagram"} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			a := newApp(t, appOptions{})
			const pageToken, appSecret = "EAAG-page-token-for-tests-0123456789", "app-secret-0123456789abcdef"
			fake := metatest.New(t, pageToken, appSecret, "1029384756")
			_, ch := a.messengerLine(kind, map[string]any{"api_base_url": fake.URL()}, map[string]string{"page_token": pageToken, "app_secret": appSecret})
			id := ch.Channel.ID
			res := a.do(a.http, "POST", fmt.Sprintf("/api/v1/channels/%d/connect", id), nil, nil)
			require.Equal(t, http.StatusOK, res.status, res.text)
			require.Contains(t, res.text, `"account":"Shop page"`)
			require.Contains(t, fake.Subscribed(), "messages")
			var conn struct {
				Steps []string `json:"steps"`
			}
			res.json(t, &conn)
			var verifyToken string
			for _, s := range conn.Steps {
				if v, ok := strings.CutPrefix(s, "Verify token: "); ok {
					verifyToken = v
				}
			}
			require.NotEmpty(t, verifyToken, "%v", conn.Steps)
			status, body := metatest.Verify(t, ch.Channel.WebhookURL, verifyToken, "1158201444")
			require.Equal(t, http.StatusOK, status)
			require.Equal(t, "1158201444", body)
			status, _ = metatest.Verify(t, ch.Channel.WebhookURL, "not-the-token", "1")
			require.Equal(t, http.StatusForbidden, status)

			object := map[string]string{"facebook": meta.ObjectPage, "instagram": meta.ObjectInstagram}[kind]
			msg, _ := fake.Message(object, "PSID-42", "Hi, is my parcel on its way?", "")
			require.Equal(t, http.StatusOK, fake.Post(t, ch.Channel.WebhookURL, msg, ""))
			n := a.conversationOf(id, "PSID-42")
			// Meta's webhook gives only the id: the user profile names the client.
			want := map[string]string{"facebook": "Mila K", "instagram": "Mila K"}[kind]
			a.waitFor("the client's name", 10*time.Second, func() bool { return a.conversation(n).Contact.Name == want })
			require.Equal(t, http.StatusOK, fake.Post(t, ch.Channel.WebhookURL, msg, ""))
			forged, _ := fake.Message(object, "PSID-42", "forged", "")
			require.Equal(t, http.StatusForbidden, fake.Post(t, ch.Channel.WebhookURL, forged, "some-other-app-secret"))
			time.Sleep(300 * time.Millisecond)
			require.Equal(t, 1, a.queryInt(`SELECT count(*) FROM messages WHERE conversation_number = $1 AND direction = 'in'`, n))

			_, op := a.newOperator("meta-"+kind+"@example.com", "Mira")
			path := fmt.Sprintf("/api/v1/conversations/%d", n)
			require.Equal(t, http.StatusOK, a.do(op, "POST", path+"/take", nil, nil).status)
			fake.RateLimitNext(1)
			require.Equal(t, http.StatusCreated, a.do(op, "POST", path+"/messages", map[string]string{"text": "Yes, it arrives tomorrow"}, nil).status)
			var sent []metatest.Sent
			a.waitFor("the reply at Meta", 30*time.Second, func() bool { sent = fake.Sent(); return len(sent) == 1 })
			require.Equal(t, "PSID-42", sent[0].Recipient)
			require.Equal(t, "RESPONSE", sent[0].MessagingType)
			require.JSONEq(t, `{"text":"Mira:\nYes, it arrives tomorrow"}`, string(sent[0].Message))

			// Messenger reports the delivery.
			a.waitFor("the reply's mid", 10*time.Second, func() bool {
				return a.queryInt(`SELECT count(*) FROM messages WHERE conversation_number = $1 AND external_id = $2`, n, sent[0].ID) == 1
			})
			receipt, _ := json.Marshal(map[string]any{"object": object, "entry": []any{map[string]any{"id": "1029384756", "time": 1,
				"messaging": []any{map[string]any{"sender": map[string]any{"id": "PSID-42"}, "recipient": map[string]any{"id": "1029384756"},
					"delivery": map[string]any{"mids": []string{sent[0].ID}, "watermark": 1}}}}}})
			require.Equal(t, http.StatusOK, fake.Post(t, ch.Channel.WebhookURL, receipt, ""))
			require.Equal(t, 1, a.queryInt(`SELECT count(*) FROM messages WHERE conversation_number = $1 AND status = 'delivered'`, n))
			// Then that the client read everything up to now (a watermark, not message ids).
			read, _ := json.Marshal(map[string]any{"object": object, "entry": []any{map[string]any{"id": "1029384756", "time": 1,
				"messaging": []any{map[string]any{"sender": map[string]any{"id": "PSID-42"}, "recipient": map[string]any{"id": "1029384756"},
					"read": map[string]any{"watermark": time.Now().UnixMilli()}}}}}})
			require.Equal(t, http.StatusOK, fake.Post(t, ch.Channel.WebhookURL, read, ""))
			require.Equal(t, 1, a.queryInt(`SELECT count(*) FROM messages WHERE conversation_number = $1 AND status = 'read'`, n))

			// Two days after the client's last message an operator may still answer, with the
			// HUMAN_AGENT tag; after eight days the reply is refused at once, with the reason.
			setLastInbound := func(ago string) {
				_, err := a.store.Pool().Exec(t.Context(), `UPDATE messages SET created_at = now() - $2::interval WHERE conversation_number = $1 AND direction = 'in'`, n, ago)
				require.NoError(t, err)
			}
			setLastInbound("2 days")
			require.Equal(t, http.StatusCreated, a.do(op, "POST", path+"/messages", map[string]string{"text": "Did it arrive?"}, nil).status)
			a.waitFor("the tagged reply", 20*time.Second, func() bool { sent = fake.Sent(); return len(sent) == 2 })
			require.Equal(t, "MESSAGE_TAG", sent[1].MessagingType)
			require.Equal(t, "HUMAN_AGENT", sent[1].Tag)
			setLastInbound("8 days")
			res = a.do(op, "POST", path+"/messages", map[string]string{"text": "Anything else?"}, nil)
			require.Equal(t, http.StatusConflict, res.status, res.text)
			require.Equal(t, "outside_messaging_window", res.errorCode(t))
			require.Contains(t, res.text, "the client must write first")
			require.Len(t, fake.Sent(), 2, "a reply outside the window reached Meta")
			setLastInbound("0 seconds")

			// CSAT as quick replies; the press comes back as the quick reply's payload.
			res = a.do(op, "POST", path+"/close", map[string]any{"type": "Support", "solution": "Arrives tomorrow", "send_csat": true, "confirm_unread": true}, nil)
			require.Equal(t, http.StatusOK, res.status, res.text)
			a.waitFor("the CSAT question", 20*time.Second, func() bool { sent = fake.Sent(); return len(sent) == 3 })
			var q struct {
				QuickReplies []struct {
					Title   string `json:"title"`
					Payload string `json:"payload"`
				} `json:"quick_replies"`
			}
			require.NoError(t, json.Unmarshal(sent[2].Message, &q), string(sent[2].Message))
			require.Len(t, q.QuickReplies, 3)
			press, _ := fake.Message(object, "PSID-42", q.QuickReplies[2].Title, q.QuickReplies[2].Payload)
			require.Equal(t, http.StatusOK, fake.Post(t, ch.Channel.WebhookURL, press, ""))
			a.waitFor("the CSAT answer", 20*time.Second, func() bool {
				c := a.conversation(n)
				return c.CSAT != nil && *c.CSAT == 3
			})
		})
	}
}

// TestWhatsAppChannelEndToEnd connects a WhatsApp Business number against the fake Cloud API and
// serves a client: the app subscribed to the business account, Meta's verification answered, the
// client's text (with their profile name and number) opens a conversation, a redelivered wamid
// and a forged signature store nothing, a photo is fetched by media id with the token, the
// operator's reply goes to the number with their name, statuses move it to delivered and read,
// a failure shows WhatsApp's reason, a reply after 24 hours is refused up front, and CSAT goes as
// three reply buttons whose press rates the conversation.
func TestWhatsAppChannelEndToEnd(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{})
	const token, appSecret, phoneID, wabaID = "EAAG-system-user-token-0123456789", "app-secret-0123456789abcdef", "106540352242922", "102290129340398"
	fake := whatsapptest.New(t, token, appSecret, phoneID, wabaID)
	_, ch := a.messengerLine("whatsapp", map[string]any{"api_base_url": fake.URL(), "phone_number_id": phoneID, "business_account_id": wabaID},
		map[string]string{"access_token": token, "app_secret": appSecret})
	id, hook := ch.Channel.ID, ch.Channel.WebhookURL
	res := a.do(a.http, "POST", fmt.Sprintf("/api/v1/channels/%d/connect", id), nil, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)
	require.Contains(t, res.text, `"account":"Shop +7 495 000-00-00"`)
	require.Contains(t, res.text, `"registered":true`)
	require.True(t, fake.Subscribed())
	require.Equal(t, hook, fake.Callback(), "the business account's callback, verified by Meta with the channel's token")
	status, _ := metatest.Verify(t, hook, "not-the-token", "1")
	require.Equal(t, http.StatusForbidden, status)

	msg, _ := fake.Text("79161234567", "Анна Петрова", "Здравствуйте, где мой заказ?")
	require.Equal(t, http.StatusOK, fake.Post(t, hook, msg, ""))
	n := a.conversationOf(id, "79161234567")
	conv := a.conversation(n)
	require.Equal(t, "whatsapp", conv.Channel.Kind)
	require.Equal(t, "Анна Петрова", conv.Contact.Name)
	require.Equal(t, 1, a.queryInt(`SELECT count(*) FROM contacts WHERE phone = '+79161234567'`))
	require.Equal(t, http.StatusOK, fake.Post(t, hook, msg, ""), "a redelivery")
	forged, _ := fake.Text("79161234567", "Анна Петрова", "forged")
	require.Equal(t, http.StatusForbidden, fake.Post(t, hook, forged, "some-other-app-secret"))
	require.Equal(t, http.StatusBadRequest, fake.Post(t, hook, []byte(`{"object":`), ""))
	inbound := func() int {
		return a.queryInt(`SELECT count(*) FROM messages WHERE conversation_number = $1 AND direction = 'in'`, n)
	}
	time.Sleep(300 * time.Millisecond)
	require.Equal(t, 1, inbound(), "a redelivered or forged message was stored")

	photo := []byte("\xff\xd8\xff\xe0 a whatsapp jpeg")
	mediaID := fake.AddMedia(photo)
	pic, _ := fake.Inbound("79161234567", "Анна Петрова", "image", map[string]any{"image": map[string]any{"id": mediaID, "mime_type": "image/jpeg", "caption": "коробка"}})
	require.Equal(t, http.StatusOK, fake.Post(t, hook, pic, ""))
	a.waitFor("the photo", 20*time.Second, func() bool { return inbound() == 2 })
	var atRaw []byte
	require.NoError(t, a.store.Pool().QueryRow(t.Context(), `SELECT attachments FROM messages WHERE conversation_number = $1 AND text = 'коробка'`, n).Scan(&atRaw))
	var atts []struct {
		URL string `json:"url"`
	}
	require.NoError(t, json.Unmarshal(atRaw, &atts))
	require.Len(t, atts, 1)

	_, op := a.newOperator("wa.op@example.com", "Mira")
	got := a.do(op, "GET", strings.TrimPrefix(atts[0].URL, a.url), nil, nil)
	require.Equal(t, http.StatusOK, got.status, got.text)
	require.Equal(t, string(photo), got.text)

	path := fmt.Sprintf("/api/v1/conversations/%d", n)
	require.Equal(t, http.StatusOK, a.do(op, "POST", path+"/take", nil, nil).status)
	fake.ThrottleNext(1)
	require.Equal(t, http.StatusCreated, a.do(op, "POST", path+"/messages", map[string]string{"text": "Заказ приедет завтра"}, nil).status)
	var sent []whatsapptest.Sent
	a.waitFor("the reply at WhatsApp", 30*time.Second, func() bool { sent = fake.Sent(); return len(sent) == 1 })
	require.Equal(t, "79161234567", sent[0].To)
	var text struct {
		Text struct{ Body string } `json:"text"`
	}
	require.NoError(t, json.Unmarshal(sent[0].Body, &text))
	require.Equal(t, "*Mira*:\nЗаказ приедет завтра", text.Text.Body)
	a.waitFor("the reply's wamid", 10*time.Second, func() bool {
		return a.queryInt(`SELECT count(*) FROM messages WHERE conversation_number = $1 AND external_id = $2`, n, sent[0].ID) == 1
	})
	outStatus := func() string {
		var s string
		require.NoError(t, a.store.Pool().QueryRow(t.Context(), `SELECT status FROM messages WHERE external_id = $1`, sent[0].ID).Scan(&s))
		return s
	}
	require.Equal(t, http.StatusOK, fake.Post(t, hook, fake.Status(sent[0].ID, "79161234567", "read"), ""))
	require.Equal(t, "read", outStatus())
	require.Equal(t, http.StatusOK, fake.Post(t, hook, fake.Status(sent[0].ID, "79161234567", "delivered"), ""), "late, out of order")
	require.Equal(t, "read", outStatus(), "a late delivered undid read")

	// A second reply fails at WhatsApp after it was accepted: the message shows why.
	require.Equal(t, http.StatusCreated, a.do(op, "POST", path+"/messages", map[string]string{"text": "Вы здесь?"}, nil).status)
	a.waitFor("the second reply", 30*time.Second, func() bool { sent = fake.Sent(); return len(sent) == 2 })
	a.waitFor("the second reply's wamid", 10*time.Second, func() bool {
		return a.queryInt(`SELECT count(*) FROM messages WHERE external_id = $1`, sent[1].ID) == 1
	})
	require.Equal(t, http.StatusOK, fake.Post(t, hook, fake.Status(sent[1].ID, "79161234567", "failed"), ""))
	res = a.do(op, "GET", path+"/messages", nil, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)
	require.Contains(t, res.text, "WhatsApp error 131026: Message undeliverable")

	// 25 hours after the client's last message, nothing goes: the operator is told why.
	_, err := a.store.Pool().Exec(t.Context(), `UPDATE messages SET created_at = now() - interval '25 hours' WHERE conversation_number = $1 AND direction = 'in'`, n)
	require.NoError(t, err)
	res = a.do(op, "POST", path+"/messages", map[string]string{"text": "Ещё что-нибудь?"}, nil)
	require.Equal(t, http.StatusConflict, res.status, res.text)
	require.Equal(t, "outside_messaging_window", res.errorCode(t))
	require.Len(t, fake.Sent(), 2)
	_, err = a.store.Pool().Exec(t.Context(), `UPDATE messages SET created_at = now() WHERE conversation_number = $1 AND direction = 'in'`, n)
	require.NoError(t, err)

	// CSAT: three reply buttons; the client presses the third.
	res = a.do(op, "POST", path+"/close", map[string]any{"type": "Support", "solution": "Доставлено", "send_csat": true, "confirm_unread": true}, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)
	a.waitFor("the CSAT question", 20*time.Second, func() bool { sent = fake.Sent(); return len(sent) == 3 })
	require.Equal(t, "interactive", sent[2].Type)
	var q struct {
		Interactive struct {
			Action struct {
				Buttons []struct {
					Reply struct{ ID, Title string }
				}
			}
		}
	}
	require.NoError(t, json.Unmarshal(sent[2].Body, &q), string(sent[2].Body))
	require.Len(t, q.Interactive.Action.Buttons, 3)
	require.Equal(t, workflows.CSATPayload(n, 3), q.Interactive.Action.Buttons[2].Reply.ID)
	press, _ := fake.ButtonReply("79161234567", "Анна Петрова", q.Interactive.Action.Buttons[2].Reply.ID, q.Interactive.Action.Buttons[2].Reply.Title)
	require.Equal(t, http.StatusOK, fake.Post(t, hook, press, ""))
	a.waitFor("the CSAT answer", 20*time.Second, func() bool {
		c := a.conversation(n)
		return c.CSAT != nil && *c.CSAT == 3
	})
}

// TestOKChannelEndToEnd connects an Odnoklassniki group against the fake API: connect subscribes
// a URL holding the channel's secret (OK signs nothing), the client's message opens a
// conversation, a redelivered mid and a post to the URL without the secret store nothing, a
// picture is downloaded, the operator's reply reaches the chat, and CSAT goes as callback buttons
// whose press rates the conversation.
func TestOKChannelEndToEnd(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{})
	const token = "tkn1a2b3c4d5e6f7g8h9i0jklmnopqrstuv"
	fake := oktest.New(t, token)
	_, ch := a.messengerLine("ok", map[string]any{"api_base_url": fake.URL()}, map[string]string{"access_token": token})
	id := ch.Channel.ID
	require.Empty(t, ch.Channel.WebhookURL, "the URL with the secret is not shown")
	res := a.do(a.http, "POST", fmt.Sprintf("/api/v1/channels/%d/connect", id), nil, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)
	require.Contains(t, res.text, `"registered":true`)
	require.Contains(t, res.text, `"account":"Shop group"`)
	hook := fake.Hook()
	require.True(t, strings.HasPrefix(hook, fmt.Sprintf("%s/hooks/%d/", a.url, id)), hook)
	require.Greater(t, len(hook), len(fmt.Sprintf("%s/hooks/%d/", a.url, id))+20, "the secret is long enough not to guess")
	require.NotContains(t, a.do(a.http, "GET", "/api/v1/audit?limit=20", nil, nil).text, strings.TrimPrefix(hook, fmt.Sprintf("%s/hooks/%d/", a.url, id)),
		"the audit log shows the secret")

	const chat = "chat:C3ecb9d02a600"
	msg, _ := oktest.Text(chat, "user:575812345678", "Добрый день, заказ не пришёл")
	require.Equal(t, http.StatusOK, fake.Deliver(t, msg))
	n := a.conversationOf(id, chat)
	require.Equal(t, "Ольга", a.conversation(n).Contact.Name)
	require.Equal(t, http.StatusOK, fake.Deliver(t, msg), "a redelivery")
	forged, _ := oktest.Text(chat, "user:575812345678", "forged")
	require.Equal(t, http.StatusForbidden, oktest.Post(t, fmt.Sprintf("%s/hooks/%d/guess", a.url, id), forged))
	require.Equal(t, http.StatusForbidden, oktest.Post(t, fmt.Sprintf("%s/hooks/%d", a.url, id), forged), "without a token")
	require.Equal(t, http.StatusBadRequest, oktest.Post(t, hook, []byte(`{"sender":`)))
	inbound := func() int {
		return a.queryInt(`SELECT count(*) FROM messages WHERE conversation_number = $1 AND direction = 'in'`, n)
	}
	time.Sleep(300 * time.Millisecond)
	require.Equal(t, 1, inbound())

	pic := fake.AddFile([]byte("\xff\xd8\xff\xe0 an ok jpeg"))
	withPic, _ := oktest.Text(chat, "user:575812345678", "вот чек", map[string]any{"type": "IMAGE", "payload": map[string]any{"url": pic}})
	require.Equal(t, http.StatusOK, fake.Deliver(t, withPic))
	a.waitFor("the picture", 20*time.Second, func() bool { return inbound() == 2 })
	require.Equal(t, 1, a.queryInt(`SELECT count(*) FROM messages WHERE conversation_number = $1 AND text = 'вот чек' AND jsonb_array_length(attachments) = 1`, n))

	_, op := a.newOperator("ok.op@example.com", "Mira")
	path := fmt.Sprintf("/api/v1/conversations/%d", n)
	require.Equal(t, http.StatusOK, a.do(op, "POST", path+"/take", nil, nil).status)
	fake.ThrottleNext(1)
	require.Equal(t, http.StatusCreated, a.do(op, "POST", path+"/messages", map[string]string{"text": "Проверяем"}, nil).status)
	var sent []oktest.Sent
	a.waitFor("the reply at OK", 30*time.Second, func() bool { sent = fake.Sent(); return len(sent) == 1 })
	require.Equal(t, chat, sent[0].Chat)
	require.JSONEq(t, `{"text":"Mira:\nПроверяем"}`, string(sent[0].Message))

	res = a.do(op, "POST", path+"/close", map[string]any{"type": "Support", "solution": "Найден", "send_csat": true, "confirm_unread": true}, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)
	a.waitFor("the CSAT question", 20*time.Second, func() bool { sent = fake.Sent(); return len(sent) == 2 })
	var q struct {
		Attachments []struct {
			Type    string `json:"type"`
			Payload struct {
				Keyboard struct {
					Buttons [][]struct{ Type, Text, Payload string }
				}
			}
		}
	}
	require.NoError(t, json.Unmarshal(sent[1].Message, &q), string(sent[1].Message))
	require.Equal(t, "INLINE_KEYBOARD", q.Attachments[0].Type)
	row := q.Attachments[0].Payload.Keyboard.Buttons[0]
	require.Len(t, row, 3)
	require.Equal(t, workflows.CSATPayload(n, 3), row[2].Payload)
	require.Equal(t, http.StatusOK, fake.Deliver(t, oktest.Callback(chat, "user:575812345678", row[2].Payload)))
	a.waitFor("the CSAT answer", 20*time.Second, func() bool {
		c := a.conversation(n)
		return c.CSAT != nil && *c.CSAT == 3
	})
}
