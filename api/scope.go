package api

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/linedesk/linedesk/store"
)

// lineRoleKey holds the signed-in user's role on the line of the conversation or chat a
// request names (store.LineRole*); the workflows judge actions by it.
const lineRoleKey = "linedesk.line_role"

// lineKey holds the line of the conversation a request names.
const lineKey = "linedesk.line"

// chatRouteKey holds the chat a request names (store.ChatRoute).
const chatRouteKey = "linedesk.chat_route"

// conversationAccess lets through only users who may see the conversation in the path; to
// everyone else it does not exist (404), so numbers of other lines' conversations tell nothing.
func (s *Server) conversationAccess(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		n, err := conversationNumber(c)
		if err != nil {
			return err
		}
		role, line, err := s.conversationRole(c.Request().Context(), n, currentUser(c))
		if err != nil {
			return err
		}
		c.Set(lineRoleKey, role)
		c.Set(lineKey, line)
		return next(c)
	}
}

// conversationRole is the user's role on conversation n and its line; 404 when they may not
// see it. The route rule and the bulk actions judge each conversation by it.
func (s *Server) conversationRole(ctx context.Context, n int64, u store.User) (string, int64, error) {
	a, err := s.store.ConversationAccessOf(ctx, n, u.ID)
	if errors.Is(err, store.ErrNotFound) {
		return "", 0, notFoundErr("conversation #" + strconv.FormatInt(n, 10))
	}
	if err != nil {
		return "", 0, err
	}
	role := a.Role(u.Role)
	if role == store.LineRoleNone {
		return "", 0, notFoundErr("conversation #" + strconv.FormatInt(n, 10))
	}
	return role, a.LineID, nil
}

// checkWorksOnLine refuses to hand a conversation of the line to a user who does not work on
// it (an admin always does).
func (s *Server) checkWorksOnLine(ctx context.Context, line int64, field string, userID int64) error {
	ok, err := s.store.WorksOnLine(ctx, userID, line)
	if err != nil {
		return err
	}
	if !ok {
		return newError(http.StatusBadRequest, "invalid_fields", "%s %d does not work on line %d", field, userID, line)
	}
	return nil
}

// chatAccess lets through only users of the chat's line (and admins).
func (s *Server) chatAccess(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := uuid.Parse(c.Param("id"))
		if err != nil {
			return notFoundErr("chat " + c.Param("id"))
		}
		route, role, err := s.store.ChatLineRole(c.Request().Context(), id, currentUser(c))
		if errors.Is(err, store.ErrNotFound) || (err == nil && role == store.LineRoleNone) {
			return notFoundErr("chat " + c.Param("id"))
		}
		if err != nil {
			return err
		}
		c.Set(lineRoleKey, role)
		c.Set(chatRouteKey, route)
		return next(c)
	}
}

// lineSupervisor lets through an admin or a supervisor of the line in the path.
func (s *Server) lineSupervisor(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		u := currentUser(c)
		if u.Role == store.RoleAdmin {
			return next(c)
		}
		id, err := pathID(c, "line")
		if err != nil {
			return err
		}
		a, err := s.store.AccessOf(c.Request().Context(), u.ID)
		if err != nil {
			return err
		}
		if !slices.Contains(a.SupervisorLines, id) {
			return newError(http.StatusForbidden, "forbidden", "only an admin or a supervisor of line %d may change it", id)
		}
		return next(c)
	}
}

// listScope is the scope of the signed-in user's lists: nil for an admin (everything).
func (s *Server) listScope(c echo.Context) (*store.ListScope, error) {
	u := currentUser(c)
	if u.Role == store.RoleAdmin {
		return nil, nil
	}
	return s.store.ListScopeOf(c.Request().Context(), u.ID)
}
