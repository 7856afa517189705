// Package apichanneltest is a fake integrator for tests: an HTTP server that
// receives api channel deliveries exactly as a careful integrator would.
package apichanneltest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/linedesk/linedesk/connectors/apichannel"
)

// maxBody bounds the body the fake reads.
const maxBody = 1 << 20

// Delivery is one accepted POST.
type Delivery struct {
	Outbound apichannel.Outbound
	// DeliveryID is the X-Linedesk-Delivery header.
	DeliveryID string
	// Signature is the X-Linedesk-Signature header.
	Signature string
	// Attempt is when the request arrived.
	Attempt time.Time
	// Header and Body are the request as received.
	Header http.Header
	Body   []byte
}

// Server is a fake integrator callback endpoint.
//
// Every POST is checked like a real integrator would: the signature must
// verify with the secret (else 401), the body must be JSON with
// Content-Type application/json, event "message" (or "ping", a connection
// test: answered 204 and counted in Pings), a message id equal to the
// X-Linedesk-Delivery header and a contact external_id (else 400). Refused
// requests count in Rejected; accepted ones are recorded as deliveries and
// answered 200, unless FailNext asked for a failure.
type Server struct {
	srv    *httptest.Server
	secret string

	mu         sync.Mutex
	deliveries []Delivery
	rejected   int
	pings      int
	failLeft   int
	failStatus int
}

// New starts a fake integrator that verifies signatures with secret. It is
// closed when the test ends.
func New(t testing.TB, secret string) *Server {
	t.Helper()
	s := &Server{secret: secret}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	t.Cleanup(s.srv.Close)
	return s
}

// URL is the callback URL to configure on the channel.
func (s *Server) URL() string {
	return s.srv.URL + "/linedesk/callback"
}

// FailNext makes the next n correctly signed requests fail with status,
// without recording them.
func (s *Server) FailNext(n, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failLeft = n
	s.failStatus = status
}

// Deliveries returns the accepted deliveries so far, oldest first.
func (s *Server) Deliveries() []Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Delivery(nil), s.deliveries...)
}

// Rejected is the number of requests refused for a bad signature or a body
// that does not follow the protocol.
func (s *Server) Rejected() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rejected
}

// WaitFor polls until at least n deliveries were accepted and returns them;
// it fails the test after timeout.
func (s *Server) WaitFor(t testing.TB, n int, timeout time.Duration) []Delivery {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		d := s.Deliveries()
		if len(d) >= n {
			return d
		}
		if time.Now().After(deadline) {
			t.Fatalf("apichanneltest: %d deliveries after %s, want %d (rejected %d)", len(d), timeout, n, s.Rejected())
			return nil
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	attempt := time.Now()
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		http.Error(w, "read body", http.StatusBadRequest)
		return
	}
	signature := r.Header.Get(apichannel.HeaderSignature)
	if !apichannel.VerifySignature(s.secret, body, signature) {
		s.reject()
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}

	s.mu.Lock()
	if s.failLeft > 0 {
		s.failLeft--
		status := s.failStatus
		s.mu.Unlock()
		http.Error(w, "injected failure", status)
		return
	}
	s.mu.Unlock()

	if r.Header.Get("Content-Type") != "application/json" {
		s.reject()
		http.Error(w, "content type must be application/json", http.StatusBadRequest)
		return
	}
	var out apichannel.Outbound
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&out); err != nil {
		s.reject()
		http.Error(w, "bad body: "+err.Error(), http.StatusBadRequest)
		return
	}
	deliveryID := r.Header.Get(apichannel.HeaderDelivery)
	if out.Event == apichannel.EventPing && out.Message.ID != "" && deliveryID == out.Message.ID {
		s.mu.Lock()
		s.pings++
		s.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
		return
	}
	switch {
	case out.Event != apichannel.EventMessage:
		s.reject()
		http.Error(w, "unknown event", http.StatusBadRequest)
		return
	case out.Message.ID == "" || deliveryID != out.Message.ID:
		s.reject()
		http.Error(w, "delivery header does not match message id", http.StatusBadRequest)
		return
	case out.Contact.ExternalID == "":
		s.reject()
		http.Error(w, "contact external_id missing", http.StatusBadRequest)
		return
	}

	s.mu.Lock()
	s.deliveries = append(s.deliveries, Delivery{
		Outbound:   out,
		DeliveryID: deliveryID,
		Signature:  signature,
		Attempt:    attempt,
		Header:     r.Header.Clone(),
		Body:       body,
	})
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(`{"ok":true}`))
}

// Pings is how many connection tests (event "ping") were accepted.
func (s *Server) Pings() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pings
}

func (s *Server) reject() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rejected++
}
