package viber_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/linedesk/linedesk/connectors/viber"
	"github.com/linedesk/linedesk/connectors/viber/vibertest"
)

func TestSignatureIsHexHMACOfTheBody(t *testing.T) {
	body := []byte(`{"event":"seen","timestamp":1457764197627,"message_token":4912661846655238145,"user_id":"01234567890A="}`)
	sig := viber.Sign("token-1", body)
	require.Len(t, sig, 64)
	require.True(t, viber.VerifySignature("token-1", body, sig))
	require.False(t, viber.VerifySignature("token-2", body, sig))
	require.False(t, viber.VerifySignature("token-1", append(body, ' '), sig))
	require.False(t, viber.VerifySignature("token-1", body, "sha256="+sig), "no prefix")
	require.False(t, viber.VerifySignature("", body, viber.Sign("", body)))
}

func TestParseCallback(t *testing.T) {
	// The SDK's message example, with a token beyond a float's precision kept exact.
	c, err := viber.ParseCallback([]byte(`{"event":"message","timestamp":1457764197627,"message_token":912661846655238145,
	  "sender":{"id":"01234567890A=","name":"viberUser","avatar":"http://avatar.example","country":"IL","language":"en","api_version":1},
	  "message":{"type":"text","text":"HI!","tracking_data":"csat-1000"},"silent":false}`))
	require.NoError(t, err)
	require.Equal(t, "message:912661846655238145", c.EventID)
	require.Equal(t, "01234567890A=", c.UserID)
	require.Equal(t, "HI!", c.Message.Text)
	require.Equal(t, "viberUser", c.Message.SenderName)
	require.Equal(t, "csat-1000", c.Message.TrackingData)
	require.Equal(t, int64(1457764197627), c.At.UnixMilli())

	c, err = viber.ParseCallback([]byte(`{"event":"message","timestamp":1,"message_token":5,"sender":{"id":"u"},
	  "message":{"type":"picture","text":"чек","media":"https://dl-media.viber.example/p.jpg","file_name":"p.jpg","size":2048}}`))
	require.NoError(t, err)
	require.Equal(t, "https://dl-media.viber.example/p.jpg", c.Message.Media)
	require.Equal(t, int64(2048), c.Message.Size)

	c, err = viber.ParseCallback(vibertest.SeenCallback("u", 77))
	require.NoError(t, err)
	require.Equal(t, viber.EventSeen, c.Event)
	require.Equal(t, "seen:77", c.EventID)

	c, err = viber.ParseCallback([]byte(`{"event":"webhook","timestamp":1,"message_token":9}`))
	require.NoError(t, err)
	require.Equal(t, viber.EventWebhook, c.Event)

	for _, body := range []string{
		`{"event":"subscribed","timestamp":1,"user":{"id":"u"}}`,
		`{"event":"conversation_started","timestamp":1,"message_token":1,"type":"open","user":{"id":"u"}}`,
		`{"event":"message","timestamp":1,"message_token":2,"sender":{"id":"u"},"message":{"type":"sticker","sticker_id":1}}`,
	} {
		_, err := viber.ParseCallback([]byte(body))
		require.ErrorIs(t, err, viber.ErrIgnored, body)
	}
	for _, body := range []string{``, `{}`, `{"event":"message"}`, `{"event":"message","message_token":"x","sender":{"id":"u"},"message":{"type":"text","text":"a"}}`,
		`{"event":"seen","message_token":1}`, `{"event":"message","message_token":3,"sender":{"id":"u"},"message":{"type":"picture"}}`} {
		_, err := viber.ParseCallback([]byte(body))
		var syn *viber.SyntaxError
		require.True(t, errors.As(err, &syn), "%q: %v", body, err)
	}
}

func TestClientAgainstTheFake(t *testing.T) {
	ctx := context.Background()
	fake := vibertest.New(t, "auth-1")
	c := &viber.Client{BaseURL: fake.URL(), Token: "auth-1"}

	// set_webhook succeeds only when the webhook answers Viber's signed check with 200.
	var mu sync.Mutex
	var seen []string
	up := true
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if !viber.VerifySignature("auth-1", body, r.Header.Get(viber.HeaderSignature)) {
			w.WriteHeader(http.StatusForbidden)
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if !up {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		cb, err := viber.ParseCallback(body)
		if err != nil {
			t.Errorf("parse: %v", err)
		}
		seen = append(seen, cb.Event)
	}))
	defer hook.Close()
	mu.Lock()
	up = false
	mu.Unlock()
	err := c.SetWebhook(ctx, hook.URL)
	var api *viber.APIError
	require.True(t, errors.As(err, &api), "%v", err)
	require.Equal(t, 1, api.Status)
	mu.Lock()
	up = true
	mu.Unlock()
	require.NoError(t, c.SetWebhook(ctx, hook.URL))
	require.Equal(t, hook.URL, fake.Webhook())
	require.Equal(t, []string{"webhook"}, seen)

	body, _ := vibertest.TextCallback("01234567890A=", "Иван", "Где заказ?")
	require.Equal(t, []int{200}, fake.DeliverUntilOK(t, body, 3))
	require.Equal(t, []string{"webhook", "message"}, seen)

	token, err := c.SendMessage(ctx, viber.Outgoing{Receiver: "01234567890A=", Sender: "Служба поддержки интернет-магазина", Text: "Оцените ответ",
		TrackingData: "csat-1000", Buttons: []viber.Button{{Text: "Плохо", Payload: "csat:1"}, {Text: "Нормально", Payload: "csat:2"}, {Text: "Отлично", Payload: "csat:3"}}})
	require.NoError(t, err)
	n, err := strconv.ParseInt(token, 10, 64)
	require.NoError(t, err)
	require.Greater(t, n, int64(1)<<53, "the token survives as an integer")
	sent := fake.Sent()
	require.Len(t, sent, 1)
	require.Equal(t, "Служба поддержки интернет-ма", sent[0].Sender.Name, "cut to Viber's 28 characters")
	require.JSONEq(t, `{"Type":"keyboard","DefaultHeight":false,"Buttons":[
		{"Columns":2,"Rows":1,"ActionType":"reply","ActionBody":"csat:1","Text":"Плохо"},
		{"Columns":2,"Rows":1,"ActionType":"reply","ActionBody":"csat:2","Text":"Нормально"},
		{"Columns":2,"Rows":1,"ActionType":"reply","ActionBody":"csat:3","Text":"Отлично"}]}`, string(sent[0].Keyboard))

	fake.RateLimitNext(1)
	_, err = c.SendMessage(ctx, viber.Outgoing{Receiver: "u", Sender: "Desk", Text: "again"})
	require.True(t, errors.As(err, &api))
	require.Equal(t, 12, api.Status)
	require.True(t, api.Temporary())

	_, err = (&viber.Client{BaseURL: fake.URL(), Token: "wrong"}).SendMessage(ctx, viber.Outgoing{Receiver: "u", Sender: "Desk", Text: "x"})
	require.True(t, errors.As(err, &api))
	require.Equal(t, 2, api.Status)
	require.False(t, api.Temporary())
}

func FuzzParseCallback(f *testing.F) {
	body, _ := vibertest.TextCallback("u", "Ann", "hello")
	f.Add(body)
	f.Add(vibertest.SeenCallback("u", 5))
	f.Add([]byte(`{"event":"message","message_token":1,"sender":{"id":"u"},"message":{"type":"file","media":"https://x/f","file_name":"a.pdf"}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		c, err := viber.ParseCallback(body)
		if err != nil {
			return
		}
		if c.Event == viber.EventMessage && (c.UserID == "" || c.Message == nil || c.MessageToken == "") {
			t.Fatalf("accepted a message a desk cannot use: %+v", c)
		}
	})
}
