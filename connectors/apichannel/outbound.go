package apichannel

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"time"
)

// Header names of an outbound delivery.
const (
	// HeaderSignature carries Sign(secret, body).
	HeaderSignature = "X-Linedesk-Signature"
	// HeaderDelivery carries the message id, the same on every retry, so the
	// receiver can drop duplicates.
	HeaderDelivery = "X-Linedesk-Delivery"
)

// SignaturePrefix starts every signature header value.
const SignaturePrefix = "sha256="

// Outbound events: a message for the contact, or a connection test.
const (
	EventMessage = "message"
	// EventPing is sent when an admin tests the channel's connection: the message carries an id
	// (the X-Linedesk-Delivery header) and a time, no text and no contact. Answer it 2xx.
	EventPing = "ping"
)

// Outbound is the JSON body POSTed to a channel's callback_url.
type Outbound struct {
	Event   string          `json:"event"`
	Message OutboundMessage `json:"message"`
	Contact OutboundContact `json:"contact"`
}

// OutboundMessage is a message from linedesk to the contact.
type OutboundMessage struct {
	ID     string `json:"id"`
	ChatID string `json:"chat_id"`
	// Conversation is the conversation number; omitted when 0.
	Conversation int64        `json:"conversation,omitempty"`
	Text         string       `json:"text"`
	Attachments  []Attachment `json:"attachments,omitempty"`
	Buttons      []Button     `json:"buttons,omitempty"`
	CreatedAt    time.Time    `json:"created_at"`
}

// OutboundContact names the recipient by the integrator's own id.
type OutboundContact struct {
	ExternalID string `json:"external_id"`
}

// Sign returns the X-Linedesk-Signature value for body: "sha256=" followed by
// the lowercase hex HMAC-SHA256 of the exact body bytes keyed with secret.
func Sign(secret string, body []byte) string {
	return SignaturePrefix + hex.EncodeToString(mac(secret, body))
}

// VerifySignature reports whether header is a valid signature of body under
// secret, comparing in constant time. An empty secret never verifies.
func VerifySignature(secret string, body []byte, header string) bool {
	if secret == "" {
		return false
	}
	hexSum, ok := strings.CutPrefix(strings.TrimSpace(header), SignaturePrefix)
	if !ok {
		return false
	}
	got, err := hex.DecodeString(hexSum)
	if err != nil {
		return false
	}
	return hmac.Equal(got, mac(secret, body))
}

func mac(secret string, body []byte) []byte {
	h := hmac.New(sha256.New, []byte(secret))
	h.Write(body)
	return h.Sum(nil)
}

// errCallbackURL is returned for a missing or unusable callback_url.
var errCallbackURL = errors.New("callback_url is required and must be an absolute http or https URL")

// Settings are an api channel's settings as stored with the channel (its
// settings JSON): the admin API validates them, delivery reads them.
type Settings struct {
	CallbackURL string `json:"callback_url"`
}

// ValidateSettings checks an api channel's settings as entered in the admin
// API. The callback URL is where outbound messages are POSTed.
func ValidateSettings(callbackURL string) error {
	if !isHTTPURL(callbackURL) {
		return errCallbackURL
	}
	return nil
}
