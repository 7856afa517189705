package viber

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"
)

// DefaultBaseURL is Viber's REST API.
const DefaultBaseURL = "https://chatapi.viber.com"

// HeaderAuthToken authenticates every API call.
const HeaderAuthToken = "X-Viber-Auth-Token"

// MaxSenderName is the longest sender.name send_message takes.
const MaxSenderName = 28

// Client calls the REST API of one Viber bot account.
type Client struct {
	BaseURL string
	Token   string
	HTTP    *http.Client
}

var defaultHTTP = &http.Client{Timeout: 15 * time.Second}

func (c *Client) call(ctx context.Context, path string, params any, out any) error {
	base := c.BaseURL
	if base == "" {
		base = DefaultBaseURL
	}
	body, err := json.Marshal(params)
	if err != nil {
		return fmt.Errorf("viber %s: %w", path, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(base, "/")+path, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("viber %s: %w", path, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(HeaderAuthToken, c.Token)
	h := c.HTTP
	if h == nil {
		h = defaultHTTP
	}
	res, err := h.Do(req)
	if err != nil {
		return fmt.Errorf("viber %s: %w", path, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("viber %s: read answer: %w", path, err)
	}
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("viber %s: HTTP %d", path, res.StatusCode)
	}
	var st struct {
		Status        int    `json:"status"`
		StatusMessage string `json:"status_message"`
	}
	if err := json.Unmarshal(raw, &st); err != nil {
		return fmt.Errorf("viber %s: the answer is not JSON", path)
	}
	if st.Status != 0 {
		return &APIError{Status: st.Status, Message: st.StatusMessage}
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return fmt.Errorf("viber %s: %w", path, err)
		}
	}
	return nil
}

// SetWebhook points the account's callbacks at url. Viber checks it at once with a "webhook"
// callback, which must be answered 200 before this call returns.
func (c *Client) SetWebhook(ctx context.Context, url string) error {
	return c.call(ctx, "/pa/set_webhook", map[string]any{"url": url,
		"event_types": []string{"delivered", "seen", "failed", "subscribed", "unsubscribed", "conversation_started"},
		"send_name":   true, "send_photo": true}, nil)
}

// Button is a keyboard button that replies with Payload (shown as Text).
type Button struct {
	Text    string
	Payload string
}

// Outgoing is what send_message sends: text from Sender (the operator's or the line's name).
type Outgoing struct {
	Receiver string
	Sender   string
	Text     string
	// Buttons, when set, are a reply keyboard under the message (CSAT).
	Buttons []Button
	// TrackingData comes back on the user's reply (a CSAT question's id).
	TrackingData string
}

// SendMessage sends a text message and returns its message_token. There is no idempotency key.
func (c *Client) SendMessage(ctx context.Context, m Outgoing) (string, error) {
	name := m.Sender
	for utf8.RuneCountInString(name) > MaxSenderName {
		_, size := utf8.DecodeLastRuneInString(name)
		name = name[:len(name)-size]
	}
	params := map[string]any{"receiver": m.Receiver, "type": "text", "text": m.Text, "sender": map[string]any{"name": name}, "min_api_version": 1}
	if m.TrackingData != "" {
		params["tracking_data"] = m.TrackingData
	}
	if len(m.Buttons) > 0 {
		cols := 6 / len(m.Buttons)
		if cols < 1 {
			cols = 1
		}
		var bs []map[string]any
		for _, b := range m.Buttons {
			bs = append(bs, map[string]any{"Columns": cols, "Rows": 1, "ActionType": "reply", "ActionBody": b.Payload, "Text": b.Text})
		}
		params["keyboard"] = map[string]any{"Type": "keyboard", "DefaultHeight": false, "Buttons": bs}
	}
	var out struct {
		MessageToken json.Number `json:"message_token"`
	}
	if err := c.call(ctx, "/pa/send_message", params, &out); err != nil {
		return "", err
	}
	return out.MessageToken.String(), nil
}
