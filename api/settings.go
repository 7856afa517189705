package api

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/linedesk/linedesk/store"
	"github.com/linedesk/linedesk/workflows"
)

const dialogSettingsKey = "dialog_settings"

// DialogSettings are the editable lists a conversation's wrap-up picks from (seed 003).
type DialogSettings struct {
	Types      []string `json:"types"`
	Reasons    []string `json:"reasons"`
	Components []string `json:"components"`
}

func defaultDialogSettings() DialogSettings {
	return DialogSettings{Types: []string{"Support", "Refund"}, Reasons: []string{}, Components: []string{}}
}

func (s *Server) dialogSettings(ctx context.Context) (DialogSettings, error) {
	return dialogSettingsIn(ctx, s.store)
}

// dialogSettingsIn reads the dialog settings from st (the store or a change's transaction).
func dialogSettingsIn(ctx context.Context, st *store.Store) (DialogSettings, error) {
	ds := defaultDialogSettings()
	_, err := st.Setting(ctx, dialogSettingsKey, &ds)
	return ds, err
}

// check adds a problem for a type, reason or component that is not in the lists.
func (ds DialogSettings) check(problems *fieldErrors, typ *string, reasons, components *[]string) {
	if typ != nil && *typ != "" {
		checkIn(problems, "type", []string{*typ}, ds.Types)
	}
	if reasons != nil {
		checkIn(problems, "reasons", *reasons, ds.Reasons)
	}
	if components != nil {
		checkIn(problems, "components", *components, ds.Components)
	}
}

func (s *Server) getDialogSettings(c echo.Context) error {
	ds, err := s.dialogSettings(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, ds)
}

// mayEditDialogSettings lets through an admin or a member of a group with the dialog settings
// permission: seed 003 asks for "can edit dialog settings" to change the wrap-up lists, and a
// supervisor without it may not.
func (s *Server) mayEditDialogSettings(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		u := currentUser(c)
		if u.Role == store.RoleAdmin {
			return next(c)
		}
		a, err := s.store.AccessOf(c.Request().Context(), u.ID)
		if err != nil {
			return err
		}
		if !slices.Contains(a.Permissions, store.PermDialogSettings) {
			return newError(http.StatusForbidden, "forbidden", "only an admin or a member of a group with the dialog_settings permission may do this")
		}
		return next(c)
	}
}

func (s *Server) putDialogSettings(c echo.Context) error {
	var ds DialogSettings
	if err := decodeJSON(c, &ds); err != nil {
		return err
	}
	var problems fieldErrors
	clean := func(field string, list []string) []string {
		out := []string{}
		seen := map[string]bool{}
		for i, v := range list {
			v = strings.TrimSpace(v)
			switch {
			case v == "":
				problems.add("%s[%d] is empty", field, i)
			case utf8.RuneCountInString(v) > 200:
				problems.add("%s[%d] is longer than 200 characters", field, i)
			case seen[v]:
				problems.add("%s[%d] %q is listed twice", field, i, v)
			default:
				seen[v] = true
				out = append(out, v)
			}
		}
		return out
	}
	ds.Types, ds.Reasons, ds.Components = clean("types", ds.Types), clean("reasons", ds.Reasons), clean("components", ds.Components)
	if len(ds.Types) == 0 {
		problems.add("types must list at least one request type")
	}
	// A line's default type must stay a type: renaming or removing it would leave the line's new
	// conversations with a type the wrap-up form does not offer and the line itself unsavable.
	lines, err := s.store.Lines(c.Request().Context())
	if err != nil {
		return err
	}
	for _, l := range lines {
		if l.DefaultType != "" && len(ds.Types) > 0 && !slices.Contains(ds.Types, l.DefaultType) {
			problems.add("types: %q is the default type of line %q; choose another default for that line first", l.DefaultType, l.Name)
		}
	}
	if err := problems.err(); err != nil {
		return err
	}
	if err := s.putAuditedSetting(c, dialogSettingsKey, ds, func(ctx context.Context, tx *store.Store) (any, error) {
		return dialogSettingsIn(ctx, tx)
	}); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, ds)
}

// standardMessages reads the admins' texts with the defaults filled in, as the workflows see them.
func (s *Server) standardMessages(ctx context.Context) (workflows.StandardMessages, error) {
	return standardMessagesIn(ctx, s.store)
}

// standardMessagesIn reads the standard messages from st (the store or a change's transaction).
func standardMessagesIn(ctx context.Context, st *store.Store) (workflows.StandardMessages, error) {
	var saved workflows.StandardMessages
	if _, err := st.Setting(ctx, store.StandardMessagesKey, &saved); err != nil {
		return workflows.StandardMessages{}, err
	}
	return saved.WithDefaults(), nil
}

func (s *Server) getStandardMessages(c echo.Context) error {
	m, err := s.standardMessages(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, m)
}

// putStandardMessages saves the texts; a field left out keeps its current text.
func (s *Server) putStandardMessages(c echo.Context) error {
	ctx := c.Request().Context()
	current, err := s.standardMessages(ctx)
	if err != nil {
		return err
	}
	body := current
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	var problems fieldErrors
	fields := []struct {
		name, value string
		button      bool
	}{
		{"csat_question", body.CSATQuestion, false}, {"csat_bad", body.CSATBad, true},
		{"csat_normal", body.CSATNormal, true}, {"csat_excellent", body.CSATExcellent, true},
		{"csat_thanks", body.CSATThanks, false}, {"auto_close", body.AutoClose, false},
	}
	for _, f := range fields {
		switch {
		case strings.TrimSpace(f.value) == "":
			problems.add("%s must not be empty", f.name)
		case utf8.RuneCountInString(f.value) > 4000:
			problems.add("%s is longer than 4000 characters", f.name)
		case f.button && utf8.RuneCountInString(f.value) > 20:
			// Messenger platforms cap button labels; 20 characters fits every one of them.
			problems.add("%s is a button label: at most 20 characters", f.name)
		}
	}
	if err := problems.err(); err != nil {
		return err
	}
	saved := workflows.StandardMessages(body)
	if err := s.putAuditedSetting(c, store.StandardMessagesKey, saved, func(ctx context.Context, tx *store.Store) (any, error) {
		return standardMessagesIn(ctx, tx)
	}); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, saved)
}

// putAuditedSetting saves a desk-wide setting with its audit record; current reads the value it
// replaces (with its defaults) once the setting is locked.
func (s *Server) putAuditedSetting(c echo.Context, key string, value any,
	current func(ctx context.Context, tx *store.Store) (any, error)) error {
	return s.audited(c, func(ctx context.Context, tx *store.Store) (store.AuditChange, error) {
		if err := tx.LockForAudit(ctx, store.AuditSetting, key); err != nil {
			return store.AuditChange{}, err
		}
		before, err := current(ctx, tx)
		if err != nil {
			return store.AuditChange{}, err
		}
		if err := tx.PutSetting(ctx, key, value); err != nil {
			return store.AuditChange{}, err
		}
		return store.AuditChange{Entity: store.AuditSetting, ID: key, Action: store.AuditUpdate, Before: before, After: value}, nil
	})
}
