// Package whatsapp speaks the WhatsApp Cloud API for the whatsapp channel kind: Meta's webhook
// verification and X-Hub-Signature-256 (shared with the meta package), the
// whatsapp_business_account change notifications (messages deduplicated by wamid, statuses kept
// monotonic by the desk), media fetched by id with the access token, and
// POST /<version>/<phone number id>/messages inside the 24-hour customer service window, with CSAT
// as interactive reply buttons. It imports neither Temporal nor SQL; the Graph API base URL is a
// setting (whatsapptest fakes it).
package whatsapp

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Object is the webhook object of WhatsApp Business Accounts.
const Object = "whatsapp_business_account"

// Message is a client's message.
type Message struct {
	// ID is the wamid.
	ID string
	// From is the client's WhatsApp id (their number without "+").
	From string
	// Name is the client's profile name, when the notification carried it.
	Name string
	Text string
	// Button is a pressed reply button's id (interactive button_reply or list_reply, or a
	// template's quick-reply payload).
	Button string
	Files  []Media
	// ReplyTo is the wamid of the message this one answers.
	ReplyTo string
	At      time.Time
}

// Media is a file WhatsApp holds under an id; it is fetched with the access token.
type Media struct {
	ID       string
	MIMEType string
	Filename string
	Type     string
}

// Status is a receipt for a message the business sent.
type Status struct {
	ID        string
	Status    string
	Recipient string
	At        time.Time
	// Error is the first error's code and title, for failed.
	Error string
}

// Batch is what one webhook carried for one phone number.
type Batch struct {
	Object   string
	Messages []Message
	Statuses []Status
}

// SyntaxError means the body is not a WhatsApp webhook.
type SyntaxError struct{ Reason string }

func (e *SyntaxError) Error() string { return "whatsapp webhook: " + e.Reason }

type wireMedia struct {
	ID       string `json:"id"`
	MIMEType string `json:"mime_type"`
	Caption  string `json:"caption"`
	Filename string `json:"filename"`
}

type wireMessage struct {
	From      string `json:"from"`
	ID        string `json:"id"`
	Timestamp string `json:"timestamp"`
	Type      string `json:"type"`
	Text      *struct {
		Body string `json:"body"`
	} `json:"text"`
	Context *struct {
		ID string `json:"id"`
	} `json:"context"`
	Image    *wireMedia `json:"image"`
	Video    *wireMedia `json:"video"`
	Audio    *wireMedia `json:"audio"`
	Document *wireMedia `json:"document"`
	Sticker  *wireMedia `json:"sticker"`
	Button   *struct {
		Payload string `json:"payload"`
		Text    string `json:"text"`
	} `json:"button"`
	Interactive *struct {
		Type        string `json:"type"`
		ButtonReply *struct {
			ID    string `json:"id"`
			Title string `json:"title"`
		} `json:"button_reply"`
		ListReply *struct {
			ID    string `json:"id"`
			Title string `json:"title"`
		} `json:"list_reply"`
	} `json:"interactive"`
	Location *struct {
		Latitude  float64 `json:"latitude"`
		Longitude float64 `json:"longitude"`
		Name      string  `json:"name"`
		Address   string  `json:"address"`
	} `json:"location"`
}

func unixString(s string) time.Time {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return time.Time{}
	}
	return time.Unix(n, 0).UTC()
}

// Parse reads a webhook body and keeps what concerns phoneNumberID (one Meta app may serve many
// numbers; empty keeps every number's). Reactions, system notices and unsupported messages are
// left out.
func Parse(body []byte, phoneNumberID string) (Batch, error) {
	var w struct {
		Object string `json:"object"`
		Entry  []struct {
			ID      string `json:"id"`
			Changes []struct {
				Field string `json:"field"`
				Value struct {
					Metadata struct {
						PhoneNumberID string `json:"phone_number_id"`
					} `json:"metadata"`
					Contacts []struct {
						Profile struct {
							Name string `json:"name"`
						} `json:"profile"`
						WaID string `json:"wa_id"`
					} `json:"contacts"`
					Messages []wireMessage `json:"messages"`
					Statuses []struct {
						ID          string `json:"id"`
						Status      string `json:"status"`
						Timestamp   string `json:"timestamp"`
						RecipientID string `json:"recipient_id"`
						Errors      []struct {
							Code  int    `json:"code"`
							Title string `json:"title"`
						} `json:"errors"`
					} `json:"statuses"`
				} `json:"value"`
			} `json:"changes"`
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
		for _, c := range e.Changes {
			v := c.Value
			if c.Field != "messages" || (phoneNumberID != "" && v.Metadata.PhoneNumberID != phoneNumberID) {
				continue
			}
			names := map[string]string{}
			for _, ct := range v.Contacts {
				names[ct.WaID] = ct.Profile.Name
			}
			for _, m := range v.Messages {
				if m.ID == "" || m.From == "" {
					continue
				}
				out := Message{ID: m.ID, From: m.From, Name: names[m.From], At: unixString(m.Timestamp)}
				if m.Context != nil {
					out.ReplyTo = m.Context.ID
				}
				media := func(typ string, wm *wireMedia) {
					if wm != nil && wm.ID != "" {
						out.Files = append(out.Files, Media{ID: wm.ID, MIMEType: wm.MIMEType, Filename: wm.Filename, Type: typ})
						out.Text = wm.Caption
					}
				}
				switch m.Type {
				case "text":
					if m.Text != nil {
						out.Text = m.Text.Body
					}
				case "image":
					media("image", m.Image)
				case "video":
					media("video", m.Video)
				case "audio":
					media("audio", m.Audio)
				case "document":
					media("document", m.Document)
				case "sticker":
					media("sticker", m.Sticker)
				case "button":
					if m.Button != nil {
						out.Button = m.Button.Payload
					}
				case "interactive":
					if i := m.Interactive; i != nil {
						switch {
						case i.ButtonReply != nil:
							out.Button = i.ButtonReply.ID
						case i.ListReply != nil:
							out.Button = i.ListReply.ID
						}
					}
				case "location":
					if l := m.Location; l != nil {
						out.Text = strings.TrimSpace(fmt.Sprintf("📍 %.6f, %.6f %s %s", l.Latitude, l.Longitude, l.Name, l.Address))
					}
				}
				if out.Text == "" && out.Button == "" && len(out.Files) == 0 {
					continue
				}
				b.Messages = append(b.Messages, out)
			}
			for _, s := range v.Statuses {
				if s.ID == "" || s.Status == "" {
					continue
				}
				st := Status{ID: s.ID, Status: s.Status, Recipient: s.RecipientID, At: unixString(s.Timestamp)}
				if len(s.Errors) > 0 {
					st.Error = fmt.Sprintf("WhatsApp error %d: %s", s.Errors[0].Code, s.Errors[0].Title)
				}
				b.Statuses = append(b.Statuses, st)
			}
		}
	}
	return b, nil
}
