package apichannel

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// DefaultUserAgent is sent when Sender.UserAgent is empty.
const DefaultUserAgent = "linedesk"

const (
	// maxResponseBody is how much of a callback's answer is read.
	maxResponseBody = 4 << 10
	// maxExcerpt is how much of it goes into an error.
	maxExcerpt = 256
)

// defaultClient is used when Sender.Client is nil. It does not follow
// redirects: a callback that redirects is misconfigured, and the redirect
// could point anywhere.
var defaultClient = &http.Client{
	Timeout: 15 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	},
}

// Sender delivers outbound messages to integrators' callback URLs.
// The zero value is ready to use.
type Sender struct {
	// Client sends the requests; nil means a client with a 15 s timeout
	// that does not follow redirects.
	Client *http.Client
	// UserAgent is the User-Agent header; empty means DefaultUserAgent.
	UserAgent string
}

// Result describes the callback's answer.
type Result struct {
	// StatusCode is the HTTP status, 0 when no answer was received.
	StatusCode int
}

// PermanentError means retrying the same delivery cannot succeed: the
// callback answered a 4xx other than 408, 425 or 429 (or a 3xx), or the
// request could not be built at all (StatusCode 0).
type PermanentError struct {
	StatusCode int
	// Body is the start of the response body, for logs.
	Body string
	// Err is the reason when no request was sent.
	Err error
}

func (e *PermanentError) Error() string {
	if e.StatusCode == 0 && e.Err != nil {
		return "api channel delivery: " + e.Err.Error()
	}
	return fmt.Sprintf("api channel delivery: callback answered %d%s", e.StatusCode, excerptSuffix(e.Body))
}

func (e *PermanentError) Unwrap() error { return e.Err }

// Send POSTs m to callbackURL, signed with secret. A nil error means the
// callback answered 2xx. A *PermanentError means the caller must stop
// retrying; any other error (network failure, timeout, 408, 425, 429, 5xx)
// is worth retrying with backoff. Retries of one message carry the same
// X-Linedesk-Delivery header. An empty m.Event is sent as EventMessage.
func (s *Sender) Send(ctx context.Context, callbackURL, secret string, m Outbound) (Result, error) {
	if !isHTTPURL(callbackURL) {
		return Result{}, &PermanentError{Err: errCallbackURL}
	}
	if secret == "" {
		return Result{}, &PermanentError{Err: errors.New("channel secret is empty")}
	}
	if m.Message.ID == "" {
		return Result{}, &PermanentError{Err: errors.New("message id is empty")}
	}
	if m.Event == "" {
		m.Event = EventMessage
	}
	body, err := json.Marshal(m)
	if err != nil {
		return Result{}, &PermanentError{Err: fmt.Errorf("marshal message: %w", err)}
	}

	req, err := http.NewRequestWithContext(ctx, http.MethodPost, callbackURL, bytes.NewReader(body))
	if err != nil {
		return Result{}, &PermanentError{Err: fmt.Errorf("build request: %w", err)}
	}
	userAgent := s.UserAgent
	if userAgent == "" {
		userAgent = DefaultUserAgent
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", userAgent)
	req.Header.Set(HeaderSignature, Sign(secret, body))
	req.Header.Set(HeaderDelivery, m.Message.ID)

	client := s.Client
	if client == nil {
		client = defaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return Result{}, fmt.Errorf("api channel delivery: %w", err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, maxResponseBody))

	res := Result{StatusCode: resp.StatusCode}
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode <= 299:
		return res, nil
	case retryable(resp.StatusCode):
		return res, fmt.Errorf("api channel delivery: callback answered %d%s",
			resp.StatusCode, excerptSuffix(excerpt(answer)))
	default:
		return res, &PermanentError{StatusCode: resp.StatusCode, Body: excerpt(answer)}
	}
}

func retryable(status int) bool {
	switch status {
	case http.StatusRequestTimeout, http.StatusTooEarly, http.StatusTooManyRequests:
		return true
	}
	return status >= 500
}

// excerpt returns the start of a response body as one line of valid UTF-8.
func excerpt(b []byte) string {
	if len(b) > maxExcerpt {
		b = b[:maxExcerpt]
	}
	s := strings.ToValidUTF8(string(b), "?")
	return strings.Join(strings.Fields(s), " ")
}

func excerptSuffix(body string) string {
	if body == "" {
		return ""
	}
	return ": " + body
}
