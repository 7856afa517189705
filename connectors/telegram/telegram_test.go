package telegram_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/linedesk/linedesk/connectors/telegram"
	"github.com/linedesk/linedesk/connectors/telegram/telegramtest"
)

func TestParseUpdateReadsWhatADeskNeeds(t *testing.T) {
	// The reference's minimal update.
	in, err := telegram.ParseUpdate([]byte(`{"update_id": 10000,
	 "message": {"message_id": 1, "date": 1441645532,
	   "from": {"id": 1111111, "is_bot": false, "first_name": "Ann", "last_name": "Lee", "username": "annlee"},
	   "chat": {"id": 1111111, "type": "private", "first_name": "Ann"},
	   "text": "hello"}}`))
	require.NoError(t, err)
	require.Equal(t, telegram.Inbound{EventID: "update:10000", ChatID: "1111111", MessageID: "1",
		From: telegram.Contact{ID: "1111111", Name: "Ann Lee", Username: "annlee", ProfileURL: "https://t.me/annlee"},
		Text: "hello", At: time.Unix(1441645532, 0).UTC()}, in)

	// A photo with a caption, answering an earlier message: the largest size, the caption as text.
	in, err = telegram.ParseUpdate([]byte(`{"update_id": 7, "message": {"message_id": 9, "date": 1,
	  "from": {"id": 5, "is_bot": false, "first_name": "Иван"}, "chat": {"id": 5, "type": "private"},
	  "caption": "вот чек",
	  "photo": [{"file_id": "small", "file_unique_id": "s", "file_size": 900, "width": 90, "height": 90},
	            {"file_id": "big", "file_unique_id": "b", "file_size": 90000, "width": 1280, "height": 960}],
	  "reply_to_message": {"message_id": 8, "date": 1, "chat": {"id": 5, "type": "private"}, "text": "Пришлите чек"}}}`))
	require.NoError(t, err)
	require.Equal(t, "вот чек", in.Text)
	require.Equal(t, []telegram.File{{ID: "big", UniqueID: "b", Name: "photo.jpg", ContentType: "image/jpeg", Size: 90000}}, in.Files)
	require.Equal(t, &telegram.Quote{MessageID: "8", Text: "Пришлите чек"}, in.ReplyTo)
	require.Empty(t, in.From.ProfileURL, "no username, no profile link")

	// A pressed CSAT button.
	in, err = telegram.ParseUpdate(telegramtest.ButtonUpdate(8, 5, 101, "csat:3"))
	require.NoError(t, err)
	require.Equal(t, "csat:3", in.Button)
	require.Equal(t, "cb-8", in.CallbackID)
	require.Equal(t, "5", in.ChatID)

	// Valid updates with nothing for a desk.
	for _, body := range []string{
		`{"update_id": 1, "edited_message": {"message_id": 1, "date": 1, "chat": {"id": 1, "type": "private"}, "text": "x"}}`,
		`{"update_id": 2, "message": {"message_id": 1, "date": 1, "from": {"id": 1, "is_bot": false, "first_name": "A"}, "chat": {"id": -100, "type": "group"}, "text": "hi all"}}`,
		`{"update_id": 3, "message": {"message_id": 1, "date": 1, "from": {"id": 1, "is_bot": false, "first_name": "A"}, "chat": {"id": 1, "type": "private"}, "location": {"latitude": 1, "longitude": 2}}}`,
		`{"update_id": 4, "message": {"message_id": 1, "date": 1, "from": {"id": 9, "is_bot": true, "first_name": "B"}, "chat": {"id": 9, "type": "private"}, "text": "beep"}}`,
	} {
		_, err := telegram.ParseUpdate([]byte(body))
		require.ErrorIs(t, err, telegram.ErrIgnored, body)
	}
	// Not updates at all.
	for _, body := range []string{``, `[]`, `{"message": {}}`, `{"update_id": "x"}`, `{"update_id": 5, "message": {"text": "no chat"}}`} {
		_, err := telegram.ParseUpdate([]byte(body))
		var syn *telegram.SyntaxError
		require.True(t, errors.As(err, &syn), "%q: %v", body, err)
	}
}

func TestVerifySecret(t *testing.T) {
	require.True(t, telegram.VerifySecret("s3cret-Token_1", "s3cret-Token_1"))
	require.False(t, telegram.VerifySecret("", "s3cret"))
	require.False(t, telegram.VerifySecret("S3cret", "s3cret"))
	require.False(t, telegram.VerifySecret("", ""), "an empty secret never verifies")
	require.True(t, telegram.ValidSecret("abc_DEF-123"))
	require.False(t, telegram.ValidSecret("has space"))
	require.False(t, telegram.ValidSecret(strings.Repeat("a", 257)))
}

func TestClientAgainstTheFakeBotAPI(t *testing.T) {
	ctx := context.Background()
	fake := telegramtest.New(t, "123:ABC")
	c := &telegram.Client{BaseURL: fake.URL(), Token: "123:ABC"}

	me, err := c.GetMe(ctx)
	require.NoError(t, err)
	require.Equal(t, "desk_bot", me.Username)

	require.NoError(t, c.SetWebhook(ctx, "https://desk.example/hooks/7", "sec_1"))
	url, secret := fake.Webhook()
	require.Equal(t, "https://desk.example/hooks/7", url)
	require.Equal(t, "sec_1", secret)
	require.Error(t, c.SetWebhook(ctx, "https://desk.example/hooks/7", "bad secret"))

	id, err := c.SendMessage(ctx, telegram.Message{ChatID: "5", Text: "How did we do?",
		Buttons: []telegram.Button{{Text: "😞", Data: "csat:1"}, {Text: "😐", Data: "csat:2"}, {Text: "😊", Data: "csat:3"}}})
	require.NoError(t, err)
	require.NotZero(t, id)
	sent := fake.Sent()
	require.Len(t, sent, 1)
	require.Equal(t, int64(5), sent[0].ChatID)
	require.JSONEq(t, `{"inline_keyboard":[[{"text":"😞","callback_data":"csat:1"},{"text":"😐","callback_data":"csat:2"},{"text":"😊","callback_data":"csat:3"}]]}`, string(sent[0].ReplyMarkup))

	// Flood control: a 429 says how long to wait, and that nothing was sent.
	fake.RateLimitNext(1)
	_, err = c.SendMessage(ctx, telegram.Message{ChatID: "5", Text: "again"})
	var api *telegram.APIError
	require.True(t, errors.As(err, &api), "%v", err)
	require.Equal(t, 429, api.Code)
	require.Equal(t, time.Second, api.RetryAfter)
	require.True(t, api.Temporary())
	require.Len(t, fake.Sent(), 1)

	_, err = c.SendMessage(ctx, telegram.Message{ChatID: "5", Text: ""})
	require.True(t, errors.As(err, &api))
	require.Equal(t, 400, api.Code)
	require.False(t, api.Temporary())

	fake.AddFile("big", "photos/file_1.jpg", []byte("jpeg-bytes"))
	data, err := c.Download(ctx, "big", 1<<20)
	require.NoError(t, err)
	require.Equal(t, []byte("jpeg-bytes"), data)
	_, err = c.Download(ctx, "big", 4)
	require.ErrorContains(t, err, "more than 4")

	require.NoError(t, c.AnswerCallbackQuery(ctx, "cb-8", "Thank you!"))
	require.Equal(t, []string{"cb-8"}, fake.AnsweredCallbacks())

	// A wrong token is the Bot API's 401, and the token never shows in an error.
	bad := &telegram.Client{BaseURL: fake.URL(), Token: "999:WRONG"}
	_, err = bad.GetMe(ctx)
	require.True(t, errors.As(err, &api))
	require.Equal(t, 401, api.Code)
	down := &telegram.Client{BaseURL: "http://127.0.0.1:1", Token: "123:SECRET-TOKEN"}
	_, err = down.GetMe(ctx)
	require.Error(t, err)
	require.NotContains(t, err.Error(), "SECRET-TOKEN")
}

// TestTheFakeDeliversLikeTelegram: the fake posts updates with the secret header and repeats an
// update (same update_id) until it gets a 2xx.
func TestTheFakeDeliversLikeTelegram(t *testing.T) {
	ctx := context.Background()
	fake := telegramtest.New(t, "1:T")
	var got []string
	calls := 0
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		if !telegram.VerifySecret(r.Header.Get(telegram.HeaderSecret), "sec") {
			w.WriteHeader(http.StatusForbidden)
			return
		}
		if calls == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		var buf [4096]byte
		n, _ := r.Body.Read(buf[:])
		in, err := telegram.ParseUpdate(buf[:n])
		if err != nil {
			t.Errorf("parse: %v", err)
		}
		got = append(got, in.EventID)
	}))
	defer hook.Close()
	require.NoError(t, (&telegram.Client{BaseURL: fake.URL(), Token: "1:T"}).SetWebhook(ctx, hook.URL, "sec"))
	require.Equal(t, []int{503, 200}, fake.DeliverUntilOK(t, telegramtest.TextUpdate(77, 5, "Ann", "hi"), 5))
	require.Equal(t, []string{"update:77"}, got)
}

func FuzzParseUpdate(f *testing.F) {
	f.Add(telegramtest.TextUpdate(1, 2, "Ann", "hello"))
	f.Add(telegramtest.ButtonUpdate(2, 2, 3, "csat:1"))
	f.Add([]byte(`{"update_id": 3, "message": {"message_id": 1, "date": 1, "from": {"id": 1, "first_name": "A"}, "chat": {"id": 1, "type": "private"}, "photo": [{"file_id": "x"}], "document": {"file_id": "d", "file_name": "a.pdf"}}}`))
	f.Add([]byte(`{"update_id": 4}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		in, err := telegram.ParseUpdate(body)
		if err == nil && (in.EventID == "" || in.ChatID == "" || (in.Text == "" && len(in.Files) == 0 && in.Button == "")) {
			t.Fatalf("accepted an update a desk cannot use: %+v", in)
		}
	})
}
