// Package whatsapptest is a fake WhatsApp Cloud API and webhook sender: it checks the access
// token (Authorization: Bearer), answers the number's details and the business account's
// subscribed_apps, records /<phone number id>/messages calls (error 130429 when asked to
// throttle), serves media by id (a URL that again needs the token), and posts webhooks as Meta
// does (whatsapp_business_account changes signed with X-Hub-Signature-256).
package whatsapptest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/linedesk/linedesk/connectors/meta"
	"github.com/linedesk/linedesk/connectors/whatsapp"
)

// Sent is one /messages call WhatsApp accepted.
type Sent struct {
	To   string
	Type string
	// Body is the whole request body.
	Body json.RawMessage
	ID   string
}

// Server is a fake Cloud API for one business number.
type Server struct {
	srv           *httptest.Server
	token         string
	appSecret     string
	phoneNumberID string
	wabaID        string

	mu         sync.Mutex
	sent       []Sent
	subscribed bool
	callback   string
	limitNext  int
	media      map[string][]byte
}

var ids atomic.Int64

// New starts a fake for the number with the access token and the app's secret.
func New(t testing.TB, accessToken, appSecret, phoneNumberID, wabaID string) *Server {
	t.Helper()
	s := &Server{token: accessToken, appSecret: appSecret, phoneNumberID: phoneNumberID, wabaID: wabaID, media: map[string][]byte{}}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	t.Cleanup(s.srv.Close)
	return s
}

// URL is the Graph API base URL to configure.
func (s *Server) URL() string { return s.srv.URL }

// Sent returns the accepted sends.
func (s *Server) Sent() []Sent {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Sent(nil), s.sent...)
}

// Subscribed reports whether the app subscribed to the business account.
func (s *Server) Subscribed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.subscribed
}

// Callback is the override callback URL Meta verified for the business account.
func (s *Server) Callback() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.callback
}

// ThrottleNext answers the next n sends with error 130429 (throughput reached).
func (s *Server) ThrottleNext(n int) {
	s.mu.Lock()
	s.limitNext = n
	s.mu.Unlock()
}

// AddMedia stores a client's file and returns its media id.
func (s *Server) AddMedia(data []byte) string {
	id := strconv.FormatInt(9000000+ids.Add(1), 10)
	s.mu.Lock()
	s.media[id] = data
	s.mu.Unlock()
	return id
}

func apiError(w http.ResponseWriter, status, code int, msg, details string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"message": msg, "type": "OAuthException", "code": code,
		"error_data": map[string]any{"messaging_product": "whatsapp", "details": details}, "fbtrace_id": "AbCdEf"}})
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	token, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if token != s.token {
		apiError(w, 401, 190, "Invalid OAuth access token - Cannot parse access token", "")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if id, ok := strings.CutPrefix(r.URL.Path, "/download/"); ok && r.Method == http.MethodGet {
		data, found := s.media[id]
		if !found {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "image/jpeg")
		_, _ = w.Write(data)
		return
	}
	path := strings.TrimPrefix(r.URL.Path, "/"+whatsapp.APIVersion)
	switch {
	case r.Method == http.MethodGet && path == "/"+s.phoneNumberID:
		_ = json.NewEncoder(w).Encode(map[string]any{"id": s.phoneNumberID, "display_phone_number": "+7 495 000-00-00", "verified_name": "Shop"})
	case r.Method == http.MethodPost && path == "/"+s.wabaID+"/subscribed_apps":
		var p struct {
			Callback    string `json:"override_callback_uri"`
			VerifyToken string `json:"verify_token"`
		}
		raw, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		_ = json.Unmarshal(raw, &p)
		if p.Callback != "" {
			// Meta verifies an override callback at once: the challenge must come back.
			q := url.Values{"hub.mode": {"subscribe"}, "hub.verify_token": {p.VerifyToken}, "hub.challenge": {"1158201444"}}
			res, err := http.Get(p.Callback + "?" + q.Encode())
			ok := err == nil && res.StatusCode == http.StatusOK
			if err == nil {
				body, _ := io.ReadAll(res.Body)
				res.Body.Close()
				ok = ok && string(body) == "1158201444"
			}
			if !ok {
				apiError(w, 400, 2200, "(#2200) Callback verification failed", "the callback did not answer the challenge")
				return
			}
			s.callback = p.Callback
		}
		s.subscribed = true
		_ = json.NewEncoder(w).Encode(map[string]any{"success": true})
	case r.Method == http.MethodPost && path == "/"+s.phoneNumberID+"/messages":
		raw, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		var p map[string]json.RawMessage
		var product, to, typ string
		if json.Unmarshal(raw, &p) != nil || json.Unmarshal(p["messaging_product"], &product) != nil || product != "whatsapp" ||
			json.Unmarshal(p["to"], &to) != nil || to == "" || json.Unmarshal(p["type"], &typ) != nil || len(p[typ]) == 0 {
			apiError(w, 400, 100, "(#100) Invalid parameter", "messaging_product, to, type and the type's object are required")
			return
		}
		if typ == "interactive" {
			var i struct {
				Type   string `json:"type"`
				Body   struct{ Text string }
				Action struct {
					Buttons []struct {
						Reply struct{ ID, Title string }
					}
				}
			}
			if json.Unmarshal(p["interactive"], &i) != nil || i.Type != "button" || i.Body.Text == "" || len(i.Action.Buttons) == 0 || len(i.Action.Buttons) > 3 {
				apiError(w, 400, 131009, "(#131009) Parameter value is not valid", "interactive button messages take a body and one to three buttons")
				return
			}
			for _, b := range i.Action.Buttons {
				if b.Reply.ID == "" || b.Reply.Title == "" || len([]rune(b.Reply.Title)) > 20 {
					apiError(w, 400, 131009, "(#131009) Parameter value is not valid", "button titles take 1 to 20 characters")
					return
				}
			}
		}
		if s.limitNext > 0 {
			s.limitNext--
			apiError(w, 400, 130429, "(#130429) Rate limit hit", "Cloud API message throughput has been reached.")
			return
		}
		id := "wamid.OUT" + strconv.FormatInt(ids.Add(1), 10)
		s.sent = append(s.sent, Sent{To: to, Type: typ, Body: raw, ID: id})
		_ = json.NewEncoder(w).Encode(map[string]any{"messaging_product": "whatsapp",
			"contacts": []any{map[string]string{"input": to, "wa_id": strings.TrimPrefix(to, "+")}}, "messages": []any{map[string]string{"id": id}}})
	case r.Method == http.MethodGet && s.media[strings.TrimPrefix(path, "/")] != nil:
		id := strings.TrimPrefix(path, "/")
		_ = json.NewEncoder(w).Encode(map[string]any{"messaging_product": "whatsapp", "url": s.srv.URL + "/download/" + id,
			"mime_type": "image/jpeg", "file_size": len(s.media[id]), "id": id})
	default:
		apiError(w, 400, 100, "Unsupported get request. Object with ID does not exist", path)
	}
}

// Post posts a webhook body signed with the app secret (or secret, when not empty) and returns
// the status.
func (s *Server) Post(t testing.TB, hookURL string, body []byte, secret string) int {
	t.Helper()
	if secret == "" {
		secret = s.appSecret
	}
	req, err := http.NewRequest(http.MethodPost, hookURL, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(meta.HeaderSignature, meta.Sign(secret, body))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode
}

// Change wraps a messages-field value as the notification WhatsApp posts for the number.
func (s *Server) Change(value map[string]any) []byte {
	value["messaging_product"] = "whatsapp"
	value["metadata"] = map[string]string{"display_phone_number": "74950000000", "phone_number_id": s.phoneNumberID}
	b, _ := json.Marshal(map[string]any{"object": whatsapp.Object, "entry": []any{map[string]any{"id": s.wabaID,
		"changes": []any{map[string]any{"field": "messages", "value": value}}}}})
	return b
}

// Inbound is a client's message notification: message is its type's part ("text": {...}),
// merged with from, id, timestamp; it returns the body and the wamid.
func (s *Server) Inbound(from, name, typ string, message map[string]any) ([]byte, string) {
	id := "wamid.IN" + strconv.FormatInt(ids.Add(1), 10)
	message["from"], message["id"], message["timestamp"], message["type"] = from, id, strconv.FormatInt(time.Now().Unix(), 10), typ
	return s.Change(map[string]any{"contacts": []any{map[string]any{"profile": map[string]string{"name": name}, "wa_id": from}},
		"messages": []any{message}}), id
}

// Text is a client's text message.
func (s *Server) Text(from, name, text string) ([]byte, string) {
	return s.Inbound(from, name, "text", map[string]any{"text": map[string]string{"body": text}})
}

// ButtonReply is a client's press of an interactive reply button.
func (s *Server) ButtonReply(from, name, id, title string) ([]byte, string) {
	return s.Inbound(from, name, "interactive", map[string]any{"interactive": map[string]any{"type": "button_reply",
		"button_reply": map[string]string{"id": id, "title": title}}})
}

// Status is a status notification for a message the business sent.
func (s *Server) Status(wamid, recipient, status string) []byte {
	st := map[string]any{"id": wamid, "status": status, "timestamp": strconv.FormatInt(time.Now().Unix(), 10), "recipient_id": recipient}
	if status == "failed" {
		st["errors"] = []any{map[string]any{"code": 131026, "title": "Message undeliverable"}}
	}
	return s.Change(map[string]any{"statuses": []any{st}})
}
