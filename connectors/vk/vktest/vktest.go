// Package vktest is a fake VK API and Callback API sender for tests: it answers the methods
// linedesk calls the way api.vk.com does (form parameters, the token, {"response":…} or
// {"error":{"error_code":…}} with HTTP 200, error 6 when asked to rate-limit), drops a
// messages.send whose random_id it has seen (as VK does), and posts Callback API notifications
// with the community's secret in the body, expecting "ok".
package vktest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Sent is one messages.send that VK accepted.
type Sent struct {
	PeerID   int64
	RandomID int64
	Text     string
	Keyboard string
	// Attachment is the uploaded media the message carries ("photo…,doc…").
	Attachment string
	ID         int64
}

// Server is a fake VK for one community.
type Server struct {
	srv     *httptest.Server
	token   string
	groupID int64
	code    string

	mu        sync.Mutex
	sent      []Sent
	seen      map[int64]int64 // random_id → message id
	limitNext int
	nextID    int64
	events    int
	uploads   map[string][]byte // "photo<owner>_<id>" / "doc<owner>_<id>" → bytes
}

// New starts a fake for community groupID with token; confirmation is what
// groups.getCallbackConfirmationCode answers.
func New(t testing.TB, token string, groupID int64, confirmation string) *Server {
	t.Helper()
	s := &Server{token: token, groupID: groupID, code: confirmation, seen: map[int64]int64{}, nextID: 1000, uploads: map[string][]byte{}}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	t.Cleanup(s.srv.Close)
	return s
}

// URL is the API base URL to configure.
func (s *Server) URL() string { return s.srv.URL }

// Sent returns the messages VK accepted.
func (s *Server) Sent() []Sent {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Sent(nil), s.sent...)
}

// Upload returns what was uploaded as the attachment named a ("photo-214_1001_ak", "doc-214_1002").
func (s *Server) Upload(a string) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, v := range s.uploads {
		if strings.HasPrefix(a, k) {
			return v
		}
	}
	return nil
}

// upload takes a multipart upload at an upload URL (no token: the URL is the grant) and answers
// as VK's upload servers do: the file's handle to save with photos.saveMessagesPhoto or docs.save.
func (s *Server) upload(w http.ResponseWriter, r *http.Request) {
	kind := strings.TrimPrefix(r.URL.Path, "/upload/")
	field := map[string]string{"photo": "photo", "doc": "file"}[kind]
	f, _, err := r.FormFile(field)
	if field == "" || err != nil {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"error": "no file"})
		return
	}
	data, _ := io.ReadAll(f)
	s.mu.Lock()
	s.nextID++
	handle := strconv.FormatInt(s.nextID, 10)
	s.uploads["pending:"+handle] = data
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if kind == "photo" {
		_ = json.NewEncoder(w).Encode(map[string]any{"server": 1, "photo": handle, "hash": "h" + handle})
		return
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"file": handle})
}

// RateLimitNext answers the next n messages.send with error 6.
func (s *Server) RateLimitNext(n int) {
	s.mu.Lock()
	s.limitNext = n
	s.mu.Unlock()
}

func vkError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"error_code": code, "error_msg": msg}})
}

func response(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"response": v})
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/upload/") {
		s.upload(w, r)
		return
	}
	method, ok := strings.CutPrefix(r.URL.Path, "/method/")
	if !ok {
		http.NotFound(w, r)
		return
	}
	if err := r.ParseForm(); err != nil {
		vkError(w, 100, "One of the parameters specified was missing or invalid")
		return
	}
	token := r.Form.Get("access_token")
	if h, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		token = h
	}
	if token != s.token {
		vkError(w, 5, "User authorization failed: invalid access_token")
		return
	}
	if r.Form.Get("v") == "" {
		vkError(w, 8, "Invalid request: v is required")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch method {
	case "groups.getById":
		response(w, map[string]any{"groups": []map[string]any{{"id": s.groupID, "name": "Shop community", "screen_name": "shop"}}})
	case "groups.getCallbackConfirmationCode":
		response(w, map[string]any{"code": s.code})
	case "photos.getMessagesUploadServer":
		response(w, map[string]any{"upload_url": s.srv.URL + "/upload/photo", "album_id": -64, "group_id": s.groupID})
	case "docs.getMessagesUploadServer":
		response(w, map[string]any{"upload_url": s.srv.URL + "/upload/doc"})
	case "photos.saveMessagesPhoto", "docs.save":
		handle := r.Form.Get("photo")
		if method == "docs.save" {
			handle = r.Form.Get("file")
		}
		data, ok := s.uploads["pending:"+handle]
		if !ok {
			vkError(w, 100, "One of the parameters specified was missing or invalid: the upload is unknown")
			return
		}
		delete(s.uploads, "pending:"+handle)
		owner := -s.groupID
		num, _ := strconv.ParseInt(handle, 10, 64)
		if method == "docs.save" {
			s.uploads[fmt.Sprintf("doc%d_%s", owner, handle)] = data
			response(w, map[string]any{"type": "doc", "doc": map[string]any{"id": num, "owner_id": owner, "title": r.Form.Get("title")}})
			return
		}
		s.uploads[fmt.Sprintf("photo%d_%s", owner, handle)] = data
		response(w, []map[string]any{{"id": num, "owner_id": owner, "access_key": "ak" + handle}})
	case "users.get":
		id, err := strconv.ParseInt(r.Form.Get("user_ids"), 10, 64)
		if err != nil {
			vkError(w, 113, "Invalid user id")
			return
		}
		response(w, []map[string]any{{"id": id, "first_name": "Ivan", "last_name": "Id" + strconv.FormatInt(id, 10), "can_access_closed": true}})
	case "messages.send":
		peer, err1 := strconv.ParseInt(r.Form.Get("peer_id"), 10, 64)
		rid, err2 := strconv.ParseInt(r.Form.Get("random_id"), 10, 64)
		if err1 != nil || err2 != nil || (r.Form.Get("message") == "" && r.Form.Get("attachment") == "") {
			vkError(w, 100, "One of the parameters specified was missing or invalid")
			return
		}
		if s.limitNext > 0 {
			s.limitNext--
			vkError(w, 6, "Too many requests per second")
			return
		}
		if id, dup := s.seen[rid]; dup && rid != 0 {
			response(w, id) // VK drops the repeat and answers the first message's id
			return
		}
		s.nextID++
		s.seen[rid] = s.nextID
		s.sent = append(s.sent, Sent{PeerID: peer, RandomID: rid, Text: r.Form.Get("message"), Keyboard: r.Form.Get("keyboard"),
			Attachment: r.Form.Get("attachment"), ID: s.nextID})
		response(w, s.nextID)
	default:
		vkError(w, 3, "Unknown method passed")
	}
}

// Post sends one notification to url as VK does and returns the status and body.
func Post(t testing.TB, url string, body []byte) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// Confirmation is VK's check of a new server address.
func (s *Server) Confirmation(secret string) []byte {
	b, _ := json.Marshal(map[string]any{"type": "confirmation", "group_id": s.groupID, "secret": secret})
	return b
}

// MessageNew is a user's private message to the community, with a fresh event_id.
func (s *Server) MessageNew(secret string, userID int64, text, payload string) []byte {
	s.mu.Lock()
	s.events++
	n := s.events
	s.mu.Unlock()
	msg := map[string]any{"date": time.Now().Unix(), "from_id": userID, "id": 500 + n, "out": 0, "attachments": []any{},
		"conversation_message_id": n, "fwd_messages": []any{}, "important": false, "is_hidden": false, "peer_id": userID, "random_id": 0, "text": text}
	if payload != "" {
		msg["payload"] = payload
	}
	b, _ := json.Marshal(map[string]any{"group_id": s.groupID, "type": "message_new", "event_id": "ev" + strconv.Itoa(n) + "da1b15e9f6d0c3c8a0c9",
		"v": "5.199", "secret": secret, "object": map[string]any{"message": msg,
			"client_info": map[string]any{"button_actions": []string{"text", "callback"}, "keyboard": true, "inline_keyboard": true, "lang_id": 0}}})
	return b
}
