package api

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/linedesk/linedesk/store"
	"github.com/linedesk/linedesk/workflows"
)

// Presence (seed 002, "Статус оператора"): operators say whether they are online, away or
// offline; the admin may forbid going offline while the operator still holds conversations in
// chosen statuses ("Запрещать переводить статус пользователя в «Не в сети», если у сотрудника
// есть заявки в статусах").

const presenceSettingsKey = "presence"

// PresenceSettings are the desk's presence rules.
type PresenceSettings struct {
	// OfflineBlockedBy lists the statuses of an operator's own conversations that keep them from
	// going offline; empty allows it always.
	OfflineBlockedBy []string `json:"offline_blocked_by"`
}

func defaultPresenceSettings() PresenceSettings {
	return PresenceSettings{OfflineBlockedBy: []string{workflows.StatusActive, workflows.StatusPaused}}
}

var presences = []string{"online", "away", "offline"}

// openStatuses are the statuses a conversation someone holds can be in.
var openStatuses = []string{workflows.StatusQueued, workflows.StatusActive, workflows.StatusPaused}

// presenceSettings reads the desk's presence rules, the defaults until an admin saves them.
func (s *Server) presenceSettings(ctx context.Context) (PresenceSettings, error) {
	return presenceSettingsIn(ctx, s.store)
}

// presenceSettingsIn reads the presence rules from st (the store or a change's transaction).
func presenceSettingsIn(ctx context.Context, st *store.Store) (PresenceSettings, error) {
	ps := defaultPresenceSettings()
	_, err := st.Setting(ctx, presenceSettingsKey, &ps)
	return ps, err
}

func (s *Server) getPresenceSettings(c echo.Context) error {
	ps, err := s.presenceSettings(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, ps)
}

func (s *Server) putPresenceSettings(c echo.Context) error {
	var ps PresenceSettings
	if err := decodeJSON(c, &ps); err != nil {
		return err
	}
	var problems fieldErrors
	if ps.OfflineBlockedBy == nil {
		problems.add("offline_blocked_by is required (send [] to allow going offline always)")
	}
	ps.OfflineBlockedBy = dedupe(ps.OfflineBlockedBy)
	for _, st := range ps.OfflineBlockedBy {
		if !slices.Contains(openStatuses, st) {
			problems.add("offline_blocked_by: %q is not queued, active or paused", st)
		}
	}
	if err := problems.err(); err != nil {
		return err
	}
	if err := s.putAuditedSetting(c, presenceSettingsKey, ps, func(ctx context.Context, tx *store.Store) (any, error) {
		return presenceSettingsIn(ctx, tx)
	}); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, ps)
}

type statusBody struct {
	Status string `json:"status"`
}

// setMyStatus changes the signed-in user's presence. Going offline is refused while they hold
// conversations in the statuses the admin chose; the answer lists them.
func (s *Server) setMyStatus(c echo.Context) error {
	var b statusBody
	if err := decodeJSON(c, &b); err != nil {
		return err
	}
	if !slices.Contains(presences, b.Status) {
		return newError(http.StatusBadRequest, "invalid_fields", "status must be online, away or offline")
	}
	ctx := c.Request().Context()
	u := currentUser(c)
	if b.Status == "offline" {
		ps, err := s.presenceSettings(ctx)
		if err != nil {
			return err
		}
		held, err := s.store.HeldConversations(ctx, u.ID, ps.OfflineBlockedBy)
		if err != nil {
			return err
		}
		if len(held) > 0 {
			nums := make([]string, len(held))
			for i, n := range held {
				nums[i] = "#" + strconv.FormatInt(n, 10)
			}
			e := newError(http.StatusConflict, "open_work", "you still hold %s (%s): close, pause or hand them over before going offline",
				strings.Join(nums, ", "), strings.Join(ps.OfflineBlockedBy, " or "))
			e.Conversations = held
			return e
		}
	}
	out, err := s.store.SetPresence(ctx, u.ID, b.Status)
	if err != nil {
		return err
	}
	if b.Status == "online" {
		s.wakeRouters(ctx) // conversations waiting for someone with room may go to them now
	} else {
		s.returnAwayWork(ctx, u.ID)
	}
	return c.JSON(http.StatusOK, userResponse{User: out})
}
