// Package telegram speaks the Telegram Bot API for a telegram channel: it authenticates and
// parses webhook updates into linedesk's inbound shape and calls the send and webhook methods.
// It imports neither Temporal nor SQL; the API base URL is a setting, so tests and staging point
// it at a fake (telegramtest).
//
// Protocol: https://core.telegram.org/bots/api (setWebhook with secret_token, the
// X-Telegram-Bot-Api-Secret-Token header on every webhook request, Update, sendMessage with an
// inline keyboard, getFile, 429 with parameters.retry_after).
package telegram

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// DefaultBaseURL is the cloud Bot API.
const DefaultBaseURL = "https://api.telegram.org"

// HeaderSecret carries the webhook's secret_token on every update Telegram posts.
const HeaderSecret = "X-Telegram-Bot-Api-Secret-Token"

// MaxTextLen is sendMessage's limit on text, in characters after entity parsing.
const MaxTextLen = 4096

// secretRE is what setWebhook accepts as secret_token: 1-256 of A-Z, a-z, 0-9, _ and -.
var secretRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,256}$`)

// ValidSecret reports whether s can be a webhook secret_token.
func ValidSecret(s string) bool { return secretRE.MatchString(s) }

// VerifySecret reports whether a webhook request's secret header is the channel's secret,
// comparing in constant time. An empty secret never verifies.
func VerifySecret(header, secret string) bool {
	return secret != "" && subtle.ConstantTimeCompare([]byte(header), []byte(secret)) == 1
}

// Inbound is one update in linedesk's terms. EventID is the dedupe key ("update:<update_id>"):
// Telegram redelivers an update with the same update_id until it gets a 2xx.
type Inbound struct {
	EventID string
	// ChatID is the chat to answer in (the conversation's external id).
	ChatID string
	// MessageID is the client's message's message_id in its chat (empty for a button press).
	MessageID string
	// From is the sender.
	From Contact
	Text string
	// Files are the platform's file references (download them with Client.GetFile).
	Files []File
	// ReplyTo quotes the message this one answers, when it answers one.
	ReplyTo *Quote
	// Button is the callback data of a pressed inline button (a CSAT answer); CallbackID must
	// then be answered with answerCallbackQuery.
	Button     string
	CallbackID string
	At         time.Time
}

// Contact is the sender as Telegram names them.
type Contact struct {
	ID       string
	Name     string
	Username string
	// ProfileURL is https://t.me/<username> when they have one.
	ProfileURL string
}

// File is a file Telegram holds for the bot.
type File struct {
	ID          string
	UniqueID    string
	Name        string
	ContentType string
	Size        int64
}

// Quote is the message a reply answers.
type Quote struct {
	MessageID string
	Text      string
}

// ErrIgnored means the update is valid but carries nothing for a support desk (an edit, a
// channel post, a group's service message, a poll…): answer 200 and store nothing.
var ErrIgnored = errors.New("telegram: update ignored")

// SyntaxError means the body is not an Update.
type SyntaxError struct{ Reason string }

func (e *SyntaxError) Error() string { return "telegram update: " + e.Reason }

type wireUser struct {
	ID        int64  `json:"id"`
	IsBot     bool   `json:"is_bot"`
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
	Username  string `json:"username"`
}

type wireChat struct {
	ID   int64  `json:"id"`
	Type string `json:"type"`
}

type wireFile struct {
	FileID       string `json:"file_id"`
	FileUniqueID string `json:"file_unique_id"`
	FileName     string `json:"file_name"`
	MimeType     string `json:"mime_type"`
	FileSize     int64  `json:"file_size"`
}

type wireMessage struct {
	MessageID      int64        `json:"message_id"`
	Date           int64        `json:"date"`
	From           *wireUser    `json:"from"`
	Chat           *wireChat    `json:"chat"`
	Text           string       `json:"text"`
	Caption        string       `json:"caption"`
	Photo          []wireFile   `json:"photo"`
	Document       *wireFile    `json:"document"`
	Audio          *wireFile    `json:"audio"`
	Video          *wireFile    `json:"video"`
	Voice          *wireFile    `json:"voice"`
	VideoNote      *wireFile    `json:"video_note"`
	Sticker        *wireFile    `json:"sticker"`
	ReplyToMessage *wireMessage `json:"reply_to_message"`
}

type wireCallback struct {
	ID      string       `json:"id"`
	From    *wireUser    `json:"from"`
	Message *wireMessage `json:"message"`
	Data    string       `json:"data"`
}

type wireUpdate struct {
	UpdateID      *int64        `json:"update_id"`
	Message       *wireMessage  `json:"message"`
	CallbackQuery *wireCallback `json:"callback_query"`
}

// ParseUpdate reads a webhook body. A private chat's message (text, caption, media) or a pressed
// inline button becomes an Inbound; other valid updates are ErrIgnored; anything that is not an
// Update is a *SyntaxError.
func ParseUpdate(body []byte) (Inbound, error) {
	var u wireUpdate
	if err := json.Unmarshal(body, &u); err != nil {
		return Inbound{}, &SyntaxError{Reason: err.Error()}
	}
	if u.UpdateID == nil {
		return Inbound{}, &SyntaxError{Reason: "update_id is missing"}
	}
	in := Inbound{EventID: "update:" + strconv.FormatInt(*u.UpdateID, 10)}
	switch {
	case u.Message != nil:
		m := u.Message
		if m.Chat == nil || m.From == nil {
			return Inbound{}, &SyntaxError{Reason: "message without chat or from"}
		}
		// A support desk talks to people one to one; groups and bots are not clients.
		if m.Chat.Type != "private" || m.From.IsBot {
			return Inbound{}, ErrIgnored
		}
		in.ChatID = strconv.FormatInt(m.Chat.ID, 10)
		in.MessageID = strconv.FormatInt(m.MessageID, 10)
		in.From = contact(m.From)
		in.Text = m.Text
		if in.Text == "" {
			in.Text = m.Caption
		}
		in.Files = files(m)
		if r := m.ReplyToMessage; r != nil {
			q := r.Text
			if q == "" {
				q = r.Caption
			}
			in.ReplyTo = &Quote{MessageID: strconv.FormatInt(r.MessageID, 10), Text: q}
		}
		in.At = time.Unix(m.Date, 0).UTC()
		if in.Text == "" && len(in.Files) == 0 {
			return Inbound{}, ErrIgnored // a contact card, a location, a service message…
		}
		return in, nil
	case u.CallbackQuery != nil:
		cb := u.CallbackQuery
		if cb.From == nil || cb.ID == "" {
			return Inbound{}, &SyntaxError{Reason: "callback_query without id or from"}
		}
		if cb.Message == nil || cb.Message.Chat == nil || cb.Message.Chat.Type != "private" || cb.Data == "" {
			return Inbound{}, ErrIgnored
		}
		in.ChatID = strconv.FormatInt(cb.Message.Chat.ID, 10)
		in.From = contact(cb.From)
		in.Button = cb.Data
		in.CallbackID = cb.ID
		in.At = time.Now().UTC()
		return in, nil
	}
	return Inbound{}, ErrIgnored
}

func contact(u *wireUser) Contact {
	c := Contact{ID: strconv.FormatInt(u.ID, 10), Name: strings.TrimSpace(u.FirstName + " " + u.LastName), Username: u.Username}
	if u.Username != "" {
		c.ProfileURL = "https://t.me/" + u.Username
	}
	if c.Name == "" {
		c.Name = u.Username
	}
	return c
}

// files lists a message's media; of a photo's sizes only the largest is kept.
func files(m *wireMessage) []File {
	var out []File
	add := func(f *wireFile, name, contentType string) {
		if f == nil || f.FileID == "" {
			return
		}
		if f.FileName != "" {
			name = f.FileName
		}
		if f.MimeType != "" {
			contentType = f.MimeType
		}
		out = append(out, File{ID: f.FileID, UniqueID: f.FileUniqueID, Name: name, ContentType: contentType, Size: f.FileSize})
	}
	if n := len(m.Photo); n > 0 {
		best := m.Photo[0]
		for _, p := range m.Photo[1:] {
			if p.FileSize > best.FileSize {
				best = p
			}
		}
		add(&best, "photo.jpg", "image/jpeg")
	}
	add(m.Document, "document", "application/octet-stream")
	add(m.Audio, "audio.mp3", "audio/mpeg")
	add(m.Video, "video.mp4", "video/mp4")
	add(m.Voice, "voice.ogg", "audio/ogg")
	add(m.VideoNote, "video_note.mp4", "video/mp4")
	add(m.Sticker, "sticker.webp", "image/webp")
	return out
}

// APIError is a Bot API refusal ({"ok":false,"error_code":…,"description":…}).
type APIError struct {
	Code        int
	Description string
	// RetryAfter is parameters.retry_after on a 429: how long to wait before repeating.
	RetryAfter time.Duration
}

func (e *APIError) Error() string {
	s := fmt.Sprintf("telegram: %d %s", e.Code, e.Description)
	if e.RetryAfter > 0 {
		s += fmt.Sprintf(" (retry after %s)", e.RetryAfter)
	}
	return s
}

// Temporary reports whether repeating the call later can succeed: a 429, or a server error.
func (e *APIError) Temporary() bool { return e.Code == 429 || e.Code >= 500 }
