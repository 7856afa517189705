package api

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/linedesk/linedesk/inbound"
	"github.com/linedesk/linedesk/store"
)

// Internal clients (issue 12, F107, F023; seed 004): an employee of a chosen group writes to a
// line from inside linedesk — an internal helpdesk. The request is a chat on the line's
// "internal" channel whose client is the employee (identity "user:<id>"), handled like any
// other conversation; the desk's replies are read here ("stored is sent", as on the website).

const internalKind = "internal"

func internalIdentity(u store.User) string { return "user:" + strconv.FormatInt(u.ID, 10) }

func (s *Server) internalDesks(c echo.Context) error {
	desks, err := s.store.InternalDesks(c.Request().Context(), currentUser(c).ID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"items": desks})
}

func (s *Server) internalRequests(c echo.Context) error {
	u := currentUser(c)
	items, err := s.store.InternalRequests(c.Request().Context(), internalIdentity(u))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"items": items})
}

// createInternalRequest opens a request (or writes in the employee's chat with that desk).
func (s *Server) createInternalRequest(c echo.Context) error {
	var b struct {
		ChannelID int64  `json:"channel_id"`
		Text      string `json:"text"`
	}
	if err := decodeJSON(c, &b); err != nil {
		return err
	}
	ctx := c.Request().Context()
	desks, err := s.store.InternalDesks(ctx, currentUser(c).ID)
	if err != nil {
		return err
	}
	if !slices.ContainsFunc(desks, func(d store.InternalDesk) bool { return d.ChannelID == b.ChannelID }) {
		return newError(http.StatusBadRequest, "invalid_fields", "channel_id must be one of the desks you may write to (GET /api/v1/internal/desks)")
	}
	return s.writeInternal(c, b.ChannelID, b.Text, http.StatusCreated)
}

// writeInternalMessage writes again in one of the employee's requests.
func (s *Server) writeInternalMessage(c echo.Context) error {
	chat, err := uuid.Parse(c.Param("chat"))
	if err != nil {
		return notFoundErr("request " + c.Param("chat"))
	}
	var b struct {
		Text string `json:"text"`
	}
	if err := decodeJSON(c, &b); err != nil {
		return err
	}
	ctx := c.Request().Context()
	channel, err := s.store.InternalChatOf(ctx, chat, internalIdentity(currentUser(c)))
	if errors.Is(err, store.ErrNotFound) {
		return notFoundErr("request " + c.Param("chat"))
	}
	if err != nil {
		return err
	}
	// Still one of the desks the employee may write to (in its groups, enabled).
	desks, err := s.store.InternalDesks(ctx, currentUser(c).ID)
	if err != nil {
		return err
	}
	if !slices.ContainsFunc(desks, func(d store.InternalDesk) bool { return d.ChannelID == channel }) {
		return newError(http.StatusForbidden, "forbidden", "you may no longer write to this desk")
	}
	return s.writeInternal(c, channel, b.Text, http.StatusCreated)
}

func (s *Server) writeInternal(c echo.Context, channel int64, text string, status int) error {
	text = strings.TrimSpace(text)
	if text == "" || utf8.RuneCountInString(text) > 4096 || strings.ContainsRune(text, 0) {
		return newError(http.StatusBadRequest, "invalid_fields", "text is required, at most 4096 characters")
	}
	u := currentUser(c)
	key := c.Request().Header.Get("Idempotency-Key")
	if key == "" {
		key = uuid.NewString()
	}
	if len(key) > 200 {
		return newError(http.StatusBadRequest, "invalid_fields", "Idempotency-Key is at most 200 characters")
	}
	acc, err := s.handoff.Accept(c.Request().Context(), inbound.Message{ChannelID: channel, Kind: "internal", Key: "u:" + strconv.FormatInt(u.ID, 10) + ":" + key,
		Text: text, At: time.Now(), Contact: inbound.Contact{ExternalID: internalIdentity(u), Name: u.Name, Email: u.Email}})
	if errors.Is(err, inbound.ErrKeyReused) {
		return newError(http.StatusUnprocessableEntity, "idempotency_key_reused", "Idempotency-Key %q was already used for another message", key)
	}
	if errors.Is(err, inbound.ErrBlocked) {
		return newError(http.StatusForbidden, "contact_blocked", "the desk does not take your requests")
	}
	if err != nil {
		return err
	}
	return c.JSON(status, map[string]any{"chat_id": acc.ChatID, "message_id": acc.MessageID})
}

func (s *Server) internalMessages(c echo.Context) error {
	chat, err := uuid.Parse(c.Param("chat"))
	if err != nil {
		return notFoundErr("request " + c.Param("chat"))
	}
	ctx := c.Request().Context()
	if _, err := s.store.InternalChatOf(ctx, chat, internalIdentity(currentUser(c))); errors.Is(err, store.ErrNotFound) {
		return notFoundErr("request " + c.Param("chat"))
	} else if err != nil {
		return err
	}
	items, err := s.store.InternalMessages(ctx, chat)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"items": items})
}
