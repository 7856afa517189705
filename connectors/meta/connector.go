package meta

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/linedesk/linedesk/connectors"
)

// DefaultBaseURL is the Graph API.
const DefaultBaseURL = "https://graph.facebook.com"

// APIVersion is the Graph API version linedesk calls.
const APIVersion = "v21.0"

// Credentials of a facebook or instagram channel.
const (
	// CredentialAppSecret signs the webhooks (the Meta app's secret).
	CredentialAppSecret = "app_secret"
	// CredentialPageToken sends messages (the page's access token).
	CredentialPageToken = "page_token"
)

// The messaging window: a page answers freely within 24 hours of the client's last message; a
// human agent may answer for 7 days with the HUMAN_AGENT tag; after that only the client can
// reopen the conversation.
const (
	StandardWindow = 24 * time.Hour
	HumanWindow    = 7 * 24 * time.Hour
)

// Settings are a facebook or instagram channel's settings.
type Settings struct {
	// APIBaseURL is the Graph API's address (empty: graph.facebook.com); a fake's in tests.
	APIBaseURL string `json:"api_base_url,omitempty"`
}

// Connector is the facebook (Messenger) or instagram (Instagram Direct) kind.
type Connector struct {
	// Instagram: the instagram kind (webhook object "instagram", 1,000-character texts);
	// otherwise facebook (object "page", 2,000).
	Instagram bool
	HTTP      *http.Client
}

var _ connectors.Connector = (*Connector)(nil)

// Kind implements connectors.Connector.
func (c *Connector) Kind() string {
	if c.Instagram {
		return "instagram"
	}
	return "facebook"
}

func (c *Connector) object() string {
	if c.Instagram {
		return ObjectInstagram
	}
	return ObjectPage
}

func (c *Connector) maxText() int {
	if c.Instagram {
		return 1000
	}
	return 2000
}

func (c *Connector) http() *http.Client {
	if c.HTTP == nil {
		return &http.Client{Timeout: 15 * time.Second}
	}
	return c.HTTP
}

func base(ch connectors.Channel) string {
	var s Settings
	_ = json.Unmarshal(ch.Settings, &s) // validated when saved
	if s.APIBaseURL == "" {
		return DefaultBaseURL
	}
	return strings.TrimRight(s.APIBaseURL, "/")
}

// ValidateSettings implements connectors.Connector.
func (c *Connector) ValidateSettings(raw json.RawMessage, creds map[string]string) error {
	var s Settings
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return fmt.Errorf("settings: %v (a %s channel takes api_base_url only)", err, c.Kind())
	}
	if err := connectors.CheckBaseURL(s.APIBaseURL); err != nil {
		return err
	}
	if len(creds[CredentialAppSecret]) < 16 {
		return errors.New("credentials.app_secret is required: the Meta app's secret (App settings → Basic), which signs the webhooks")
	}
	if len(creds[CredentialPageToken]) < 20 {
		return errors.New("credentials.page_token is required: the page's access token with the messaging permission")
	}
	return nil
}

// ReplyWindow implements connectors.Windowed: 24 hours, 7 days for a person (HUMAN_AGENT).
func (*Connector) ReplyWindow(human bool) time.Duration {
	if human {
		return HumanWindow
	}
	return StandardWindow
}

// Receive implements connectors.Connector: GET is Meta's verification (hub.verify_token must be
// the channel's secret, answered with hub.challenge); POST must carry the app secret's HMAC.
func (c *Connector) Receive(ch connectors.Channel, r connectors.Request) (connectors.Response, []connectors.Event, error) {
	if r.Method == http.MethodGet {
		res, err := Handshake(ch, r)
		return res, nil, err
	}
	if r.Method != http.MethodPost {
		return connectors.Response{Status: http.StatusMethodNotAllowed}, nil, nil
	}
	if !VerifySignature(ch.Credentials[CredentialAppSecret], r.Body, r.Header.Get(HeaderSignature)) {
		return connectors.Response{}, nil, connectors.ErrUnauthorized
	}
	b, err := Parse(r.Body)
	var serr *SyntaxError
	if errors.As(err, &serr) {
		return connectors.Response{}, nil, &connectors.BadRequest{Reason: serr.Error()}
	}
	if err != nil {
		return connectors.Response{}, nil, err
	}
	if b.Object != c.object() {
		return connectors.Response{}, nil, nil // another product's notification
	}
	var events []connectors.Event
	for _, m := range b.Messages {
		e := connectors.Event{Key: "mid:" + m.MID, ExternalID: m.MID, Text: m.Text, Button: m.QuickReply, At: m.At,
			Contact: connectors.Contact{ID: m.Sender}}
		for i, f := range m.Files {
			name := map[string]string{"image": "image.jpg", "video": "video.mp4", "audio": "audio.mp4"}[f.Type]
			if name == "" {
				name = fmt.Sprintf("file-%d", i+1)
			}
			e.Files = append(e.Files, connectors.FileRef{Ref: f.URL, Name: name})
		}
		if m.ReplyTo != "" {
			e.ReplyTo = &connectors.Quote{ExternalID: m.ReplyTo}
		}
		events = append(events, e)
	}
	for _, d := range b.Deliveries {
		for _, mid := range d.MIDs {
			events = append(events, connectors.Event{Key: "delivered:" + mid, ExternalID: mid, Status: connectors.StatusDelivered,
				Contact: connectors.Contact{ID: d.Recipient}})
		}
	}
	for _, r := range b.Reads {
		events = append(events, connectors.Event{Key: "read:" + r.Recipient + ":" + r.Watermark.Format(time.RFC3339Nano),
			Status: connectors.StatusRead, ReadUpTo: r.Watermark, Contact: connectors.Contact{ID: r.Recipient}})
	}
	return connectors.Response{}, events, nil
}

// Handshake answers Meta's verification of a callback URL (GET with hub.mode=subscribe): the
// challenge back when hub.verify_token is the channel's secret, ErrUnauthorized otherwise. Every
// Meta product (Messenger, Instagram, WhatsApp) verifies this way.
func Handshake(ch connectors.Channel, r connectors.Request) (connectors.Response, error) {
	if r.Query.Get("hub.mode") != "subscribe" || ch.HookSecret == "" ||
		subtle.ConstantTimeCompare([]byte(r.Query.Get("hub.verify_token")), []byte(ch.HookSecret)) != 1 {
		return connectors.Response{}, connectors.ErrUnauthorized
	}
	return connectors.Response{ContentType: "text/plain; charset=utf-8", Body: []byte(r.Query.Get("hub.challenge"))}, nil
}

// GraphError is a Graph API refusal.
type GraphError struct {
	Status    int
	Code      int    `json:"code"`
	Subcode   int    `json:"error_subcode"`
	Message   string `json:"message"`
	ErrorData struct {
		Details string `json:"details"`
	} `json:"error_data"`
}

func (e *GraphError) Error() string {
	msg := e.Message
	if e.ErrorData.Details != "" {
		msg += ": " + e.ErrorData.Details
	}
	return fmt.Sprintf("meta: %d code %d/%d %s", e.Status, e.Code, e.Subcode, msg)
}

// Temporary reports whether repeating later can succeed: rate limits (4, 17, 32, 613) and
// transient errors (1, 2).
func (e *GraphError) Temporary() bool {
	switch e.Code {
	case 1, 2, 4, 17, 32, 613:
		return true
	}
	return e.Status >= 500
}

// Call makes one Graph API call (Messenger, Instagram, WhatsApp) with a bearer token, decoding the
// answer into out; a refusal is a *GraphError.
func Call(ctx context.Context, h *http.Client, token, method, rawURL string, body any, out any) error {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, rawURL, r)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := h.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return err
	}
	if res.StatusCode != http.StatusOK {
		var e struct {
			Error GraphError `json:"error"`
		}
		_ = json.Unmarshal(raw, &e)
		e.Error.Status = res.StatusCode
		return &e.Error
	}
	if out != nil {
		return json.Unmarshal(raw, out)
	}
	return nil
}

func (c *Connector) graph(ctx context.Context, ch connectors.Channel, method, path string, body any, out any) error {
	return Call(ctx, c.http(), ch.Credentials[CredentialPageToken], method, base(ch)+"/"+APIVersion+path, body, out)
}

// Send implements connectors.Connector. Inside 24 hours of the client's last message it answers
// as RESPONSE; a human agent's reply within 7 days goes with the HUMAN_AGENT tag; anything later
// is refused before calling Meta, with the reason for the operator. Quick replies carry CSAT.
func (c *Connector) Send(ctx context.Context, ch connectors.Channel, m connectors.Outbound) (connectors.Sent, error) {
	since := time.Since(m.LastInboundAt)
	params := map[string]any{"recipient": map[string]string{"id": m.To}, "messaging_type": "RESPONSE"}
	switch {
	case m.LastInboundAt.IsZero() || since > HumanWindow || (since > StandardWindow && !m.Human):
		return connectors.Sent{}, &connectors.SendError{Err: fmt.Errorf("outside the %s messaging window: the client last wrote %s ago; Meta lets a page answer within 24 hours (a person within 7 days), so the client must write first",
			c.Kind(), since.Round(time.Minute))}
	case since > StandardWindow:
		params["messaging_type"], params["tag"] = "MESSAGE_TAG", "HUMAN_AGENT"
	}
	text := m.Text
	if m.ShowSender && m.Sender != "" && text != "" {
		text = m.Sender + ":\n" + text
	}
	var parts []map[string]any
	for _, piece := range connectors.SplitText(text, c.maxText()) {
		parts = append(parts, map[string]any{"text": piece})
	}
	for _, f := range m.Files {
		kind := "file"
		if strings.HasPrefix(f.ContentType, "image/") {
			kind = "image"
		}
		parts = append(parts, map[string]any{"attachment": map[string]any{"type": kind, "payload": map[string]any{"url": f.URL, "is_reusable": false}}})
	}
	if len(m.Buttons) > 0 && len(parts) > 0 {
		var qr []map[string]string
		for _, b := range m.Buttons {
			qr = append(qr, map[string]string{"content_type": "text", "title": b.Text, "payload": b.Payload})
		}
		parts[len(parts)-1]["quick_replies"] = qr
	}
	var last string
	for i, p := range parts {
		params["message"] = p
		var out struct {
			MessageID string `json:"message_id"`
		}
		if err := c.graph(ctx, ch, http.MethodPost, "/me/messages", params, &out); err != nil {
			var g *GraphError
			if errors.As(err, &g) {
				return connectors.Sent{}, &connectors.SendError{Temporary: i == 0 && g.Temporary(), Status: g.Code, Err: err}
			}
			return connectors.Sent{}, connectors.TransportError(err, i == 0, "Meta")
		}
		last = out.MessageID
	}
	return connectors.Sent{ExternalID: last}, nil
}

// Download implements connectors.Connector: attachment URLs are plain (signed by Meta's CDN).
func (c *Connector) Download(ctx context.Context, _ connectors.Channel, f connectors.FileRef, max int64) ([]byte, error) {
	return connectors.Fetch(ctx, c.http(), f.Ref, max)
}

// Acknowledge implements connectors.Connector; quick replies need none.
func (*Connector) Acknowledge(context.Context, connectors.Channel, connectors.Event) error {
	return nil
}

// Connect implements connectors.Connector: it checks the page token (GET /me), subscribes the
// page to the app's webhook fields, and lists what to set in the app's dashboard (the callback
// URL and the verify token, which only the dashboard takes).
func (c *Connector) Connect(ctx context.Context, ch connectors.Channel, hookURL string) (connectors.Connection, error) {
	var me struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	}
	if err := c.graph(ctx, ch, http.MethodGet, "/me?fields=id,name", nil, &me); err != nil {
		return connectors.Connection{}, fmt.Errorf("check the page token (GET /me): %w", err)
	}
	fields := "messages,message_deliveries,messaging_postbacks"
	if c.Instagram {
		fields = "messages,messaging_postbacks"
	}
	if err := c.graph(ctx, ch, http.MethodPost, "/me/subscribed_apps?subscribed_fields="+fields, nil, nil); err != nil {
		return connectors.Connection{}, fmt.Errorf("subscribe the page to the app (POST /me/subscribed_apps): %w", err)
	}
	product := "Messenger"
	if c.Instagram {
		product = "Instagram"
	}
	return connectors.Connection{Account: me.Name, Steps: []string{
		"In the Meta app's dashboard, " + product + " → Webhooks: Callback URL " + hookURL,
		"Verify token: " + ch.HookSecret,
		"Subscribe to the fields " + fields + " (linedesk has subscribed the page itself).",
	}}, nil
}

// Profile implements connectors.Profiler: Messenger's user profile (first and last name) or
// Instagram's (name, else username), read with the page token.
func (c *Connector) Profile(ctx context.Context, ch connectors.Channel, contactID string) (connectors.Contact, error) {
	fields := "first_name,last_name"
	if c.Instagram {
		fields = "name,username"
	}
	var p struct {
		FirstName string `json:"first_name"`
		LastName  string `json:"last_name"`
		Name      string `json:"name"`
		Username  string `json:"username"`
	}
	if err := c.graph(ctx, ch, http.MethodGet, "/"+url.PathEscape(contactID)+"?fields="+fields, nil, &p); err != nil {
		return connectors.Contact{}, err
	}
	name := strings.TrimSpace(p.FirstName + " " + p.LastName)
	if name == "" {
		name = p.Name
	}
	if name == "" && p.Username != "" {
		name = "@" + p.Username
	}
	return connectors.Contact{ID: contactID, Name: name}, nil
}
