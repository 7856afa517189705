package whatsapp_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/linedesk/linedesk/connectors"
	"github.com/linedesk/linedesk/connectors/meta"
	"github.com/linedesk/linedesk/connectors/whatsapp"
	"github.com/linedesk/linedesk/connectors/whatsapp/whatsapptest"
)

const (
	token     = "EAAG-system-user-token-0123456789"
	appSecret = "app-secret-0123456789abcdef"
)

func TestParse(t *testing.T) {
	body := []byte(`{"object":"whatsapp_business_account","entry":[{"id":"WABA","changes":[
	 {"field":"messages","value":{"messaging_product":"whatsapp",
	  "metadata":{"display_phone_number":"15550783881","phone_number_id":"106540352242922"},
	  "contacts":[{"profile":{"name":"Sheena Nelson"},"wa_id":"16505551234"}],
	  "messages":[
	   {"from":"16505551234","id":"wamid.A","timestamp":"1739321024","type":"text","text":{"body":"hello"},"context":{"from":"15550783881","id":"wamid.OUT1"}},
	   {"from":"16505551234","id":"wamid.B","timestamp":"1739321025","type":"image","image":{"id":"1479537139650973","mime_type":"image/jpeg","sha256":"x","caption":"the receipt"}},
	   {"from":"16505551234","id":"wamid.C","timestamp":"1739321026","type":"document","document":{"id":"77","mime_type":"application/pdf","filename":"invoice.pdf"}},
	   {"from":"16505551234","id":"wamid.D","timestamp":"1739321027","type":"interactive","interactive":{"type":"button_reply","button_reply":{"id":"csat:7:3","title":"Excellent"}}},
	   {"from":"16505551234","id":"wamid.E","timestamp":"1739321028","type":"reaction","reaction":{"message_id":"wamid.OUT1","emoji":"👍"}},
	   {"from":"16505551234","id":"wamid.F","timestamp":"1739321029","type":"location","location":{"latitude":55.75,"longitude":37.61,"name":"Office"}}],
	  "statuses":[{"id":"wamid.OUT1","status":"read","timestamp":"1739321030","recipient_id":"16505551234"},
	   {"id":"wamid.OUT2","status":"failed","timestamp":"1739321031","recipient_id":"16505551234","errors":[{"code":131047,"title":"Re-engagement message"}]}]}},
	 {"field":"messages","value":{"metadata":{"phone_number_id":"999"},"messages":[{"from":"1","id":"wamid.OTHER","timestamp":"1","type":"text","text":{"body":"another number's"}}]}}]}]}`)
	b, err := whatsapp.Parse(body, "106540352242922")
	require.NoError(t, err)
	require.Equal(t, whatsapp.Object, b.Object)
	require.Len(t, b.Messages, 5, "the reaction and the other number's message are left out")
	m := b.Messages[0]
	require.Equal(t, "wamid.A", m.ID)
	require.Equal(t, "16505551234", m.From)
	require.Equal(t, "Sheena Nelson", m.Name)
	require.Equal(t, "hello", m.Text)
	require.Equal(t, "wamid.OUT1", m.ReplyTo)
	require.Equal(t, time.Unix(1739321024, 0).UTC(), m.At)
	require.Equal(t, "the receipt", b.Messages[1].Text)
	require.Equal(t, []whatsapp.Media{{ID: "1479537139650973", MIMEType: "image/jpeg", Type: "image"}}, b.Messages[1].Files)
	require.Equal(t, "invoice.pdf", b.Messages[2].Files[0].Filename)
	require.Equal(t, "csat:7:3", b.Messages[3].Button)
	require.Contains(t, b.Messages[4].Text, "55.750000, 37.610000 Office")
	require.Equal(t, []whatsapp.Status{
		{ID: "wamid.OUT1", Status: "read", Recipient: "16505551234", At: time.Unix(1739321030, 0).UTC()},
		{ID: "wamid.OUT2", Status: "failed", Recipient: "16505551234", At: time.Unix(1739321031, 0).UTC(), Error: "WhatsApp error 131047: Re-engagement message"},
	}, b.Statuses)

	for _, bad := range []string{`{`, `{"entry":[]}`, `[]`, `{"object":"whatsapp_business_account","entry":[{"changes":[{"value":{"messages":"x"}}]}]}`} {
		_, err := whatsapp.Parse([]byte(bad), "")
		var serr *whatsapp.SyntaxError
		require.True(t, errors.As(err, &serr), bad)
	}
}

func channel(fake *whatsapptest.Server) connectors.Channel {
	settings, _ := json.Marshal(whatsapp.Settings{PhoneNumberID: "106540352242922", BusinessAccountID: "102290129340398", APIBaseURL: fake.URL()})
	return connectors.Channel{ID: 1, Kind: "whatsapp", Settings: settings, HookSecret: "verify-me",
		Credentials: map[string]string{whatsapp.CredentialAccessToken: token, whatsapp.CredentialAppSecret: appSecret}}
}

func TestReceive(t *testing.T) {
	c := &whatsapp.Connector{}
	fake := whatsapptest.New(t, token, appSecret, "106540352242922", "102290129340398")
	ch := channel(fake)
	q := url.Values{"hub.mode": {"subscribe"}, "hub.verify_token": {"verify-me"}, "hub.challenge": {"1158201444"}}
	res, _, err := c.Receive(ch, connectors.Request{Method: http.MethodGet, Query: q})
	require.NoError(t, err)
	require.Equal(t, "1158201444", string(res.Body))
	q.Set("hub.verify_token", "wrong")
	_, _, err = c.Receive(ch, connectors.Request{Method: http.MethodGet, Query: q})
	require.ErrorIs(t, err, connectors.ErrUnauthorized)

	body, wamid := fake.Text("79161234567", "Анна", "Здравствуйте")
	post := func(body []byte, secret string) connectors.Request {
		return connectors.Request{Method: http.MethodPost, Body: body, Header: http.Header{meta.HeaderSignature: {meta.Sign(secret, body)}}}
	}
	_, events, err := c.Receive(ch, post(body, appSecret))
	require.NoError(t, err)
	require.Equal(t, []connectors.Event{{Key: "wamid:" + wamid, ExternalID: wamid, Text: "Здравствуйте", At: events[0].At,
		Contact: connectors.Contact{ID: "79161234567", Name: "Анна", Phone: "+79161234567"}}}, events)
	_, _, err = c.Receive(ch, post(body, "another-app-secret-0123"))
	require.ErrorIs(t, err, connectors.ErrUnauthorized)

	_, events, err = c.Receive(ch, post(fake.Status("wamid.OUT9", "79161234567", "sent"), appSecret))
	require.NoError(t, err)
	require.Empty(t, events, "sent is already known from the send call")
	_, events, err = c.Receive(ch, post(fake.Status("wamid.OUT9", "79161234567", "failed"), appSecret))
	require.NoError(t, err)
	require.Equal(t, connectors.StatusFailed, events[0].Status)
	require.Equal(t, "WhatsApp error 131026: Message undeliverable", events[0].StatusReason)
}

// TestSend: the operator's name in bold, a reply in context, three CSAT buttons as one
// interactive message, a throttle that can be retried, and nothing sent outside the window.
func TestSend(t *testing.T) {
	c := &whatsapp.Connector{}
	fake := whatsapptest.New(t, token, appSecret, "106540352242922", "102290129340398")
	ch := channel(fake)
	ctx := context.Background()
	sent, err := c.Send(ctx, ch, connectors.Outbound{To: "79161234567", Sender: "Mira", ShowSender: true, Text: "Your order ships today",
		ReplyTo: "wamid.IN1", LastInboundAt: time.Now().Add(-time.Hour), Human: true})
	require.NoError(t, err)
	s := fake.Sent()
	require.Len(t, s, 1)
	require.Equal(t, sent.ExternalID, s[0].ID)
	require.JSONEq(t, `{"messaging_product":"whatsapp","recipient_type":"individual","to":"79161234567","type":"text",
		"text":{"preview_url":false,"body":"*Mira*:\nYour order ships today"},"context":{"message_id":"wamid.IN1"}}`, string(s[0].Body))

	_, err = c.Send(ctx, ch, connectors.Outbound{To: "79161234567", Text: "How did we do?", LastInboundAt: time.Now().Add(-time.Minute),
		Buttons: []connectors.Button{{Payload: "csat:1:1", Text: "Bad"}, {Payload: "csat:1:2", Text: "Normal"}, {Payload: "csat:1:3", Text: "Excellent, thank you very much"}}})
	require.NoError(t, err)
	s = fake.Sent()
	require.Len(t, s, 2)
	require.Equal(t, "interactive", s[1].Type)
	require.JSONEq(t, `{"messaging_product":"whatsapp","recipient_type":"individual","to":"79161234567","type":"interactive",
		"interactive":{"type":"button","body":{"text":"How did we do?"},"action":{"buttons":[
		{"type":"reply","reply":{"id":"csat:1:1","title":"Bad"}},{"type":"reply","reply":{"id":"csat:1:2","title":"Normal"}},
		{"type":"reply","reply":{"id":"csat:1:3","title":"Excellent, thank yo…"}}]}}}`, string(s[1].Body))

	fake.ThrottleNext(1)
	_, err = c.Send(ctx, ch, connectors.Outbound{To: "79161234567", Text: "again", LastInboundAt: time.Now()})
	var serr *connectors.SendError
	require.True(t, errors.As(err, &serr))
	require.True(t, serr.Temporary, "130429 can be retried")

	_, err = c.Send(ctx, ch, connectors.Outbound{To: "79161234567", Text: "late", LastInboundAt: time.Now().Add(-25 * time.Hour), Human: true})
	require.True(t, errors.As(err, &serr))
	require.False(t, serr.Temporary)
	require.ErrorContains(t, err, "the client must write first")
	require.Len(t, fake.Sent(), 2, "nothing goes outside the window")
}

func TestDownloadAndConnect(t *testing.T) {
	c := &whatsapp.Connector{}
	fake := whatsapptest.New(t, token, appSecret, "106540352242922", "102290129340398")
	ch := channel(fake)
	id := fake.AddMedia([]byte("jpeg bytes"))
	data, err := c.Download(context.Background(), ch, connectors.FileRef{Ref: id}, 1<<20)
	require.NoError(t, err)
	require.Equal(t, "jpeg bytes", string(data))
	_, err = c.Download(context.Background(), ch, connectors.FileRef{Ref: id}, 4)
	require.ErrorIs(t, err, connectors.ErrTooLarge)

	// linedesk's hook answers Meta's check of the override callback with the channel's token.
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		res, _, err := c.Receive(ch, connectors.Request{Method: r.Method, Query: r.URL.Query()})
		if err != nil {
			w.WriteHeader(http.StatusForbidden)
			return
		}
		_, _ = w.Write(res.Body)
	}))
	defer hook.Close()
	conn, err := c.Connect(context.Background(), ch, hook.URL+"/hooks/1")
	require.NoError(t, err)
	require.Equal(t, "Shop +7 495 000-00-00", conn.Account)
	require.True(t, conn.Registered)
	require.True(t, fake.Subscribed())
	require.Equal(t, hook.URL+"/hooks/1", fake.Callback())
	other := ch
	other.HookSecret = "another-token"
	_, err = c.Connect(context.Background(), other, hook.URL+"/hooks/1")
	require.ErrorContains(t, err, "Callback verification failed", "a callback that does not answer with the token is refused")

	bad := ch
	bad.Credentials = map[string]string{whatsapp.CredentialAccessToken: "wrong-token-0123456789"}
	_, err = c.Connect(context.Background(), bad, "https://desk.example/hooks/1")
	require.ErrorContains(t, err, "Invalid OAuth access token")
}

func TestValidateSettings(t *testing.T) {
	c := &whatsapp.Connector{}
	creds := map[string]string{whatsapp.CredentialAccessToken: token, whatsapp.CredentialAppSecret: appSecret}
	require.NoError(t, c.ValidateSettings([]byte(`{"phone_number_id":"1065","business_account_id":"1022"}`), creds))
	require.ErrorContains(t, c.ValidateSettings([]byte(`{"business_account_id":"1022"}`), creds), "phone_number_id")
	require.ErrorContains(t, c.ValidateSettings([]byte(`{"phone_number_id":"+7 916","business_account_id":"1022"}`), creds), "phone_number_id")
	require.ErrorContains(t, c.ValidateSettings([]byte(`{"phone_number_id":"1","business_account_id":"2","bot":1}`), creds), "unknown field")
	require.ErrorContains(t, c.ValidateSettings([]byte(`{"phone_number_id":"1","business_account_id":"2"}`), map[string]string{}), "app_secret")
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":{"messages":[{"from":"1","id":"w","type":"image","image":{"id":"2"}}]}}]}]}`))
	f.Add([]byte(`{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":{"statuses":[{"id":"w","status":"read","errors":[{}]}]}}]}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		b, err := whatsapp.Parse(body, "")
		if err != nil {
			return
		}
		for _, m := range b.Messages {
			if m.ID == "" || m.From == "" {
				t.Fatalf("a message without its wamid or sender: %+v", m)
			}
		}
	})
}
