// Package vk speaks VK's Callback API and messages.send for a vk channel (a community's
// messages). It imports neither Temporal nor SQL; the API base URL is a setting, so tests point
// it at a fake (vktest).
//
// Protocol: https://dev.vk.com/ru/api/callback/getting-started — a JSON envelope {type, object,
// group_id, event_id, secret, v}; the server answers "ok" (and the confirmation code to a
// "confirmation"); the community's secret key travels in the body, not in a header.
// messages.send takes random_id, which VK uses to drop a repeated send.
package vk

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"
)

// DefaultBaseURL is VK's API.
const DefaultBaseURL = "https://api.vk.com"

// APIVersion is the Callback and methods API version linedesk speaks.
const APIVersion = "5.199"

// Event is one Callback API notification in linedesk's terms.
type Event struct {
	Type    string
	EventID string
	GroupID int64
	// Message is set for message_new.
	Message *Message
}

// Message is a community's incoming message.
type Message struct {
	ID     int64
	PeerID int64
	FromID int64
	Text   string
	// Payload is a keyboard button's payload (a CSAT answer), when one was pressed.
	Payload string
	Files   []File
	ReplyTo *Quote
	At      time.Time
}

// File is an attachment VK serves by URL.
type File struct {
	URL  string
	Name string
	Type string
	Size int64
}

// Quote is the message a reply answers.
type Quote struct {
	ID   int64
	Text string
}

// Types of notifications linedesk reads.
const (
	TypeConfirmation = "confirmation"
	TypeMessageNew   = "message_new"
)

// SyntaxError means the body is not a Callback API notification.
type SyntaxError struct{ Reason string }

func (e *SyntaxError) Error() string { return "vk callback: " + e.Reason }

// ErrIgnored means a valid notification a desk does not read (a reply the community sent, a
// group chat, a like…).
var ErrIgnored = errors.New("vk: notification ignored")

type wirePhotoSize struct {
	URL    string `json:"url"`
	Width  int    `json:"width"`
	Height int    `json:"height"`
}

type wireAttachment struct {
	Type  string `json:"type"`
	Photo *struct {
		Sizes []wirePhotoSize `json:"sizes"`
	} `json:"photo"`
	Doc *struct {
		Title string `json:"title"`
		Ext   string `json:"ext"`
		URL   string `json:"url"`
		Size  int64  `json:"size"`
	} `json:"doc"`
}

type wireMessage struct {
	ID           int64            `json:"id"`
	Date         int64            `json:"date"`
	PeerID       int64            `json:"peer_id"`
	FromID       int64            `json:"from_id"`
	Out          int              `json:"out"`
	Text         string           `json:"text"`
	Payload      string           `json:"payload"`
	Attachments  []wireAttachment `json:"attachments"`
	ReplyMessage *struct {
		ID   int64  `json:"id"`
		Text string `json:"text"`
	} `json:"reply_message"`
}

type wireEnvelope struct {
	Type    string          `json:"type"`
	EventID string          `json:"event_id"`
	GroupID int64           `json:"group_id"`
	Secret  string          `json:"secret"`
	Object  json.RawMessage `json:"object"`
}

// Parse reads a notification and checks its secret against the community's (secret "" means
// none is configured and none may be sent). ok is false when the secret is wrong.
func Parse(body []byte, secret string) (e Event, ok bool, err error) {
	var w wireEnvelope
	if err := json.Unmarshal(body, &w); err != nil {
		return Event{}, false, &SyntaxError{Reason: err.Error()}
	}
	if w.Type == "" {
		return Event{}, false, &SyntaxError{Reason: "type is missing"}
	}
	if subtle.ConstantTimeCompare([]byte(w.Secret), []byte(secret)) != 1 {
		return Event{}, false, nil
	}
	e = Event{Type: w.Type, EventID: w.EventID, GroupID: w.GroupID}
	if w.Type != TypeMessageNew {
		return e, true, nil
	}
	if w.EventID == "" {
		return Event{}, true, &SyntaxError{Reason: "message_new without event_id"}
	}
	// API ≥ 5.103 wraps the message in {"message": …, "client_info": …}.
	var obj struct {
		Message *wireMessage `json:"message"`
	}
	if err := json.Unmarshal(w.Object, &obj); err != nil || obj.Message == nil {
		return Event{}, true, &SyntaxError{Reason: "message_new without object.message"}
	}
	m := obj.Message
	if m.Out == 1 || m.PeerID != m.FromID || m.FromID <= 0 {
		return e, true, ErrIgnored // the community's own message, a group chat, another community
	}
	msg := &Message{ID: m.ID, PeerID: m.PeerID, FromID: m.FromID, Text: m.Text, At: time.Unix(m.Date, 0).UTC()}
	if m.Payload != "" {
		var p struct {
			Button string `json:"button"`
		}
		if json.Unmarshal([]byte(m.Payload), &p) == nil && p.Button != "" {
			msg.Payload, msg.Text = p.Button, ""
		}
	}
	for _, a := range m.Attachments {
		switch {
		case a.Type == "photo" && a.Photo != nil && len(a.Photo.Sizes) > 0:
			best := a.Photo.Sizes[0]
			for _, s := range a.Photo.Sizes[1:] {
				if s.Width*s.Height > best.Width*best.Height {
					best = s
				}
			}
			if best.URL != "" {
				msg.Files = append(msg.Files, File{URL: best.URL, Name: "photo.jpg", Type: "image/jpeg"})
			}
		case a.Type == "doc" && a.Doc != nil && a.Doc.URL != "":
			name := a.Doc.Title
			if name == "" {
				name = "document"
			}
			if a.Doc.Ext != "" && !strings.HasSuffix(strings.ToLower(name), "."+strings.ToLower(a.Doc.Ext)) {
				name += "." + a.Doc.Ext
			}
			msg.Files = append(msg.Files, File{URL: a.Doc.URL, Name: name, Size: a.Doc.Size})
		}
	}
	if r := m.ReplyMessage; r != nil {
		msg.ReplyTo = &Quote{ID: r.ID, Text: r.Text}
	}
	if msg.Text == "" && msg.Payload == "" && len(msg.Files) == 0 {
		return e, true, ErrIgnored // a sticker, a location…
	}
	e.Message = msg
	return e, true, nil
}

// RandomID derives messages.send's random_id from linedesk's message id: the same message gets
// the same random_id on every attempt, so VK drops a repeated send, and different messages get
// different ones (63 bits of a hash, VK checks them over the whole history).
func RandomID(messageID string) int64 {
	sum := sha256.Sum256([]byte("linedesk vk random_id\x00" + messageID))
	return int64(binary.BigEndian.Uint64(sum[:8]) >> 1)
}

// ProfileURL is a VK user's page.
func ProfileURL(userID int64) string { return "https://vk.com/id" + strconv.FormatInt(userID, 10) }
