// Package ctitest is a fake PBX: it posts call events to a phone channel's URL as a PBX speaking
// Zammad's generic CTI does (JSON, or a form), and serves call recordings at their URLs.
package ctitest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
)

// PBX serves recordings.
type PBX struct {
	srv *httptest.Server

	mu         sync.Mutex
	recordings map[string][]byte
}

var seq atomic.Int64

// New starts a PBX's recording server.
func New(t testing.TB) *PBX {
	t.Helper()
	p := &PBX{recordings: map[string][]byte{}}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		data, ok := p.recordings[r.URL.Path]
		p.mu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "audio/mpeg")
		_, _ = w.Write(data)
	}))
	t.Cleanup(p.srv.Close)
	return p
}

// AddRecording serves data as a call recording and returns its URL.
func (p *PBX) AddRecording(data []byte) string {
	path := "/recordings/" + strconv.FormatInt(seq.Add(1), 10) + ".mp3"
	p.mu.Lock()
	p.recordings[path] = data
	p.mu.Unlock()
	return p.srv.URL + path
}

// Event is one call event's fields (event, callId, from, to, direction, cause, answeringNumber,
// user, recordingUrl).
type Event map[string]string

// Post sends ev to url as JSON (or as a form) and returns the status.
func Post(t testing.TB, hookURL string, ev Event, form bool) int {
	t.Helper()
	var body []byte
	ct := "application/json"
	if form {
		v := url.Values{}
		for k, x := range ev {
			v.Set(k, x)
		}
		body, ct = []byte(v.Encode()), "application/x-www-form-urlencoded"
	} else {
		body, _ = json.Marshal(ev)
	}
	res, err := http.Post(hookURL, ct, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode
}

// NewCall is a newCall event.
func NewCall(callID, from, to, direction string) Event {
	return Event{"event": "newCall", "callId": callID, "from": from, "to": to, "direction": direction}
}

// Answer is an answer event by answeringNumber.
func Answer(callID, from, to, direction, answeringNumber string) Event {
	return Event{"event": "answer", "callId": callID, "from": from, "to": to, "direction": direction, "answeringNumber": answeringNumber}
}

// Hangup is a hangup event with its cause and, when not empty, the recording's URL.
func Hangup(callID, from, to, direction, cause, recordingURL string) Event {
	e := Event{"event": "hangup", "callId": callID, "from": from, "to": to, "direction": direction, "cause": cause}
	if recordingURL != "" {
		e["recordingUrl"] = recordingURL
	}
	return e
}
