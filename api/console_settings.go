package api

import (
	"context"
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/linedesk/linedesk/store"
	"github.com/linedesk/linedesk/workflows"
)

// The operator console's inbox (issue 8, item 1): the admin chooses which channel folders and
// statuses the module shows and when a waiting client turns the timer amber and red.

const consoleSettingsKey = "console"

// ConsoleSettings are the inbox's admin-chosen settings.
type ConsoleSettings struct {
	// WaitWarnSeconds and WaitAlertSeconds: a client waiting this long for an answer shows in
	// the warning and then the alert colour.
	WaitWarnSeconds  int `json:"wait_warn_seconds"`
	WaitAlertSeconds int `json:"wait_alert_seconds"`
	// ChannelKinds are the channel folders shown (empty: every kind).
	ChannelKinds []string `json:"channel_kinds"`
	// Statuses are the conversation statuses the inbox lists.
	Statuses []string `json:"statuses"`
}

func defaultConsoleSettings() ConsoleSettings {
	return ConsoleSettings{WaitWarnSeconds: 120, WaitAlertSeconds: 300, ChannelKinds: []string{},
		Statuses: []string{workflows.StatusQueued, workflows.StatusActive, workflows.StatusPaused}}
}

var conversationStatuses = []string{workflows.StatusQueued, workflows.StatusActive, workflows.StatusPaused, workflows.StatusClosed}

// consoleSettingsIn reads the console settings from st (the store or a change's transaction).
func consoleSettingsIn(ctx context.Context, st *store.Store) (ConsoleSettings, error) {
	cs := defaultConsoleSettings()
	_, err := st.Setting(ctx, consoleSettingsKey, &cs)
	return cs, err
}

func (s *Server) getConsoleSettings(c echo.Context) error {
	cs, err := consoleSettingsIn(c.Request().Context(), s.store)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, cs)
}

func (s *Server) putConsoleSettings(c echo.Context) error {
	var cs ConsoleSettings
	if err := decodeJSON(c, &cs); err != nil {
		return err
	}
	var problems fieldErrors
	const week = 7 * 24 * 3600
	if cs.WaitWarnSeconds <= 0 || cs.WaitWarnSeconds > week {
		problems.add("wait_warn_seconds must be between 1 and %d", week)
	}
	if cs.WaitAlertSeconds <= 0 || cs.WaitAlertSeconds > week {
		problems.add("wait_alert_seconds must be between 1 and %d", week)
	}
	if cs.WaitWarnSeconds >= cs.WaitAlertSeconds {
		problems.add("wait_warn_seconds must be less than wait_alert_seconds")
	}
	if cs.ChannelKinds == nil {
		cs.ChannelKinds = []string{}
	}
	cs.ChannelKinds = dedupe(cs.ChannelKinds)
	for _, k := range cs.ChannelKinds {
		if !slices.Contains(channelKinds, k) {
			problems.add("channel_kinds: %q is not one of %s", k, strings.Join(channelKinds, ", "))
		}
	}
	cs.Statuses = dedupe(cs.Statuses)
	if len(cs.Statuses) == 0 {
		problems.add("statuses must list at least one of %s", strings.Join(conversationStatuses, ", "))
	}
	for _, st := range cs.Statuses {
		if !slices.Contains(conversationStatuses, st) {
			problems.add("statuses: %q is not one of %s", st, strings.Join(conversationStatuses, ", "))
		}
	}
	if err := problems.err(); err != nil {
		return err
	}
	if err := s.putAuditedSetting(c, consoleSettingsKey, cs, func(ctx context.Context, tx *store.Store) (any, error) {
		return consoleSettingsIn(ctx, tx)
	}); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, cs)
}

// conversationCounts are the inbox's live counters, scoped exactly like the list.
func (s *Server) conversationCounts(c echo.Context) error {
	ctx := c.Request().Context()
	u := currentUser(c)
	var sc *store.ListScope
	if u.Role != store.RoleAdmin {
		var err error
		if sc, err = s.store.ListScopeOf(ctx, u.ID); err != nil {
			return err
		}
	}
	counts, err := s.store.CountConversations(ctx, u.ID, sc)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, counts)
}
