package apichannel_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/linedesk/linedesk/connectors/apichannel"
)

func TestOutboundJSON(t *testing.T) {
	m := apichannel.Outbound{
		Event: apichannel.EventMessage,
		Message: apichannel.OutboundMessage{
			ID:           "msg-1",
			ChatID:       "chat-7",
			Conversation: 1042,
			Text:         "Оцените ответ",
			Attachments:  []apichannel.Attachment{{URL: "https://files.example.com/a.png", Name: "a.png", ContentType: "image/png"}},
			Buttons:      []apichannel.Button{{Text: "Bad", Payload: "csat:1042:1"}},
			CreatedAt:    time.Date(2026, 3, 1, 10, 30, 0, 0, time.UTC),
		},
		Contact: apichannel.OutboundContact{ExternalID: "u-1"},
	}
	got, err := json.Marshal(m)
	require.NoError(t, err)
	require.JSONEq(t, `{"event":"message",
		"message":{"id":"msg-1","chat_id":"chat-7","conversation":1042,"text":"Оцените ответ",
			"attachments":[{"url":"https://files.example.com/a.png","name":"a.png","content_type":"image/png"}],
			"buttons":[{"text":"Bad","payload":"csat:1042:1"}],
			"created_at":"2026-03-01T10:30:00Z"},
		"contact":{"external_id":"u-1"}}`, string(got))

	m.Message.Conversation = 0
	m.Message.Attachments = nil
	m.Message.Buttons = nil
	got, err = json.Marshal(m)
	require.NoError(t, err)
	require.JSONEq(t, `{"event":"message",
		"message":{"id":"msg-1","chat_id":"chat-7","text":"Оцените ответ","created_at":"2026-03-01T10:30:00Z"},
		"contact":{"external_id":"u-1"}}`, string(got))
}

func TestSign(t *testing.T) {
	// RFC 4231, test case 2.
	body := []byte("what do ya want for nothing?")
	sig := apichannel.Sign("Jefe", body)
	require.Equal(t, "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843", sig)

	tests := []struct {
		name   string
		secret string
		body   string
		header string
		want   bool
	}{
		{"valid", "Jefe", string(body), sig, true},
		{"upper-case hex", "Jefe", string(body), "sha256=5BDCC146BF60754E6A042426089575C75A003F089D2739839DEC58B964EC3843", true},
		{"body changed", "Jefe", string(body) + " ", sig, false},
		{"wrong secret", "jefe", string(body), sig, false},
		{"no prefix", "Jefe", string(body), sig[len("sha256="):], false},
		{"other algorithm", "Jefe", string(body), "sha1=" + sig[len("sha256="):], false},
		{"truncated", "Jefe", string(body), sig[:len(sig)-2], false},
		{"not hex", "Jefe", string(body), "sha256=zz", false},
		{"empty header", "Jefe", string(body), "", false},
		{"empty secret never verifies", "", string(body), apichannel.Sign("", body), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, apichannel.VerifySignature(tt.secret, []byte(tt.body), tt.header))
		})
	}
}

func TestValidateSettings(t *testing.T) {
	tests := []struct {
		url string
		ok  bool
	}{
		{"https://integrator.example.com/linedesk", true},
		{"http://127.0.0.1:8080/hook?token=x", true},
		{"", false},
		{"integrator.example.com/hook", false},
		{"/hook", false},
		{"ftp://integrator.example.com/hook", false},
		{"https://", false},
		{" https://integrator.example.com", false},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			err := apichannel.ValidateSettings(tt.url)
			if tt.ok {
				require.NoError(t, err)
				return
			}
			require.EqualError(t, err, "callback_url is required and must be an absolute http or https URL")
		})
	}
}
