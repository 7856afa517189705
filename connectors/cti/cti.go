// Package cti reads a PBX's call events for the phone channel kind, in the shape of Zammad's
// generic CTI API (the vendor-neutral push most PBX integrations already speak): newCall, answer
// and hangup, each with the call's callId, as JSON or as a form, posted to a URL holding the
// channel's secret. linedesk adds recordingUrl (on hangup, or an event "recording") for the call's
// recording. It imports neither Temporal nor SQL.
package cti

import (
	"encoding/json"
	"fmt"
	"mime"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"
)

// Events a PBX posts.
const (
	EventNewCall   = "newCall"
	EventAnswer    = "answer"
	EventHangup    = "hangup"
	EventRecording = "recording"
)

// Event is one call event.
type Event struct {
	Event     string
	CallID    string
	From      string
	To        string
	Direction string
	// Users are the names of the PBX users the call rings or was answered by, when it says.
	Users           []string
	Queue           string
	AnsweringNumber string
	Cause           string
	RecordingURL    string
}

// SyntaxError means the body is not a call event.
type SyntaxError struct{ Reason string }

func (e *SyntaxError) Error() string { return "call event: " + e.Reason }

// wire takes both a single user and a list, as Zammad's docs give both.
type wire struct {
	Event           string          `json:"event"`
	CallID          string          `json:"callId"`
	From            string          `json:"from"`
	To              string          `json:"to"`
	Direction       string          `json:"direction"`
	User            json.RawMessage `json:"user"`
	Queue           string          `json:"queue"`
	AnsweringNumber string          `json:"answeringNumber"`
	Cause           string          `json:"cause"`
	RecordingURL    string          `json:"recordingUrl"`
}

// Parse reads an event sent as JSON or as a form (application/x-www-form-urlencoded).
func Parse(contentType string, body []byte) (Event, error) {
	var w wire
	var users []string
	mt, _, _ := mime.ParseMediaType(contentType)
	if mt == "application/x-www-form-urlencoded" {
		q, err := url.ParseQuery(string(body))
		if err != nil {
			return Event{}, &SyntaxError{Reason: err.Error()}
		}
		w = wire{Event: q.Get("event"), CallID: q.Get("callId"), From: q.Get("from"), To: q.Get("to"), Direction: q.Get("direction"),
			Queue: q.Get("queue"), AnsweringNumber: q.Get("answeringNumber"), Cause: q.Get("cause"), RecordingURL: q.Get("recordingUrl")}
		users = append(q["user"], q["user[]"]...)
	} else {
		if err := json.Unmarshal(body, &w); err != nil {
			return Event{}, &SyntaxError{Reason: err.Error()}
		}
		if len(w.User) > 0 && string(w.User) != "null" {
			var one string
			if json.Unmarshal(w.User, &one) == nil {
				users = []string{one}
			} else if err := json.Unmarshal(w.User, &users); err != nil {
				return Event{}, &SyntaxError{Reason: "user must be a name or a list of names"}
			}
		}
	}
	e := Event{Event: w.Event, CallID: strings.TrimSpace(w.CallID), From: strings.TrimSpace(w.From), To: strings.TrimSpace(w.To),
		Direction: w.Direction, Queue: w.Queue, AnsweringNumber: strings.TrimSpace(w.AnsweringNumber), Cause: w.Cause,
		RecordingURL: strings.TrimSpace(w.RecordingURL)}
	for _, u := range users {
		if u = strings.TrimSpace(u); u != "" {
			e.Users = append(e.Users, u)
		}
	}
	return e, e.check()
}

func (e Event) check() error {
	switch e.Event {
	case EventNewCall, EventAnswer, EventHangup, EventRecording:
	case "":
		return &SyntaxError{Reason: "event is missing (newCall, answer, hangup or recording)"}
	default:
		return &SyntaxError{Reason: fmt.Sprintf("event %q is not newCall, answer, hangup or recording", e.Event)}
	}
	if e.CallID == "" || len(e.CallID) > 250 || !utf8.ValidString(e.CallID) {
		return &SyntaxError{Reason: "callId is required (up to 250 characters)"}
	}
	if e.Direction != "" && e.Direction != "in" && e.Direction != "out" {
		return &SyntaxError{Reason: fmt.Sprintf("direction %q is not in or out", e.Direction)}
	}
	if e.Event == EventNewCall && e.Direction == "" {
		return &SyntaxError{Reason: "a newCall needs direction (in or out)"}
	}
	// A cause outside Zammad's list is kept as the PBX wrote it: refusing the hangup would leave
	// the call ringing for ever.
	if len(e.Cause) > 50 || !utf8.ValidString(e.Cause) {
		return &SyntaxError{Reason: "cause is longer than 50 characters"}
	}
	for name, v := range map[string]string{"from": e.From, "to": e.To, "answeringNumber": e.AnsweringNumber, "queue": e.Queue} {
		if len(v) > 100 || !utf8.ValidString(v) {
			return &SyntaxError{Reason: name + " is longer than 100 characters"}
		}
	}
	if len(e.Users) > 50 {
		return &SyntaxError{Reason: "more than 50 users"}
	}
	if e.RecordingURL != "" {
		if u, err := url.Parse(e.RecordingURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return &SyntaxError{Reason: "recordingUrl is not an http(s) URL"}
		}
	}
	if e.Event == EventRecording && e.RecordingURL == "" {
		return &SyntaxError{Reason: "a recording event needs recordingUrl"}
	}
	return nil
}

// Client is the number of the other party: the caller of an incoming call, the callee of an
// outgoing one.
func (e Event) Client() string {
	if e.Direction == "out" {
		return e.To
	}
	return e.From
}

// Digits is a phone number as digits only, the form numbers are matched in: "anonymous" and
// other words give "", and a Russian trunk prefix (8 and ten digits) becomes the country code 7,
// so +7 916 123-45-67 and 8 (916) 123-45-67 are one number.
func Digits(number string) string {
	var b strings.Builder
	for _, r := range number {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	d := b.String()
	if len(d) == 11 && d[0] == '8' {
		d = "7" + d[1:]
	}
	return d
}

// Duration formats a call's length for people (3 min 05 s).
func Duration(d time.Duration) string {
	d = d.Round(time.Second)
	if d < time.Minute {
		return fmt.Sprintf("%d s", int(d.Seconds()))
	}
	return fmt.Sprintf("%d min %02d s", int(d.Minutes()), int(d.Seconds())%60)
}
