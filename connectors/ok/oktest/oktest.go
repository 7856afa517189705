// Package oktest is a fake OK.ru Bot API and webhook sender: it checks the group's access_token
// (a query parameter, as OK takes it), answers /graph/me/info, keeps the URL /graph/me/subscribe
// registers, records /graph/me/messages/<chat> calls (FLOOD_BLOCKED when asked to throttle),
// serves attachment URLs, and posts webhooks to the subscribed URL as OK does (unsigned JSON).
package oktest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Sent is one message OK accepted.
type Sent struct {
	Chat    string
	Message json.RawMessage
	ID      string
}

// Server is a fake OK API for one group.
type Server struct {
	srv   *httptest.Server
	token string

	mu        sync.Mutex
	hook      string
	sent      []Sent
	limitNext int
	files     map[string][]byte
}

var seq atomic.Int64

// New starts a fake for the group with its token.
func New(t testing.TB, token string) *Server {
	t.Helper()
	s := &Server{token: token, files: map[string][]byte{}}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	t.Cleanup(s.srv.Close)
	return s
}

// URL is the API base URL to configure.
func (s *Server) URL() string { return s.srv.URL }

// Hook is the URL the group subscribed.
func (s *Server) Hook() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hook
}

// Sent returns the accepted messages.
func (s *Server) Sent() []Sent {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Sent(nil), s.sent...)
}

// ThrottleNext answers the next n sends with error 8 (FLOOD_BLOCKED).
func (s *Server) ThrottleNext(n int) {
	s.mu.Lock()
	s.limitNext = n
	s.mu.Unlock()
}

// AddFile serves data and returns its URL (as OK's CDN links a client's attachment).
func (s *Server) AddFile(data []byte) string {
	id := strconv.FormatInt(seq.Add(1), 10)
	s.mu.Lock()
	s.files[id] = data
	s.mu.Unlock()
	return s.srv.URL + "/i/" + id
}

func apiError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	_ = json.NewEncoder(w).Encode(map[string]any{"error_code": code, "error_msg": msg, "error_data": nil})
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if id, ok := strings.CutPrefix(r.URL.Path, "/i/"); ok {
		data, found := s.files[id]
		if !found {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write(data)
		return
	}
	if r.URL.Query().Get("access_token") != s.token {
		apiError(w, 102, "PARAM_SESSION_EXPIRED : Session expired")
		return
	}
	raw, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/graph/me/info":
		_ = json.NewEncoder(w).Encode(map[string]any{"user_id": "user:575812345678", "name": "Shop group", "group_id": "group:70000001234567"})
	case r.Method == http.MethodPost && r.URL.Path == "/graph/me/subscribe":
		var p struct {
			URL string `json:"url"`
		}
		if json.Unmarshal(raw, &p) != nil || !strings.HasPrefix(p.URL, "http") {
			apiError(w, 100, "PARAM : url is required")
			return
		}
		s.hook = p.URL
		_ = json.NewEncoder(w).Encode(map[string]any{"success": true})
	case r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, "/graph/me/messages/"):
		chat := strings.TrimPrefix(r.URL.Path, "/graph/me/messages/")
		var p struct {
			Recipient struct {
				ChatID string `json:"chat_id"`
			} `json:"recipient"`
			Message json.RawMessage `json:"message"`
		}
		if json.Unmarshal(raw, &p) != nil || p.Recipient.ChatID != chat || !strings.HasPrefix(chat, "chat:") || len(p.Message) == 0 {
			apiError(w, 100, "PARAM : recipient.chat_id must name the chat of the path")
			return
		}
		if s.limitNext > 0 {
			s.limitNext--
			apiError(w, 8, "FLOOD_BLOCKED : Flood blocked")
			return
		}
		id := "mid:C3ecb9d02a600." + strconv.FormatInt(seq.Add(1), 16)
		s.sent = append(s.sent, Sent{Chat: chat, Message: p.Message, ID: id})
		_ = json.NewEncoder(w).Encode(map[string]any{"success": true, "message_id": id})
	default:
		apiError(w, 3, "METHOD : Method not found")
	}
}

// Post posts a webhook body to url (the subscribed URL, or another) and returns the status.
func Post(t testing.TB, url string, body []byte) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json;charset=utf-8")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode
}

// Deliver posts body to the subscribed URL.
func (s *Server) Deliver(t testing.TB, body []byte) int {
	t.Helper()
	return Post(t, s.Hook(), body)
}

// Text is a client's message in chat (as MESSAGE_CREATED, the documented shape), with its mid;
// attachments are optional.
func Text(chat, user, text string, attachments ...map[string]any) ([]byte, string) {
	mid := "mid:" + strings.TrimPrefix(chat, "chat:") + "." + strconv.FormatInt(0x15cea668c4c2481+seq.Add(1), 16)
	msg := map[string]any{"text": text, "seq": seq.Add(1), "mid": mid}
	if len(attachments) > 0 {
		msg["attachments"] = attachments
	}
	b, _ := json.Marshal(map[string]any{"sender": map[string]any{"user_id": user, "name": "Ольга"}, "recipient": map[string]any{"chat_id": chat},
		"message": msg, "timestamp": time.Now().UnixMilli()})
	return b, mid
}

// Callback is a client's press of a callback button (MESSAGE_CALLBACK).
func Callback(chat, user, payload string) []byte {
	b, _ := json.Marshal(map[string]any{"webhookType": "MESSAGE_CALLBACK", "callbackId": "cb" + strconv.FormatInt(seq.Add(1), 10),
		"payload": payload, "sender": map[string]any{"user_id": user}, "recipient": map[string]any{"chat_id": chat}, "timestamp": time.Now().UnixMilli()})
	return b
}
