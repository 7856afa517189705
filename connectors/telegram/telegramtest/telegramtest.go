// Package telegramtest is a fake Telegram Bot API for tests: it answers the methods linedesk
// calls the way api.telegram.org does (the token in the path, {"ok":…} answers, 401 for a bad
// token, 400 for bad parameters, 429 with parameters.retry_after when asked to), records what
// was sent, serves files, and posts updates to the webhook set with setWebhook, carrying its
// secret_token in X-Telegram-Bot-Api-Secret-Token and repeating an update until it gets a 2xx.
package telegramtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/linedesk/linedesk/connectors/telegram"
)

// Sent is one sendMessage or sendDocument call.
type Sent struct {
	ChatID      int64           `json:"chat_id"`
	Text        string          `json:"text"`
	ReplyMarkup json.RawMessage `json:"reply_markup"`
	MessageID   int64           `json:"-"`
	// Document is the uploaded file of a sendDocument (its name, type and content).
	Document *Document `json:"-"`
}

// Document is a file uploaded with sendDocument.
type Document struct {
	Name        string
	ContentType string
	Data        []byte
}

// Server is a fake Bot API for one bot.
type Server struct {
	srv   *httptest.Server
	token string

	mu        sync.Mutex
	sent      []Sent
	answered  []string
	webhook   string
	secret    string
	files     map[string]fakeFile
	limitNext int
	nextMsgID int64
	// queue holds updates for getUpdates; offsets are the offsets asked for.
	queue   [][]byte
	offsets []int64
	arrived chan struct{}
}

type fakeFile struct {
	path string
	data []byte
}

// New starts a fake Bot API for the bot with token; it closes when the test ends.
func New(t testing.TB, token string) *Server {
	t.Helper()
	s := &Server{token: token, files: map[string]fakeFile{}, nextMsgID: 100, arrived: make(chan struct{}, 1)}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	t.Cleanup(s.srv.Close)
	return s
}

// URL is the Bot API base URL to configure (instead of https://api.telegram.org).
func (s *Server) URL() string { return s.srv.URL }

// AddFile makes a file downloadable by file_id.
func (s *Server) AddFile(fileID, path string, data []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.files[fileID] = fakeFile{path: path, data: data}
}

// RateLimitNext answers the next n sendMessage calls 429 with retry_after 1.
func (s *Server) RateLimitNext(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limitNext = n
}

// Sent returns the messages sent so far.
func (s *Server) Sent() []Sent {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Sent(nil), s.sent...)
}

// AnsweredCallbacks returns the callback_query ids answered.
func (s *Server) AnsweredCallbacks() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.answered...)
}

// Webhook returns the URL and secret set with setWebhook.
func (s *Server) Webhook() (url, secret string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.webhook, s.secret
}

func answer(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func refuse(w http.ResponseWriter, code int, description string) {
	answer(w, code, map[string]any{"ok": false, "error_code": code, "description": description})
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if rest, ok := strings.CutPrefix(r.URL.Path, "/file/bot"+s.token+"/"); ok {
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, f := range s.files {
			if f.path == rest {
				_, _ = w.Write(f.data)
				return
			}
		}
		http.NotFound(w, r)
		return
	}
	rest, ok := strings.CutPrefix(r.URL.Path, "/bot")
	token, method, found := strings.Cut(rest, "/")
	if !ok || !found || token != s.token {
		refuse(w, http.StatusUnauthorized, "Unauthorized")
		return
	}
	if strings.EqualFold(method, "sendDocument") {
		s.sendDocument(w, r)
		return
	}
	if strings.EqualFold(method, "getUpdates") {
		s.getUpdates(w, r)
		return
	}
	var p map[string]json.RawMessage
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&p); err != nil {
		refuse(w, http.StatusBadRequest, "Bad Request: can't parse JSON")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch strings.ToLower(method) {
	case "getme":
		answer(w, 200, map[string]any{"ok": true, "result": map[string]any{"id": 42, "is_bot": true, "first_name": "Desk", "username": "desk_bot"}})
	case "sendmessage":
		var m Sent
		if json.Unmarshal(p["chat_id"], &m.ChatID) != nil || m.ChatID == 0 {
			refuse(w, 400, "Bad Request: chat not found")
			return
		}
		_ = json.Unmarshal(p["text"], &m.Text)
		if n := len([]rune(m.Text)); n == 0 || n > telegram.MaxTextLen {
			refuse(w, 400, "Bad Request: message text is empty or too long")
			return
		}
		if s.limitNext > 0 {
			s.limitNext--
			answer(w, 429, map[string]any{"ok": false, "error_code": 429, "description": "Too Many Requests: retry after 1",
				"parameters": map[string]any{"retry_after": 1}})
			return
		}
		m.ReplyMarkup = p["reply_markup"]
		s.nextMsgID++
		m.MessageID = s.nextMsgID
		s.sent = append(s.sent, m)
		answer(w, 200, map[string]any{"ok": true, "result": map[string]any{"message_id": m.MessageID, "date": time.Now().Unix(),
			"chat": map[string]any{"id": m.ChatID, "type": "private"}, "text": m.Text}})
	case "answercallbackquery":
		var id string
		if json.Unmarshal(p["callback_query_id"], &id) != nil || id == "" {
			refuse(w, 400, "Bad Request: query is too old and response timeout expired or query ID is invalid")
			return
		}
		s.answered = append(s.answered, id)
		answer(w, 200, map[string]any{"ok": true, "result": true})
	case "setwebhook":
		var url, secret string
		_ = json.Unmarshal(p["url"], &url)
		_ = json.Unmarshal(p["secret_token"], &secret)
		if secret != "" && !telegram.ValidSecret(secret) {
			refuse(w, 400, "Bad Request: secret token contains unallowed characters")
			return
		}
		s.webhook, s.secret = url, secret
		answer(w, 200, map[string]any{"ok": true, "result": true, "description": "Webhook was set"})
	case "deletewebhook":
		s.webhook, s.secret = "", ""
		answer(w, 200, map[string]any{"ok": true, "result": true, "description": "Webhook was deleted"})
	case "getfile":
		var id string
		_ = json.Unmarshal(p["file_id"], &id)
		f, ok := s.files[id]
		if !ok {
			refuse(w, 400, "Bad Request: invalid file_id")
			return
		}
		answer(w, 200, map[string]any{"ok": true, "result": map[string]any{"file_id": id, "file_unique_id": "u" + id,
			"file_size": len(f.data), "file_path": f.path}})
	default:
		refuse(w, 404, "Not Found")
	}
}

// Queue adds an update for getUpdates (long polling).
func (s *Server) Queue(update []byte) {
	s.mu.Lock()
	s.queue = append(s.queue, update)
	s.mu.Unlock()
	select {
	case s.arrived <- struct{}{}:
	default:
	}
}

// Offsets returns the offsets getUpdates was asked for, in order.
func (s *Server) Offsets() []int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]int64(nil), s.offsets...)
}

// getUpdates answers as the Bot API does: 409 while a webhook is set; otherwise the queued
// updates with update_id >= offset (an offset confirms and forgets the ones before it), waiting
// up to timeout seconds for one to arrive.
func (s *Server) getUpdates(w http.ResponseWriter, r *http.Request) {
	var p struct {
		Offset  int64 `json:"offset"`
		Timeout int   `json:"timeout"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&p); err != nil {
		refuse(w, http.StatusBadRequest, "Bad Request: can't parse JSON")
		return
	}
	deadline := time.Now().Add(time.Duration(p.Timeout) * time.Second)
	for {
		s.mu.Lock()
		if s.webhook != "" {
			s.mu.Unlock()
			refuse(w, http.StatusConflict, "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first")
			return
		}
		s.offsets = append(s.offsets, p.Offset)
		var out []json.RawMessage
		kept := s.queue[:0]
		for _, u := range s.queue {
			id, _ := telegram.UpdateID(u)
			if id < p.Offset {
				continue // confirmed: forgotten
			}
			kept = append(kept, u)
			out = append(out, u)
		}
		s.queue = kept
		s.mu.Unlock()
		if len(out) > 0 || !time.Now().Before(deadline) {
			if out == nil {
				out = []json.RawMessage{}
			}
			answer(w, 200, map[string]any{"ok": true, "result": out})
			return
		}
		select {
		case <-r.Context().Done():
			return
		case <-s.arrived:
		case <-time.After(time.Until(deadline)):
		}
		s.mu.Lock()
		s.offsets = s.offsets[:len(s.offsets)-1] // one request, one offset
		s.mu.Unlock()
	}
}

// sendDocument takes a multipart upload as the Bot API does: chat_id, an optional caption and
// reply_markup (JSON), and the file in the "document" part.
func (s *Server) sendDocument(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseMultipartForm(50 << 20); err != nil {
		refuse(w, 400, "Bad Request: there is no document in the request")
		return
	}
	f, h, err := r.FormFile("document")
	if err != nil {
		refuse(w, 400, "Bad Request: there is no document in the request")
		return
	}
	defer f.Close()
	data, _ := io.ReadAll(f)
	var m Sent
	if _, err := fmt.Sscan(r.FormValue("chat_id"), &m.ChatID); err != nil || m.ChatID == 0 {
		refuse(w, 400, "Bad Request: chat not found")
		return
	}
	m.Text = r.FormValue("caption")
	if rm := r.FormValue("reply_markup"); rm != "" {
		m.ReplyMarkup = json.RawMessage(rm)
	}
	m.Document = &Document{Name: h.Filename, ContentType: h.Header.Get("Content-Type"), Data: data}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextMsgID++
	m.MessageID = s.nextMsgID
	s.sent = append(s.sent, m)
	answer(w, 200, map[string]any{"ok": true, "result": map[string]any{"message_id": m.MessageID, "date": time.Now().Unix(),
		"chat": map[string]any{"id": m.ChatID, "type": "private"}, "document": map[string]any{"file_name": h.Filename}}})
}

// Deliver posts one update to the webhook the way Telegram does (JSON, the secret header) and
// returns the status; it does not retry.
func (s *Server) Deliver(t testing.TB, update []byte) int {
	t.Helper()
	url, secret := s.Webhook()
	if url == "" {
		t.Fatal("telegramtest: no webhook set")
	}
	return post(t, url, secret, update)
}

// DeliverUntilOK posts an update as Telegram does, repeating it (same update_id) after a
// non-2xx answer, at most attempts times; it returns the answers.
func (s *Server) DeliverUntilOK(t testing.TB, update []byte, attempts int) []int {
	t.Helper()
	var got []int
	for range attempts {
		code := s.Deliver(t, update)
		got = append(got, code)
		if code >= 200 && code < 300 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	return got
}

func post(t testing.TB, url, secret string, body []byte) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if secret != "" {
		req.Header.Set(telegram.HeaderSecret, secret)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode
}

// TextUpdate is a private message from a user, as Telegram sends it.
func TextUpdate(updateID, userID int64, firstName, text string) []byte {
	return mustJSON(map[string]any{"update_id": updateID, "message": map[string]any{
		"message_id": updateID, "date": time.Now().Unix(),
		"from": map[string]any{"id": userID, "is_bot": false, "first_name": firstName, "username": strings.ToLower(firstName) + "_tg"},
		"chat": map[string]any{"id": userID, "type": "private", "first_name": firstName},
		"text": text}})
}

// ButtonUpdate is a press on an inline button under the bot's message messageID.
func ButtonUpdate(updateID, userID, messageID int64, data string) []byte {
	return mustJSON(map[string]any{"update_id": updateID, "callback_query": map[string]any{
		"id": fmt.Sprintf("cb-%d", updateID), "chat_instance": "ci-1", "data": data,
		"from":    map[string]any{"id": userID, "is_bot": false, "first_name": "User"},
		"message": map[string]any{"message_id": messageID, "date": time.Now().Unix(), "chat": map[string]any{"id": userID, "type": "private"}, "text": "How did we do?"}}})
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// PhotoUpdate is a private photo with a caption, in the sizes Telegram sends; the largest is
// fileID (add it with AddFile to make it downloadable).
func PhotoUpdate(updateID, userID int64, firstName, caption, fileID string, size int) []byte {
	return mustJSON(map[string]any{"update_id": updateID, "message": map[string]any{
		"message_id": updateID, "date": time.Now().Unix(),
		"from":    map[string]any{"id": userID, "is_bot": false, "first_name": firstName},
		"chat":    map[string]any{"id": userID, "type": "private", "first_name": firstName},
		"caption": caption,
		"photo": []map[string]any{
			{"file_id": fileID + "-small", "file_unique_id": "s" + fileID, "width": 90, "height": 90, "file_size": 1},
			{"file_id": fileID, "file_unique_id": "u" + fileID, "width": 800, "height": 800, "file_size": size},
		}}})
}
