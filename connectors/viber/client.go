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
	name := senderName(m.Sender)
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

// OutgoingFile is a file send_message sends by URL (Viber fetches it; it takes no uploads).
type OutgoingFile struct {
	Receiver string
	Sender   string
	URL      string
	Name     string
	Size     int64
	// Picture sends an image as a picture (shown inline) rather than a file.
	Picture bool
}

// SendFile sends a file or picture by URL and returns its message_token.
func (c *Client) SendFile(ctx context.Context, f OutgoingFile) (string, error) {
	params := map[string]any{"receiver": f.Receiver, "sender": map[string]any{"name": senderName(f.Sender)}, "min_api_version": 1, "media": f.URL}
	if f.Picture {
		params["type"], params["text"] = "picture", ""
	} else {
		params["type"], params["file_name"], params["size"] = "file", f.Name, f.Size
	}
	var out struct {
		MessageToken json.Number `json:"message_token"`
	}
	if err := c.call(ctx, "/pa/send_message", params, &out); err != nil {
		return "", err
	}
	return out.MessageToken.String(), nil
}

func senderName(name string) string {
	for utf8.RuneCountInString(name) > MaxSenderName {
		_, size := utf8.DecodeLastRuneInString(name)
		name = name[:len(name)-size]
	}
	return name
}

// AccountInfo is get_account_info's answer: the bot account (the connect step names it).
type AccountInfo struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	URI  string `json:"uri"`
}

// GetAccountInfo checks the token and names the account.
func (c *Client) GetAccountInfo(ctx context.Context) (AccountInfo, error) {
	var a AccountInfo
	err := c.call(ctx, "/pa/get_account_info", map[string]any{}, &a)
	return a, err
}
