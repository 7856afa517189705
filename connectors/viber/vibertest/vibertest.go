// Package vibertest is a fake Viber REST Bot API for tests: it checks X-Viber-Auth-Token,
// answers {"status":…,"status_message":…} as chatapi.viber.com does (status 12 when asked to
// rate-limit), checks a new webhook with a signed "webhook" callback, records send_message
// calls, and posts callbacks signed with X-Viber-Content-Signature, repeating one until a 200.
package vibertest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/linedesk/linedesk/connectors/viber"
)

// Sent is one send_message call.
type Sent struct {
	Receiver     string          `json:"receiver"`
	Type         string          `json:"type"`
	Text         string          `json:"text"`
	TrackingData string          `json:"tracking_data"`
	Keyboard     json.RawMessage `json:"keyboard"`
	Media        string          `json:"media"`
	FileName     string          `json:"file_name"`
	Sender       struct {
		Name string `json:"name"`
	} `json:"sender"`
}

// Server is a fake Viber API for one bot account.
type Server struct {
	srv   *httptest.Server
	token string

	mu        sync.Mutex
	sent      []Sent
	webhook   string
	limitNext int
}

var nextToken atomic.Int64

func init() { nextToken.Store(5491234567890123456) }

// NewToken is a fresh message_token, as large as Viber's (beyond a float64's precision).
func NewToken() int64 { return nextToken.Add(1) }

// New starts a fake for the account with token; it closes when the test ends.
func New(t testing.TB, token string) *Server {
	t.Helper()
	s := &Server{token: token}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	t.Cleanup(s.srv.Close)
	return s
}

// URL is the API base URL to configure (instead of https://chatapi.viber.com).
func (s *Server) URL() string { return s.srv.URL }

// Sent returns the messages sent so far.
func (s *Server) Sent() []Sent {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Sent(nil), s.sent...)
}

// Webhook is the URL set with set_webhook.
func (s *Server) Webhook() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.webhook
}

// RateLimitNext answers the next n send_message calls with status 12.
func (s *Server) RateLimitNext(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limitNext = n
}

func status(w http.ResponseWriter, code int, message string, extra map[string]any) {
	out := map[string]any{"status": code, "status_message": message}
	for k, v := range extra {
		out[k] = v
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(out)
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get(viber.HeaderAuthToken) != s.token {
		status(w, 2, "invalidAuthToken", nil)
		return
	}
	raw, _ := io.ReadAll(io.LimitReader(r.Body, 30<<10+1))
	if len(raw) > 30<<10 {
		status(w, 3, "badData: the request is over 30 KB", nil)
		return
	}
	switch r.URL.Path {
	case "/pa/set_webhook":
		var p struct {
			URL string `json:"url"`
		}
		if json.Unmarshal(raw, &p) != nil {
			status(w, 3, "badData", nil)
			return
		}
		if p.URL != "" {
			check, _ := json.Marshal(map[string]any{"event": "webhook", "timestamp": time.Now().UnixMilli(), "chat_hostname": "SN-000", "message_token": NewToken()})
			if code := s.post(p.URL, check); code != http.StatusOK {
				status(w, 1, fmt.Sprintf("Result[HttpRequest failed: %d]", code), nil)
				return
			}
		}
		s.mu.Lock()
		s.webhook = p.URL
		s.mu.Unlock()
		status(w, 0, "ok", map[string]any{"event_types": []string{"delivered", "seen", "failed", "subscribed", "unsubscribed", "conversation_started"}})
	case "/pa/send_message":
		var m Sent
		if json.Unmarshal(raw, &m) != nil || m.Receiver == "" || m.Type == "" {
			status(w, 4, "missingData", nil)
			return
		}
		if n := utf8.RuneCountInString(m.Sender.Name); n == 0 || n > viber.MaxSenderName {
			status(w, 3, "badData: sender.name", nil)
			return
		}
		if m.Type == "text" && m.Text == "" {
			status(w, 3, "badData: text", nil)
			return
		}
		if (m.Type == "file" || m.Type == "picture") && m.Media == "" || m.Type == "file" && m.FileName == "" {
			status(w, 3, "badData: media", nil)
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.limitNext > 0 {
			s.limitNext--
			status(w, 12, "tooManyRequests", nil)
			return
		}
		s.sent = append(s.sent, m)
		status(w, 0, "ok", map[string]any{"message_token": NewToken(), "chat_hostname": "SN-000"})
	case "/pa/get_account_info":
		status(w, 0, "ok", map[string]any{"id": "pa:5500000000000000000", "name": "Desk", "uri": "deskbot", "webhook": s.Webhook()})
	default:
		http.NotFound(w, r)
	}
}

func (s *Server) post(url string, body []byte) int {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(viber.HeaderSignature, viber.Sign(s.token, body))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode
}

// Deliver posts one callback to the webhook, signed as Viber signs it, and returns the status.
func (s *Server) Deliver(t testing.TB, body []byte) int {
	t.Helper()
	url := s.Webhook()
	if url == "" {
		t.Fatal("vibertest: no webhook set")
	}
	return s.post(url, body)
}

// DeliverUntilOK posts a callback, repeating it after a non-200 answer (Viber retries for an
// hour), at most attempts times, and returns the answers.
func (s *Server) DeliverUntilOK(t testing.TB, body []byte, attempts int) []int {
	t.Helper()
	var got []int
	for range attempts {
		code := s.Deliver(t, body)
		got = append(got, code)
		if code == http.StatusOK {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	return got
}

// TextCallback is a subscriber's text message, with the message_token it carries.
func TextCallback(userID, name, text string) ([]byte, int64) {
	token := NewToken()
	b, _ := json.Marshal(map[string]any{"event": "message", "timestamp": time.Now().UnixMilli(), "chat_hostname": "SN-000",
		"message_token": token, "silent": false,
		"sender":  map[string]any{"id": userID, "name": name, "avatar": "https://media.viber.example/a.jpg", "language": "ru", "country": "RU", "api_version": 10},
		"message": map[string]any{"type": "text", "text": text}})
	return b, token
}

// SeenCallback says the user saw our message token.
func SeenCallback(userID string, token int64) []byte {
	b, _ := json.Marshal(map[string]any{"event": "seen", "timestamp": time.Now().UnixMilli(), "message_token": token, "user_id": userID})
	return b
}
