package meta_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/linedesk/linedesk/connectors"
	"github.com/linedesk/linedesk/connectors/meta"
)

func TestSignature(t *testing.T) {
	body := []byte(`{"object":"page"}`)
	sig := meta.Sign("app-secret-0123456789", body)
	require.True(t, strings.HasPrefix(sig, "sha256="))
	require.True(t, meta.VerifySignature("app-secret-0123456789", body, sig))
	require.False(t, meta.VerifySignature("another-secret-0123", body, sig))
	require.False(t, meta.VerifySignature("app-secret-0123456789", []byte(`{"object":"page" }`), sig))
	require.False(t, meta.VerifySignature("app-secret-0123456789", body, strings.TrimPrefix(sig, "sha256=")))
	require.False(t, meta.VerifySignature("", body, sig))
}

func TestParse(t *testing.T) {
	b, err := meta.Parse([]byte(`{"object":"page","entry":[{"id":"PAGE","time":1458692752478,"messaging":[
	  {"sender":{"id":"PSID1"},"recipient":{"id":"PAGE"},"timestamp":1458692752478,
	   "message":{"mid":"mid.1457764197618:41d102a3e1ae206a38","text":"hello, world!","reply_to":{"mid":"m_prev"},
	              "attachments":[{"type":"image","payload":{"url":"https://cdn.example/i.jpg"}}]}},
	  {"sender":{"id":"PAGE"},"recipient":{"id":"PSID1"},"timestamp":1,"message":{"mid":"m_echo","text":"our own","is_echo":true}},
	  {"sender":{"id":"PSID1"},"recipient":{"id":"PAGE"},"timestamp":2,"message":{"mid":"m_qr","text":"Excellent","quick_reply":{"payload":"csat:1:3"}}},
	  {"sender":{"id":"PSID1"},"recipient":{"id":"PAGE"},"delivery":{"mids":["m_out_1","m_out_2"],"watermark":1458668856253}},
	  {"sender":{"id":"PSID1"},"recipient":{"id":"PAGE"},"timestamp":1458668856463,"read":{"watermark":1458668856253}}]}]}`))
	require.NoError(t, err)
	require.Equal(t, meta.ObjectPage, b.Object)
	require.Len(t, b.Messages, 2, "the echo is left out")
	require.Equal(t, "PSID1", b.Messages[0].Sender)
	require.Equal(t, "hello, world!", b.Messages[0].Text)
	require.Equal(t, "m_prev", b.Messages[0].ReplyTo)
	require.Equal(t, []meta.File{{URL: "https://cdn.example/i.jpg", Type: "image"}}, b.Messages[0].Files)
	require.Equal(t, "csat:1:3", b.Messages[1].QuickReply)
	require.Empty(t, b.Messages[1].Text)
	require.Equal(t, []meta.Delivery{{Recipient: "PSID1", MIDs: []string{"m_out_1", "m_out_2"}}}, b.Deliveries)
	require.Equal(t, []meta.Read{{Recipient: "PSID1", Watermark: time.UnixMilli(1458668856253).UTC()}}, b.Reads)

	for _, bad := range []string{`{`, `{"entry":[]}`, `[]`} {
		_, err := meta.Parse([]byte(bad))
		var serr *meta.SyntaxError
		require.True(t, errors.As(err, &serr), bad)
	}
}

func TestVerificationHandshake(t *testing.T) {
	c := &meta.Connector{}
	ch := connectors.Channel{HookSecret: "verify-me"}
	q := url.Values{"hub.mode": {"subscribe"}, "hub.verify_token": {"verify-me"}, "hub.challenge": {"1158201444"}}
	res, _, err := c.Receive(ch, connectors.Request{Method: http.MethodGet, Query: q})
	require.NoError(t, err)
	require.Equal(t, "1158201444", string(res.Body))
	q.Set("hub.verify_token", "wrong")
	_, _, err = c.Receive(ch, connectors.Request{Method: http.MethodGet, Query: q})
	require.ErrorIs(t, err, connectors.ErrUnauthorized)
}

// TestMessagingWindow: inside 24 hours a reply goes as RESPONSE; a person's reply within 7 days
// needs the HUMAN_AGENT tag; later, nothing is sent and the reason says why.
func TestMessagingWindow(t *testing.T) {
	c := &meta.Connector{}
	ch := connectors.Channel{Credentials: map[string]string{meta.CredentialPageToken: "t"}, Settings: []byte(`{"api_base_url":"http://127.0.0.1:1"}`)}
	_, err := c.Send(context.Background(), ch, connectors.Outbound{To: "PSID", Text: "hi", LastInboundAt: time.Now().Add(-8 * 24 * time.Hour), Human: true})
	var serr *connectors.SendError
	require.True(t, errors.As(err, &serr))
	require.False(t, serr.Temporary)
	require.Contains(t, err.Error(), "outside the facebook messaging window")
	_, err = c.Send(context.Background(), ch, connectors.Outbound{To: "PSID", Text: "auto", LastInboundAt: time.Now().Add(-30 * time.Hour)})
	require.ErrorContains(t, err, "messaging window", "an automated message after 24 hours")
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"object":"page","entry":[{"id":"P","messaging":[{"sender":{"id":"S"},"message":{"mid":"m","text":"t","attachments":[{"type":"image","payload":{}}]}}]}]}`))
	f.Add([]byte(`{"object":"instagram","entry":[{"messaging":[{"delivery":{"mids":["a"]}}]}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		b, err := meta.Parse(body)
		if err != nil {
			return
		}
		for _, m := range b.Messages {
			if m.MID == "" || m.Sender == "" {
				t.Fatalf("a message without its mid or sender: %+v", m)
			}
		}
	})
}
