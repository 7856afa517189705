// Package meta speaks Meta's webhooks and Send API for the facebook (Messenger) and instagram
// (Instagram Direct) channel kinds, which share them: the GET hub.challenge verification, the
// X-Hub-Signature-256 HMAC of the body with the app secret, entry[].messaging[] events deduplicated
// by mid, and POST /<version>/me/messages with the page token inside the messaging window.
// It imports neither Temporal nor SQL; the Graph API base URL is a setting (metatest fakes it).
package meta

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"
	"time"
)

// HeaderSignature carries "sha256=" + the hex HMAC-SHA256 of the body with the app secret.
const HeaderSignature = "X-Hub-Signature-256"

// Sign is what Meta puts in HeaderSignature for body.
func Sign(appSecret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(appSecret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// VerifySignature checks HeaderSignature in constant time; an empty secret never verifies.
func VerifySignature(appSecret string, body []byte, header string) bool {
	hexSum, ok := strings.CutPrefix(header, "sha256=")
	if appSecret == "" || !ok {
		return false
	}
	got, err := hex.DecodeString(hexSum)
	if err != nil {
		return false
	}
	m := hmac.New(sha256.New, []byte(appSecret))
	m.Write(body)
	return hmac.Equal(got, m.Sum(nil))
}

// Objects a webhook names: Messenger's pages and Instagram's professional accounts.
const (
	ObjectPage      = "page"
	ObjectInstagram = "instagram"
)

// Message is a client's message from a messaging event.
type Message struct {
	MID    string
	Sender string
	Text   string
	// QuickReply is a pressed quick reply's payload (a CSAT answer).
	QuickReply string
	Files      []File
	ReplyTo    string
	At         time.Time
}

// File is an attachment Meta serves by URL.
type File struct {
	URL  string
	Type string
}

// Delivery is a receipt naming the messages delivered.
type Delivery struct {
	Recipient string
	MIDs      []string
}

// Read is a receipt: the client has read every message sent before Watermark.
type Read struct {
	Recipient string
	Watermark time.Time
}

// Batch is what one webhook carried.
type Batch struct {
	Object     string
	Messages   []Message
	Deliveries []Delivery
	Reads      []Read
}

// SyntaxError means the body is not a Meta webhook.
type SyntaxError struct{ Reason string }

func (e *SyntaxError) Error() string { return "meta webhook: " + e.Reason }

type wireMessaging struct {
	Sender    struct{ ID string } `json:"sender"`
	Recipient struct{ ID string } `json:"recipient"`
	Timestamp int64               `json:"timestamp"`
	Message   *struct {
		MID           string `json:"mid"`
		Text          string `json:"text"`
		IsEcho        bool   `json:"is_echo"`
		IsDeleted     bool   `json:"is_deleted"`
		IsUnsupported bool   `json:"is_unsupported"`
		QuickReply    *struct {
			Payload string `json:"payload"`
		} `json:"quick_reply"`
		ReplyTo *struct {
			MID string `json:"mid"`
		} `json:"reply_to"`
		Attachments []struct {
			Type    string `json:"type"`
			Payload struct {
				URL string `json:"url"`
			} `json:"payload"`
		} `json:"attachments"`
	} `json:"message"`
	Delivery *struct {
		MIDs []string `json:"mids"`
	} `json:"delivery"`
	Read *struct {
		Watermark int64 `json:"watermark"`
	} `json:"read"`
}

// Parse reads a webhook body. Echoes of the page's own messages, deleted and unsupported
// messages are left out.
func Parse(body []byte) (Batch, error) {
	var w struct {
		Object string `json:"object"`
		Entry  []struct {
			ID        string          `json:"id"`
			Messaging []wireMessaging `json:"messaging"`
		} `json:"entry"`
	}
	if err := json.Unmarshal(body, &w); err != nil {
		return Batch{}, &SyntaxError{Reason: err.Error()}
	}
	if w.Object == "" {
		return Batch{}, &SyntaxError{Reason: "object is missing"}
	}
	b := Batch{Object: w.Object}
	for _, e := range w.Entry {
		for _, m := range e.Messaging {
			switch {
			case m.Message != nil:
				msg := m.Message
				if msg.IsEcho || msg.IsDeleted || msg.IsUnsupported || msg.MID == "" || m.Sender.ID == "" {
					continue
				}
				out := Message{MID: msg.MID, Sender: m.Sender.ID, Text: msg.Text, At: time.UnixMilli(m.Timestamp).UTC()}
				if msg.QuickReply != nil && msg.QuickReply.Payload != "" {
					out.QuickReply, out.Text = msg.QuickReply.Payload, ""
				}
				if msg.ReplyTo != nil {
					out.ReplyTo = msg.ReplyTo.MID
				}
				for _, a := range msg.Attachments {
					if a.Payload.URL != "" && a.Type != "share" && a.Type != "story_mention" {
						out.Files = append(out.Files, File{URL: a.Payload.URL, Type: a.Type})
					}
				}
				if out.Text == "" && out.QuickReply == "" && len(out.Files) == 0 {
					continue
				}
				b.Messages = append(b.Messages, out)
			case m.Delivery != nil && len(m.Delivery.MIDs) > 0:
				b.Deliveries = append(b.Deliveries, Delivery{Recipient: m.Sender.ID, MIDs: m.Delivery.MIDs})
			case m.Read != nil && m.Read.Watermark > 0 && m.Sender.ID != "":
				b.Reads = append(b.Reads, Read{Recipient: m.Sender.ID, Watermark: time.UnixMilli(m.Read.Watermark).UTC()})
			}
		}
	}
	return b, nil
}
