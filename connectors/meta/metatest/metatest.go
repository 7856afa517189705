// Package metatest is a fake Graph API and webhook sender for the facebook and instagram kinds:
// it checks the page token (Authorization: Bearer or access_token), answers GET /me and
// /me/subscribed_apps, records /me/messages calls (error code 4 when asked to rate-limit), and
// verifies and posts webhooks as Meta does (hub.challenge, X-Hub-Signature-256 with the app secret).
package metatest

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
)

// Sent is one /me/messages call Meta accepted.
type Sent struct {
	Recipient     string
	MessagingType string
	Tag           string
	Message       json.RawMessage
	ID            string
}

// Server is a fake Graph API for one page (or Instagram account).
type Server struct {
	srv       *httptest.Server
	token     string
	appSecret string
	pageID    string

	mu         sync.Mutex
	sent       []Sent
	subscribed string
	limitNext  int
}

var mids atomic.Int64

// New starts a fake for the page with its token and the app's secret.
func New(t testing.TB, pageToken, appSecret, pageID string) *Server {
	t.Helper()
	s := &Server{token: pageToken, appSecret: appSecret, pageID: pageID}
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

// Subscribed returns the fields the page subscribed the app to.
func (s *Server) Subscribed() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.subscribed
}

// RateLimitNext answers the next n sends with error 4 (application request limit reached).
func (s *Server) RateLimitNext(n int) {
	s.mu.Lock()
	s.limitNext = n
	s.mu.Unlock()
}

func graphError(w http.ResponseWriter, status, code, subcode int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"message": msg, "type": "OAuthException", "code": code,
		"error_subcode": subcode, "fbtrace_id": "AbCdEf"}})
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	token := r.URL.Query().Get("access_token")
	if h, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		token = h
	}
	if token != s.token {
		graphError(w, 400, 190, 0, "Invalid OAuth access token - Cannot parse access token")
		return
	}
	path := strings.TrimPrefix(r.URL.Path, "/"+meta.APIVersion)
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case r.Method == http.MethodGet && path == "/me":
		_ = json.NewEncoder(w).Encode(map[string]any{"id": s.pageID, "name": "Shop page"})
	case r.Method == http.MethodPost && path == "/me/subscribed_apps":
		s.subscribed = r.URL.Query().Get("subscribed_fields")
		_ = json.NewEncoder(w).Encode(map[string]any{"success": true})
	case r.Method == http.MethodPost && path == "/me/messages":
		var p struct {
			Recipient struct {
				ID string `json:"id"`
			} `json:"recipient"`
			MessagingType string          `json:"messaging_type"`
			Tag           string          `json:"tag"`
			Message       json.RawMessage `json:"message"`
		}
		raw, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if json.Unmarshal(raw, &p) != nil || p.Recipient.ID == "" || len(p.Message) == 0 || p.MessagingType == "" {
			graphError(w, 400, 100, 0, "(#100) Invalid parameter")
			return
		}
		if p.MessagingType == "MESSAGE_TAG" && p.Tag == "" {
			graphError(w, 400, 100, 0, "(#100) Tag is required for MESSAGE_TAG")
			return
		}
		if s.limitNext > 0 {
			s.limitNext--
			graphError(w, 400, 4, 0, "(#4) Application request limit reached")
			return
		}
		id := "m_" + strconv.FormatInt(mids.Add(1), 10)
		s.sent = append(s.sent, Sent{Recipient: p.Recipient.ID, MessagingType: p.MessagingType, Tag: p.Tag, Message: p.Message, ID: id})
		_ = json.NewEncoder(w).Encode(map[string]any{"recipient_id": p.Recipient.ID, "message_id": id})
	case r.Method == http.MethodGet && strings.HasPrefix(path, "/") && strings.Count(path, "/") == 1 && r.URL.Query().Get("fields") != "":
		// A user profile: Messenger's first_name/last_name, Instagram's name/username.
		id := strings.TrimPrefix(path, "/")
		_ = json.NewEncoder(w).Encode(map[string]any{"id": id, "first_name": "Mila", "last_name": "K", "name": "Mila K", "username": "mila.k"})
	default:
		graphError(w, 400, 100, 0, "Unknown path components: "+path)
	}
}

// Verify makes Meta's GET verification of url with the verify token and returns status and body.
func Verify(t testing.TB, hookURL, verifyToken, challenge string) (int, string) {
	t.Helper()
	q := url.Values{"hub.mode": {"subscribe"}, "hub.verify_token": {verifyToken}, "hub.challenge": {challenge}}
	res, err := http.Get(hookURL + "?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
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

// Message is a client's message as a webhook of object ("page" or "instagram"), with its mid.
func (s *Server) Message(object, sender, text, quickReply string) ([]byte, string) {
	mid := "m_in_" + strconv.FormatInt(mids.Add(1), 10)
	msg := map[string]any{"mid": mid, "text": text}
	if quickReply != "" {
		msg["quick_reply"] = map[string]any{"payload": quickReply}
	}
	now := time.Now().UnixMilli()
	b, _ := json.Marshal(map[string]any{"object": object, "entry": []any{map[string]any{"id": s.pageID, "time": now,
		"messaging": []any{map[string]any{"sender": map[string]any{"id": sender}, "recipient": map[string]any{"id": s.pageID},
			"timestamp": now, "message": msg}}}}})
	return b, mid
}
