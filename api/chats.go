package api

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/linedesk/linedesk/store"
	"github.com/linedesk/linedesk/workflows"
)

// chatRoute is the chat the request names, as chatAccess found it.
func chatRoute(c echo.Context) store.ChatRoute {
	r, _ := c.Get(chatRouteKey).(store.ChatRoute)
	return r
}

func (s *Server) getChat(c echo.Context) error {
	route := chatRoute(c)
	chat, err := s.store.ChatByID(c.Request().Context(), route.ChatID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, chat)
}

func (s *Server) chatMessages(c echo.Context) error {
	route := chatRoute(c)
	msgs, err := s.store.ChatMessages(c.Request().Context(), route.ChatID, 500)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"items": msgs})
}

type automatedBody struct {
	Kind string `json:"kind"`
	Text string `json:"text"`
}

// automated takes a message from a funnel, a broadcast or an AI: sent at once, queued while a
// conversation is active (funnel, broadcast) or dropped (AI).
func (s *Server) automated(c echo.Context) error {
	// Funnels, broadcasts and AI answers come from integrations, not from operators typing.
	if role, _ := c.Get(lineRoleKey).(string); role != store.LineRoleAdmin && role != store.LineRoleSupervisor {
		return newError(http.StatusForbidden, "forbidden", "automated messages come from integrations, with an admin's or the line supervisor's token")
	}
	route := chatRoute(c)
	var b automatedBody
	if err := decodeJSON(c, &b); err != nil {
		return err
	}
	var problems fieldErrors
	switch b.Kind {
	case workflows.AutomatedTunnel, workflows.AutomatedBroadcast, workflows.AutomatedAI:
	default:
		problems.add("kind must be tunnel, broadcast or ai")
	}
	if strings.TrimSpace(b.Text) == "" {
		problems.add("text is required")
	}
	if len(b.Text) > 20000 {
		problems.add("text is longer than 20000 characters")
	}
	if err := problems.err(); err != nil {
		return err
	}
	id := messageID(c, route.ChatID.String())
	var res workflows.AutomatedResult
	if err := s.chatUpdate(c.Request().Context(), route, workflows.UpdateAutomated, "automated:"+id,
		workflows.AutomatedRequest{MessageID: id, Kind: b.Kind, Text: b.Text}, &res); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, res)
}

// writeInChat sends an operator's message in the chat outside any conversation; refused while a
// conversation is active (write inside it instead).
func (s *Server) writeInChat(c echo.Context) error {
	route := chatRoute(c)
	var b messageBody
	if err := decodeJSON(c, &b); err != nil {
		return err
	}
	if err := b.validate(true); err != nil {
		return err
	}
	id := messageID(c, route.ChatID.String())
	var res workflows.ChatWriteResult
	req := workflows.ChatWriteRequest{ActionRequest: actor(c), MessageID: id, Text: b.Text, Attachments: b.Attachments}
	ctx := c.Request().Context()
	if err := s.chatUpdate(ctx, route, workflows.UpdateChatWrite, "write:"+id, req, &res); err != nil {
		return err
	}
	return s.renderMessage(c, res.MessageID)
}

// messageID derives a message id from the Idempotency-Key (one message per key), or makes one.
func messageID(c echo.Context, scope string) string {
	if k := c.Request().Header.Get("Idempotency-Key"); k != "" {
		return uuid.NewSHA1(uuid.NameSpaceURL, []byte("linedesk:"+scope+":"+k)).String()
	}
	return uuid.Must(uuid.NewV7()).String()
}

func (s *Server) listTasks(c echo.Context) error {
	who := c.QueryParam("assignee")
	if who != "" && who != "me" {
		return badRequest("assignee must be me")
	}
	status := c.QueryParam("status")
	if status != "" && status != store.TaskOpen && status != store.TaskDone {
		return newError(http.StatusBadRequest, "invalid_fields", "status must be open or done")
	}
	tasks, err := s.store.TasksOf(c.Request().Context(), currentUser(c).ID, status)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"items": tasks})
}

// completeTask marks one of the signed-in user's tasks done; another user's task does not exist
// for them.
func (s *Server) completeTask(c echo.Context) error {
	id, err := pathID(c, "task")
	if err != nil {
		return err
	}
	t, err := s.store.CompleteTask(c.Request().Context(), currentUser(c).ID, id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return notFoundErr("task " + strconv.FormatInt(id, 10))
	case errors.Is(err, store.ErrConflict):
		return newError(http.StatusConflict, "task_done", "task %d is done already", id)
	case err != nil:
		return err
	}
	return c.JSON(http.StatusOK, t)
}

func (s *Server) listNotifications(c echo.Context) error {
	unread := c.QueryParam("unread")
	if unread != "" && unread != "true" && unread != "false" {
		return badRequest("unread must be true or false")
	}
	ctx := c.Request().Context()
	list, err := s.store.NotificationsOf(ctx, currentUser(c).ID, unread == "true")
	if err != nil {
		return err
	}
	n, err := s.store.UnreadNotifications(ctx, currentUser(c).ID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"items": list, "unread": n})
}

type readBody struct {
	IDs []int64 `json:"ids"`
	All bool    `json:"all"`
}

// markNotificationsRead marks the signed-in user's notifications read: {"ids":[…]} or {"all":true}.
func (s *Server) markNotificationsRead(c echo.Context) error {
	var b readBody
	if err := decodeJSON(c, &b); err != nil {
		return err
	}
	if b.All == (b.IDs != nil) {
		return badRequest("send either ids or all: true")
	}
	if len(b.IDs) > 1000 {
		return badRequest("at most 1000 ids at a time")
	}
	ids := b.IDs
	if b.All {
		ids = nil
	}
	ctx := c.Request().Context()
	marked, err := s.store.MarkNotificationsRead(ctx, currentUser(c).ID, ids)
	if err != nil {
		return err
	}
	n, err := s.store.UnreadNotifications(ctx, currentUser(c).ID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"marked": marked, "unread": n})
}
