package api_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/linedesk/linedesk/netguard"
	"github.com/linedesk/linedesk/worker/webhooks"
	"github.com/linedesk/linedesk/workflows"
)

// runWebhookDispatcher runs a dispatcher as the worker process does, until the test ends.
func (a *app) runWebhookDispatcher() {
	d := webhooks.New(a.store, netguard.Policy{AllowPrivate: true, Timeout: 5 * time.Second}.Client(), nil)
	d.Poll = 20 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); d.Run(ctx) }()
	a.t.Cleanup(func() { cancel(); <-done })
}

type receivedHook struct {
	header http.Header
	body   map[string]any
	signed bool
}

// hookReceiver is an integrator's endpoint that checks each delivery's signature.
type hookReceiver struct {
	srv    *httptest.Server
	mu     sync.Mutex
	secret string
	got    []receivedHook
}

func newHookReceiver(t *testing.T) *hookReceiver {
	h := &hookReceiver{}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		defer h.mu.Unlock()
		ts, err := strconv.ParseInt(r.Header.Get("X-Linedesk-Webhook-Timestamp"), 10, 64)
		signed := err == nil && time.Since(time.Unix(ts, 0)).Abs() < time.Minute &&
			hmac.Equal([]byte(r.Header.Get("X-Linedesk-Webhook-Signature")), []byte(hmacHex(h.secret, ts, raw)))
		var body map[string]any
		_ = json.Unmarshal(raw, &body)
		h.got = append(h.got, receivedHook{header: r.Header.Clone(), body: body, signed: signed})
		if !signed {
			w.WriteHeader(http.StatusUnauthorized)
		}
	}))
	t.Cleanup(h.srv.Close)
	return h
}

// hmacHex computes the documented signature independently of the dispatcher's code:
// "sha256=" + hex(HMAC-SHA256(secret, timestamp + "." + body)).
func hmacHex(secret string, ts int64, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(strconv.FormatInt(ts, 10) + "."))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

func (h *hookReceiver) received() []receivedHook {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]receivedHook(nil), h.got...)
}

type webhookView struct {
	ID     int64    `json:"id"`
	URL    string   `json:"url"`
	Events []string `json:"events"`
}

func (a *app) createWebhook(body map[string]any) (webhookView, string) {
	a.t.Helper()
	res := a.do(a.http, "POST", "/api/v1/webhooks", body, nil)
	require.Equal(a.t, http.StatusCreated, res.status, res.text)
	var out struct {
		Webhook webhookView `json:"webhook"`
		Secret  string      `json:"secret"`
	}
	res.json(a.t, &out)
	require.NotEmpty(a.t, out.Secret)
	return out.Webhook, out.Secret
}

type deliveryView struct {
	ID       string         `json:"id"`
	Event    string         `json:"event"`
	Status   string         `json:"status"`
	Payload  map[string]any `json:"payload"`
	Attempts []struct {
		StatusCode *int   `json:"status_code"`
		Error      string `json:"error"`
	} `json:"attempts"`
}

func (a *app) deliveries(hookID int64) []deliveryView {
	a.t.Helper()
	res := a.do(a.http, "GET", fmt.Sprintf("/api/v1/webhooks/%d/deliveries", hookID), nil, nil)
	require.Equal(a.t, http.StatusOK, res.status, res.text)
	var v struct {
		Items []deliveryView `json:"items"`
	}
	res.json(a.t, &v)
	return v.Items
}

// TestWebhookReceivesSignedConversationEvent: an integrator subscribed to assignments gets one
// signed POST when the admin assigns a conversation, and the delivery is listed as delivered.
func TestWebhookReceivesSignedConversationEvent(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{})
	cs := a.setupChannel(map[string]any{"name": "Support", "auto_open": true})
	op, _ := a.newOperator("olga@example.com", "Olga")
	recv := newHookReceiver(t)
	hook, secret := a.createWebhook(map[string]any{"url": recv.srv.URL, "events": []string{"conversation.assigned"},
		"line_id": cs.lineID, "description": "CRM"})
	recv.mu.Lock()
	recv.secret = secret
	recv.mu.Unlock()
	a.runWebhookDispatcher()

	_, in := a.inbound(cs, "w1", clientText("u-w1", "hello"))
	n := *in.Conversation
	res := a.do(a.http, "POST", fmt.Sprintf("/api/v1/conversations/%d/assign", n), map[string]any{"assignee_id": op.ID}, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)

	require.Eventually(t, func() bool { return len(recv.received()) > 0 }, 20*time.Second, 20*time.Millisecond)
	require.Never(t, func() bool { return len(recv.received()) > 1 }, 500*time.Millisecond, 50*time.Millisecond,
		"only the assignment was subscribed to")
	got := recv.received()[0]
	require.True(t, got.signed, "the signature verifies with the secret shown on create")
	require.Equal(t, "conversation.assigned", got.header.Get("X-Linedesk-Webhook-Event"))
	require.Equal(t, "conversation.assigned", got.body["event"])
	require.EqualValues(t, n, got.body["conversation"])
	require.EqualValues(t, cs.lineID, got.body["line_id"])
	data := got.body["data"].(map[string]any)
	require.EqualValues(t, op.ID, data["data"].(map[string]any)["to"])

	list := a.deliveries(hook.ID)
	require.Len(t, list, 1)
	require.Equal(t, got.header.Get("X-Linedesk-Webhook-Delivery"), list[0].ID)
	require.Equal(t, got.body["id"], list[0].ID)
	require.Eventually(t, func() bool { return a.deliveries(hook.ID)[0].Status == "delivered" }, 5*time.Second, 20*time.Millisecond)
	list = a.deliveries(hook.ID)
	require.Len(t, list[0].Attempts, 1)
	require.Equal(t, 200, *list[0].Attempts[0].StatusCode)

	// A rotated secret signs what comes next; the old one no longer verifies.
	res = a.do(a.http, "POST", fmt.Sprintf("/api/v1/webhooks/%d/rotate-secret", hook.ID), nil, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)
	var rotated struct{ Secret string }
	res.json(t, &rotated)
	require.NotEqual(t, secret, rotated.Secret)
	res = a.do(a.http, "POST", fmt.Sprintf("/api/v1/conversations/%d/return", n), nil, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)
	res = a.do(a.http, "POST", fmt.Sprintf("/api/v1/conversations/%d/assign", n), map[string]any{"assignee_id": op.ID}, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)
	require.Eventually(t, func() bool { return len(recv.received()) >= 2 }, 20*time.Second, 20*time.Millisecond)
	require.False(t, recv.received()[1].signed, "the receiver still holds the old secret")
}

// TestWebhookBadInput: every refused field is named, nothing is stored, and a URL that points
// at credentials, metadata or (by default) this machine is refused.
func TestWebhookBadInput(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{noTemporal: true, strictCallbacks: true})
	cases := []struct {
		body map[string]any
		want string
	}{
		{map[string]any{"events": []string{"*"}}, "url is required"},
		{map[string]any{"url": "https://93.184.215.14/hook"}, "events is required"},
		{map[string]any{"url": "https://u:p@93.184.215.14/hook", "events": []string{"*"}}, "url must not carry a user name or password"},
		{map[string]any{"url": "http://169.254.169.254/latest", "events": []string{"*"}}, "metadata"},
		{map[string]any{"url": "http://127.0.0.1:9000/hook", "events": []string{"*"}}, "loopback"},
		{map[string]any{"url": "ftp://93.184.215.14/hook", "events": []string{"*"}}, "http or https"},
		{map[string]any{"url": "https://93.184.215.14/hook", "events": []string{"conversation.exploded"}}, "conversation.exploded\\\" is not an event"},
		{map[string]any{"url": "https://93.184.215.14/hook", "events": []string{}}, "events must name at least one event"},
		{map[string]any{"url": "https://93.184.215.14/hook", "events": []string{"*"}, "line_id": 424242}, "line_id 424242 does not exist"},
		{map[string]any{"url": "https://93.184.215.14/hook", "events": []string{"*"}, "description": strings.Repeat("я", 501)}, "description is longer than 500"},
		{map[string]any{"url": nil, "events": []string{"*"}}, "url cannot be null"},
	}
	for _, c := range cases {
		res := a.do(a.http, "POST", "/api/v1/webhooks", c.body, nil)
		require.Equal(t, http.StatusBadRequest, res.status, "%v: %s", c.body, res.text)
		require.Contains(t, res.text, c.want)
	}
	res := a.do(a.http, "GET", "/api/v1/webhooks", nil, nil)
	require.JSONEq(t, `{"items":[]}`, res.text, "nothing was stored")

	hook, _ := a.createWebhook(map[string]any{"url": "https://93.184.215.14/hook", "events": []string{"*"}})
	path := fmt.Sprintf("/api/v1/webhooks/%d", hook.ID)
	res = a.do(a.http, "PATCH", path, map[string]any{"url": "http://10.0.0.1/"}, nil)
	require.Equal(t, http.StatusBadRequest, res.status, res.text)
	require.Contains(t, res.text, "url is refused: 10.0.0.1 is a private address")
	res = a.do(a.http, "PATCH", path, map[string]any{"enabled": false, "events": []string{"message.delivery_failed"}}, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)
	require.Contains(t, res.text, `"enabled":false`)
	require.Equal(t, http.StatusNotFound, a.do(a.http, "GET", "/api/v1/webhooks/424242", nil, nil).status)
	require.Equal(t, http.StatusNotFound, a.do(a.http, "POST", path+"/deliveries/not-a-uuid/retry", nil, nil).status)
	require.Equal(t, http.StatusNotFound, a.do(a.http, "POST", path+"/deliveries/00000000-0000-4000-8000-000000000000/retry", nil, nil).status)
	res = a.do(a.http, "GET", path+"/deliveries?status=lost&limit=0", nil, nil)
	require.Equal(t, http.StatusBadRequest, res.status, res.text)
	require.Contains(t, res.text, "status must be")
	require.Contains(t, res.text, "limit must be")
	require.Equal(t, http.StatusNoContent, a.do(a.http, "DELETE", path, nil, nil).status)
	require.Equal(t, http.StatusNotFound, a.do(a.http, "GET", path, nil, nil).status)

	// The api channel's callback URL obeys the same rule, named by its field.
	res = a.do(a.http, "POST", "/api/v1/lines", map[string]any{"name": "Support"}, nil)
	require.Equal(t, http.StatusCreated, res.status, res.text)
	var line struct{ ID int64 }
	res.json(t, &line)
	for _, url := range []string{"http://127.0.0.1:1/cb", "http://169.254.169.254/cb", "https://u:p@93.184.215.14/cb"} {
		res = a.do(a.http, "POST", "/api/v1/channels", map[string]any{"kind": "api", "name": "Site", "line_id": line.ID,
			"settings": map[string]string{"callback_url": url}}, nil)
		require.Equal(t, http.StatusBadRequest, res.status, "%s: %s", url, res.text)
		require.Contains(t, res.text, "settings.callback_url")
	}
	res = a.do(a.http, "POST", "/api/v1/channels", map[string]any{"kind": "api", "name": "Site", "line_id": line.ID,
		"settings": map[string]string{"callback_url": "https://93.184.215.14/cb"}}, nil)
	require.Equal(t, http.StatusCreated, res.status, res.text)
}

// TestFailedMessageShowsItsErrorAndIsSentAgainOnce: the channel refuses an operator's reply;
// the message shows the refusal; its assignee resends it and it is delivered once; a second
// retry of a sent message is 409, and someone who does not handle the conversation may not.
func TestFailedMessageShowsItsErrorAndIsSentAgainOnce(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{})
	cs := a.setupChannel(map[string]any{"name": "Support", "auto_open": true})
	_, olga := a.newOperator("olga@example.com", "Olga")
	_, pavel := a.newOperator("pavel@example.com", "Pavel")
	_, in := a.inbound(cs, "r1", clientText("u-r1", "hi"))
	path := fmt.Sprintf("/api/v1/conversations/%d", *in.Conversation)
	require.Equal(t, http.StatusOK, a.do(olga, "POST", path+"/take", nil, nil).status)

	cs.fake.FailNext(1, http.StatusUnprocessableEntity)
	var sent struct{ ID string }
	res := a.do(olga, "POST", path+"/messages", map[string]string{"text": "your order ships today"}, nil)
	require.Equal(t, http.StatusCreated, res.status, res.text)
	res.json(t, &sent)
	type shown struct {
		ID       string `json:"id"`
		Status   string `json:"status"`
		Delivery *struct {
			Attempts       int        `json:"attempts"`
			LastAttemptAt  *time.Time `json:"last_attempt_at"`
			LastError      string     `json:"last_error"`
			LastStatusCode *int       `json:"last_status_code"`
		} `json:"delivery"`
	}
	message := func() shown {
		res := a.do(olga, "GET", path+"/messages", nil, nil)
		var v struct{ Items []shown }
		res.json(t, &v)
		for _, m := range v.Items {
			if m.ID == sent.ID {
				return m
			}
		}
		t.Fatalf("message %s not listed", sent.ID)
		return shown{}
	}
	require.Eventually(t, func() bool { return message().Status == workflows.MessageFailed }, 20*time.Second, 50*time.Millisecond)
	m := message()
	require.NotNil(t, m.Delivery)
	require.Equal(t, 1, m.Delivery.Attempts)
	require.Equal(t, 422, *m.Delivery.LastStatusCode)
	require.Contains(t, m.Delivery.LastError, "callback answered 422")
	require.NotNil(t, m.Delivery.LastAttemptAt)
	require.Empty(t, cs.fake.Deliveries(), "the refused attempt delivered nothing")

	// Pavel works on the line but does not handle the conversation.
	res = a.do(pavel, "POST", path+"/messages/"+sent.ID+"/retry", nil, nil)
	require.Equal(t, http.StatusConflict, res.status, res.text)
	require.Equal(t, workflows.MessageFailed, message().Status, "a refused retry changes nothing")
	require.Equal(t, http.StatusNotFound, a.do(olga, "POST", path+"/messages/00000000-0000-4000-8000-000000000000/retry", nil, nil).status)

	res = a.do(olga, "POST", path+"/messages/"+sent.ID+"/retry", nil, nil)
	require.Equal(t, http.StatusAccepted, res.status, res.text)
	require.Contains(t, res.text, `"status":"pending"`)
	got := cs.fake.WaitFor(t, 1, 20*time.Second)
	require.Equal(t, sent.ID, got[0].Outbound.Message.ID)
	require.Eventually(t, func() bool { return message().Status == workflows.MessageSent }, 20*time.Second, 50*time.Millisecond)
	m = message()
	require.Equal(t, 2, m.Delivery.Attempts)
	require.Empty(t, m.Delivery.LastError)
	require.Equal(t, 200, *m.Delivery.LastStatusCode)

	res = a.do(olga, "POST", path+"/messages/"+sent.ID+"/retry", nil, nil)
	require.Equal(t, http.StatusConflict, res.status, res.text)
	require.Contains(t, res.text, "not_failed")
	require.Never(t, func() bool { return len(cs.fake.Deliveries()) > 1 }, time.Second, 100*time.Millisecond, "sent once")
}
