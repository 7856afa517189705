package cti

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/linedesk/linedesk/connectors"
)

// Connector is the phone kind: the PBX posts call events; the desk sends nothing back.
type Connector struct {
	HTTP *http.Client
}

var (
	_ connectors.Connector   = (*Connector)(nil)
	_ connectors.SecretInURL = (*Connector)(nil)
	_ connectors.NoReplies   = (*Connector)(nil)
)

// Kind implements connectors.Connector.
func (*Connector) Kind() string { return "phone" }

// SecretInURL implements connectors.SecretInURL: a PBX signs nothing.
func (*Connector) SecretInURL() {}

func (c *Connector) http() *http.Client {
	if c.HTTP == nil {
		return &http.Client{Timeout: 60 * time.Second}
	}
	return c.HTTP
}

// ValidateSettings implements connectors.Connector: a phone channel has no settings and no
// credentials (its secret is in its URL).
func (*Connector) ValidateSettings(raw json.RawMessage, creds map[string]string) error {
	var s struct{}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return fmt.Errorf("settings: %v (a phone channel takes no settings)", err)
	}
	if len(creds) > 0 {
		return errors.New("a phone channel takes no credentials: the PBX posts to a URL holding the channel's secret")
	}
	return nil
}

// Receive implements connectors.Connector: the path must hold the channel's secret.
func (*Connector) Receive(ch connectors.Channel, r connectors.Request) (connectors.Response, []connectors.Event, error) {
	if r.Method != http.MethodPost {
		return connectors.Response{Status: http.StatusMethodNotAllowed}, nil, nil
	}
	if ch.HookSecret == "" || subtle.ConstantTimeCompare([]byte(r.Token), []byte(ch.HookSecret)) != 1 {
		return connectors.Response{}, nil, connectors.ErrUnauthorized
	}
	e, err := Parse(r.Header.Get("Content-Type"), r.Body)
	var serr *SyntaxError
	if errors.As(err, &serr) {
		return connectors.Response{}, nil, &connectors.BadRequest{Reason: serr.Error()}
	}
	if err != nil {
		return connectors.Response{}, nil, err
	}
	return connectors.Response{}, []connectors.Event{{Key: "call:" + e.CallID + ":" + e.Event, At: time.Now(), Call: &connectors.Call{
		Event: e.Event, ID: e.CallID, From: e.From, To: e.To, Direction: e.Direction, Users: e.Users, Queue: e.Queue,
		AnsweringNumber: e.AnsweringNumber, Cause: e.Cause, RecordingURL: e.RecordingURL}}}, nil
}

const noReplies = "a phone channel carries calls, not messages: call the client back, or write to them on another channel"

// NoReplies implements connectors.NoReplies.
func (*Connector) NoReplies() string { return noReplies }

// Send implements connectors.Connector: a phone channel carries calls, not messages (an automated
// message or CSAT on a phone conversation fails with the reason).
func (*Connector) Send(context.Context, connectors.Channel, connectors.Outbound) (connectors.Sent, error) {
	return connectors.Sent{}, &connectors.SendError{Err: errors.New(noReplies)}
}

// Download implements connectors.Connector: a recording is fetched from the PBX's URL.
func (c *Connector) Download(ctx context.Context, _ connectors.Channel, f connectors.FileRef, max int64) ([]byte, error) {
	return connectors.Fetch(ctx, c.http(), f.Ref, max)
}

// Acknowledge implements connectors.Connector.
func (*Connector) Acknowledge(context.Context, connectors.Channel, connectors.Event) error {
	return nil
}

// Connect implements connectors.Connector: nothing to register; the admin gives the PBX the URL.
func (*Connector) Connect(_ context.Context, ch connectors.Channel, hookURL string) (connectors.Connection, error) {
	url := hookURL + "/" + ch.HookSecret
	return connectors.Connection{Account: "PBX", Steps: []string{
		"In the PBX's CTI (Zammad generic CTI) settings, set the endpoint: " + url,
		"Send the events newCall, answer and hangup (JSON or form); add recordingUrl to hangup, or post event=recording, for recordings.",
		"Keep the URL secret: it is the PBX's only credential. Rotating the channel's secret changes it.",
	}}, nil
}
