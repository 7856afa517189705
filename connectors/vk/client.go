package vk

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Client calls VK API methods with a community token.
type Client struct {
	BaseURL string
	Token   string
	HTTP    *http.Client
}

var defaultHTTP = &http.Client{Timeout: 15 * time.Second}

// APIError is a method's refusal ({"error":{"error_code":…,"error_msg":…}}, with HTTP 200).
type APIError struct {
	Code    int
	Message string
}

func (e *APIError) Error() string { return fmt.Sprintf("vk: error %d %s", e.Code, e.Message) }

// Temporary reports whether repeating later can succeed: 6 too many requests per second, 9 flood
// control, 10 an internal error.
func (e *APIError) Temporary() bool { return e.Code == 6 || e.Code == 9 || e.Code == 10 }

// call POSTs a method's parameters as a form (the token in the Authorization header, never in
// the URL) and decodes "response" into out.
func (c *Client) call(ctx context.Context, method string, params url.Values, out any) error {
	base := c.BaseURL
	if base == "" {
		base = DefaultBaseURL
	}
	params.Set("v", APIVersion)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(base, "/")+"/method/"+method, strings.NewReader(params.Encode()))
	if err != nil {
		return fmt.Errorf("vk %s: %w", method, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Bearer "+c.Token)
	h := c.HTTP
	if h == nil {
		h = defaultHTTP
	}
	res, err := h.Do(req)
	if err != nil {
		return fmt.Errorf("vk %s: %w", method, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("vk %s: read answer: %w", method, err)
	}
	if res.StatusCode != http.StatusOK {
		return &APIError{Code: 10, Message: fmt.Sprintf("HTTP %d", res.StatusCode)}
	}
	var r struct {
		Response json.RawMessage `json:"response"`
		Error    *struct {
			Code    int    `json:"error_code"`
			Message string `json:"error_msg"`
		} `json:"error"`
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		return fmt.Errorf("vk %s: the answer is not JSON", method)
	}
	if r.Error != nil {
		return &APIError{Code: r.Error.Code, Message: r.Error.Message}
	}
	if out != nil {
		if err := json.Unmarshal(r.Response, out); err != nil {
			return fmt.Errorf("vk %s: %w", method, err)
		}
	}
	return nil
}

// Button is a keyboard button that answers with Payload.
type Button struct {
	Label   string
	Payload string
}

// Outgoing is what messages.send sends.
type Outgoing struct {
	PeerID   int64
	RandomID int64
	Text     string
	// Buttons, when set, are a one-time keyboard under the message (CSAT).
	Buttons []Button
	ReplyTo int64
	// Attachments are uploaded media ("photo<owner>_<id>_<key>", "doc<owner>_<id>").
	Attachments []string
}

// keyboard is a one-time keyboard of text buttons, one row, their payloads {"button": …}.
func keyboard(buttons []Button) string {
	colors := []string{"negative", "secondary", "positive"}
	var row []map[string]any
	for i, b := range buttons {
		payload, _ := json.Marshal(map[string]string{"button": b.Payload})
		color := "secondary"
		if len(buttons) == 3 {
			color = colors[i]
		}
		label := b.Label
		if r := []rune(label); len(r) > 40 {
			label = string(r[:40])
		}
		row = append(row, map[string]any{"action": map[string]any{"type": "text", "label": label, "payload": string(payload)}, "color": color})
	}
	k, _ := json.Marshal(map[string]any{"one_time": true, "buttons": [][]map[string]any{row}})
	return string(k)
}

// Send sends a message and returns its id.
func (c *Client) Send(ctx context.Context, m Outgoing) (int64, error) {
	p := url.Values{"peer_id": {strconv.FormatInt(m.PeerID, 10)}, "random_id": {strconv.FormatInt(m.RandomID, 10)},
		"message": {m.Text}, "dont_parse_links": {"1"}}
	if len(m.Buttons) > 0 {
		p.Set("keyboard", keyboard(m.Buttons))
	}
	if m.ReplyTo != 0 {
		p.Set("reply_to", strconv.FormatInt(m.ReplyTo, 10))
	}
	if len(m.Attachments) > 0 {
		p.Set("attachment", strings.Join(m.Attachments, ","))
	}
	var id int64
	err := c.call(ctx, "messages.send", p, &id)
	return id, err
}

// Group is a community.
type Group struct {
	ID         int64  `json:"id"`
	Name       string `json:"name"`
	ScreenName string `json:"screen_name"`
}

// GroupByID checks the token and names the community.
func (c *Client) GroupByID(ctx context.Context, groupID int64) (Group, error) {
	var out struct {
		Groups []Group `json:"groups"`
	}
	if err := c.call(ctx, "groups.getById", url.Values{"group_id": {strconv.FormatInt(groupID, 10)}}, &out); err != nil {
		return Group{}, err
	}
	if len(out.Groups) == 0 {
		return Group{}, fmt.Errorf("vk groups.getById: no community %d", groupID)
	}
	return out.Groups[0], nil
}

// ConfirmationCode asks for the string the Callback API's confirmation must be answered with.
func (c *Client) ConfirmationCode(ctx context.Context, groupID int64) (string, error) {
	var out struct {
		Code string `json:"code"`
	}
	err := c.call(ctx, "groups.getCallbackConfirmationCode", url.Values{"group_id": {strconv.FormatInt(groupID, 10)}}, &out)
	return out.Code, err
}

// User is a VK user's name.
type User struct {
	ID        int64  `json:"id"`
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
}

// User reads a user's name (users.get works with a community token).
func (c *Client) User(ctx context.Context, id int64) (User, error) {
	var out []User
	if err := c.call(ctx, "users.get", url.Values{"user_ids": {strconv.FormatInt(id, 10)}}, &out); err != nil {
		return User{}, err
	}
	if len(out) == 0 {
		return User{}, fmt.Errorf("vk users.get: no user %d", id)
	}
	return out[0], nil
}

// Upload puts a file into VK for a message to peer and returns the attachment naming it: a
// picture through photos.getMessagesUploadServer and photos.saveMessagesPhoto, anything else as a
// document through docs.getMessagesUploadServer and docs.save (VK shows only uploaded media).
func (c *Client) Upload(ctx context.Context, peer int64, name, contentType string, data []byte) (string, error) {
	photo := contentType == "image/jpeg" || contentType == "image/png" || contentType == "image/gif"
	method, field := "docs.getMessagesUploadServer", "file"
	params := url.Values{"peer_id": {strconv.FormatInt(peer, 10)}, "type": {"doc"}}
	if photo {
		method, field = "photos.getMessagesUploadServer", "photo"
		params.Del("type")
	}
	var server struct {
		UploadURL string `json:"upload_url"`
	}
	if err := c.call(ctx, method, params, &server); err != nil {
		return "", err
	}
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	part, err := w.CreateFormFile(field, name)
	if err != nil {
		return "", err
	}
	_, _ = part.Write(data)
	_ = w.Close()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, server.UploadURL, &body)
	if err != nil {
		return "", fmt.Errorf("vk upload: %w", err)
	}
	req.Header.Set("Content-Type", w.FormDataContentType())
	h := c.HTTP
	if h == nil {
		h = defaultHTTP
	}
	res, err := h.Do(req)
	if err != nil {
		return "", fmt.Errorf("vk upload: %w", err)
	}
	defer res.Body.Close()
	var up struct {
		Server int64  `json:"server"`
		Photo  string `json:"photo"`
		Hash   string `json:"hash"`
		File   string `json:"file"`
		Error  string `json:"error"`
	}
	if err := json.NewDecoder(io.LimitReader(res.Body, 1<<20)).Decode(&up); err != nil || res.StatusCode != http.StatusOK || up.Error != "" {
		return "", fmt.Errorf("vk upload: HTTP %d %s", res.StatusCode, up.Error)
	}
	if photo {
		var saved []struct {
			ID        int64  `json:"id"`
			OwnerID   int64  `json:"owner_id"`
			AccessKey string `json:"access_key"`
		}
		if err := c.call(ctx, "photos.saveMessagesPhoto", url.Values{"server": {strconv.FormatInt(up.Server, 10)}, "photo": {up.Photo},
			"hash": {up.Hash}}, &saved); err != nil {
			return "", err
		}
		if len(saved) == 0 {
			return "", errors.New("vk photos.saveMessagesPhoto: no photo")
		}
		a := fmt.Sprintf("photo%d_%d", saved[0].OwnerID, saved[0].ID)
		if saved[0].AccessKey != "" {
			a += "_" + saved[0].AccessKey
		}
		return a, nil
	}
	var doc struct {
		Doc struct {
			ID      int64 `json:"id"`
			OwnerID int64 `json:"owner_id"`
		} `json:"doc"`
	}
	if err := c.call(ctx, "docs.save", url.Values{"file": {up.File}, "title": {name}}, &doc); err != nil {
		return "", err
	}
	return fmt.Sprintf("doc%d_%d", doc.Doc.OwnerID, doc.Doc.ID), nil
}
