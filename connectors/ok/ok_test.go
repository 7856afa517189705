package ok_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/linedesk/linedesk/connectors"
	"github.com/linedesk/linedesk/connectors/ok"
	"github.com/linedesk/linedesk/connectors/ok/oktest"
)

const token = "tkn1a2b3c4d5e6f7g8h9i0jklmnopqrstuv"

func TestParse(t *testing.T) {
	// The documented shape: no webhookType.
	m, keep, err := ok.Parse([]byte(`{"sender":{"user_id":"user:123456789012"},"recipient":{"chat_id":"chat:C3ecb9d02a600"},
	 "message":{"text":"https://ya.ru/","seq":98211018056672380,"mid":"mid:C3ecb9d02a600.15cea668c4c2481",
	            "attachments":[{"type":"SHARE","payload":{"url":"https://ya.ru/"}},{"type":"IMAGE","payload":{"url":"https://i.mycdn.me/i?r=1"}}]},
	 "timestamp":1498581208140}`))
	require.NoError(t, err)
	require.True(t, keep)
	require.Equal(t, ok.Message{Key: "mid:C3ecb9d02a600.15cea668c4c2481", Chat: "chat:C3ecb9d02a600", User: "user:123456789012",
		Text: "https://ya.ru/", Files: []ok.File{{Type: "IMAGE", URL: "https://i.mycdn.me/i?r=1"}}, At: time.UnixMilli(1498581208140).UTC()}, m)

	// The newer shape names its type; a button press; a system message keeps nothing.
	_, keep, err = ok.Parse([]byte(`{"webhookType":"MESSAGE_CREATED","sender":{"user_id":"user:1"},"recipient":{"chat_id":"chat:A"},"message":{"mid":"mid:A.1","text":"hi"},"timestamp":1}`))
	require.NoError(t, err)
	require.True(t, keep)
	m, keep, err = ok.Parse([]byte(`{"webhookType":"MESSAGE_CALLBACK","callbackId":"cb1","payload":"csat:4:3","sender":{"user_id":"user:1"},"recipient":{"chat_id":"chat:A"},"timestamp":1}`))
	require.NoError(t, err)
	require.True(t, keep)
	require.Equal(t, "csat:4:3", m.Button)
	require.Equal(t, "callback:cb1", m.Key)
	_, keep, err = ok.Parse([]byte(`{"webhookType":"CHAT_SYSTEM","timestamp":1}`))
	require.NoError(t, err)
	require.False(t, keep)

	for _, bad := range []string{`{`, `[]`, `{"message":{"mid":"x"}}`, `{"recipient":{"chat_id":"chat:A"}}`,
		`{"webhookType":"MESSAGE_CALLBACK","recipient":{"chat_id":"chat:A"}}`} {
		_, _, err := ok.Parse([]byte(bad))
		var serr *ok.SyntaxError
		require.True(t, errors.As(err, &serr), bad)
	}
}

func channel(fake *oktest.Server) connectors.Channel {
	settings, _ := json.Marshal(ok.Settings{APIBaseURL: fake.URL()})
	return connectors.Channel{ID: 3, Kind: "ok", Settings: settings, HookSecret: "path-secret-0123456789",
		Credentials: map[string]string{ok.CredentialAccessToken: token}}
}

func TestReceiveChecksThePathToken(t *testing.T) {
	c := &ok.Connector{}
	ch := channel(oktest.New(t, token))
	body, mid := oktest.Text("chat:C3ecb9d02a600", "user:575812345678", "Здравствуйте")
	_, events, err := c.Receive(ch, connectors.Request{Method: http.MethodPost, Body: body, Token: "path-secret-0123456789"})
	require.NoError(t, err)
	require.Len(t, events, 1)
	require.Equal(t, mid, events[0].Key)
	require.Equal(t, "chat:C3ecb9d02a600", events[0].Contact.ID)
	require.Equal(t, "https://ok.ru/profile/575812345678", events[0].Contact.ProfileURL)
	for _, tok := range []string{"", "path-secret-012345678", "wrong"} {
		_, _, err = c.Receive(ch, connectors.Request{Method: http.MethodPost, Body: body, Token: tok})
		require.ErrorIs(t, err, connectors.ErrUnauthorized, tok)
	}
}

func TestSendAndConnect(t *testing.T) {
	c := &ok.Connector{}
	fake := oktest.New(t, token)
	ch := channel(fake)
	ctx := context.Background()
	conn, err := c.Connect(ctx, ch, "https://desk.example/hooks/3")
	require.NoError(t, err)
	require.True(t, conn.Registered)
	require.Equal(t, "Shop group", conn.Account)
	require.Equal(t, "https://desk.example/hooks/3/path-secret-0123456789", fake.Hook())

	sent, err := c.Send(ctx, ch, connectors.Outbound{To: "chat:C3ecb9d02a600", Sender: "Mira", ShowSender: true, Text: "Добрый день",
		Files: []connectors.File{{Name: "photo.png", ContentType: "image/png", URL: "https://desk.example/f/1"}, {Name: "act.pdf", ContentType: "application/pdf", URL: "https://desk.example/f/2"}}})
	require.NoError(t, err)
	s := fake.Sent()
	require.Len(t, s, 1)
	require.Equal(t, sent.ExternalID, s[0].ID)
	require.JSONEq(t, `{"text":"Mira:\nДобрый день\n📎 act.pdf: https://desk.example/f/2","attachments":[{"type":"IMAGE","payload":{"url":"https://desk.example/f/1"}}]}`, string(s[0].Message))

	_, err = c.Send(ctx, ch, connectors.Outbound{To: "chat:C3ecb9d02a600", Text: "Оцените", Buttons: []connectors.Button{{Payload: "csat:1:1", Text: "Плохо"}, {Payload: "csat:1:3", Text: "Отлично"}}})
	require.NoError(t, err)
	require.JSONEq(t, `{"text":"Оцените","attachments":[{"type":"INLINE_KEYBOARD","payload":{"keyboard":{"buttons":[[
		{"type":"CALLBACK","text":"Плохо","payload":"csat:1:1"},{"type":"CALLBACK","text":"Отлично","payload":"csat:1:3"}]]}}}]}`, string(fake.Sent()[1].Message))

	fake.ThrottleNext(1)
	_, err = c.Send(ctx, ch, connectors.Outbound{To: "chat:C3ecb9d02a600", Text: "again"})
	var serr *connectors.SendError
	require.True(t, errors.As(err, &serr))
	require.True(t, serr.Temporary, "FLOOD_BLOCKED can be retried")

	bad := ch
	bad.Credentials = map[string]string{ok.CredentialAccessToken: "expired-token-0123456789"}
	_, err = c.Send(ctx, bad, connectors.Outbound{To: "chat:C3ecb9d02a600", Text: "x"})
	require.True(t, errors.As(err, &serr))
	require.False(t, serr.Temporary)
	require.ErrorContains(t, err, "PARAM_SESSION_EXPIRED")
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"sender":{"user_id":"user:1"},"recipient":{"chat_id":"chat:A"},"message":{"mid":"mid:A.1","text":"t","attachments":[{"type":"FILE","payload":{"url":"u"}}]},"timestamp":1}`))
	f.Add([]byte(`{"webhookType":"MESSAGE_CALLBACK","callbackId":"c","payload":"p","recipient":{"chat_id":"chat:A"}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		m, keep, err := ok.Parse(body)
		if err != nil || !keep {
			return
		}
		if m.Key == "" || m.Chat == "" {
			t.Fatalf("a message without its key or chat: %+v", m)
		}
	})
}
