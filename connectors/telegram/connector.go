package telegram

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/linedesk/linedesk/connectors"
)

// Settings are a telegram channel's settings.
type Settings struct {
	// APIBaseURL is the Bot API's address (empty: api.telegram.org); a fake's in tests, a local
	// Bot API server where one runs.
	APIBaseURL string `json:"api_base_url,omitempty"`
	// Receive is how updates arrive: "webhook" (default: Telegram posts to /hooks/{id}) or
	// "polling" (linedesk asks getUpdates, for installations without a public address).
	Receive string `json:"receive,omitempty"`
}

// Receive modes.
const (
	ReceiveWebhook = "webhook"
	ReceivePolling = "polling"
)

// Polling reports whether a channel's settings ask for long polling.
func Polling(settings json.RawMessage) bool { return settingsOf(settings).Receive == ReceivePolling }

// CredentialBotToken names the bot's token among a channel's credentials.
const CredentialBotToken = "bot_token"

// tokenRE is the shape of a bot token from @BotFather: the bot's id, a colon, a secret.
var tokenRE = regexp.MustCompile(`^[0-9]{1,20}:[A-Za-z0-9_-]{20,100}$`)

// Connector is the telegram channel kind.
type Connector struct {
	// HTTP sends the Bot API calls (a client with a 15 s timeout when nil).
	HTTP *http.Client
}

var _ connectors.Connector = (*Connector)(nil)

// Kind implements connectors.Connector.
func (*Connector) Kind() string { return "telegram" }

func settingsOf(raw json.RawMessage) Settings {
	var s Settings
	_ = json.Unmarshal(raw, &s) // validated when saved
	return s
}

func (c *Connector) client(ch connectors.Channel) *Client {
	return &Client{BaseURL: settingsOf(ch.Settings).APIBaseURL, Token: ch.Credentials[CredentialBotToken], HTTP: c.HTTP}
}

// ValidateSettings implements connectors.Connector.
func (*Connector) ValidateSettings(raw json.RawMessage, creds map[string]string) error {
	var s Settings
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return fmt.Errorf("settings: %v (a telegram channel takes api_base_url and receive)", err)
	}
	if s.Receive != "" && s.Receive != ReceiveWebhook && s.Receive != ReceivePolling {
		return fmt.Errorf("settings.receive %q is not webhook or polling", s.Receive)
	}
	if err := connectors.CheckBaseURL(s.APIBaseURL); err != nil {
		return err
	}
	if t := creds[CredentialBotToken]; !tokenRE.MatchString(t) {
		return errors.New("credentials.bot_token is required: the token @BotFather gave, like 123456789:AAE…")
	}
	return nil
}

// Receive implements connectors.Connector: the secret header must be the channel's webhook
// secret (set with setWebhook's secret_token).
func (*Connector) Receive(ch connectors.Channel, r connectors.Request) (connectors.Response, []connectors.Event, error) {
	if r.Method != http.MethodPost {
		return connectors.Response{Status: http.StatusMethodNotAllowed}, nil, nil
	}
	if !VerifySecret(r.Header.Get(HeaderSecret), ch.HookSecret) {
		return connectors.Response{}, nil, connectors.ErrUnauthorized
	}
	in, err := ParseUpdate(r.Body)
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
	e := connectors.Event{Key: in.EventID, ExternalID: in.MessageID, Text: in.Text, Button: in.Button, Ack: in.CallbackID, At: in.At,
		Contact: connectors.Contact{ID: in.ChatID, Name: in.From.Name, ProfileURL: in.From.ProfileURL}}
	for _, f := range in.Files {
		e.Files = append(e.Files, connectors.FileRef{Ref: f.ID, Name: f.Name, ContentType: f.ContentType, Size: f.Size})
	}
	if in.ReplyTo != nil {
		e.ReplyTo = &connectors.Quote{ExternalID: in.ReplyTo.MessageID, Text: in.ReplyTo.Text}
	}
	return connectors.Response{}, []connectors.Event{e}, nil
}

// Send implements connectors.Connector. An operator's name (when the line shows it) heads the
// text, as Telegram has no sender field; text longer than Telegram takes goes in several
// messages; files go as documents after the text; buttons sit under the last message.
func (c *Connector) Send(ctx context.Context, ch connectors.Channel, m connectors.Outbound) (connectors.Sent, error) {
	cl := c.client(ch)
	text := m.Text
	if m.ShowSender && m.Sender != "" && text != "" {
		text = m.Sender + ":\n" + text
	}
	var replyTo int64
	if m.ReplyTo != "" {
		replyTo, _ = strconv.ParseInt(m.ReplyTo, 10, 64)
	}
	var last int64
	chunks := connectors.SplitText(text, MaxTextLen)
	for i, chunk := range chunks {
		msg := Message{ChatID: m.To, Text: chunk, ReplyTo: replyTo}
		if i == len(chunks)-1 && len(m.Files) == 0 {
			for _, b := range m.Buttons {
				msg.Buttons = append(msg.Buttons, Button{Text: b.Text, Data: b.Payload})
			}
		}
		id, err := cl.SendMessage(ctx, msg)
		if err != nil {
			// A later chunk failing after earlier ones went: repeating the whole message would
			// double those; only a first refusal is worth repeating.
			return connectors.Sent{}, sendError(err, i == 0)
		}
		last, replyTo = id, 0
	}
	for i, f := range m.Files {
		d := Document{ChatID: m.To, Name: f.Name, ContentType: f.ContentType, Data: f.Data}
		if i == len(m.Files)-1 {
			for _, b := range m.Buttons {
				d.Buttons = append(d.Buttons, Button{Text: b.Text, Data: b.Payload})
			}
		}
		id, err := cl.SendDocument(ctx, d)
		if err != nil {
			return connectors.Sent{}, sendError(err, i == 0 && len(chunks) == 0)
		}
		last = id
	}
	return connectors.Sent{ExternalID: strconv.FormatInt(last, 10)}, nil
}

// sendError classifies a failed call. A Bot API refusal means nothing was sent: a 429 or 5xx
// may be repeated. A call that failed before reaching Telegram (no connection) may be repeated
// too. Any other failure (a timeout after the request went out) may have delivered the message,
// and Telegram has no idempotency key: repeating could double it, so it is reported failed for
// the operator to decide.
func sendError(err error, first bool) error {
	var api *APIError
	if errors.As(err, &api) {
		return &connectors.SendError{Temporary: first && api.Temporary(), RetryAfter: api.RetryAfter, Status: api.Code, Err: err}
	}
	return connectors.TransportError(err, first, "Telegram")
}

// Download implements connectors.Connector.
func (c *Connector) Download(ctx context.Context, ch connectors.Channel, f connectors.FileRef, max int64) ([]byte, error) {
	if f.Size > max {
		return nil, connectors.ErrTooLarge
	}
	data, err := c.client(ch).Download(ctx, f.Ref, max)
	if errors.Is(err, errTooLarge) {
		return nil, connectors.ErrTooLarge
	}
	return data, err
}

// Acknowledge implements connectors.Connector: a pressed button's spinner stops.
func (c *Connector) Acknowledge(ctx context.Context, ch connectors.Channel, e connectors.Event) error {
	if e.Ack == "" {
		return nil
	}
	return c.client(ch).AnswerCallbackQuery(ctx, e.Ack, "")
}

// Connect implements connectors.Connector: it checks the token (getMe) and sets the webhook
// with the channel's secret, or, for long polling, removes any webhook (getUpdates answers
// nothing while one is set).
func (c *Connector) Connect(ctx context.Context, ch connectors.Channel, hookURL string) (connectors.Connection, error) {
	cl := c.client(ch)
	me, err := cl.GetMe(ctx)
	if err != nil {
		return connectors.Connection{}, fmt.Errorf("check the bot token (getMe): %w", err)
	}
	if Polling(ch.Settings) {
		if err := cl.DeleteWebhook(ctx); err != nil {
			return connectors.Connection{}, fmt.Errorf("deleteWebhook: %w", err)
		}
		return connectors.Connection{Registered: true, Account: "@" + me.Username,
			Steps: []string{"linedesk asks Telegram for updates itself (getUpdates): no public address is needed"}}, nil
	}
	if err := cl.SetWebhook(ctx, hookURL, ch.HookSecret); err != nil {
		return connectors.Connection{}, fmt.Errorf("setWebhook: %w", err)
	}
	return connectors.Connection{Registered: true, Account: "@" + me.Username}, nil
}

// SendRate implements connectors.Paced: Telegram lets a bot send about 30 messages a second.
func (*Connector) SendRate() (float64, int) { return 30, 30 }
