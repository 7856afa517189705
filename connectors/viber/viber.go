// Package viber speaks the Viber REST Bot API for a viber channel: it authenticates and parses
// webhook callbacks and calls set_webhook and send_message. It imports neither Temporal nor SQL;
// the API base URL is a setting, so tests point it at a fake (vibertest).
//
// Protocol: https://developers.viber.com/docs/api/rest-bot-api/ — X-Viber-Content-Signature is
// the hex HMAC-SHA256 of the raw body keyed with the account's auth token; callbacks carry an
// "event" and, for messages, a message_token (a 64-bit integer, beyond a float's precision).
package viber

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// HeaderSignature carries the body's signature on every callback.
const HeaderSignature = "X-Viber-Content-Signature"

// Sign is the signature Viber puts on body: hex HMAC-SHA256 keyed with the auth token.
func Sign(token string, body []byte) string {
	m := hmac.New(sha256.New, []byte(token))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// VerifySignature reports whether header signs body under token, in constant time. An empty
// token never verifies.
func VerifySignature(token string, body []byte, header string) bool {
	if token == "" {
		return false
	}
	got, err := hex.DecodeString(header)
	if err != nil {
		return false
	}
	m := hmac.New(sha256.New, []byte(token))
	m.Write(body)
	return hmac.Equal(got, m.Sum(nil))
}

// Callback kinds a desk acts on.
const (
	EventMessage   = "message"
	EventDelivered = "delivered"
	EventSeen      = "seen"
	EventFailed    = "failed"
	// EventWebhook is Viber's availability check right after set_webhook: answer 200.
	EventWebhook = "webhook"
)

// Callback is one webhook call in linedesk's terms.
type Callback struct {
	// Event is the callback's kind; kinds other than the constants above are ErrIgnored.
	Event string
	// EventID is the dedupe key: "<event>:<message_token>" (Viber retries for an hour until a 200).
	EventID string
	// MessageToken is the message the callback is about (for receipts: one we sent).
	MessageToken string
	// UserID is the subscriber: the chat's external id.
	UserID string
	// Message is set for EventMessage.
	Message *Message
	// Reason is a failed delivery's desc.
	Reason string
	At     time.Time
}

// Message is a subscriber's message.
type Message struct {
	SenderName   string
	SenderAvatar string
	Type         string
	Text         string
	// Media is a picture, video or file's URL (valid for about an hour), with its name and size.
	Media    string
	FileName string
	Size     int64
	// TrackingData is what our last message set (a CSAT question's id). A pressed "reply"
	// keyboard button arrives as a text message whose Text is the button's payload.
	TrackingData string
}

// ErrIgnored means a valid callback a desk has nothing to do with (subscribed, unsubscribed,
// conversation_started, a sticker or a location): answer 200 and store nothing.
var ErrIgnored = errors.New("viber: callback ignored")

// SyntaxError means the body is not a Viber callback.
type SyntaxError struct{ Reason string }

func (e *SyntaxError) Error() string { return "viber callback: " + e.Reason }

type wireCallback struct {
	Event        string      `json:"event"`
	Timestamp    int64       `json:"timestamp"`
	MessageToken json.Number `json:"message_token"`
	UserID       string      `json:"user_id"`
	Desc         string      `json:"desc"`
	Sender       *struct {
		ID     string `json:"id"`
		Name   string `json:"name"`
		Avatar string `json:"avatar"`
	} `json:"sender"`
	Message *struct {
		Type         string `json:"type"`
		Text         string `json:"text"`
		Media        string `json:"media"`
		FileName     string `json:"file_name"`
		Size         int64  `json:"size"`
		FileSize     int64  `json:"file_size"`
		TrackingData string `json:"tracking_data"`
	} `json:"message"`
}

// ParseCallback reads a webhook body.
func ParseCallback(body []byte) (Callback, error) {
	var w wireCallback
	if err := json.Unmarshal(body, &w); err != nil {
		return Callback{}, &SyntaxError{Reason: err.Error()}
	}
	if w.Event == "" {
		return Callback{}, &SyntaxError{Reason: "event is missing"}
	}
	c := Callback{Event: w.Event, MessageToken: w.MessageToken.String(), At: time.UnixMilli(w.Timestamp).UTC()}
	if c.MessageToken != "" {
		if _, err := w.MessageToken.Int64(); err != nil {
			return Callback{}, &SyntaxError{Reason: "message_token is not an integer"}
		}
	}
	c.EventID = c.Event + ":" + c.MessageToken
	switch w.Event {
	case EventWebhook:
		return c, nil
	case EventDelivered, EventSeen, EventFailed:
		if c.MessageToken == "" || w.UserID == "" {
			return Callback{}, &SyntaxError{Reason: w.Event + " without message_token or user_id"}
		}
		c.UserID, c.Reason = w.UserID, w.Desc
		return c, nil
	case EventMessage:
		if c.MessageToken == "" || w.Sender == nil || w.Sender.ID == "" || w.Message == nil {
			return Callback{}, &SyntaxError{Reason: "message without message_token, sender or message"}
		}
		m := &Message{SenderName: w.Sender.Name, SenderAvatar: w.Sender.Avatar, Type: w.Message.Type,
			TrackingData: w.Message.TrackingData}
		switch w.Message.Type {
		case "text":
			m.Text = w.Message.Text
		case "picture", "video", "file":
			m.Text, m.Media, m.FileName = w.Message.Text, w.Message.Media, w.Message.FileName
			m.Size = max(w.Message.Size, w.Message.FileSize)
			if m.Media == "" {
				return Callback{}, &SyntaxError{Reason: w.Message.Type + " without media"}
			}
		case "url":
			m.Text = w.Message.Media
		default:
			return Callback{}, ErrIgnored // sticker, contact, location, rich media
		}
		if m.Text == "" && m.Media == "" {
			return Callback{}, ErrIgnored
		}
		c.UserID, c.Message = w.Sender.ID, m
		return c, nil
	}
	return Callback{}, ErrIgnored
}

// APIError is a non-zero status from the REST API ({"status":…,"status_message":…}).
type APIError struct {
	Status  int
	Message string
}

func (e *APIError) Error() string { return fmt.Sprintf("viber: status %d %s", e.Status, e.Message) }

// Temporary reports whether repeating later can succeed: status 12, "too many requests" (100
// messages to a user within an hour without a reply). The others (bad token, receiver not
// subscribed, bad data…) stay refused.
func (e *APIError) Temporary() bool { return e.Status == 12 }
