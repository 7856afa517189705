package apichannel_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/linedesk/linedesk/connectors/apichannel"
)

func TestParseInboundValid(t *testing.T) {
	tests := []struct {
		name string
		body string
		want apichannel.Inbound
	}{
		{
			name: "full text message",
			body: `{"contact":{"external_id":"u-1","name":"Ann","email":"ann@example.com","phone":"+79990001122"},
				"text":"hello","attachments":[{"url":"https://cdn.example.com/a.png","name":"a.png","content_type":"image/png"}]}`,
			want: apichannel.Inbound{
				Contact: apichannel.Contact{ExternalID: "u-1", Name: "Ann", Email: "ann@example.com", Phone: "+79990001122"},
				Text:    "hello",
				Attachments: []apichannel.Attachment{
					{URL: "https://cdn.example.com/a.png", Name: "a.png", ContentType: "image/png"},
				},
			},
		},
		{
			name: "button press",
			body: `{"contact":{"external_id":"u-1"},"button":{"payload":"csat:1042:5","text":"Great"}}`,
			want: apichannel.Inbound{
				Contact: apichannel.Contact{ExternalID: "u-1"},
				Button:  &apichannel.Button{Payload: "csat:1042:5", Text: "Great"},
			},
		},
		{
			name: "contact fields are trimmed",
			body: `{"contact":{"external_id":"  u-1\t","name":" Ann ","email":" ann@example.com ","phone":" +7 999 "},"text":"hi"}`,
			want: apichannel.Inbound{
				Contact: apichannel.Contact{ExternalID: "u-1", Name: "Ann", Email: "ann@example.com", Phone: "+7 999"},
				Text:    "hi",
			},
		},
		{
			name: "unknown fields are ignored",
			body: `{"contact":{"external_id":"u-1","avatar":"x"},"text":"hi","extra":{"a":[1,2]}}`,
			want: apichannel.Inbound{Contact: apichannel.Contact{ExternalID: "u-1"}, Text: "hi"},
		},
		{
			name: "attachment only, http allowed",
			body: `{"contact":{"external_id":"u-1"},"attachments":[{"url":"http://example.com/f.pdf"}]}`,
			want: apichannel.Inbound{
				Contact:     apichannel.Contact{ExternalID: "u-1"},
				Attachments: []apichannel.Attachment{{URL: "http://example.com/f.pdf"}},
			},
		},
		{
			name: "white space text becomes empty when an attachment carries the message",
			body: `{"contact":{"external_id":"u-1"},"text":"  \n","attachments":[{"url":"https://example.com/f"}]}`,
			want: apichannel.Inbound{
				Contact:     apichannel.Contact{ExternalID: "u-1"},
				Attachments: []apichannel.Attachment{{URL: "https://example.com/f"}},
			},
		},
		{
			name: "Russian text and limits at the edge",
			body: fmt.Sprintf(`{"contact":{"external_id":%q,"name":%q},"text":%q}`,
				strings.Repeat("я", 256), strings.Repeat("Ж", 256), strings.Repeat("ё", 20000)),
			want: apichannel.Inbound{
				Contact: apichannel.Contact{ExternalID: strings.Repeat("я", 256), Name: strings.Repeat("Ж", 256)},
				Text:    strings.Repeat("ё", 20000),
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := apichannel.ParseInbound([]byte(tt.body))
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestParseInboundProblems(t *testing.T) {
	tooManyAttachments := `[` + strings.TrimSuffix(strings.Repeat(`{"url":"https://example.com/f"},`, 21), ",") + `]`
	tests := []struct {
		name string
		body string
		want []string // every problem, in order
	}{
		{"empty body", ``, []string{"malformed JSON: body is empty"}},
		{"syntax error says where", "{\n  \"contact\": {\"external_id\": \"u-1\",}\n}",
			[]string{"malformed JSON at line 2, column 36: invalid character '}' looking for beginning of object key string"}},
		{"truncated", `{"contact":`, []string{"malformed JSON at line 1, column 11: unexpected end of JSON input"}},
		{"wrong type says which field", `{"contact":{"external_id":42},"text":"hi"}`,
			[]string{"malformed JSON at line 1, column 28: contact.external_id must be a string, not number"}},
		{"not an object", `[1,2]`, []string{"malformed JSON at line 1, column 1: body must be an object, not array"}},
		{"contact missing", `{"text":"hi"}`, []string{"contact is required"}},
		{"contact null", `{"contact":null,"text":"hi"}`, []string{"contact is required"}},
		{"external_id missing", `{"contact":{"name":"Ann"},"text":"hi"}`, []string{"contact.external_id is required"}},
		{"external_id blank", `{"contact":{"external_id":"   "},"text":"hi"}`, []string{"contact.external_id is required"}},
		{"external_id too long", fmt.Sprintf(`{"contact":{"external_id":%q},"text":"hi"}`, strings.Repeat("x", 257)),
			[]string{"contact.external_id is longer than 256 characters"}},
		{"name too long", fmt.Sprintf(`{"contact":{"external_id":"u","name":%q},"text":"hi"}`, strings.Repeat("я", 257)),
			[]string{"contact.name is longer than 256 characters"}},
		{"email invalid", `{"contact":{"external_id":"u","email":"ann at example"},"text":"hi"}`,
			[]string{"contact.email is not an email address"}},
		{"email with display name", `{"contact":{"external_id":"u","email":"Ann <ann@example.com>"},"text":"hi"}`,
			[]string{"contact.email is not an email address"}},
		{"nothing to deliver", `{"contact":{"external_id":"u"}}`,
			[]string{"nothing to deliver: text, attachments or button is required"}},
		{"white space only text", `{"contact":{"external_id":"u"},"text":" \t ","attachments":[]}`,
			[]string{"nothing to deliver: text, attachments or button is required"}},
		{"text too long", fmt.Sprintf(`{"contact":{"external_id":"u"},"text":%q}`, strings.Repeat("a", 20001)),
			[]string{"text is longer than 20000 characters"}},
		{"too many attachments", `{"contact":{"external_id":"u"},"attachments":` + tooManyAttachments + `}`,
			[]string{"more than 20 attachments"}},
		{"attachment URLs", `{"contact":{"external_id":"u"},"attachments":[
			{"url":"https://ok.example.com/a"},{"url":"ftp://example.com/a"},{"url":"/relative"},{},{"url":"https://"},null]}`,
			[]string{
				"attachments[1].url is not an absolute http or https URL",
				"attachments[2].url is not an absolute http or https URL",
				"attachments[3].url is required",
				"attachments[4].url is not an absolute http or https URL",
				"attachments[5].url is required",
			}},
		{"button empty payload", `{"contact":{"external_id":"u"},"button":{"text":"Yes"}}`,
			[]string{"button.payload is required"}},
		{"button payload too long", fmt.Sprintf(`{"contact":{"external_id":"u"},"button":{"payload":%q}}`, strings.Repeat("p", 1025)),
			[]string{"button.payload is longer than 1024 characters"}},
		{"every problem at once", fmt.Sprintf(`{"contact":{"external_id":"","name":%q,"email":"nope"},"text":%q,
			"attachments":[{"url":"mailto:a@b"}],"button":{"payload":""}}`, strings.Repeat("n", 300), strings.Repeat("t", 20001)),
			[]string{
				"contact.external_id is required",
				"contact.name is longer than 256 characters",
				"contact.email is not an email address",
				"text is longer than 20000 characters",
				"attachments[0].url is not an absolute http or https URL",
				"button.payload is required",
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := apichannel.ParseInbound([]byte(tt.body))
			require.Error(t, err)
			require.Zero(t, got)
			var verr *apichannel.ValidationError
			require.True(t, errors.As(err, &verr), "error %T is not a *ValidationError", err)
			require.Equal(t, tt.want, verr.Problems)
			require.Equal(t, strings.Join(tt.want, "; "), err.Error())
		})
	}
}

func FuzzParseInbound(f *testing.F) {
	for _, seed := range []string{
		`{"contact":{"external_id":"u-1","name":"Ann","email":"ann@example.com","phone":"+79990001122"},"text":"hello","attachments":[{"url":"https://x.example/a.png","name":"a.png","content_type":"image/png"}]}`,
		`{"contact":{"external_id":"u-1"},"button":{"payload":"csat:1042:1","text":"Bad"}}`,
		`{"contact":{"external_id":" u "},"text":" "}`,
		`{"contact":{"external_id":"u","email":"\"a b\"@example.com"},"text":"x"}`,
		`{"contact":{"external_id":"u"},"attachments":[{"url":"HTTPS://EXAMPLE.COM"},{"url":" http://[::1]:80/ "}]}`,
		`{"contact":null}`,
		`[]`,
		`null`,
		`{"contact":{"external_id":"\u0000"},"text":"\ud800"}`,
		"{\"contact\":{\"external_id\":\"u\"},\"text\":\"\xff\"}",
		``,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		in, err := apichannel.ParseInbound(body)
		if err != nil {
			var verr *apichannel.ValidationError
			if !errors.As(err, &verr) || len(verr.Problems) == 0 {
				t.Fatalf("error %v (%T) is not a *ValidationError with problems", err, err)
			}
			for _, p := range verr.Problems {
				if p == "" {
					t.Fatalf("empty problem in %q", verr.Problems)
				}
			}
			return
		}
		checkInvariants(t, in)

		// A valid message survives a round trip unchanged.
		again, err := json.Marshal(in)
		if err != nil {
			t.Fatalf("marshal %+v: %v", in, err)
		}
		in2, err := apichannel.ParseInbound(again)
		if err != nil {
			t.Fatalf("reparse %s: %v", again, err)
		}
		if !reflect.DeepEqual(in, in2) {
			t.Fatalf("round trip changed the message:\n%+v\n%+v", in, in2)
		}
	})
}

func checkInvariants(t *testing.T, in apichannel.Inbound) {
	t.Helper()
	c := in.Contact
	if c.ExternalID == "" || utf8.RuneCountInString(c.ExternalID) > apichannel.MaxExternalIDLen {
		t.Fatalf("external_id %q", c.ExternalID)
	}
	for _, s := range []string{c.ExternalID, c.Name, c.Email, c.Phone} {
		if s != strings.TrimSpace(s) {
			t.Fatalf("contact field %q is not trimmed", s)
		}
	}
	if utf8.RuneCountInString(c.Name) > apichannel.MaxNameLen {
		t.Fatalf("name has %d characters", utf8.RuneCountInString(c.Name))
	}
	if c.Email != "" {
		a, err := mail.ParseAddress(c.Email)
		if err != nil || a.Address != c.Email {
			t.Fatalf("email %q: %v", c.Email, err)
		}
	}
	if in.Text == "" && len(in.Attachments) == 0 && in.Button == nil {
		t.Fatal("nothing to deliver")
	}
	if in.Text != "" && strings.TrimSpace(in.Text) == "" {
		t.Fatalf("white space text %q", in.Text)
	}
	if utf8.RuneCountInString(in.Text) > apichannel.MaxTextLen {
		t.Fatalf("text has %d characters", utf8.RuneCountInString(in.Text))
	}
	if len(in.Attachments) > apichannel.MaxAttachments || (in.Attachments != nil && len(in.Attachments) == 0) {
		t.Fatalf("attachments %#v", in.Attachments)
	}
	for _, a := range in.Attachments {
		u, err := url.Parse(a.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			t.Fatalf("attachment url %q", a.URL)
		}
	}
	if b := in.Button; b != nil {
		if strings.TrimSpace(b.Payload) == "" || utf8.RuneCountInString(b.Payload) > apichannel.MaxButtonPayloadLen {
			t.Fatalf("button payload %q", b.Payload)
		}
	}
}
