// Package connectors is what every messenger channel is behind: one small interface that
// authenticates and reads a platform's webhook (Receive), sends a message through the platform's
// API (Send), fetches a client's media (Download) and registers the webhook with the platform
// (Connect). Each platform's package (telegram, viber, …) speaks its protocol and imports neither
// Temporal nor SQL; the webhook endpoint and the delivery activity work with this package only.
package connectors

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"
)

// Channel is what a connector knows of one configured channel.
type Channel struct {
	ID   int64
	Kind string
	// Settings are the channel's settings as the admin saved them (the platform's API base URL
	// among them, so tests and staging point a channel at a fake).
	Settings json.RawMessage
	// Credentials are the platform's secrets (bot token, auth token, app secret…), opened.
	Credentials map[string]string
	// HookSecret is linedesk's own secret for the channel's webhook (Telegram's secret_token,
	// VK's secret, Meta's verify token…).
	HookSecret string
}

// Request is one webhook request as it arrived.
type Request struct {
	Method string
	Header http.Header
	Query  url.Values
	Body   []byte
	// Token is the secret in the webhook's path (/hooks/{id}/{token}), for platforms that sign
	// nothing and authenticate by an unguessable URL (Odnoklassniki).
	Token string
}

// Response is what the webhook answers. A zero Response is 200 with an empty body.
type Response struct {
	Status      int
	ContentType string
	Body        []byte
}

// Contact is the client as the platform names them.
type Contact struct {
	// ID is the client's id on the platform; it is also the chat to answer in.
	ID         string
	Name       string
	Phone      string
	ProfileURL string
}

// FileRef is a file the platform holds for the channel; Download fetches it.
type FileRef struct {
	// Ref is the platform's reference (a Telegram file_id, a media URL…).
	Ref         string
	Name        string
	ContentType string
	Size        int64
}

// Quote is the platform message a client's message answers.
type Quote struct {
	ExternalID string
	Text       string
}

// Delivery statuses a platform reports for a message linedesk sent.
const (
	StatusDelivered = "delivered"
	StatusRead      = "read"
	StatusFailed    = "failed"
)

// Event is one thing a webhook carried.
type Event struct {
	// Key identifies the event on its channel (update:<update_id>, message:<message_token>, a
	// mid, a wamid): a redelivery has the same key and stores nothing new.
	Key     string
	Contact Contact
	// ExternalID is the platform's id of the client's message.
	ExternalID string
	Text       string
	Files      []FileRef
	ReplyTo    *Quote
	// Button is the payload of a pressed button (a CSAT answer).
	Button string
	At     time.Time
	// Status, when set, is a receipt for a message linedesk sent (ExternalID names it); the
	// event carries nothing else.
	Status string
	// StatusReason says why a message failed.
	StatusReason string
	// ReadUpTo, with Status read and no ExternalID, says the client has read every message sent
	// up to this time (Meta's watermark).
	ReadUpTo time.Time
	// Ack, when set, is a platform call to make once the event is stored (Telegram's
	// answerCallbackQuery stops the client's button spinner).
	Ack string
	// Call, when set, is a telephony event (the phone kind); the event carries nothing else.
	Call *Call
}

// Call is one event of a phone call as the PBX reports it.
type Call struct {
	// Event is newCall, answer, hangup or recording.
	Event string
	// ID is the PBX's id of the call session.
	ID        string
	From      string
	To        string
	Direction string
	Users     []string
	Queue     string
	// AnsweringNumber is the extension (or user) that answered.
	AnsweringNumber string
	// Cause is why the call ended (normalClearing, noAnswer, busy…).
	Cause        string
	RecordingURL string
}

// Button is a button offered under an outbound message (a CSAT answer).
type Button struct {
	Payload string
	Text    string
}

// File is an attachment to send.
type File struct {
	Name        string
	ContentType string
	// URL is where the platform fetches it from (an authorised, expiring link), for platforms
	// that take files by URL.
	URL string
	// Data is its content, for platforms that take uploads.
	Data []byte
}

// Outbound is one message to send.
type Outbound struct {
	// ID is linedesk's message id; platforms with an idempotency key (VK's random_id) derive it
	// from this, so a retry never sends twice.
	ID string
	// To is the client's id on the platform (Contact.ID of their messages).
	To string
	// Sender is the name the client sees as the author: the operator's, or the line's (line
	// setting "operator name"). Platforms without a sender field get it as the text's first line.
	Sender string
	// ShowSender is false when the line shows only its own name (the bot's name is the line's).
	ShowSender bool
	Text       string
	Files      []File
	Buttons    []Button
	// ReplyTo is the platform id of the client message this one answers.
	ReplyTo string
	// LastInboundAt is when the client last wrote in the chat (messaging windows: Messenger,
	// Instagram, WhatsApp answer only so long after it); zero when never.
	LastInboundAt time.Time
	// Human: an operator wrote it (not an automated message), which some windows allow longer.
	Human bool
	// Mail threads a reply on the email channel.
	Mail *MailHeaders
}

// MailHeaders are what an email reply needs to reach the client in their thread.
type MailHeaders struct {
	// To is the client's address.
	To      string
	Subject string
	// MessageID is the reply's own Message-ID (without angle brackets).
	MessageID string
	// References are the thread's Message-IDs, oldest first; the last is the mail answered.
	References []string
}

// Sent is what the platform answered to a sent message.
type Sent struct {
	// ExternalID is the platform's id of the message (receipts name it).
	ExternalID string
}

// Connection is what an admin sees after connecting a channel.
type Connection struct {
	// Registered is true when linedesk registered the webhook with the platform itself.
	Registered bool
	// Account names the bot, page or community connected (@desk_bot).
	Account string
	// Steps are what the admin does on the platform's side, if anything (paste the URL, the
	// verify token, the confirmation code).
	Steps []string
	// Credentials are secrets the platform handed over while connecting (VK's confirmation
	// code), for the desk to keep with the channel's.
	Credentials map[string]string
}

// Connector is one platform.
type Connector interface {
	// Kind is the channel kind it serves ("telegram", "viber", …).
	Kind() string
	// ValidateSettings checks settings and credentials before they are saved; the error says
	// which field is wrong.
	ValidateSettings(settings json.RawMessage, credentials map[string]string) error
	// Receive authenticates a webhook request and reads its events. ErrUnauthorized: refuse
	// (401/403) and store nothing; *BadRequest: 400; no events and no error: answer and store
	// nothing (an update a desk does not read). A handshake (VK confirmation, Meta's challenge)
	// is answered through Response.
	Receive(ch Channel, r Request) (Response, []Event, error)
	// Send sends one message; a *SendError says whether repeating it can succeed.
	Send(ctx context.Context, ch Channel, m Outbound) (Sent, error)
	// Download fetches a client's file, refusing more than max bytes (ErrTooLarge).
	Download(ctx context.Context, ch Channel, f FileRef, max int64) ([]byte, error)
	// Acknowledge makes an event's Ack call.
	Acknowledge(ctx context.Context, ch Channel, e Event) error
	// Connect registers hookURL with the platform where it has such a call, and says what the
	// admin still has to do where it has not.
	Connect(ctx context.Context, ch Channel, hookURL string) (Connection, error)
}

// Windowed is a connector whose platform takes replies only so long after the client's last
// message (Messenger, Instagram, WhatsApp): the desk refuses an operator's reply past it up front.
type Windowed interface {
	// ReplyWindow is how long after the client's last message a reply may go; human is true for
	// an operator's reply (some platforms allow people longer than automated messages).
	ReplyWindow(human bool) time.Duration
}

// Paced is a connector whose platform limits how fast a bot sends: the desk keeps each channel's
// sends under SendRate (messages a second, and how many may go at once).
type Paced interface {
	SendRate() (perSecond float64, burst int)
}

// Profiler is a connector that can name a client its webhooks do not name (VK, Messenger,
// Instagram send only ids): the desk asks once, after the client's first message is stored.
type Profiler interface {
	Profile(ctx context.Context, ch Channel, contactID string) (Contact, error)
}

// SecretInURL is a connector whose platform signs nothing and authenticates by the channel's
// secret in the webhook's path (Odnoklassniki, a PBX): the desk never shows that URL in the
// channel's settings; Connect registers or shows it to the admin.
type SecretInURL interface {
	SecretInURL()
}

// NoWebhooks is a connector whose messages do not come to /hooks (email reads its mailbox): the
// webhook endpoint refuses it and the channel shows no webhook address.
type NoWebhooks interface {
	NoWebhooks()
}

// NoReplies is a connector whose channel carries nothing back to the client (a PBX's calls): the
// desk refuses an operator's reply up front with NoReplies' reason.
type NoReplies interface {
	NoReplies() string
}

// ErrUnauthorized means the webhook request is not from the platform (a bad signature, a wrong
// secret).
var ErrUnauthorized = errors.New("the request is not signed by the platform for this channel")

// ErrTooLarge means a file is bigger than the desk takes.
var ErrTooLarge = errors.New("the file is larger than the limit")

// BadRequest means the body is not what the platform sends.
type BadRequest struct{ Reason string }

func (e *BadRequest) Error() string { return e.Reason }

// SendError is a platform's refusal or a failed call.
type SendError struct {
	// Temporary: repeating later can succeed (429, 5xx, a network error before anything was
	// sent).
	Temporary bool
	// RetryAfter is how long the platform asked to wait (429 retry_after).
	RetryAfter time.Duration
	// Status is the HTTP status or the platform's error code, when there was one.
	Status int
	Err    error
}

func (e *SendError) Error() string {
	if e.RetryAfter > 0 {
		return fmt.Sprintf("%v (retry after %s)", e.Err, e.RetryAfter)
	}
	return e.Err.Error()
}

func (e *SendError) Unwrap() error { return e.Err }

// SplitText cuts text into pieces of at most n characters (a platform's message limit), at a line
// break or space when one is near the end of a piece.
func SplitText(text string, n int) []string {
	var out []string
	for utf8.RuneCountInString(text) > n {
		cut := len(string([]rune(text)[:n]))
		if i := strings.LastIndexAny(text[:cut], "\n "); i > cut/2 {
			cut = i + 1
		}
		out = append(out, text[:cut])
		text = text[cut:]
	}
	if text != "" {
		out = append(out, text)
	}
	return out
}

// TransportError classifies a send call that failed without the platform's answer. A connection
// that never opened sent nothing: repeatable while nothing of the message has gone yet (first).
// Anything else (a timeout after the request went out) may have delivered it, and a platform
// without an idempotency key would double it on a repeat, so it is reported failed for the
// operator to decide.
func TransportError(err error, first bool, platform string) *SendError {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return &SendError{Temporary: first, Err: err}
	}
	return &SendError{Err: fmt.Errorf("%w; %s did not confirm, so the message may or may not have arrived", err, platform)}
}

// Registry holds the connectors of a build by kind.
type Registry map[string]Connector

// NewRegistry indexes cs by kind.
func NewRegistry(cs ...Connector) Registry {
	r := Registry{}
	for _, c := range cs {
		r[c.Kind()] = c
	}
	return r
}

// Fetch downloads a file a platform serves at a plain URL (Viber's media, VK's and Meta's
// attachments) with h, refusing more than max bytes (ErrTooLarge).
func Fetch(ctx context.Context, h *http.Client, rawURL string, max int64) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, fmt.Errorf("fetch file: %w", err)
	}
	res, err := h.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch file: %w", err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetch file: HTTP %d", res.StatusCode)
	}
	data, err := io.ReadAll(io.LimitReader(res.Body, max+1))
	if err != nil {
		return nil, fmt.Errorf("fetch file: %w", err)
	}
	if int64(len(data)) > max {
		return nil, ErrTooLarge
	}
	return data, nil
}

// CheckBaseURL validates an API base URL setting ("" means the platform's own).
func CheckBaseURL(s string) error {
	if s == "" {
		return nil
	}
	if u, err := url.Parse(s); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("settings.api_base_url %q is not an http(s) URL", s)
	}
	return nil
}
