package api

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/linedesk/linedesk/netguard"
	"github.com/linedesk/linedesk/store"
)

// Linked records (issue 12, F105, F106, F111; seed 004): a line links to an external app that
// keeps client data; "+Связать" in a conversation posts the session to the app, which creates an
// item (a complaint, a ticket, an order) and answers its id; the conversation keeps the item.
//
// The call: POST create_url, JSON (see linkRequest), with
//
//	X-Linedesk-Timestamp: <unix seconds>
//	X-Linedesk-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>
//	Idempotency-Key: <conversation number>-<the operator's request key>
//
// (the signature as the desk's webhooks sign theirs). The app answers 2xx with {"id": "...",
// "url": "..."} (url optional: item_url_template with {id} makes it otherwise).

// convertLeadKey is the request key of the lead a conversion makes in the app (once per
// conversation); operators' keys may not start with "convert:".
const convertLeadKey = "convert:lead"

const (
	headerAppTimestamp = "X-Linedesk-Timestamp"
	headerAppSignature = "X-Linedesk-Signature"
)

func signApp(secret string, ts int64, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(strconv.FormatInt(ts, 10) + "."))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

type linkedAppBody struct {
	Name            *string   `json:"name"`
	CreateURL       *string   `json:"create_url"`
	ItemURLTemplate *string   `json:"item_url_template"`
	Kinds           *[]string `json:"kinds"`
	LineIDs         *[]int64  `json:"line_ids"`
}

func (b linkedAppBody) apply(ctx context.Context, tx *store.Store, a *store.LinkedApp, allowPrivate bool) error {
	var problems fieldErrors
	if b.Name != nil {
		a.Name = strings.TrimSpace(*b.Name)
	}
	if b.CreateURL != nil {
		a.CreateURL = strings.TrimSpace(*b.CreateURL)
	}
	if b.ItemURLTemplate != nil {
		a.ItemURLTemplate = strings.TrimSpace(*b.ItemURLTemplate)
	}
	if b.Kinds != nil {
		a.Kinds = []string{}
		for _, k := range *b.Kinds {
			if k = strings.TrimSpace(k); k != "" && !slices.Contains(a.Kinds, k) {
				a.Kinds = append(a.Kinds, k)
			}
		}
	}
	if b.LineIDs != nil {
		a.LineIDs = []int64{}
		for _, id := range *b.LineIDs {
			if !slices.Contains(a.LineIDs, id) {
				a.LineIDs = append(a.LineIDs, id)
			}
		}
		for _, id := range a.LineIDs {
			if _, err := tx.LineByID(ctx, id); errors.Is(err, store.ErrNotFound) {
				problems.add("line_ids: line %d does not exist", id)
			} else if err != nil {
				return err
			}
		}
	} else {
		a.LineIDs = nil // unchanged
	}
	if a.Name == "" || utf8.RuneCountInString(a.Name) > 100 {
		problems.add("name is required, at most 100 characters")
	}
	if err := netguard.CheckURL(ctx, a.CreateURL, allowPrivate); err != nil {
		problems.add("create_url %s", err.Error())
	}
	if t := a.ItemURLTemplate; t != "" {
		if u, err := url.Parse(strings.ReplaceAll(t, "{id}", "1")); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			problems.add("item_url_template must be an http or https address, with {id} where the item's id goes")
		}
	}
	if len(a.Kinds) == 0 || len(a.Kinds) > 20 {
		problems.add("kinds must name 1 to 20 kinds of item (complaint, ticket, order…)")
	}
	for _, k := range a.Kinds {
		if utf8.RuneCountInString(k) > 50 {
			problems.add("kinds: %q is longer than 50 characters", k)
		}
	}
	return problems.err()
}

func linkedAppSaveErr(err error) error {
	if errors.Is(err, store.ErrConflict) {
		return newError(http.StatusConflict, "conflict", "another app has this name, or one of the lines links to another app already")
	}
	return err
}

func (s *Server) listLinkedApps(c echo.Context) error {
	apps, err := s.store.LinkedApps(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"items": apps})
}

// createLinkedApp adds an app; the answer holds its signing secret, this once.
func (s *Server) createLinkedApp(c echo.Context) error {
	var b linkedAppBody
	if err := decodeJSON(c, &b); err != nil {
		return err
	}
	var out store.LinkedApp
	var secret string
	err := s.audited(c, func(ctx context.Context, tx *store.Store) (store.AuditChange, error) {
		var a store.LinkedApp
		if err := b.apply(ctx, tx, &a, s.allowPrivateCallbacks); err != nil {
			return store.AuditChange{}, err
		}
		var err error
		if out, secret, err = tx.SaveLinkedApp(ctx, a); err != nil {
			return store.AuditChange{}, linkedAppSaveErr(err)
		}
		return store.AuditChange{Entity: store.AuditLinkedApp, ID: auditID(out.ID), Action: store.AuditCreate, After: out}, nil
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, map[string]any{"app": out, "secret": secret})
}

func (s *Server) updateLinkedApp(c echo.Context) error {
	id, err := pathID(c, "app")
	if err != nil {
		return err
	}
	var b linkedAppBody
	if err := decodeJSON(c, &b); err != nil {
		return err
	}
	out, err := auditedUpdate(s, c, id, store.AuditLinkedApp, (*store.Store).LinkedAppByID,
		func(ctx context.Context, tx *store.Store, a store.LinkedApp) (store.LinkedApp, error) {
			if err := b.apply(ctx, tx, &a, s.allowPrivateCallbacks); err != nil {
				return a, err
			}
			saved, _, err := tx.SaveLinkedApp(ctx, a)
			return saved, linkedAppSaveErr(err)
		})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) deleteLinkedApp(c echo.Context) error {
	return auditedDelete(s, c, "app", store.AuditLinkedApp, (*store.Store).LinkedAppByID, (*store.Store).DeleteLinkedApp)
}

// conversationLinks answers the conversation's linked items and what its line's app offers.
func (s *Server) conversationLinks(c echo.Context) error {
	n, err := conversationNumber(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	items, err := s.store.ConversationLinks(ctx, n)
	if err != nil {
		return err
	}
	out := map[string]any{"items": items, "app": nil}
	app, _, err := s.store.ConversationApp(ctx, n)
	if err == nil {
		out["app"] = map[string]any{"id": app.ID, "name": app.Name, "kinds": app.Kinds}
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

// linkRequest is what the app receives: the session it makes an item of.
type linkRequest struct {
	Kind         string            `json:"kind"`
	Title        string            `json:"title"`
	Note         string            `json:"note,omitempty"`
	Conversation linkConversation  `json:"conversation"`
	Contact      store.ContactRef  `json:"contact"`
	Messages     []linkMessage     `json:"messages"`
	Operator     map[string]any    `json:"operator"`
	Fields       map[string]string `json:"contact_fields,omitempty"`
}

type linkConversation struct {
	Number    int64     `json:"number"`
	Title     string    `json:"title"`
	Status    string    `json:"status"`
	Line      string    `json:"line"`
	Channel   string    `json:"channel"`
	URL       string    `json:"url"`
	CreatedAt time.Time `json:"created_at"`
}

type linkMessage struct {
	At        time.Time `json:"at"`
	Direction string    `json:"direction"`
	Text      string    `json:"text"`
}

// createConversationLink is "+Связать": the app makes an item of the session, the
// conversation keeps it. With the same Idempotency-Key a retry returns the first item.
func (s *Server) createConversationLink(c echo.Context) error {
	n, err := conversationNumber(c)
	if err != nil {
		return err
	}
	var b struct {
		Kind  string `json:"kind"`
		Title string `json:"title"`
		Note  string `json:"note"`
	}
	if err := decodeJSON(c, &b); err != nil {
		return err
	}
	key := c.Request().Header.Get("Idempotency-Key")
	if len(key) > 200 || strings.HasPrefix(key, "convert:") {
		return newError(http.StatusBadRequest, "invalid_fields", `Idempotency-Key is at most 200 characters and does not start with "convert:"`)
	}
	l, made, err := s.linkItem(c.Request().Context(), n, currentUser(c), b.Kind, b.Title, b.Note, key, s.baseURL(c))
	if err != nil {
		return err
	}
	status := http.StatusOK
	if made {
		status = http.StatusCreated
	}
	return c.JSON(status, l)
}

// linkItem makes an item of the kind in the conversation's app from the session and links it
// (made false: an earlier request with the key had made it).
func (s *Server) linkItem(ctx context.Context, n int64, u store.User, kind, title, note, key, base string) (store.ConversationLink, bool, error) {
	app, secret, err := s.store.ConversationApp(ctx, n)
	if errors.Is(err, store.ErrNotFound) {
		return store.ConversationLink{}, false, newError(http.StatusConflict, "no_linked_app", "the conversation's line links to no external app; an admin links one")
	}
	if err != nil {
		return store.ConversationLink{}, false, err
	}
	var problems fieldErrors
	title, note = strings.TrimSpace(title), strings.TrimSpace(note)
	if !slices.Contains(app.Kinds, kind) {
		problems.add("kind must be one of %s", strings.Join(app.Kinds, ", "))
	}
	if utf8.RuneCountInString(title) > 200 || utf8.RuneCountInString(note) > 5000 {
		problems.add("title is at most 200 characters, note at most 5000")
	}
	if err := problems.err(); err != nil {
		return store.ConversationLink{}, false, err
	}
	var keyp *string
	if key != "" {
		keyp = &key
		if l, err := s.store.ConversationLinkByKey(ctx, n, key); err == nil {
			return l, false, nil
		} else if !errors.Is(err, store.ErrNotFound) {
			return store.ConversationLink{}, false, err
		}
	}
	rec, err := s.conversationRecord(ctx, n)
	if err != nil {
		return store.ConversationLink{}, false, err
	}
	conv := rec.conv
	if title == "" {
		title = conv.Title
	}
	req := linkRequest{Kind: kind, Title: title, Note: note, Contact: conv.Contact,
		Conversation: linkConversation{Number: n, Title: conv.Title, Status: conv.Status, URL: fmt.Sprintf("%s/conversations/%d", base, n),
			CreatedAt: conv.CreatedAt},
		Operator: map[string]any{"id": u.ID, "name": u.Name, "email": u.Email}}
	req.Conversation.Channel = conv.Channel.Name
	if l, err := s.store.LineByID(ctx, conv.LineID); err == nil {
		req.Conversation.Line = l.Name
	}
	req.Messages = []linkMessage{}
	for _, it := range rec.timeline {
		if m := it.Message; m != nil && (m.Direction == "in" || m.Direction == "out") && m.Text != "" {
			req.Messages = append(req.Messages, linkMessage{At: m.CreatedAt, Direction: m.Direction, Text: m.Text})
		}
	}
	if len(req.Messages) > 50 {
		req.Messages = req.Messages[len(req.Messages)-50:]
	}
	body, _ := json.Marshal(req) // plain data always marshals
	ts := time.Now().Unix()
	httpReq, err := http.NewRequestWithContext(ctx, http.MethodPost, app.CreateURL, bytes.NewReader(body))
	if err != nil {
		return store.ConversationLink{}, false, err
	}
	httpReq.Header.Set("Content-Type", "application/json")
	httpReq.Header.Set("User-Agent", "linedesk")
	httpReq.Header.Set(headerAppTimestamp, strconv.FormatInt(ts, 10))
	httpReq.Header.Set(headerAppSignature, signApp(secret, ts, body))
	if key != "" {
		httpReq.Header.Set("Idempotency-Key", fmt.Sprintf("%d-%s", n, key))
	}
	client := netguard.Policy{AllowPrivate: s.allowPrivateCallbacks, Timeout: 15 * time.Second}.Client()
	defer client.CloseIdleConnections()
	// What went wrong is logged for the admin; the operator learns only that the app failed: the
	// app's address, the addresses it resolves to and its answer are the admin's business.
	res, err := client.Do(httpReq)
	if err != nil {
		s.logger.Warn("linked app unreachable", "app", app.ID, "conversation", n, "error", err)
		return store.ConversationLink{}, false, newError(http.StatusBadGateway, "app_unreachable", "%s could not be reached; try again later or tell an admin", app.Name)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	if res.StatusCode < 200 || res.StatusCode > 299 {
		s.logger.Warn("linked app refused", "app", app.ID, "conversation", n, "status", res.StatusCode, "body", string(raw[:min(len(raw), 300)]))
		return store.ConversationLink{}, false, newError(http.StatusBadGateway, "app_refused", "%s refused to make the item (HTTP %d); try again later or tell an admin", app.Name, res.StatusCode)
	}
	var item struct {
		ID  json.RawMessage `json:"id"`
		URL string          `json:"url"`
	}
	if json.Unmarshal(raw, &item) != nil || len(item.ID) == 0 || string(item.ID) == "null" {
		s.logger.Warn("linked app answered without an id", "app", app.ID, "conversation", n, "body", string(raw[:min(len(raw), 300)]))
		return store.ConversationLink{}, false, newError(http.StatusBadGateway, "app_answer", `%s answered without the item's id (expected {"id": …})`, app.Name)
	}
	id := strings.Trim(string(item.ID), `"`)
	link := item.URL
	if u, err := url.Parse(link); link == "" || err != nil || (u.Scheme != "https" && u.Scheme != "http") {
		link = ""
		if app.ItemURLTemplate != "" {
			link = strings.ReplaceAll(app.ItemURLTemplate, "{id}", url.PathEscape(id))
		}
	}
	out, err := s.store.AddConversationLink(ctx, n, keyp, store.ConversationLink{AppID: &app.ID, AppName: app.Name, Kind: kind,
		ExternalID: id, Title: title, URL: link, CreatedBy: &u.ID})
	return out, true, err
}
