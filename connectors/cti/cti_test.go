package cti_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/linedesk/linedesk/connectors"
	"github.com/linedesk/linedesk/connectors/cti"
)

func TestParse(t *testing.T) {
	e, err := cti.Parse("application/json", []byte(`{"event":"newCall","from":"493055571600","to":"4930600000000","direction":"in",
		"callId":"4991155921769858278-1","user":["Alice","Bob"],"queue":"support"}`))
	require.NoError(t, err)
	require.Equal(t, cti.Event{Event: "newCall", CallID: "4991155921769858278-1", From: "493055571600", To: "4930600000000",
		Direction: "in", Users: []string{"Alice", "Bob"}, Queue: "support"}, e)
	require.Equal(t, "493055571600", e.Client())

	e, err = cti.Parse("application/x-www-form-urlencoded; charset=utf-8",
		[]byte("event=hangup&callId=c1&from=anonymous&to=4930600000000&direction=in&cause=noAnswer&user%5B%5D=Alice&recordingUrl=https%3A%2F%2Fpbx.example%2Fr%2F1.mp3"))
	require.NoError(t, err)
	require.Equal(t, "noAnswer", e.Cause)
	require.Equal(t, []string{"Alice"}, e.Users)
	require.Equal(t, "https://pbx.example/r/1.mp3", e.RecordingURL)
	require.Equal(t, "", cti.Digits(e.Client()), "a hidden number has no digits")

	e, err = cti.Parse("application/json", []byte(`{"event":"answer","callId":"c2","from":"1","to":"2","direction":"out","user":"Bob","answeringNumber":"201"}`))
	require.NoError(t, err)
	require.Equal(t, []string{"Bob"}, e.Users)
	require.Equal(t, "2", e.Client(), "an outgoing call's client is the callee")

	for body, why := range map[string]string{
		`{"callId":"c"}`:                       "event is missing",
		`{"event":"ring","callId":"c"}`:        `event "ring"`,
		`{"event":"newCall","direction":"in"}`: "callId is required",
		`{"event":"newCall","callId":"c"}`:     "needs direction",
		`{"event":"hangup","callId":"c","cause":"` + strings.Repeat("x", 51) + `"}`: "cause is longer",
		`{"event":"recording","callId":"c"}`:                                        "needs recordingUrl",
		`{"event":"hangup","callId":"c","recordingUrl":"ftp://x"}`:                  "not an http(s) URL",
		`{"event":"newCall","callId":"c","direction":"up"}`:                         `direction "up"`,
		`{"event":"newCall","callId":"c","direction":"in","user":{}}`:               "user must be",
		`[`: "unexpected end",
	} {
		_, err := cti.Parse("application/json", []byte(body))
		var serr *cti.SyntaxError
		require.True(t, errors.As(err, &serr), body)
		require.ErrorContains(t, err, why, body)
	}
}

func TestDigits(t *testing.T) {
	for in, want := range map[string]string{"+7 916 123-45-67": "79161234567", "8 (916) 123-45-67": "79161234567",
		"79161234567": "79161234567", "493055571600": "493055571600", "anonymous": "", "201": "201"} {
		require.Equal(t, want, cti.Digits(in), in)
	}
}

func TestReceiveChecksTheToken(t *testing.T) {
	c := &cti.Connector{}
	ch := connectors.Channel{ID: 9, Kind: "phone", HookSecret: "pbx-secret-0123456789"}
	body := []byte(`{"event":"newCall","callId":"c1","from":"79161234567","to":"74950000000","direction":"in"}`)
	_, events, err := c.Receive(ch, connectors.Request{Method: "POST", Body: body, Token: "pbx-secret-0123456789"})
	require.NoError(t, err)
	require.Len(t, events, 1)
	require.Equal(t, "call:c1:newCall", events[0].Key)
	require.Equal(t, "79161234567", events[0].Call.From)
	_, _, err = c.Receive(ch, connectors.Request{Method: "POST", Body: body, Token: "guess"})
	require.ErrorIs(t, err, connectors.ErrUnauthorized)
	require.Error(t, c.ValidateSettings([]byte(`{"x":1}`), nil))
	require.Error(t, c.ValidateSettings([]byte(`{}`), map[string]string{"token": "x"}))
	require.NoError(t, c.ValidateSettings([]byte(`{}`), nil))
}

func FuzzParse(f *testing.F) {
	f.Add("application/json", []byte(`{"event":"newCall","callId":"c","from":"1","to":"2","direction":"in","user":["a"]}`))
	f.Add("application/x-www-form-urlencoded", []byte(`event=hangup&callId=c&cause=busy&user[]=a`))
	f.Fuzz(func(t *testing.T, ct string, body []byte) {
		e, err := cti.Parse(ct, body)
		if err != nil {
			return
		}
		if e.CallID == "" || e.Event == "" {
			t.Fatalf("an event without its id or name: %+v", e)
		}
		_ = cti.Digits(e.Client())
	})
}
