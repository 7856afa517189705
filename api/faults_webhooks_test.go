//go:build faults

package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
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
	"github.com/linedesk/linedesk/connectors/vk/vktest"
	"github.com/linedesk/linedesk/connectors/whatsapp/whatsapptest"
)

// faultHook is one request a platform makes to the desk, as the platform makes it (its body,
// its signature or secret), and what the platform expects back.
type faultHook struct {
	kind   string
	url    string
	header map[string]string
	body   []byte
	// want is the status the platform takes for "received"; wantBody, when set, the body too
	// (VK wants "ok").
	want     int
	wantBody string
}

// faultChannel is one channel of the fault test and the distinct messages its platform sends.
type faultChannel struct {
	kind      string
	channelID int64
	// ordered: the platform dates its messages and linedesk shows a conversation in that order
	// (the api channel has no platform time: its messages are dated on arrival).
	ordered bool
	// chats are the chats' external ids in creation order; texts, each chat's texts in the
	// platform's order.
	chats []string
	texts map[string][]string
	hooks []faultHook
}

func (fc *faultChannel) add(chat, text string, h faultHook) {
	if fc.texts == nil {
		fc.texts = map[string][]string{}
	}
	if _, ok := fc.texts[chat]; !ok {
		fc.chats = append(fc.chats, chat)
	}
	fc.texts[chat] = append(fc.texts[chat], text)
	h.kind = fc.kind
	fc.hooks = append(fc.hooks, h)
}

func faultJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return b
}

// faultConnect connects a channel and returns the steps connect shows the admin.
func (a *app) faultConnect(id int64) []string {
	a.t.Helper()
	res := a.do(a.http, "POST", fmt.Sprintf("/api/v1/channels/%d/connect", id), nil, nil)
	require.Equal(a.t, http.StatusOK, res.status, res.text)
	var conn struct {
		Steps []string `json:"steps"`
	}
	res.json(a.t, &conn)
	return conn.Steps
}

func faultStep(t *testing.T, steps []string, prefix string) string {
	t.Helper()
	for _, s := range steps {
		if v, ok := strings.CutPrefix(s, prefix); ok {
			return v
		}
	}
	t.Fatalf("no step %q in %v", prefix, steps)
	return ""
}

// faultChats is how many clients write on each channel; message i comes from chat i%faultChats
// and is dated base + i seconds by its platform.
const faultChats = 3

func (a *app) faultTelegram(base time.Time, n int) faultChannel {
	t := a.t
	fake := telegramtest.New(t, testBotToken)
	_, ch := a.messengerLine("telegram", map[string]any{"api_base_url": fake.URL()}, map[string]string{"bot_token": testBotToken})
	a.faultConnect(ch.Channel.ID)
	hookURL, secret := fake.Webhook()
	fc := faultChannel{kind: "telegram", channelID: ch.Channel.ID, ordered: true}
	for i := range n {
		user := int64(710001 + i%faultChats)
		name := fmt.Sprintf("Tg%d", i%faultChats)
		text := fmt.Sprintf("telegram message %02d", i)
		body := faultJSON(t, map[string]any{"update_id": 880000 + i, "message": map[string]any{
			"message_id": 100 + i, "date": base.Unix() + int64(i),
			"from": map[string]any{"id": user, "is_bot": false, "first_name": name},
			"chat": map[string]any{"id": user, "type": "private", "first_name": name},
			"text": text}})
		fc.add(strconv.FormatInt(user, 10), text, faultHook{url: hookURL, header: map[string]string{telegram.HeaderSecret: secret},
			body: body, want: http.StatusOK})
	}
	return fc
}

func (a *app) faultVK(base time.Time, n int) faultChannel {
	t := a.t
	const token, group = "vk1.a.community-token-for-faults-0123456789", int64(214167102)
	fake := vktest.New(t, token, group, "6f2b1c9d")
	_, ch := a.messengerLine("vk", map[string]any{"api_base_url": fake.URL(), "group_id": group}, map[string]string{"access_token": token})
	secret := faultStep(t, a.faultConnect(ch.Channel.ID), "Secret key: ")
	fc := faultChannel{kind: "vk", channelID: ch.Channel.ID, ordered: true}
	for i := range n {
		user := int64(612440001 + i%faultChats)
		text := fmt.Sprintf("vk message %02d", i)
		body := faultJSON(t, map[string]any{"group_id": group, "type": "message_new",
			"event_id": fmt.Sprintf("%040x", 0xfa17000+i), "v": "5.199", "secret": secret,
			"object": map[string]any{"message": map[string]any{"date": base.Unix() + int64(i), "from_id": user, "id": 9000 + i, "out": 0,
				"attachments": []any{}, "conversation_message_id": 100 + i, "fwd_messages": []any{}, "important": false,
				"is_hidden": false, "peer_id": user, "random_id": 0, "text": text},
				"client_info": map[string]any{"button_actions": []string{"text", "callback"}, "keyboard": true, "inline_keyboard": true, "lang_id": 0}}})
		fc.add(strconv.FormatInt(user, 10), text, faultHook{url: ch.Channel.WebhookURL, body: body, want: http.StatusOK, wantBody: "ok"})
	}
	return fc
}

func (a *app) faultViber(base time.Time, n int) faultChannel {
	t := a.t
	const token = "4453b6ac1s345678-e02c5f12174805f9-faultfaultfault1"
	fake := vibertest.New(t, token)
	_, ch := a.messengerLine("viber", map[string]any{"api_base_url": fake.URL()}, map[string]string{"auth_token": token})
	a.faultConnect(ch.Channel.ID)
	fc := faultChannel{kind: "viber", channelID: ch.Channel.ID, ordered: true}
	for i := range n {
		user := fmt.Sprintf("0123456789%dA=", i%faultChats)
		text := fmt.Sprintf("viber message %02d", i)
		body := faultJSON(t, map[string]any{"event": "message", "timestamp": base.Add(time.Duration(i) * time.Second).UnixMilli(),
			"chat_hostname": "SN-000", "message_token": int64(5491234500000000000) + int64(i), "silent": false,
			"sender":  map[string]any{"id": user, "name": fmt.Sprintf("Viber %d", i%faultChats), "language": "ru", "country": "RU", "api_version": 10},
			"message": map[string]any{"type": "text", "text": text}})
		fc.add(user, text, faultHook{url: fake.Webhook(), header: map[string]string{viber.HeaderSignature: viber.Sign(token, body)},
			body: body, want: http.StatusOK})
	}
	return fc
}

func (a *app) faultMeta(kind string, base time.Time, n int) faultChannel {
	t := a.t
	const pageToken, appSecret, pageID = "EAAG-page-token-for-faults-0123456789", "app-secret-faults-0123456789", "1029384756"
	fake := metatest.New(t, pageToken, appSecret, pageID)
	_, ch := a.messengerLine(kind, map[string]any{"api_base_url": fake.URL()}, map[string]string{"page_token": pageToken, "app_secret": appSecret})
	a.faultConnect(ch.Channel.ID)
	object := map[string]string{"facebook": meta.ObjectPage, "instagram": meta.ObjectInstagram}[kind]
	fc := faultChannel{kind: kind, channelID: ch.Channel.ID, ordered: true}
	for i := range n {
		sender := fmt.Sprintf("PSID-%s-%d", kind, i%faultChats)
		text := fmt.Sprintf("%s message %02d", kind, i)
		at := base.Add(time.Duration(i) * time.Second).UnixMilli()
		body := faultJSON(t, map[string]any{"object": object, "entry": []any{map[string]any{"id": pageID, "time": at,
			"messaging": []any{map[string]any{"sender": map[string]any{"id": sender}, "recipient": map[string]any{"id": pageID},
				"timestamp": at, "message": map[string]any{"mid": fmt.Sprintf("m_fault_%s_%03d", kind, i), "text": text}}}}}})
		fc.add(sender, text, faultHook{url: ch.Channel.WebhookURL, header: map[string]string{meta.HeaderSignature: meta.Sign(appSecret, body)},
			body: body, want: http.StatusOK})
	}
	return fc
}

func (a *app) faultWhatsApp(base time.Time, n int) faultChannel {
	t := a.t
	const token, appSecret, phoneID, wabaID = "EAAG-system-user-token-faults-01234", "app-secret-wa-faults-0123456", "106540352242922", "102290129340398"
	fake := whatsapptest.New(t, token, appSecret, phoneID, wabaID)
	_, ch := a.messengerLine("whatsapp", map[string]any{"api_base_url": fake.URL(), "phone_number_id": phoneID, "business_account_id": wabaID},
		map[string]string{"access_token": token, "app_secret": appSecret})
	a.faultConnect(ch.Channel.ID)
	fc := faultChannel{kind: "whatsapp", channelID: ch.Channel.ID, ordered: true}
	for i := range n {
		from := fmt.Sprintf("7916555000%d", i%faultChats)
		text := fmt.Sprintf("whatsapp message %02d", i)
		body := fake.Change(map[string]any{
			"contacts": []any{map[string]any{"profile": map[string]string{"name": "Wa " + from[len(from)-1:]}, "wa_id": from}},
			"messages": []any{map[string]any{"from": from, "id": fmt.Sprintf("wamid.FAULT%03d", i),
				"timestamp": strconv.FormatInt(base.Unix()+int64(i), 10), "type": "text", "text": map[string]string{"body": text}}}})
		fc.add(from, text, faultHook{url: ch.Channel.WebhookURL, header: map[string]string{meta.HeaderSignature: meta.Sign(appSecret, body)},
			body: body, want: http.StatusOK})
	}
	return fc
}

func (a *app) faultOK(base time.Time, n int) faultChannel {
	t := a.t
	const token = "tkn1a2b3c4d5e6f7g8h9i0faultsfaultsfa"
	fake := oktest.New(t, token)
	_, ch := a.messengerLine("ok", map[string]any{"api_base_url": fake.URL()}, map[string]string{"access_token": token})
	a.faultConnect(ch.Channel.ID)
	hook := fake.Hook()
	fc := faultChannel{kind: "ok", channelID: ch.Channel.ID, ordered: true}
	for i := range n {
		chat := fmt.Sprintf("chat:C3ecb9d02a60%d", i%faultChats)
		text := fmt.Sprintf("ok message %02d", i)
		body := faultJSON(t, map[string]any{"sender": map[string]any{"user_id": fmt.Sprintf("user:57581234567%d", i%faultChats), "name": "Ольга"},
			"recipient": map[string]any{"chat_id": chat},
			"message":   map[string]any{"text": text, "seq": 98211018056672380 + i, "mid": fmt.Sprintf("mid:%s.%x", strings.TrimPrefix(chat, "chat:"), 0x15cea668c4c2481+i)},
			"timestamp": base.Add(time.Duration(i) * time.Second).UnixMilli()})
		fc.add(chat, text, faultHook{url: hook, header: map[string]string{"Content-Type": "application/json;charset=utf-8"}, body: body, want: http.StatusOK})
	}
	return fc
}

func (a *app) faultAPI(n int) faultChannel {
	t := a.t
	cs := a.setupChannel(map[string]any{"name": "Fault API", "auto_open": true})
	fc := faultChannel{kind: "api", channelID: cs.channelID}
	for i := range n {
		client := fmt.Sprintf("crm-client-%d", i%faultChats)
		text := fmt.Sprintf("api message %02d", i)
		body := faultJSON(t, map[string]any{"contact": map[string]any{"external_id": client, "name": "Client " + client}, "text": text})
		fc.add(client, text, faultHook{url: fmt.Sprintf("%s/api/v1/channels/%d/inbound", a.url, cs.channelID),
			header: map[string]string{"Authorization": "Bearer " + cs.token, "Idempotency-Key": fmt.Sprintf("crm-msg-%03d", i)},
			body:   body, want: http.StatusAccepted})
	}
	return fc
}

// faultCalls makes a phone channel and the newCall, answer and hangup of n calls answered by
// the operator with email op.
func (a *app) faultCalls(n int, op string) (channelID int64, hooks []faultHook) {
	t := a.t
	_, ch := a.messengerLine("phone", map[string]any{}, nil)
	hook := a.phoneHook(ch.Channel.ID)
	for c := range n {
		id, from := fmt.Sprintf("fault-call-%02d", c), fmt.Sprintf("7916000%04d", c)
		for _, ev := range []map[string]string{
			{"event": "newCall", "callId": id, "from": from, "to": "74950000000", "direction": "in"},
			{"event": "answer", "callId": id, "from": from, "to": "74950000000", "direction": "in", "answeringNumber": op},
			{"event": "hangup", "callId": id, "from": from, "to": "74950000000", "direction": "in", "cause": "normalClearing"},
		} {
			hooks = append(hooks, faultHook{kind: "phone", url: hook, body: faultJSON(t, ev), want: http.StatusOK})
		}
	}
	return ch.Channel.ID, hooks
}

type faultResult struct {
	hook   faultHook
	status int
	body   string
	err    error
}

// deliverConcurrently posts each job's hooks, jobs taken by workers goroutines in order; a job of
// several hooks posts them at the same moment (a platform's retry racing its first attempt).
func deliverConcurrently(jobs [][]faultHook, workers int) []faultResult {
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 4 * workers}}
	post := func(h faultHook) faultResult {
		req, err := http.NewRequest(http.MethodPost, h.url, bytes.NewReader(h.body))
		if err != nil {
			return faultResult{hook: h, err: err}
		}
		req.Header.Set("Content-Type", "application/json")
		for k, v := range h.header {
			req.Header.Set(k, v)
		}
		res, err := client.Do(req)
		if err != nil {
			return faultResult{hook: h, err: err}
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		return faultResult{hook: h, status: res.StatusCode, body: string(b), err: err}
	}
	var (
		mu  sync.Mutex
		out []faultResult
		wg  sync.WaitGroup
	)
	queue := make(chan []faultHook)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for job := range queue {
				results := make([]faultResult, len(job))
				var burst sync.WaitGroup
				start := make(chan struct{})
				for i, h := range job {
					burst.Add(1)
					go func() {
						defer burst.Done()
						<-start
						results[i] = post(h)
					}()
				}
				close(start)
				burst.Wait()
				mu.Lock()
				out = append(out, results...)
				mu.Unlock()
			}
		}()
	}
	for _, j := range jobs {
		queue <- j
	}
	close(queue)
	wg.Wait()
	client.CloseIdleConnections()
	return out
}

// TestFaultWebhooksDeliveredThriceAndReordered: every channel that takes webhooks (Telegram, VK,
// Viber, Messenger, Instagram, WhatsApp, OK, the api channel, and the phone channel's call
// events) gets a batch of distinct, correctly signed messages; each is delivered three times, in
// a shuffled order, by several goroutines at once (every fifth message's three copies at the same
// instant). Every delivery gets the platform's 2xx; the messages are durable the moment the last
// answer came (each stored once); every one reaches its chat's single conversation, applied once
// (the workflow routed every sequence number, the unread count is the message count), and the
// conversation lists them in the platform's order. Each call is logged once, complete, whatever
// order its events came in.
func TestFaultWebhooksDeliveredThriceAndReordered(t *testing.T) {
	const perChannel, calls, copies, workers = 30, 10, 3, 8
	a := newApp(t, appOptions{})
	op, _ := a.newOperator("faults.phone@example.com", "Polina")
	// Platform times lie in the past, one second apart: the order linedesk must keep.
	base := time.Now().Add(-time.Hour).Truncate(time.Second)
	channels := []faultChannel{
		a.faultTelegram(base, perChannel),
		a.faultVK(base, perChannel),
		a.faultViber(base, perChannel),
		a.faultMeta("facebook", base, perChannel),
		a.faultMeta("instagram", base, perChannel),
		a.faultWhatsApp(base, perChannel),
		a.faultOK(base, perChannel),
		a.faultAPI(perChannel),
	}
	phoneID, callHooks := a.faultCalls(calls, op.Email)

	var distinct []faultHook
	for _, fc := range channels {
		distinct = append(distinct, fc.hooks...)
	}
	distinct = append(distinct, callHooks...)
	seed := time.Now().UnixNano()
	rng := rand.New(rand.NewPCG(uint64(seed), 0x5eed))
	var jobs [][]faultHook
	for i, h := range distinct {
		if i%5 == 0 {
			jobs = append(jobs, []faultHook{h, h, h})
			continue
		}
		for range copies {
			jobs = append(jobs, []faultHook{h})
		}
	}
	rng.Shuffle(len(jobs), func(i, j int) { jobs[i], jobs[j] = jobs[j], jobs[i] })
	t.Logf("shuffle seed %d: %d distinct webhooks, %d deliveries", seed, len(distinct), len(distinct)*copies)

	started := time.Now()
	results := deliverConcurrently(jobs, workers)
	accepted := time.Since(started)
	require.Len(t, results, len(distinct)*copies)
	refusedTotal := 0
	for _, r := range results {
		if r.err != nil || r.status != r.hook.want || (r.hook.wantBody != "" && strings.TrimSpace(r.body) != r.hook.wantBody) {
			refusedTotal++
			if refusedTotal <= 20 {
				t.Errorf("%s webhook answered %d %q (err %v), want %d %q", r.hook.kind, r.status, r.body, r.err, r.hook.want, r.hook.wantBody)
			}
		}
	}

	// 2xx means durable: every message is stored now, once.
	inbound := func(channelID int64) int {
		return a.queryInt(`SELECT count(*) FROM messages m JOIN chats c ON c.id = m.chat_id WHERE c.channel_id = $1 AND m.direction = 'in'`, channelID)
	}
	stored, storedDistinct := 0, 0
	var perKind []string
	for _, fc := range channels {
		n, distinct := inbound(fc.channelID), a.queryInt(`SELECT count(DISTINCT m.text) FROM messages m JOIN chats c ON c.id = m.chat_id
			WHERE c.channel_id = $1 AND m.direction = 'in'`, fc.channelID)
		stored, storedDistinct = stored+n, storedDistinct+distinct
		perKind = append(perKind, fmt.Sprintf("%s=%d", fc.kind, n))
		if n != perChannel || distinct != perChannel {
			t.Errorf("%s: %d messages (%d distinct) stored once every delivery was answered, want %d", fc.kind, n, distinct, perChannel)
		}
		if c := a.queryInt(`SELECT count(*) FROM chats WHERE channel_id = $1`, fc.channelID); c != faultChats {
			t.Errorf("%s: %d chats, want %d", fc.kind, c, faultChats)
		}
	}

	// The workflows apply every message: each chat routed every sequence number it numbered, and
	// every message is in a conversation.
	var ids []int64
	for _, fc := range channels {
		ids = append(ids, fc.channelID)
	}
	a.waitFor("every message routed to its conversation", 90*time.Second, func() bool {
		return a.queryInt(`SELECT count(*) FROM chats WHERE channel_id = ANY($1) AND routed_seq < inbound_seq`, ids) == 0 &&
			a.queryInt(`SELECT count(*) FROM messages m JOIN chats c ON c.id = m.chat_id
				WHERE c.channel_id = ANY($1) AND m.direction = 'in' AND m.conversation_number IS NULL`, ids) == 0
	})
	routed := time.Since(started)

	// Through the API: one conversation per chat, holding each of its messages once, in the
	// platform's order, each counted once as unread.
	var inConversation, outOfOrder, extraConversations, badUnread, badTimeline int
	for _, fc := range channels {
		for _, chat := range fc.chats {
			if c := a.queryInt(`SELECT count(*) FROM conversations cv JOIN chats c ON c.id = cv.chat_id
				WHERE c.channel_id = $1 AND c.external_id = $2`, fc.channelID, chat); c != 1 {
				extraConversations += c - 1
				t.Errorf("%s chat %s: %d conversations, want 1", fc.kind, chat, c)
			}
			n := a.conversationOf(fc.channelID, chat)
			var got []string
			for _, m := range a.messages(n) {
				if m.Direction == "in" {
					got = append(got, m.Text)
				}
			}
			want := fc.texts[chat]
			sortedGot, sortedWant := slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(want))
			switch {
			case !slices.Equal(sortedGot, sortedWant):
				t.Errorf("%s chat %s: the conversation lists %q, want each of %q once", fc.kind, chat, got, want)
			case fc.ordered && !slices.Equal(got, want):
				outOfOrder++
				t.Errorf("%s chat %s: the conversation lists %q, want the platform's order %q", fc.kind, chat, got, want)
			default:
				inConversation += len(got)
			}
			if u := a.conversation(n).Unread; u != len(want) {
				badUnread++
				t.Errorf("%s chat %s: unread %d, want %d", fc.kind, chat, u, len(want))
			}
			// The workflow's timeline (written with its next projection): opened once.
			opened := 0
			a.waitFor("the conversation's timeline", 20*time.Second, func() bool {
				res := a.do(a.http, "GET", fmt.Sprintf("/api/v1/conversations/%d/history", n), nil, nil)
				require.Equal(t, http.StatusOK, res.status, res.text)
				var history struct {
					Items []struct {
						Kind string `json:"kind"`
					} `json:"items"`
				}
				res.json(t, &history)
				opened = 0
				for _, e := range history.Items {
					if e.Kind == "opened" {
						opened++
					}
				}
				return opened > 0
			})
			if opened != 1 {
				badTimeline++
				t.Errorf("%s chat %s: the timeline shows %d openings, want 1", fc.kind, chat, opened)
			}
		}
	}

	// Each call once, complete: rung, answered by the operator, hung up normally.
	if n := a.queryInt(`SELECT count(*) FROM calls WHERE channel_id = $1`, phoneID); n != calls {
		t.Errorf("%d calls logged, want %d", n, calls)
	}
	var complete int
	for _, c := range a.calls(a.http, "?limit=200") {
		if !strings.HasPrefix(c.From, "7916000") {
			continue
		}
		if c.State != "ended" || c.Missed || c.AnsweredBy == nil || c.AnsweredBy.ID != op.ID || c.Cause != "normalClearing" {
			t.Errorf("call from %s: %+v, want ended, answered by %d, normalClearing", c.From, c, op.ID)
			continue
		}
		complete++
	}
	t.Logf("FIGURE: webhooks x%d shuffled+concurrent: %d channels (%s) + phone; %d messages + %d calls (%d events) -> "+
		"%d deliveries by %d goroutines (every 5th webhook's copies at the same instant); answered as the platform expects %d/%d; "+
		"stored %d rows, %d distinct of %d [%s]; in their chat's single conversation, in platform order %d/%d (out of order %d, extra conversations %d, "+
		"wrong unread %d, timelines not opened exactly once %d); calls logged once and complete %d/%d; all answered %s, all routed %s after the first delivery",
		copies, len(channels), faultKinds(channels), len(channels)*perChannel, calls, len(callHooks),
		len(results), workers, len(results)-refusedTotal, len(results),
		stored, storedDistinct, len(channels)*perChannel, strings.Join(perKind, " "), inConversation, len(channels)*perChannel, outOfOrder,
		extraConversations, badUnread, badTimeline, complete, calls, accepted.Round(time.Millisecond), routed.Round(time.Millisecond))
}

func faultKinds(cs []faultChannel) string {
	var out []string
	for _, c := range cs {
		out = append(out, c.kind)
	}
	return strings.Join(out, ",")
}
