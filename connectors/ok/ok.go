// Package ok speaks the Odnoklassniki (OK.ru) group Bot API for the ok channel kind: webhooks
// registered with POST /graph/me/subscribe, which OK does not sign (the desk gives it an
// unguessable URL and checks the token in the path), messages deduplicated by mid, callback
// buttons for CSAT, and POST /graph/me/messages/<chat id> with the group's token. It imports
// neither Temporal nor SQL; the API base URL is a setting (oktest fakes it).
package ok

import (
	"encoding/json"
	"time"
)

// Webhook types OK posts.
const (
	TypeMessageCreated  = "MESSAGE_CREATED"
	TypeMessageCallback = "MESSAGE_CALLBACK"
	TypeChatSystem      = "CHAT_SYSTEM"
)

// Message is a client's message or button press.
type Message struct {
	// Key is the mid for a message ("mid:…"), "callback:" + the callback id for a press.
	Key string
	// Chat is the chat to answer in ("chat:C3ecb9d02a600").
	Chat string
	// User is the client ("user:123456789012") and Name their name when OK gave it.
	User string
	Name string
	Text string
	// Button is a pressed callback button's payload.
	Button string
	Files  []File
	At     time.Time
}

// File is an attachment OK serves by URL.
type File struct {
	Type string
	URL  string
	Name string
}

// SyntaxError means the body is not an OK webhook.
type SyntaxError struct{ Reason string }

func (e *SyntaxError) Error() string { return "ok webhook: " + e.Reason }

// Parse reads one webhook. It accepts the documented shape (no type: a new message) and the newer
// one with webhookType; system messages and attachments without a file (shares) carry nothing a
// desk keeps, and give (Message{}, false, nil).
func Parse(body []byte) (Message, bool, error) {
	var w struct {
		WebhookType string `json:"webhookType"`
		Sender      struct {
			UserID string `json:"user_id"`
			Name   string `json:"name"`
		} `json:"sender"`
		Recipient struct {
			ChatID string `json:"chat_id"`
		} `json:"recipient"`
		Message *struct {
			Text        string `json:"text"`
			MID         string `json:"mid"`
			Attachments []struct {
				Type    string `json:"type"`
				Payload struct {
					URL  string `json:"url"`
					Name string `json:"name"`
				} `json:"payload"`
			} `json:"attachments"`
		} `json:"message"`
		CallbackID string `json:"callbackId"`
		Payload    string `json:"payload"`
		Timestamp  int64  `json:"timestamp"`
	}
	if err := json.Unmarshal(body, &w); err != nil {
		return Message{}, false, &SyntaxError{Reason: err.Error()}
	}
	switch w.WebhookType {
	case "", TypeMessageCreated, TypeMessageCallback:
	default:
		return Message{}, false, nil // a type a desk does not read: answered, so OK does not repeat it
	}
	if w.Recipient.ChatID == "" {
		return Message{}, false, &SyntaxError{Reason: "recipient.chat_id is missing"}
	}
	m := Message{Chat: w.Recipient.ChatID, User: w.Sender.UserID, Name: w.Sender.Name}
	if w.Timestamp > 0 {
		m.At = time.UnixMilli(w.Timestamp).UTC()
	}
	switch w.WebhookType {
	case "", TypeMessageCreated:
		if w.Message == nil || w.Message.MID == "" {
			return Message{}, false, &SyntaxError{Reason: "message.mid is missing"}
		}
		m.Key, m.Text = w.Message.MID, w.Message.Text
		for _, a := range w.Message.Attachments {
			switch a.Type {
			case "IMAGE", "VIDEO", "AUDIO", "FILE":
				if a.Payload.URL != "" {
					m.Files = append(m.Files, File{Type: a.Type, URL: a.Payload.URL, Name: a.Payload.Name})
				}
			}
		}
		return m, m.Text != "" || len(m.Files) > 0, nil
	case TypeMessageCallback:
		if w.CallbackID == "" || w.Payload == "" {
			return Message{}, false, &SyntaxError{Reason: "a callback without callbackId or payload"}
		}
		m.Key, m.Button = "callback:"+w.CallbackID, w.Payload
		return m, true, nil
	default:
		return Message{}, false, nil
	}
}
