package api

import (
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/linedesk/linedesk/store"
	"github.com/linedesk/linedesk/workflows"
)

// The supervisor's views (seed 002): the conversations in progress on their lines and how each
// operator is doing today. Admins see every line; a supervisor the lines they supervise.

// supervisedLines is nil for admins (every line), else the lines the user supervises.
func (s *Server) supervisedLines(c echo.Context) ([]int64, error) {
	u := currentUser(c)
	if u.Role == store.RoleAdmin {
		return nil, nil
	}
	a, err := s.store.AccessOf(c.Request().Context(), u.ID)
	if err != nil {
		return nil, err
	}
	return append([]int64{}, a.SupervisorLines...), nil
}

func (s *Server) supervisorConversations(c echo.Context) error {
	lines, err := s.supervisedLines(c)
	if err != nil {
		return err
	}
	var problems fieldErrors
	f := store.SupervisorFilter{Lines: lines, Statuses: []string{workflows.StatusActive}, Sort: "duration", Limit: 200}
	f.Line = queryInt(c.QueryParam("line"), "line", &problems)
	f.Channel = queryInt(c.QueryParam("channel"), "channel", &problems)
	f.Operator = queryInt(c.QueryParam("operator"), "operator", &problems)
	// status is one open status or several, comma-separated (the board's "all open").
	if v := c.QueryParam("status"); v != "" {
		f.Statuses = dedupe(strings.Split(v, ","))
		for _, st := range f.Statuses {
			if !slices.Contains([]string{workflows.StatusQueued, workflows.StatusActive, workflows.StatusPaused}, st) {
				problems.add("status must be queued, active or paused, or several of them comma-separated")
				break
			}
		}
	}
	if v := c.QueryParam("sort"); v != "" {
		if !slices.Contains([]string{"duration", "activity", "created"}, v) {
			problems.add("sort must be duration, activity or created")
		}
		f.Sort = v
	}
	if n := queryInt(c.QueryParam("limit"), "limit", &problems); n > 500 {
		problems.add("limit must be at most 500")
	} else if n > 0 {
		f.Limit = int(n)
	}
	if err := problems.err(); err != nil {
		return err
	}
	if f.Line != 0 && lines != nil && !slices.Contains(lines, f.Line) {
		return notFoundErr("line " + c.QueryParam("line") + " among the lines you supervise")
	}
	items, err := s.store.SupervisedConversations(c.Request().Context(), f)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"items": items})
}

func (s *Server) supervisorOperators(c echo.Context) error {
	lines, err := s.supervisedLines(c)
	if err != nil {
		return err
	}
	var problems fieldErrors
	if line := queryInt(c.QueryParam("line"), "line", &problems); line != 0 {
		if lines != nil && !slices.Contains(lines, line) {
			return notFoundErr("line " + c.QueryParam("line") + " among the lines you supervise")
		}
		lines = []int64{line}
	}
	if err := problems.err(); err != nil {
		return err
	}
	items, err := s.store.SupervisedOperators(c.Request().Context(), lines)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"items": items})
}

// conversationOperators lists the operators of the conversation's line — the people it can be
// transferred or assigned to — for anyone who sees the conversation, operators included. Their
// performance figures stay on the supervisor board.
func (s *Server) conversationOperators(c echo.Context) error {
	line, _ := c.Get(lineKey).(int64)
	items, err := s.store.LineColleagues(c.Request().Context(), line)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"items": items})
}
