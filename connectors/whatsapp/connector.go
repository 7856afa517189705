package whatsapp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/linedesk/linedesk/connectors"
	"github.com/linedesk/linedesk/connectors/meta"
)

// DefaultBaseURL is the Graph API.
const DefaultBaseURL = "https://graph.facebook.com"

// APIVersion is the Graph API version linedesk calls.
const APIVersion = meta.APIVersion

// Credentials of a whatsapp channel.
const (
	// CredentialAppSecret signs the webhooks (the Meta app's secret).
	CredentialAppSecret = "app_secret"
	// CredentialAccessToken sends messages and fetches media (a system user's token with
	// whatsapp_business_messaging).
	CredentialAccessToken = "access_token"
)

// Window is the customer service window: free-form messages go only within 24 hours of the
// client's last message (after that WhatsApp takes approved templates only), for people and
// automated messages alike.
const Window = 24 * time.Hour

// Limits of the Cloud API's messages.
const (
	maxText        = 4096
	maxButtonBody  = 1024
	maxButtons     = 3
	maxButtonTitle = 20
)

// Settings are a whatsapp channel's settings.
type Settings struct {
	// PhoneNumberID is the business number's id (WhatsApp Manager → API setup), which sends and
	// which the webhooks name.
	PhoneNumberID string `json:"phone_number_id"`
	// BusinessAccountID is the WhatsApp Business Account's id, subscribed to the app on connect.
	BusinessAccountID string `json:"business_account_id"`
	// APIBaseURL is the Graph API's address (empty: graph.facebook.com); a fake's in tests.
	APIBaseURL string `json:"api_base_url,omitempty"`
}

func settingsOf(ch connectors.Channel) Settings {
	var s Settings
	_ = json.Unmarshal(ch.Settings, &s) // validated when saved
	if s.APIBaseURL == "" {
		s.APIBaseURL = DefaultBaseURL
	}
	s.APIBaseURL = strings.TrimRight(s.APIBaseURL, "/")
	return s
}

// Connector is the whatsapp kind.
type Connector struct {
	HTTP *http.Client
}

var (
	_ connectors.Connector = (*Connector)(nil)
	_ connectors.Windowed  = (*Connector)(nil)
)

// Kind implements connectors.Connector.
func (*Connector) Kind() string { return "whatsapp" }

func (c *Connector) http() *http.Client {
	if c.HTTP == nil {
		return &http.Client{Timeout: 15 * time.Second}
	}
	return c.HTTP
}

func digits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// ValidateSettings implements connectors.Connector.
func (c *Connector) ValidateSettings(raw json.RawMessage, creds map[string]string) error {
	var s Settings
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return fmt.Errorf("settings: %v (a whatsapp channel takes phone_number_id, business_account_id and api_base_url)", err)
	}
	if !digits(s.PhoneNumberID) {
		return errors.New("settings.phone_number_id is required: the number's id from WhatsApp Manager → API setup (digits)")
	}
	if !digits(s.BusinessAccountID) {
		return errors.New("settings.business_account_id is required: the WhatsApp Business Account id from WhatsApp Manager → API setup (digits)")
	}
	if err := connectors.CheckBaseURL(s.APIBaseURL); err != nil {
		return err
	}
	if len(creds[CredentialAppSecret]) < 16 {
		return errors.New("credentials.app_secret is required: the Meta app's secret (App settings → Basic), which signs the webhooks")
	}
	if len(creds[CredentialAccessToken]) < 20 {
		return errors.New("credentials.access_token is required: a system user's token with the whatsapp_business_messaging permission")
	}
	return nil
}

// ReplyWindow implements connectors.Windowed: 24 hours for everyone.
func (*Connector) ReplyWindow(bool) time.Duration { return Window }

// Receive implements connectors.Connector: GET is Meta's verification (hub.verify_token must be
// the channel's secret); POST must carry the app secret's HMAC and is read for the channel's
// number only.
func (c *Connector) Receive(ch connectors.Channel, r connectors.Request) (connectors.Response, []connectors.Event, error) {
	if r.Method == http.MethodGet {
		res, err := meta.Handshake(ch, r)
		return res, nil, err
	}
	if r.Method != http.MethodPost {
		return connectors.Response{Status: http.StatusMethodNotAllowed}, nil, nil
	}
	if !meta.VerifySignature(ch.Credentials[CredentialAppSecret], r.Body, r.Header.Get(meta.HeaderSignature)) {
		return connectors.Response{}, nil, connectors.ErrUnauthorized
	}
	s := settingsOf(ch)
	b, err := Parse(r.Body, s.PhoneNumberID)
	var serr *SyntaxError
	if errors.As(err, &serr) {
		return connectors.Response{}, nil, &connectors.BadRequest{Reason: serr.Error()}
	}
	if err != nil {
		return connectors.Response{}, nil, err
	}
	if b.Object != Object {
		return connectors.Response{}, nil, nil
	}
	var events []connectors.Event
	for _, m := range b.Messages {
		e := connectors.Event{Key: "wamid:" + m.ID, ExternalID: m.ID, Text: m.Text, Button: m.Button, At: m.At,
			Contact: connectors.Contact{ID: m.From, Name: m.Name, Phone: "+" + m.From}}
		for _, f := range m.Files {
			e.Files = append(e.Files, connectors.FileRef{Ref: f.ID, Name: fileName(f), ContentType: f.MIMEType})
		}
		if m.ReplyTo != "" {
			e.ReplyTo = &connectors.Quote{ExternalID: m.ReplyTo}
		}
		events = append(events, e)
	}
	for _, st := range b.Statuses {
		status := map[string]string{"delivered": connectors.StatusDelivered, "read": connectors.StatusRead, "failed": connectors.StatusFailed}[st.Status]
		if status == "" {
			continue // "sent": the send call already said so
		}
		events = append(events, connectors.Event{Key: "status:" + st.ID + ":" + st.Status, ExternalID: st.ID, Status: status,
			StatusReason: st.Error, At: st.At, Contact: connectors.Contact{ID: st.Recipient}})
	}
	return connectors.Response{}, events, nil
}

func fileName(f Media) string {
	if f.Filename != "" {
		return f.Filename
	}
	ext := map[string]string{"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp", "video/mp4": ".mp4",
		"audio/ogg": ".ogg", "audio/mpeg": ".mp3", "audio/mp4": ".m4a", "application/pdf": ".pdf"}[strings.TrimSpace(strings.Split(f.MIMEType, ";")[0])]
	return f.Type + ext
}

// temporary reports whether repeating a refused call later can succeed: throughput and pair
// rate limits (130429, 131056, 4, 80007), the service's own trouble (1, 2, 131000, 131016,
// 133004) and 5xx.
func temporary(e *meta.GraphError) bool {
	switch e.Code {
	case 1, 2, 4, 80007, 130429, 131056, 131000, 131016, 133004:
		return true
	}
	return e.Status >= 500
}

func (c *Connector) call(ctx context.Context, ch connectors.Channel, method, rawURL string, body any, out any) error {
	return meta.Call(ctx, c.http(), ch.Credentials[CredentialAccessToken], method, rawURL, body, out)
}

func (s Settings) url(path string) string {
	return s.APIBaseURL + "/" + APIVersion + path
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}

// Send implements connectors.Connector. Inside 24 hours of the client's last message it sends
// text (the operator's name in bold on the first line when the line shows it), files by their
// expiring link, and up to three buttons as an interactive reply-button message (more fall back to
// numbered text); past the window it refuses before calling WhatsApp, with the reason.
func (c *Connector) Send(ctx context.Context, ch connectors.Channel, m connectors.Outbound) (connectors.Sent, error) {
	since := time.Since(m.LastInboundAt)
	if m.LastInboundAt.IsZero() || since > Window {
		return connectors.Sent{}, &connectors.SendError{Err: fmt.Errorf("outside the whatsapp messaging window: the client last wrote %s ago; WhatsApp takes free-form replies within 24 hours of the client's message, so the client must write first",
			since.Round(time.Minute))}
	}
	s := settingsOf(ch)
	text := m.Text
	if m.ShowSender && m.Sender != "" && text != "" {
		text = "*" + m.Sender + "*:\n" + text
	}
	buttons := m.Buttons
	if len(buttons) > maxButtons {
		for i, b := range buttons {
			text += fmt.Sprintf("\n%d — %s", i+1, b.Text)
		}
		buttons = nil
	}
	var bodies []map[string]any
	parts := connectors.SplitText(text, maxText)
	if len(buttons) > 0 {
		if len(parts) == 0 {
			parts = []string{"…"}
		}
		last := parts[len(parts)-1]
		parts = append(parts[:len(parts)-1], connectors.SplitText(last, maxButtonBody)...)
	}
	for i, p := range parts {
		if i == len(parts)-1 && len(buttons) > 0 {
			continue // goes with the buttons, after the files
		}
		bodies = append(bodies, map[string]any{"type": "text", "text": map[string]any{"preview_url": false, "body": p}})
	}
	for _, f := range m.Files {
		kind := "document"
		switch {
		case f.ContentType == "image/jpeg" || f.ContentType == "image/png":
			kind = "image"
		case f.ContentType == "video/mp4" || f.ContentType == "video/3gpp":
			kind = "video"
		}
		media := map[string]any{"link": f.URL}
		if kind == "document" {
			media["filename"] = f.Name
		}
		bodies = append(bodies, map[string]any{"type": kind, kind: media})
	}
	if len(buttons) > 0 {
		var rows []map[string]any
		for _, b := range buttons {
			rows = append(rows, map[string]any{"type": "reply", "reply": map[string]string{"id": b.Payload, "title": truncate(b.Text, maxButtonTitle)}})
		}
		bodies = append(bodies, map[string]any{"type": "interactive", "interactive": map[string]any{"type": "button",
			"body": map[string]string{"text": parts[len(parts)-1]}, "action": map[string]any{"buttons": rows}}})
	}
	var last string
	for i, body := range bodies {
		body["messaging_product"], body["recipient_type"], body["to"] = "whatsapp", "individual", m.To
		if i == 0 && m.ReplyTo != "" {
			body["context"] = map[string]string{"message_id": m.ReplyTo}
		}
		var out struct {
			Messages []struct {
				ID string `json:"id"`
			} `json:"messages"`
		}
		if err := c.call(ctx, ch, http.MethodPost, s.url("/"+s.PhoneNumberID+"/messages"), body, &out); err != nil {
			var a *meta.GraphError
			if errors.As(err, &a) {
				if a.Code == 131047 {
					return connectors.Sent{}, &connectors.SendError{Status: a.Code, Err: fmt.Errorf("outside the whatsapp messaging window (%w): the client must write first", err)}
				}
				return connectors.Sent{}, &connectors.SendError{Temporary: i == 0 && temporary(a), Status: a.Code, Err: err}
			}
			return connectors.Sent{}, connectors.TransportError(err, i == 0, "WhatsApp")
		}
		if len(out.Messages) > 0 {
			last = out.Messages[0].ID
		}
	}
	return connectors.Sent{ExternalID: last}, nil
}

// Download implements connectors.Connector: the media id gives a URL valid for five minutes,
// fetched with the same token.
func (c *Connector) Download(ctx context.Context, ch connectors.Channel, f connectors.FileRef, max int64) ([]byte, error) {
	s := settingsOf(ch)
	var info struct {
		URL      string `json:"url"`
		FileSize int64  `json:"file_size"`
	}
	q := url.Values{"phone_number_id": {s.PhoneNumberID}}
	if err := c.call(ctx, ch, http.MethodGet, s.url("/"+url.PathEscape(f.Ref)+"?"+q.Encode()), nil, &info); err != nil {
		return nil, fmt.Errorf("whatsapp media %s: %w", f.Ref, err)
	}
	if info.FileSize > max {
		return nil, connectors.ErrTooLarge
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, info.URL, nil)
	if err != nil {
		return nil, fmt.Errorf("whatsapp media %s: %w", f.Ref, err)
	}
	req.Header.Set("Authorization", "Bearer "+ch.Credentials[CredentialAccessToken])
	res, err := c.http().Do(req)
	if err != nil {
		return nil, fmt.Errorf("whatsapp media %s: %w", f.Ref, err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("whatsapp media %s: HTTP %d", f.Ref, res.StatusCode)
	}
	data, err := io.ReadAll(io.LimitReader(res.Body, max+1))
	if err != nil {
		return nil, fmt.Errorf("whatsapp media %s: %w", f.Ref, err)
	}
	if int64(len(data)) > max {
		return nil, connectors.ErrTooLarge
	}
	return data, nil
}

// Acknowledge implements connectors.Connector; reply buttons need none.
func (*Connector) Acknowledge(context.Context, connectors.Channel, connectors.Event) error {
	return nil
}

// Connect implements connectors.Connector: it checks the token on the number (its display number
// and verified name) and subscribes the app to the business account's webhooks with linedesk's
// URL as the account's callback (Meta verifies it with the channel's verify token); the app
// dashboard still has to subscribe to the messages field.
func (c *Connector) Connect(ctx context.Context, ch connectors.Channel, hookURL string) (connectors.Connection, error) {
	s := settingsOf(ch)
	var num struct {
		DisplayPhoneNumber string `json:"display_phone_number"`
		VerifiedName       string `json:"verified_name"`
	}
	if err := c.call(ctx, ch, http.MethodGet, s.url("/"+s.PhoneNumberID+"?fields=display_phone_number,verified_name"), nil, &num); err != nil {
		return connectors.Connection{}, fmt.Errorf("check the access token on the number (GET /%s): %w", s.PhoneNumberID, err)
	}
	// The business account's own callback URL (override_callback_uri): one Meta app can serve
	// numbers of several accounts, each posting to its own channel. Meta checks it at once with
	// the verify token.
	sub := map[string]string{"override_callback_uri": hookURL, "verify_token": ch.HookSecret}
	if err := c.call(ctx, ch, http.MethodPost, s.url("/"+s.BusinessAccountID+"/subscribed_apps"), sub, nil); err != nil {
		return connectors.Connection{}, fmt.Errorf("subscribe the app to the business account with linedesk's callback (POST /%s/subscribed_apps): %w", s.BusinessAccountID, err)
	}
	return connectors.Connection{Registered: true, Account: strings.TrimSpace(num.VerifiedName + " " + num.DisplayPhoneNumber), Steps: []string{
		"In the Meta app's dashboard, WhatsApp → Configuration: subscribe the app to the messages field.",
	}}, nil
}

// SendRate implements connectors.Paced: WhatsApp takes 80 messages a second per business number.
func (*Connector) SendRate() (float64, int) { return 80, 80 }
