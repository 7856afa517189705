package ok

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

// DefaultBaseURL is OK's API.
const DefaultBaseURL = "https://api.ok.ru"

// CredentialAccessToken is the group's token ("Работа с API" → "Получить ключ доступа").
const CredentialAccessToken = "access_token"

// Limits of a message.
const (
	maxText        = 4000
	maxAttachments = 5
)

// Settings are an ok channel's settings.
type Settings struct {
	// APIBaseURL is the API's address (empty: api.ok.ru); a fake's in tests.
	APIBaseURL string `json:"api_base_url,omitempty"`
}

func base(ch connectors.Channel) string {
	var s Settings
	_ = json.Unmarshal(ch.Settings, &s) // validated when saved
	if s.APIBaseURL == "" {
		return DefaultBaseURL
	}
	return strings.TrimRight(s.APIBaseURL, "/")
}

// Connector is the ok kind.
type Connector struct {
	HTTP *http.Client
}

var (
	_ connectors.Connector   = (*Connector)(nil)
	_ connectors.SecretInURL = (*Connector)(nil)
)

// Kind implements connectors.Connector.
func (*Connector) Kind() string { return "ok" }

// SecretInURL implements connectors.SecretInURL: OK signs nothing.
func (*Connector) SecretInURL() {}

func (c *Connector) http() *http.Client {
	if c.HTTP == nil {
		return &http.Client{Timeout: 15 * time.Second}
	}
	return c.HTTP
}

// ValidateSettings implements connectors.Connector.
func (*Connector) ValidateSettings(raw json.RawMessage, creds map[string]string) error {
	var s Settings
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return fmt.Errorf("settings: %v (an ok channel takes api_base_url only)", err)
	}
	if err := connectors.CheckBaseURL(s.APIBaseURL); err != nil {
		return err
	}
	if len(creds[CredentialAccessToken]) < 20 {
		return errors.New("credentials.access_token is required: the group's key from its settings, \"Работа с API\" → \"Получить ключ доступа\"")
	}
	return nil
}

// HookPath is the path of the URL registered with OK: the desk's webhook URL with the channel's
// secret after it, as OK signs nothing.
func HookPath(hookURL, secret string) string { return hookURL + "/" + secret }

// Receive implements connectors.Connector: OK signs nothing, so the request must carry the
// channel's secret in its path.
func (*Connector) Receive(ch connectors.Channel, r connectors.Request) (connectors.Response, []connectors.Event, error) {
	if r.Method != http.MethodPost {
		return connectors.Response{Status: http.StatusMethodNotAllowed}, nil, nil
	}
	if ch.HookSecret == "" || subtle.ConstantTimeCompare([]byte(r.Token), []byte(ch.HookSecret)) != 1 {
		return connectors.Response{}, nil, connectors.ErrUnauthorized
	}
	m, keep, err := Parse(r.Body)
	var serr *SyntaxError
	if errors.As(err, &serr) {
		return connectors.Response{}, nil, &connectors.BadRequest{Reason: serr.Error()}
	}
	if err != nil || !keep {
		return connectors.Response{}, nil, err
	}
	e := connectors.Event{Key: m.Key, Text: m.Text, Button: m.Button, At: m.At, Contact: connectors.Contact{ID: m.Chat, Name: m.Name}}
	if id, ok := strings.CutPrefix(m.User, "user:"); ok && id != "" {
		e.Contact.ProfileURL = "https://ok.ru/profile/" + id
	}
	if m.Button == "" {
		e.ExternalID = m.Key
	}
	for i, f := range m.Files {
		name := f.Name
		if name == "" {
			name = map[string]string{"IMAGE": "image.jpg", "VIDEO": "video.mp4", "AUDIO": "audio.mp3"}[f.Type]
		}
		if name == "" {
			name = fmt.Sprintf("file-%d", i+1)
		}
		e.Files = append(e.Files, connectors.FileRef{Ref: f.URL, Name: name})
	}
	return connectors.Response{}, []connectors.Event{e}, nil
}

// APIError is OK's refusal.
type APIError struct {
	Status int
	Code   int    `json:"error_code"`
	Msg    string `json:"error_msg"`
}

func (e *APIError) Error() string { return fmt.Sprintf("ok: %d error %d %s", e.Status, e.Code, e.Msg) }

// Temporary: OK's unknown and service errors (1, 2), flood control (8), 429 and 5xx.
func (e *APIError) Temporary() bool {
	switch e.Code {
	case 1, 2, 8:
		return true
	}
	return e.Status == http.StatusTooManyRequests || e.Status >= 500
}

func (c *Connector) call(ctx context.Context, ch connectors.Channel, method, path string, body any, out any) error {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		r = bytes.NewReader(b)
	}
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	req, err := http.NewRequestWithContext(ctx, method, base(ch)+path+sep+"access_token="+url.QueryEscape(ch.Credentials[CredentialAccessToken]), r)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json;charset=utf-8")
	}
	res, err := c.http().Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return err
	}
	var e APIError
	_ = json.Unmarshal(raw, &e)
	if res.StatusCode != http.StatusOK || e.Code != 0 {
		e.Status = res.StatusCode
		return &e
	}
	if out != nil {
		return json.Unmarshal(raw, out)
	}
	return nil
}

// Send implements connectors.Connector: text (the operator's name on its first line when the line
// shows it), images by their expiring link (other files as links in the text: OK takes files only
// through its upload flow), and buttons as an inline keyboard of callback buttons.
func (c *Connector) Send(ctx context.Context, ch connectors.Channel, m connectors.Outbound) (connectors.Sent, error) {
	text := m.Text
	if m.ShowSender && m.Sender != "" && text != "" {
		text = m.Sender + ":\n" + text
	}
	var attachments []map[string]any
	for _, f := range m.Files {
		if strings.HasPrefix(f.ContentType, "image/") && len(attachments) < maxAttachments-1 {
			attachments = append(attachments, map[string]any{"type": "IMAGE", "payload": map[string]string{"url": f.URL}})
			continue
		}
		text = strings.TrimSpace(text + "\n📎 " + f.Name + ": " + f.URL)
	}
	if len(m.Buttons) > 0 {
		var row []map[string]string
		for _, b := range m.Buttons {
			row = append(row, map[string]string{"type": "CALLBACK", "text": b.Text, "payload": b.Payload})
		}
		attachments = append(attachments, map[string]any{"type": "INLINE_KEYBOARD", "payload": map[string]any{"keyboard": map[string]any{"buttons": [][]map[string]string{row}}}})
	}
	var parts []map[string]any
	for _, piece := range connectors.SplitText(text, maxText) {
		parts = append(parts, map[string]any{"text": piece})
	}
	if len(parts) == 0 {
		parts = []map[string]any{{}}
	}
	if len(attachments) > 0 {
		parts[len(parts)-1]["attachments"] = attachments
	}
	var last string
	for i, p := range parts {
		var out struct {
			MessageID string `json:"message_id"`
		}
		err := c.call(ctx, ch, http.MethodPost, "/graph/me/messages/"+url.PathEscape(m.To), map[string]any{"recipient": map[string]string{"chat_id": m.To}, "message": p}, &out)
		if err != nil {
			var a *APIError
			if errors.As(err, &a) {
				return connectors.Sent{}, &connectors.SendError{Temporary: i == 0 && a.Temporary(), Status: a.Code, Err: err}
			}
			return connectors.Sent{}, connectors.TransportError(err, i == 0, "OK")
		}
		last = out.MessageID
	}
	return connectors.Sent{ExternalID: last}, nil
}

// Download implements connectors.Connector: attachment URLs are plain.
func (c *Connector) Download(ctx context.Context, _ connectors.Channel, f connectors.FileRef, max int64) ([]byte, error) {
	return connectors.Fetch(ctx, c.http(), f.Ref, max)
}

// Acknowledge implements connectors.Connector; callback buttons need none.
func (*Connector) Acknowledge(context.Context, connectors.Channel, connectors.Event) error {
	return nil
}

// Connect implements connectors.Connector: it checks the token (GET /graph/me/info) and subscribes
// the group's webhook to the desk's URL with the channel's secret in its path.
func (c *Connector) Connect(ctx context.Context, ch connectors.Channel, hookURL string) (connectors.Connection, error) {
	var me struct {
		Name    string `json:"name"`
		GroupID string `json:"group_id"`
	}
	if err := c.call(ctx, ch, http.MethodGet, "/graph/me/info", nil, &me); err != nil {
		return connectors.Connection{}, fmt.Errorf("check the group's token (GET /graph/me/info): %w", err)
	}
	var sub struct {
		Success bool `json:"success"`
	}
	if err := c.call(ctx, ch, http.MethodPost, "/graph/me/subscribe", map[string]string{"url": HookPath(hookURL, ch.HookSecret)}, &sub); err != nil {
		return connectors.Connection{}, fmt.Errorf("subscribe the webhook (POST /graph/me/subscribe): %w", err)
	}
	if !sub.Success {
		return connectors.Connection{}, errors.New("subscribe the webhook (POST /graph/me/subscribe): OK did not confirm the subscription")
	}
	return connectors.Connection{Registered: true, Account: me.Name}, nil
}
