// Package apichannel implements the generic "api" channel: integrators post
// customer messages to linedesk over HTTP and receive operator messages on a
// callback URL, signed with the channel secret.
//
// Inbound bodies are parsed and validated by ParseInbound. Outbound messages
// are delivered by Sender, signed with Sign and checked by VerifySignature.
package apichannel

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"
	"net/url"
	"strings"
	"time"
	// Time zone names are checked against the IANA database built into the binary, so a host
	// without /usr/share/zoneinfo judges them the same.
	_ "time/tzdata"
	"unicode/utf8"
)

// Limits enforced by ParseInbound. Lengths are counted in Unicode code points.
const (
	MaxExternalIDLen    = 256
	MaxNameLen          = 256
	MaxTextLen          = 20000
	MaxAttachments      = 20
	MaxButtonPayloadLen = 1024
	MaxProfileURLLen    = 2048
	MaxFields           = 50
	MaxFieldNameLen     = 64
	MaxFieldValueLen    = 1000
)

// Inbound is a validated message from an integrator: the body of
// POST /api/v1/channels/{id}/inbound.
//
// A nil error from ParseInbound guarantees:
//   - Contact.ExternalID is non-empty and at most MaxExternalIDLen long;
//   - Contact fields carry no leading or trailing white space;
//   - Contact.Name is at most MaxNameLen long;
//   - Contact.Email is empty or a bare address accepted by net/mail.ParseAddress;
//   - there is something to deliver: Text, at least one attachment, or a Button;
//   - Text is at most MaxTextLen long and is empty rather than white space only;
//   - there are at most MaxAttachments attachments, each with an absolute
//     http or https URL; Attachments is nil rather than empty;
//   - Button, when set, has a payload of 1 to MaxButtonPayloadLen code points.
type Inbound struct {
	Contact     Contact      `json:"contact"`
	Text        string       `json:"text,omitempty"`
	Attachments []Attachment `json:"attachments,omitempty"`
	Button      *Button      `json:"button,omitempty"`
}

// Contact identifies the customer on the integrator's side.
type Contact struct {
	ExternalID string `json:"external_id"`
	Name       string `json:"name,omitempty"`
	Email      string `json:"email,omitempty"`
	Phone      string `json:"phone,omitempty"`
	// ProfileURL links to the customer's page in the integrator's system (http or https).
	ProfileURL string `json:"profile_url,omitempty"`
	// Timezone is the customer's IANA time zone ("Europe/Moscow"): operators see their local time.
	Timezone string `json:"timezone,omitempty"`
	// Fields are custom fields shown in the client panel (plan, city, order count…); a field
	// sent again replaces its value, one not sent keeps it.
	Fields map[string]string `json:"fields,omitempty"`
}

// Attachment is a file reachable by URL. It is used in both directions.
type Attachment struct {
	URL         string `json:"url"`
	Name        string `json:"name,omitempty"`
	ContentType string `json:"content_type,omitempty"`
}

// Button is a quick-reply button. Inbound it is the button the customer
// pressed (Text is optional); outbound it is a button offered to the customer.
type Button struct {
	Payload string `json:"payload"`
	Text    string `json:"text,omitempty"`
}

// ValidationError lists every problem found in an inbound body.
type ValidationError struct {
	Problems []string
}

func (e *ValidationError) Error() string {
	return strings.Join(e.Problems, "; ")
}

// wireInbound tells a missing contact or button from an empty one.
type wireInbound struct {
	Contact     *Contact     `json:"contact"`
	Text        string       `json:"text"`
	Attachments []Attachment `json:"attachments"`
	Button      *Button      `json:"button"`
}

// ParseInbound decodes and validates an inbound body. Unknown fields are
// ignored. Every problem found is reported in a *ValidationError.
func ParseInbound(body []byte) (Inbound, error) {
	var w wireInbound
	if err := json.Unmarshal(body, &w); err != nil {
		return Inbound{}, &ValidationError{Problems: []string{describeJSONError(body, err)}}
	}

	var problems []string
	add := func(format string, args ...any) {
		problems = append(problems, fmt.Sprintf(format, args...))
	}

	var in Inbound
	if w.Contact == nil {
		add("contact is required")
	} else {
		c := Contact{
			ExternalID: strings.TrimSpace(w.Contact.ExternalID),
			Name:       strings.TrimSpace(w.Contact.Name),
			Email:      strings.TrimSpace(w.Contact.Email),
			Phone:      strings.TrimSpace(w.Contact.Phone),
		}
		switch {
		case c.ExternalID == "":
			add("contact.external_id is required")
		case utf8.RuneCountInString(c.ExternalID) > MaxExternalIDLen:
			add("contact.external_id is longer than %d characters", MaxExternalIDLen)
		}
		if utf8.RuneCountInString(c.Name) > MaxNameLen {
			add("contact.name is longer than %d characters", MaxNameLen)
		}
		if c.Email != "" && !isBareAddress(c.Email) {
			add("contact.email is not an email address")
		}
		c.ProfileURL = strings.TrimSpace(w.Contact.ProfileURL)
		if c.ProfileURL != "" {
			if u, err := url.Parse(c.ProfileURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				add("contact.profile_url must be an absolute http or https URL")
			} else if len(c.ProfileURL) > MaxProfileURLLen {
				add("contact.profile_url is longer than %d bytes", MaxProfileURLLen)
			}
		}
		c.Timezone = strings.TrimSpace(w.Contact.Timezone)
		if c.Timezone != "" {
			// LoadLocation also takes "Local" and file paths; a time zone is Area/Location or UTC.
			if _, err := time.LoadLocation(c.Timezone); err != nil || c.Timezone == "Local" || strings.HasPrefix(c.Timezone, "/") || strings.Contains(c.Timezone, "..") {
				add("contact.timezone %q is not an IANA time zone such as Europe/Moscow", c.Timezone)
			}
		}
		if len(w.Contact.Fields) > MaxFields {
			add("contact.fields has more than %d fields", MaxFields)
		}
		if len(w.Contact.Fields) > 0 {
			c.Fields = make(map[string]string, len(w.Contact.Fields))
		}
		for k, v := range w.Contact.Fields {
			name := strings.TrimSpace(k)
			switch {
			case name == "":
				add("contact.fields has a field with an empty name")
			case utf8.RuneCountInString(name) > MaxFieldNameLen:
				add("contact.fields: the name %q is longer than %d characters", name, MaxFieldNameLen)
			case utf8.RuneCountInString(v) > MaxFieldValueLen:
				add("contact.fields.%s is longer than %d characters", name, MaxFieldValueLen)
			default:
				c.Fields[name] = strings.TrimSpace(v)
			}
		}
		in.Contact = c
	}

	in.Text = w.Text
	if strings.TrimSpace(in.Text) == "" {
		in.Text = ""
	}
	if utf8.RuneCountInString(in.Text) > MaxTextLen {
		add("text is longer than %d characters", MaxTextLen)
	}

	if len(w.Attachments) > MaxAttachments {
		add("more than %d attachments", MaxAttachments)
	}
	for i, a := range w.Attachments {
		a = Attachment{
			URL:         strings.TrimSpace(a.URL),
			Name:        strings.TrimSpace(a.Name),
			ContentType: strings.TrimSpace(a.ContentType),
		}
		switch {
		case a.URL == "":
			add("attachments[%d].url is required", i)
		case !isHTTPURL(a.URL):
			add("attachments[%d].url is not an absolute http or https URL", i)
		}
		in.Attachments = append(in.Attachments, a)
	}

	if w.Button != nil {
		b := *w.Button
		switch {
		case strings.TrimSpace(b.Payload) == "":
			add("button.payload is required")
		case utf8.RuneCountInString(b.Payload) > MaxButtonPayloadLen:
			add("button.payload is longer than %d characters", MaxButtonPayloadLen)
		}
		in.Button = &b
	}

	if in.Text == "" && len(in.Attachments) == 0 && in.Button == nil {
		add("nothing to deliver: text, attachments or button is required")
	}

	if len(problems) > 0 {
		return Inbound{}, &ValidationError{Problems: problems}
	}
	return in, nil
}

// isHTTPURL reports whether s is an absolute http or https URL with a host.
func isHTTPURL(s string) bool {
	u, err := url.Parse(s)
	if err != nil {
		return false
	}
	return (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// isBareAddress reports whether s is an address like ann@example.com,
// without a display name or angle brackets.
func isBareAddress(s string) bool {
	a, err := mail.ParseAddress(s)
	return err == nil && a.Name == "" && a.Address == s
}

// describeJSONError says what is wrong with a body that does not decode and
// where, as a line and column.
func describeJSONError(body []byte, err error) string {
	var syntaxErr *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	switch {
	case len(strings.TrimSpace(string(body))) == 0:
		return "malformed JSON: body is empty"
	case errors.As(err, &syntaxErr):
		return fmt.Sprintf("malformed JSON at %s: %s", position(body, syntaxErr.Offset), syntaxErr.Error())
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if field == "" {
			field = "body"
		}
		want := "another type"
		if typeErr.Type != nil {
			want = jsonKind(typeErr.Type.Kind().String())
		}
		return fmt.Sprintf("malformed JSON at %s: %s must be %s, not %s",
			position(body, typeErr.Offset), field, want, typeErr.Value)
	default:
		return "malformed JSON: " + err.Error()
	}
}

// position names the last byte the decoder read before giving up, as
// "line L, column C" (both 1-based; the column counts bytes).
func position(body []byte, offset int64) string {
	i := int(min(max(offset-1, 0), int64(len(body))))
	before := string(body[:i])
	line := 1 + strings.Count(before, "\n")
	col := i - strings.LastIndexByte(before, '\n')
	return fmt.Sprintf("line %d, column %d", line, col)
}

func jsonKind(goKind string) string {
	switch goKind {
	case "struct", "map", "ptr":
		return "an object"
	case "slice", "array":
		return "an array"
	case "string":
		return "a string"
	case "bool":
		return "a boolean"
	default:
		return "a " + goKind
	}
}
