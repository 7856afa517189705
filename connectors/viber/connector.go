package viber

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/linedesk/linedesk/connectors"
)

// Settings are a viber channel's settings.
type Settings struct {
	// APIBaseURL is the REST API's address (empty: chatapi.viber.com); a fake's in tests.
	APIBaseURL string `json:"api_base_url,omitempty"`
}

// CredentialAuthToken names the bot account's token among a channel's credentials.
const CredentialAuthToken = "auth_token"

// csatTracking marks a message carrying CSAT buttons: Viber sends a pressed "reply" button back
// as an ordinary text message with the tracking_data of the message it answered, which tells a
// button press from typed text.
const csatTracking = "linedesk:buttons"

// Connector is the viber channel kind.
type Connector struct {
	// HTTP sends the API calls (a client with a 15 s timeout when nil).
	HTTP *http.Client
	// FetchMedia downloads a client's media by URL (Viber's media links need no token); nil
	// uses HTTP.
	FetchMedia *http.Client
}

var _ connectors.Connector = (*Connector)(nil)

// Kind implements connectors.Connector.
func (*Connector) Kind() string { return "viber" }

func (c *Connector) client(ch connectors.Channel) *Client {
	var s Settings
	_ = json.Unmarshal(ch.Settings, &s) // validated when saved
	return &Client{BaseURL: s.APIBaseURL, Token: ch.Credentials[CredentialAuthToken], HTTP: c.HTTP}
}

// ValidateSettings implements connectors.Connector.
func (*Connector) ValidateSettings(raw json.RawMessage, creds map[string]string) error {
	var s Settings
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return fmt.Errorf("settings: %v (a viber channel takes api_base_url only)", err)
	}
	if err := connectors.CheckBaseURL(s.APIBaseURL); err != nil {
		return err
	}
	if t := creds[CredentialAuthToken]; len(t) < 20 || len(t) > 200 || strings.ContainsAny(t, " \t\r\n") {
		return errors.New("credentials.auth_token is required: the bot account's token from the Viber admin panel")
	}
	return nil
}

// Receive implements connectors.Connector: the body must carry the account token's HMAC-SHA256
// in X-Viber-Content-Signature. The "webhook" check set_webhook triggers is answered 200.
func (*Connector) Receive(ch connectors.Channel, r connectors.Request) (connectors.Response, []connectors.Event, error) {
	if r.Method != http.MethodPost {
		return connectors.Response{Status: http.StatusMethodNotAllowed}, nil, nil
	}
	if !VerifySignature(ch.Credentials[CredentialAuthToken], r.Body, r.Header.Get(HeaderSignature)) {
		return connectors.Response{}, nil, connectors.ErrUnauthorized
	}
	cb, err := ParseCallback(r.Body)
	if errors.Is(err, ErrIgnored) {
		return connectors.Response{}, nil, nil
	}
	var serr *SyntaxError
	if errors.As(err, &serr) {
		return connectors.Response{}, nil, &connectors.BadRequest{Reason: serr.Error()}
	}
	if err != nil {
		return connectors.Response{}, nil, err
	}
	switch cb.Event {
	case EventDelivered, EventSeen, EventFailed:
		status := map[string]string{EventDelivered: connectors.StatusDelivered, EventSeen: connectors.StatusRead, EventFailed: connectors.StatusFailed}[cb.Event]
		return connectors.Response{}, []connectors.Event{{Key: cb.EventID, Contact: connectors.Contact{ID: cb.UserID},
			ExternalID: cb.MessageToken, Status: status, StatusReason: cb.Reason, At: cb.At}}, nil
	case EventMessage:
		m := cb.Message
		e := connectors.Event{Key: cb.EventID, ExternalID: cb.MessageToken, At: cb.At,
			Contact: connectors.Contact{ID: cb.UserID, Name: m.SenderName}, Text: m.Text}
		if m.TrackingData == csatTracking && m.Media == "" {
			e.Button, e.Text = m.Text, ""
		}
		if m.Media != "" {
			name := m.FileName
			if name == "" {
				name = map[string]string{"picture": "photo.jpg", "video": "video.mp4"}[m.Type]
			}
			if name == "" {
				name = "file"
			}
			e.Files = []connectors.FileRef{{Ref: m.Media, Name: name, Size: m.Size}}
		}
		return connectors.Response{}, []connectors.Event{e}, nil
	}
	return connectors.Response{}, nil, nil // "webhook", subscriptions
}

// Send implements connectors.Connector: the sender's name is Viber's own sender field; files go
// by their (expiring) URL after the text; buttons are a reply keyboard under the text.
func (c *Connector) Send(ctx context.Context, ch connectors.Channel, m connectors.Outbound) (connectors.Sent, error) {
	cl := c.client(ch)
	sender := m.Sender
	if sender == "" {
		sender = "Support"
	}
	var token string
	sentSomething := false
	if m.Text != "" {
		out := Outgoing{Receiver: m.To, Sender: sender, Text: m.Text}
		for _, b := range m.Buttons {
			out.Buttons = append(out.Buttons, Button{Text: b.Text, Payload: b.Payload})
		}
		if len(out.Buttons) > 0 {
			out.TrackingData = csatTracking
		}
		t, err := cl.SendMessage(ctx, out)
		if err != nil {
			return connectors.Sent{}, sendError(err, true)
		}
		token, sentSomething = t, true
	}
	for _, f := range m.Files {
		t, err := cl.SendFile(ctx, OutgoingFile{Receiver: m.To, Sender: sender, URL: f.URL, Name: f.Name, Size: int64(len(f.Data)),
			Picture: f.ContentType == "image/jpeg" || f.ContentType == "image/png"})
		if err != nil {
			return connectors.Sent{}, sendError(err, !sentSomething)
		}
		token, sentSomething = t, true
	}
	return connectors.Sent{ExternalID: token}, nil
}

// sendError classifies a failed call: a refusal sent nothing (status 12 may be repeated later);
// no connection sent nothing; anything else may have delivered, and Viber has no idempotency
// key, so it is reported failed rather than repeated.
func sendError(err error, first bool) error {
	var api *APIError
	if errors.As(err, &api) {
		return &connectors.SendError{Temporary: first && api.Temporary(), Status: api.Status, Err: err}
	}
	return connectors.TransportError(err, first, "Viber")
}

// Download implements connectors.Connector: Viber's media links are plain URLs, valid for
// about an hour.
func (c *Connector) Download(ctx context.Context, _ connectors.Channel, f connectors.FileRef, max int64) ([]byte, error) {
	if f.Size > max {
		return nil, connectors.ErrTooLarge
	}
	h := c.FetchMedia
	if h == nil {
		h = c.HTTP
	}
	if h == nil {
		h = defaultHTTP
	}
	return connectors.Fetch(ctx, h, f.Ref, max)
}

// Acknowledge implements connectors.Connector; Viber has nothing to acknowledge.
func (*Connector) Acknowledge(context.Context, connectors.Channel, connectors.Event) error {
	return nil
}

// Connect implements connectors.Connector: it checks the token and sets the webhook (Viber
// checks the URL at once with a signed "webhook" callback).
func (c *Connector) Connect(ctx context.Context, ch connectors.Channel, hookURL string) (connectors.Connection, error) {
	cl := c.client(ch)
	acc, err := cl.GetAccountInfo(ctx)
	if err != nil {
		return connectors.Connection{}, fmt.Errorf("check the auth token (get_account_info): %w", err)
	}
	if err := cl.SetWebhook(ctx, hookURL); err != nil {
		return connectors.Connection{}, fmt.Errorf("set_webhook: %w", err)
	}
	return connectors.Connection{Registered: true, Account: acc.Name}, nil
}
