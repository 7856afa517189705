package vk_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/linedesk/linedesk/connectors"
	"github.com/linedesk/linedesk/connectors/vk"
	"github.com/linedesk/linedesk/connectors/vk/vktest"
)

func TestParse(t *testing.T) {
	// A real message_new capture (API 5.131), with a secret.
	body := []byte(`{"group_id": 214167102, "type": "message_new", "secret": "s3",
	 "event_id": "da1b15e9f6d0c3c8a0c937e048cdd3e2b43794d0", "v": "5.131",
	 "object": {"message": {"date": 1683278670, "from_id": 612444319, "id": 77, "out": 0,
	     "attachments": [{"type":"photo","photo":{"sizes":[{"url":"https://sun.userapi.com/s.jpg","width":75,"height":75},{"url":"https://sun.userapi.com/x.jpg","width":807,"height":600}]}},
	                     {"type":"doc","doc":{"title":"invoice","ext":"pdf","url":"https://vk.com/doc1_2","size":1234}}],
	     "conversation_message_id": 2169, "fwd_messages": [], "important": false, "is_hidden": false,
	     "peer_id": 612444319, "random_id": 0, "text": "Ок", "reply_message": {"id": 70, "text": "Ваш заказ готов"}},
	   "client_info": {"keyboard": true, "inline_keyboard": true, "lang_id": 0}}}`)
	e, ok, err := vk.Parse(body, "s3")
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, "da1b15e9f6d0c3c8a0c937e048cdd3e2b43794d0", e.EventID)
	require.Equal(t, int64(612444319), e.Message.FromID)
	require.Equal(t, "Ок", e.Message.Text)
	require.Equal(t, []vk.File{{URL: "https://sun.userapi.com/x.jpg", Name: "photo.jpg", Type: "image/jpeg"},
		{URL: "https://vk.com/doc1_2", Name: "invoice.pdf", Size: 1234}}, e.Message.Files)
	require.Equal(t, &vk.Quote{ID: 70, Text: "Ваш заказ готов"}, e.Message.ReplyTo)

	_, ok, _ = vk.Parse(body, "another")
	require.False(t, ok, "a wrong secret passed")
	_, ok, _ = vk.Parse(body, "")
	require.False(t, ok, "a secret sent where none is configured passed")

	// A keyboard button's payload is a button answer, not text.
	press := []byte(`{"group_id":1,"type":"message_new","event_id":"e2","secret":"s","object":{"message":
		{"date":1,"from_id":5,"peer_id":5,"id":9,"text":"Excellent","payload":"{\"button\":\"csat:1001:3\"}"}}}`)
	e, _, err = vk.Parse(press, "s")
	require.NoError(t, err)
	require.Equal(t, "csat:1001:3", e.Message.Payload)
	require.Empty(t, e.Message.Text)

	// A group chat and the community's own message are not clients'.
	chat := []byte(`{"group_id":1,"type":"message_new","event_id":"e3","secret":"s","object":{"message":{"date":1,"from_id":5,"peer_id":2000000066,"id":0,"text":"hi"}}}`)
	_, ok, err = vk.Parse(chat, "s")
	require.True(t, ok)
	require.True(t, errors.Is(err, vk.ErrIgnored))

	for _, bad := range []string{`{`, `{"group_id":1}`, `{"type":"message_new","secret":"s","event_id":"x","object":{}}`} {
		_, _, err := vk.Parse([]byte(bad), "s")
		var serr *vk.SyntaxError
		require.True(t, errors.As(err, &serr), "%s: %v", bad, err)
	}
}

func TestRandomIDIsStablePerMessage(t *testing.T) {
	a, b := vk.RandomID("0192f1d2-0000-7000-8000-000000000001"), vk.RandomID("0192f1d2-0000-7000-8000-000000000002")
	require.Equal(t, a, vk.RandomID("0192f1d2-0000-7000-8000-000000000001"))
	require.NotEqual(t, a, b)
	require.Positive(t, a)
	require.Positive(t, b)
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"group_id":1,"type":"message_new","event_id":"e","secret":"s","object":{"message":{"date":1,"from_id":5,"peer_id":5,"id":9,"text":"hi","attachments":[{"type":"photo","photo":{"sizes":[]}}]}}}`), "s")
	f.Add([]byte(`{"type":"confirmation","group_id":1}`), "")
	f.Add([]byte(`{"type":"message_new","secret":"s","event_id":"x","object":{"message":{"payload":"{\"button\":1}"}}}`), "s")
	f.Fuzz(func(t *testing.T, body []byte, secret string) {
		e, ok, err := vk.Parse(body, secret)
		if err == nil && ok && e.Type == vk.TypeMessageNew {
			if e.Message == nil || e.EventID == "" {
				t.Fatalf("a message_new without its message or event id: %+v", e)
			}
		}
	})
}

// TestSendUploadsFiles: a picture goes as an uploaded photo, a PDF as an uploaded document, in
// the message's attachment; a file without its bytes stays a link in the text.
func TestSendUploadsFiles(t *testing.T) {
	const token = "vk1.a.community-token-0123456789"
	fake := vktest.New(t, token, 214167102, "a1b2c3d4")
	c := &vk.Connector{}
	ch := connectors.Channel{Kind: "vk", Settings: []byte(`{"group_id":214167102,"api_base_url":"` + fake.URL() + `"}`),
		Credentials: map[string]string{vk.CredentialAccessToken: token}}
	_, err := c.Send(context.Background(), ch, connectors.Outbound{ID: "01a24a00-0000-7000-8000-000000000001", To: "612444319", Text: "Here you go",
		Files: []connectors.File{
			{Name: "box.jpg", ContentType: "image/jpeg", URL: "https://desk.example/f/1", Data: []byte("\xff\xd8 jpeg")},
			{Name: "act.pdf", ContentType: "application/pdf", URL: "https://desk.example/f/2", Data: []byte("%PDF-1.7")},
			{Name: "elsewhere.txt", ContentType: "text/plain", URL: "https://files.example/x"},
		}})
	require.NoError(t, err)
	sent := fake.Sent()
	require.Len(t, sent, 1)
	parts := strings.Split(sent[0].Attachment, ",")
	require.Len(t, parts, 2, sent[0].Attachment)
	require.True(t, strings.HasPrefix(parts[0], "photo-214167102_"), parts[0])
	require.True(t, strings.HasPrefix(parts[1], "doc-214167102_"), parts[1])
	require.Equal(t, "\xff\xd8 jpeg", string(fake.Upload(parts[0])))
	require.Equal(t, "%PDF-1.7", string(fake.Upload(parts[1])))
	require.Equal(t, "Here you go\nelsewhere.txt: https://files.example/x", sent[0].Text)
}
