package vk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/linedesk/linedesk/connectors"
)

// Settings are a vk channel's settings.
type Settings struct {
	// GroupID is the community's id.
	GroupID int64 `json:"group_id"`
	// APIBaseURL is VK's API address (empty: api.vk.com); a fake's in tests.
	APIBaseURL string `json:"api_base_url,omitempty"`
}

// Credentials of a vk channel.
const (
	// CredentialAccessToken is the community token with the "messages" right.
	CredentialAccessToken = "access_token"
	// CredentialConfirmation is the string VK's confirmation must be answered with; connect
	// fetches it with the token.
	CredentialConfirmation = "confirmation_code"
)

// Connector is the vk channel kind.
type Connector struct {
	HTTP *http.Client
}

var _ connectors.Connector = (*Connector)(nil)

// Kind implements connectors.Connector.
func (*Connector) Kind() string { return "vk" }

func settingsOf(raw json.RawMessage) Settings {
	var s Settings
	_ = json.Unmarshal(raw, &s) // validated when saved
	return s
}

func (c *Connector) client(ch connectors.Channel) *Client {
	return &Client{BaseURL: settingsOf(ch.Settings).APIBaseURL, Token: ch.Credentials[CredentialAccessToken], HTTP: c.HTTP}
}

// ValidateSettings implements connectors.Connector.
func (*Connector) ValidateSettings(raw json.RawMessage, creds map[string]string) error {
	var s Settings
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return fmt.Errorf("settings: %v (a vk channel takes group_id and api_base_url)", err)
	}
	if s.GroupID <= 0 {
		return errors.New("settings.group_id is required: the community's id (a number)")
	}
	if err := connectors.CheckBaseURL(s.APIBaseURL); err != nil {
		return err
	}
	if t := creds[CredentialAccessToken]; len(t) < 20 || strings.ContainsAny(t, " \t\r\n") {
		return errors.New("credentials.access_token is required: a community token with the \"messages\" right")
	}
	return nil
}

var ok = connectors.Response{ContentType: "text/plain; charset=utf-8", Body: []byte("ok")}

// Receive implements connectors.Connector: the body's secret must be the channel's secret (set
// as the community's "secret key"); a confirmation is answered with the confirmation code,
// everything else with "ok".
func (*Connector) Receive(ch connectors.Channel, r connectors.Request) (connectors.Response, []connectors.Event, error) {
	if r.Method != http.MethodPost {
		return connectors.Response{Status: http.StatusMethodNotAllowed}, nil, nil
	}
	e, authentic, err := Parse(r.Body, ch.HookSecret)
	var serr *SyntaxError
	if errors.As(err, &serr) && !authentic {
		return connectors.Response{}, nil, &connectors.BadRequest{Reason: serr.Error()}
	}
	if !authentic {
		return connectors.Response{}, nil, connectors.ErrUnauthorized
	}
	if errors.As(err, &serr) {
		return connectors.Response{}, nil, &connectors.BadRequest{Reason: serr.Error()}
	}
	if e.GroupID != settingsOf(ch.Settings).GroupID {
		return connectors.Response{}, nil, connectors.ErrUnauthorized
	}
	if e.Type == TypeConfirmation {
		code := ch.Credentials[CredentialConfirmation]
		if code == "" {
			return connectors.Response{Status: http.StatusServiceUnavailable, ContentType: "text/plain; charset=utf-8",
				Body: []byte("press Connect on the channel's page in linedesk first")}, nil, nil
		}
		return connectors.Response{ContentType: "text/plain; charset=utf-8", Body: []byte(code)}, nil, nil
	}
	if errors.Is(err, ErrIgnored) || e.Message == nil {
		return ok, nil, nil
	}
	if err != nil {
		return connectors.Response{}, nil, err
	}
	m := e.Message
	ev := connectors.Event{Key: "event:" + e.EventID, ExternalID: strconv.FormatInt(m.ID, 10), Text: m.Text, Button: m.Payload, At: m.At,
		Contact: connectors.Contact{ID: strconv.FormatInt(m.FromID, 10), ProfileURL: ProfileURL(m.FromID)}}
	for _, f := range m.Files {
		ev.Files = append(ev.Files, connectors.FileRef{Ref: f.URL, Name: f.Name, ContentType: f.Type, Size: f.Size})
	}
	if m.ReplyTo != nil {
		ev.ReplyTo = &connectors.Quote{ExternalID: strconv.FormatInt(m.ReplyTo.ID, 10), Text: m.ReplyTo.Text}
	}
	return ok, []connectors.Event{ev}, nil
}

// Send implements connectors.Connector. random_id comes from linedesk's message id, so a retry
// after any failure — even one where VK got the message — sends nothing twice; that makes every
// failure but a refusal worth repeating. The operator's name heads the text (VK has no sender
// field); files go as their signed links (VK takes only uploaded media as attachments).
func (c *Connector) Send(ctx context.Context, ch connectors.Channel, m connectors.Outbound) (connectors.Sent, error) {
	peer, err := strconv.ParseInt(m.To, 10, 64)
	if err != nil {
		return connectors.Sent{}, &connectors.SendError{Err: fmt.Errorf("vk: client id %q is not a number", m.To)}
	}
	text := m.Text
	if m.ShowSender && m.Sender != "" && text != "" {
		text = m.Sender + ":\n" + text
	}
	// Files go as uploaded media (VK shows only those); a file that cannot be uploaded, or one
	// past VK's ten attachments, goes as its signed link in the text.
	var attachments []string
	for _, f := range m.Files {
		if len(f.Data) > 0 && len(attachments) < 10 {
			a, err := c.client(ch).Upload(ctx, peer, f.Name, f.ContentType, f.Data)
			if err == nil {
				attachments = append(attachments, a)
				continue
			}
		}
		if f.URL != "" {
			text = strings.TrimSpace(text + "\n" + f.Name + ": " + f.URL)
		}
	}
	out := Outgoing{PeerID: peer, RandomID: RandomID(m.ID), Text: text, Attachments: attachments}
	for _, b := range m.Buttons {
		out.Buttons = append(out.Buttons, Button{Label: b.Text, Payload: b.Payload})
	}
	if m.ReplyTo != "" {
		out.ReplyTo, _ = strconv.ParseInt(m.ReplyTo, 10, 64)
	}
	id, err := c.client(ch).Send(ctx, out)
	if err != nil {
		var api *APIError
		if errors.As(err, &api) {
			return connectors.Sent{}, &connectors.SendError{Temporary: api.Temporary(), Status: api.Code, Err: err}
		}
		return connectors.Sent{}, &connectors.SendError{Temporary: true, Err: err}
	}
	return connectors.Sent{ExternalID: strconv.FormatInt(id, 10)}, nil
}

// Download implements connectors.Connector: VK serves attachments at plain URLs.
func (c *Connector) Download(ctx context.Context, _ connectors.Channel, f connectors.FileRef, max int64) ([]byte, error) {
	if f.Size > max {
		return nil, connectors.ErrTooLarge
	}
	h := c.HTTP
	if h == nil {
		h = defaultHTTP
	}
	return connectors.Fetch(ctx, h, f.Ref, max)
}

// Acknowledge implements connectors.Connector; text keyboards need no acknowledgement.
func (*Connector) Acknowledge(context.Context, connectors.Channel, connectors.Event) error {
	return nil
}

// Connect implements connectors.Connector: it checks the token (groups.getById) and fetches the
// confirmation code for the desk to keep; the Callback API server itself is added in the
// community's settings, with the steps it returns.
func (c *Connector) Connect(ctx context.Context, ch connectors.Channel, hookURL string) (connectors.Connection, error) {
	cl := c.client(ch)
	gid := settingsOf(ch.Settings).GroupID
	g, err := cl.GroupByID(ctx, gid)
	if err != nil {
		return connectors.Connection{}, fmt.Errorf("check the community token (groups.getById): %w", err)
	}
	code, err := cl.ConfirmationCode(ctx, gid)
	if err != nil {
		return connectors.Connection{}, fmt.Errorf("groups.getCallbackConfirmationCode: %w", err)
	}
	return connectors.Connection{Account: g.Name, Credentials: map[string]string{CredentialConfirmation: code}, Steps: []string{
		"In the community's settings, open \"Работа с API\" → \"Callback API\" and choose API version " + APIVersion + ".",
		"Server address: " + hookURL,
		"Secret key: " + ch.HookSecret,
		"Press \"Подтвердить\": linedesk answers VK's check with the confirmation code it has just fetched.",
		"Under \"Типы событий\", tick \"Входящие сообщения\" (message_new).",
	}}, nil
}

// Profile implements connectors.Profiler: users.get names the client (VK's webhook gives only the
// id).
func (c *Connector) Profile(ctx context.Context, ch connectors.Channel, contactID string) (connectors.Contact, error) {
	id, err := strconv.ParseInt(contactID, 10, 64)
	if err != nil || id <= 0 {
		return connectors.Contact{}, fmt.Errorf("vk: %q is not a user id", contactID)
	}
	u, err := c.client(ch).User(ctx, id)
	if err != nil {
		return connectors.Contact{}, err
	}
	return connectors.Contact{ID: contactID, Name: strings.TrimSpace(u.FirstName + " " + u.LastName), ProfileURL: ProfileURL(id)}, nil
}

// SendRate implements connectors.Paced: VK lets a community call messages.send 20 times a second.
func (*Connector) SendRate() (float64, int) { return 20, 20 }
