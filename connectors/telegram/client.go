package telegram

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Client calls the Bot API of one bot.
type Client struct {
	// BaseURL is the Bot API's address (DefaultBaseURL when empty).
	BaseURL string
	// Token is the bot's token from @BotFather.
	Token string
	// HTTP sends the requests (a client with a 15 s timeout when nil).
	HTTP *http.Client
}

var defaultHTTP = &http.Client{Timeout: 15 * time.Second}

func (c *Client) base() string {
	if c.BaseURL == "" {
		return DefaultBaseURL
	}
	return strings.TrimRight(c.BaseURL, "/")
}

func (c *Client) http() *http.Client {
	if c.HTTP == nil {
		return defaultHTTP
	}
	return c.HTTP
}

type response struct {
	OK          bool            `json:"ok"`
	Result      json.RawMessage `json:"result"`
	ErrorCode   int             `json:"error_code"`
	Description string          `json:"description"`
	Parameters  *struct {
		RetryAfter int `json:"retry_after"`
	} `json:"parameters"`
}

// call POSTs params as JSON to method and decodes the result into out (when not nil).
func (c *Client) call(ctx context.Context, method string, params, out any) error {
	body, err := json.Marshal(params)
	if err != nil {
		return fmt.Errorf("telegram %s: %w", method, err)
	}
	return c.do(ctx, method, "application/json", body, out)
}

// do POSTs body to method and decodes the result into out (when not nil).
func (c *Client) do(ctx context.Context, method, contentType string, body []byte, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base()+"/bot"+c.Token+"/"+method, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("telegram %s: %s", method, redact(err.Error(), c.Token))
	}
	req.Header.Set("Content-Type", contentType)
	res, err := c.http().Do(req)
	if err != nil {
		// The token is in the URL: keep it out of errors and logs (the cause stays inspectable).
		return &callError{method: method, msg: redact(err.Error(), c.Token), cause: causeOf(err)}
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("telegram %s: read answer: %w", method, err)
	}
	var r response
	if err := json.Unmarshal(raw, &r); err != nil {
		return &APIError{Code: res.StatusCode, Description: "the answer is not Bot API JSON"}
	}
	if !r.OK {
		e := &APIError{Code: r.ErrorCode, Description: r.Description}
		if e.Code == 0 {
			e.Code = res.StatusCode
		}
		if r.Parameters != nil && r.Parameters.RetryAfter > 0 {
			e.RetryAfter = time.Duration(r.Parameters.RetryAfter) * time.Second
		}
		return e
	}
	if out != nil {
		if err := json.Unmarshal(r.Result, out); err != nil {
			return fmt.Errorf("telegram %s: result: %w", method, err)
		}
	}
	return nil
}

func redact(s, token string) string {
	if token == "" {
		return s
	}
	return strings.ReplaceAll(s, token, "<token>")
}

// Button is an inline keyboard button answering with callback data (1-64 bytes).
type Button struct {
	Text string `json:"text"`
	Data string `json:"callback_data"`
}

// Message is what sendMessage sends.
type Message struct {
	ChatID string
	Text   string
	// Buttons, when set, are one row of inline buttons under the text (CSAT).
	Buttons []Button
	// ReplyTo is the message_id this one answers (0: none).
	ReplyTo int64
}

// SendMessage sends a text message and returns its message_id. Telegram has no idempotency
// key: a retry after a timeout may deliver twice, so the caller retries only refusals that say
// nothing was sent (an *APIError).
func (c *Client) SendMessage(ctx context.Context, m Message) (int64, error) {
	chatID, err := strconv.ParseInt(m.ChatID, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("telegram sendMessage: chat id %q is not a number", m.ChatID)
	}
	params := map[string]any{"chat_id": chatID, "text": m.Text}
	if len(m.Buttons) > 0 {
		params["reply_markup"] = map[string]any{"inline_keyboard": [][]Button{m.Buttons}}
	}
	if m.ReplyTo != 0 {
		params["reply_parameters"] = map[string]any{"message_id": m.ReplyTo, "allow_sending_without_reply": true}
	}
	var sent struct {
		MessageID int64 `json:"message_id"`
	}
	if err := c.call(ctx, "sendMessage", params, &sent); err != nil {
		return 0, err
	}
	return sent.MessageID, nil
}

// AnswerCallbackQuery stops the client's button spinner, optionally with a short notice.
func (c *Client) AnswerCallbackQuery(ctx context.Context, id, text string) error {
	params := map[string]any{"callback_query_id": id}
	if text != "" {
		params["text"] = text
	}
	return c.call(ctx, "answerCallbackQuery", params, nil)
}

// SetWebhook points the bot's updates at url, each carrying secret in HeaderSecret. Only the
// updates a desk reads are asked for.
func (c *Client) SetWebhook(ctx context.Context, url, secret string) error {
	if !ValidSecret(secret) {
		return fmt.Errorf("telegram setWebhook: the secret must be 1-256 of A-Z, a-z, 0-9, _ and -")
	}
	return c.call(ctx, "setWebhook", map[string]any{"url": url, "secret_token": secret,
		"allowed_updates": []string{"message", "callback_query"}}, nil)
}

// DeleteWebhook stops webhook delivery (a disconnected channel).
func (c *Client) DeleteWebhook(ctx context.Context) error {
	return c.call(ctx, "deleteWebhook", map[string]any{}, nil)
}

// Me is getMe's answer: the bot itself (the connect step shows its @username).
type Me struct {
	ID       int64  `json:"id"`
	Username string `json:"username"`
	Name     string `json:"first_name"`
}

// GetMe checks the token and names the bot.
func (c *Client) GetMe(ctx context.Context) (Me, error) {
	var me Me
	err := c.call(ctx, "getMe", map[string]any{}, &me)
	return me, err
}

// Download fetches a file by its file_id (getFile, then the file path), refusing more than max
// bytes. Telegram serves bots files of up to 20 MB.
func (c *Client) Download(ctx context.Context, fileID string, max int64) ([]byte, error) {
	var f struct {
		FileSize int64  `json:"file_size"`
		FilePath string `json:"file_path"`
	}
	if err := c.call(ctx, "getFile", map[string]any{"file_id": fileID}, &f); err != nil {
		return nil, err
	}
	if f.FilePath == "" {
		return nil, fmt.Errorf("telegram getFile: no file_path (the file is too big for the Bot API)")
	}
	if f.FileSize > max {
		return nil, fmt.Errorf("telegram file: %d bytes, more than %d: %w", f.FileSize, max, errTooLarge)
	}
	u := c.base() + "/file/bot" + c.Token + "/" + (&url.URL{Path: f.FilePath}).EscapedPath()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("telegram file: %s", redact(err.Error(), c.Token))
	}
	res, err := c.http().Do(req)
	if err != nil {
		return nil, fmt.Errorf("telegram file: %s", redact(err.Error(), c.Token))
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, &APIError{Code: res.StatusCode, Description: "file download refused"}
	}
	data, err := io.ReadAll(io.LimitReader(res.Body, max+1))
	if err != nil {
		return nil, fmt.Errorf("telegram file: %w", err)
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("telegram file: more than %d bytes: %w", max, errTooLarge)
	}
	return data, nil
}

var errTooLarge = errors.New("larger than the limit")

// Document is a file sendDocument uploads.
type Document struct {
	ChatID      string
	Name        string
	ContentType string
	Data        []byte
	Caption     string
	Buttons     []Button
}

// SendDocument uploads a file to the chat (multipart/form-data) and returns its message_id.
func (c *Client) SendDocument(ctx context.Context, d Document) (int64, error) {
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	_ = w.WriteField("chat_id", d.ChatID)
	if d.Caption != "" {
		_ = w.WriteField("caption", d.Caption)
	}
	if len(d.Buttons) > 0 {
		markup, _ := json.Marshal(map[string]any{"inline_keyboard": [][]Button{d.Buttons}})
		_ = w.WriteField("reply_markup", string(markup))
	}
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", mime.FormatMediaType("form-data", map[string]string{"name": "document", "filename": d.Name}))
	ct := d.ContentType
	if ct == "" {
		ct = "application/octet-stream"
	}
	h.Set("Content-Type", ct)
	part, err := w.CreatePart(h)
	if err != nil {
		return 0, fmt.Errorf("telegram sendDocument: %w", err)
	}
	_, _ = part.Write(d.Data)
	if err := w.Close(); err != nil {
		return 0, fmt.Errorf("telegram sendDocument: %w", err)
	}
	var sent struct {
		MessageID int64 `json:"message_id"`
	}
	if err := c.do(ctx, "sendDocument", w.FormDataContentType(), body.Bytes(), &sent); err != nil {
		return 0, err
	}
	return sent.MessageID, nil
}

// callError is a call that got no answer; its message has the token redacted.
type callError struct {
	method, msg string
	cause       error
}

func (e *callError) Error() string { return "telegram " + e.method + ": " + e.msg }
func (e *callError) Unwrap() error { return e.cause }

// causeOf keeps the network error under a failed request (it names no URL, so no token), for
// telling a refused connection from a timeout.
func causeOf(err error) error {
	var op *net.OpError
	if errors.As(err, &op) {
		return &net.OpError{Op: op.Op, Net: op.Net, Err: op.Err}
	}
	return nil
}

// Updates is a getUpdates answer: the updates in order, each as Telegram sent it.
type Updates []json.RawMessage

// GetUpdates long-polls for updates from offset (the last handled update_id + 1), waiting up
// to wait for the first one. It needs an HTTP client whose timeout exceeds wait.
func (c *Client) GetUpdates(ctx context.Context, offset int64, wait time.Duration) (Updates, error) {
	var out Updates
	err := c.call(ctx, "getUpdates", map[string]any{"offset": offset, "timeout": int(wait / time.Second),
		"allowed_updates": []string{"message", "callback_query"}}, &out)
	return out, err
}

// UpdateID reads an update's update_id.
func UpdateID(update json.RawMessage) (int64, bool) {
	var u struct {
		UpdateID *int64 `json:"update_id"`
	}
	if json.Unmarshal(update, &u) != nil || u.UpdateID == nil {
		return 0, false
	}
	return *u.UpdateID, true
}
