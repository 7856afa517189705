package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"strconv"
	"strings"
	"time"
)

// httpAPI talks to linedesk's public HTTP API as an operator (cookie session) and as a channel
// (inbound token).
type httpAPI struct {
	base    string
	session *http.Client // signed in as the admin
	plain   *http.Client // no cookies: inbound messages, metrics
}

func newHTTPAPI(base string) *httpAPI {
	transport := &http.Transport{MaxIdleConns: 1024, MaxIdleConnsPerHost: 1024, IdleConnTimeout: time.Minute}
	jar, _ := cookiejar.New(nil)
	return &httpAPI{
		base:    base,
		session: &http.Client{Jar: jar, Transport: transport, Timeout: 60 * time.Second},
		plain:   &http.Client{Transport: transport, Timeout: 60 * time.Second},
	}
}

// statusError is an answer with an unexpected status.
type statusError struct {
	Method, Path string
	Status       int
	Body         string
}

func (e *statusError) Error() string {
	return fmt.Sprintf("%s %s: %d %s", e.Method, e.Path, e.Status, strings.TrimSpace(e.Body))
}

// do sends a JSON request and decodes a JSON answer into out (if not nil); an answer other than
// want is a *statusError.
func (a *httpAPI) do(ctx context.Context, c *http.Client, method, path string, body any, header map[string]string, want int, out any) error {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, r)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := c.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(res.Body, 16<<20))
	if err != nil {
		return err
	}
	if res.StatusCode != want {
		if len(raw) > 300 {
			raw = raw[:300]
		}
		return &statusError{Method: method, Path: path, Status: res.StatusCode, Body: string(raw)}
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return fmt.Errorf("%s %s: decode answer: %w", method, path, err)
		}
	}
	return nil
}

// doRaw sends a GET-like request and reads the whole answer, whatever its type, reporting its size.
func (a *httpAPI) doRaw(ctx context.Context, c *http.Client, method, path string, want int, size *int) error {
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, nil)
	if err != nil {
		return err
	}
	res, err := c.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	n, err := io.Copy(io.Discard, res.Body)
	if err != nil {
		return err
	}
	if res.StatusCode != want {
		return &statusError{Method: method, Path: path, Status: res.StatusCode}
	}
	*size = int(n)
	return nil
}

func (a *httpAPI) login(ctx context.Context, email, password string) (int64, error) {
	if err := a.do(ctx, a.session, http.MethodPost, "/api/v1/auth/login", map[string]string{"email": email, "password": password}, nil, http.StatusOK, nil); err != nil {
		return 0, fmt.Errorf("sign in: %w", err)
	}
	var me struct {
		User struct {
			ID int64 `json:"id"`
		} `json:"user"`
	}
	if err := a.do(ctx, a.session, http.MethodGet, "/api/v1/me", nil, nil, http.StatusOK, &me); err != nil {
		return 0, err
	}
	return me.User.ID, nil
}

func (a *httpAPI) createLine(ctx context.Context, name string) (int64, error) {
	var line struct {
		ID int64 `json:"id"`
	}
	err := a.do(ctx, a.session, http.MethodPost, "/api/v1/lines", map[string]any{"name": name, "auto_open": true}, nil, http.StatusCreated, &line)
	return line.ID, err
}

// apiChannel is an `api` channel the bench writes to.
type apiChannel struct {
	ID    int64
	Token string
}

func (a *httpAPI) createChannel(ctx context.Context, lineID int64, name, callbackURL string) (apiChannel, error) {
	var ch struct {
		Channel struct {
			ID int64 `json:"id"`
		} `json:"channel"`
		InboundToken string `json:"inbound_token"`
	}
	err := a.do(ctx, a.session, http.MethodPost, "/api/v1/channels", map[string]any{"kind": "api", "name": name, "line_id": lineID,
		"settings": map[string]string{"callback_url": callbackURL}}, nil, http.StatusCreated, &ch)
	return apiChannel{ID: ch.Channel.ID, Token: ch.InboundToken}, err
}

// inbound sends one client message and returns the message id from the 202 answer. It never
// relies on the answer's conversation, which may be null while the chat routes it.
func (a *httpAPI) inbound(ctx context.Context, ch apiChannel, externalID, key, text string) (string, error) {
	var res struct {
		MessageID string `json:"message_id"`
	}
	err := a.do(ctx, a.plain, http.MethodPost, "/api/v1/channels/"+strconv.FormatInt(ch.ID, 10)+"/inbound",
		map[string]any{"contact": map[string]string{"external_id": externalID}, "text": text},
		map[string]string{"Authorization": "Bearer " + ch.Token, "Idempotency-Key": key}, http.StatusAccepted, &res)
	if err == nil && res.MessageID == "" {
		err = fmt.Errorf("inbound answer without message_id")
	}
	return res.MessageID, err
}

// metric reads one unlabelled value from /metrics.
func (a *httpAPI) metric(ctx context.Context, name string) (float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.base+"/metrics", nil)
	if err != nil {
		return 0, err
	}
	res, err := a.plain.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			return strconv.ParseFloat(strings.TrimSpace(v), 64)
		}
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, fmt.Errorf("/metrics has no %s", name)
}

// startSink answers the bench channels' callbacks (the operators' outbound messages) with 200.
func startSink() (string, func(), error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusOK)
	})}
	go func() { _ = srv.Serve(l) }()
	return "http://" + l.Addr().String() + "/hook", func() { _ = srv.Close() }, nil
}
