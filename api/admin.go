package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/linedesk/linedesk/connectors"
	"github.com/linedesk/linedesk/connectors/apichannel"
	"github.com/linedesk/linedesk/connectors/email"
	"github.com/linedesk/linedesk/connectors/webchat"
	"github.com/linedesk/linedesk/netguard"
	"github.com/linedesk/linedesk/store"
	"github.com/linedesk/linedesk/workflows"
)

// requireRole refuses a signed-in user whose role is not one of roles.
func requireRole(roles ...string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if !slices.Contains(roles, currentUser(c).Role) {
				if len(roles) == 1 {
					return newError(http.StatusForbidden, "forbidden", "only an admin may do this")
				}
				return newError(http.StatusForbidden, "forbidden", "only a supervisor or an admin may do this")
			}
			return next(c)
		}
	}
}

// showByID answers GET …/:id with what the id names, as JSON; 404 when it does not exist.
func showByID[T any](what string, load func(context.Context, int64) (T, error)) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := pathID(c, what)
		if err != nil {
			return err
		}
		v, err := load(c.Request().Context(), id)
		if errors.Is(err, store.ErrNotFound) {
			return notFoundErr(what + " " + c.Param("id"))
		}
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, v)
	}
}

func pathID(c echo.Context, what string) (int64, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, notFoundErr(what + " " + c.Param("id"))
	}
	return id, nil
}

// lineBody is a line as clients send it; nil fields keep their value on PATCH.
type lineBody struct {
	Name                   *string `json:"name"`
	RegulationID           *int64  `json:"regulation_id"`
	AutoOpen               *bool   `json:"auto_open"`
	AutoCloseMinutes       *int    `json:"auto_close_minutes"`
	AutoCloseText          *string `json:"auto_close_text"`
	DefaultType            *string `json:"default_type"`
	PausedClientMessage    *string `json:"paused_client_message"`
	MergeRepliesAfterClose *bool   `json:"merge_replies_after_close"`
	Routing                *string `json:"routing"`
	AwayPolicy             *string `json:"away_policy"`
	HideOperatorName       *bool   `json:"hide_operator_name"`
	GreetingText           *string `json:"greeting_text"`
	OutOfHoursText         *string `json:"out_of_hours_text"`
	ResponsibleUserID      *int64  `json:"responsible_user_id"`
	// RoutingRules replace the line's rules of routing by custom data.
	RoutingRules *[]store.RoutingRule `json:"routing_rules"`
}

// apply merges the body into l and validates the result against st (the change's transaction).
func (b lineBody) apply(ctx context.Context, st *store.Store, l *store.Line, clearRegulation bool) error {
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = strings.TrimSpace(*v)
		}
	}
	set(&l.Name, b.Name)
	set(&l.AutoCloseText, b.AutoCloseText)
	set(&l.DefaultType, b.DefaultType)
	set(&l.PausedClientMessage, b.PausedClientMessage)
	set(&l.Routing, b.Routing)
	set(&l.AwayPolicy, b.AwayPolicy)
	set(&l.GreetingText, b.GreetingText)
	set(&l.OutOfHoursText, b.OutOfHoursText)
	if b.ResponsibleUserID != nil {
		l.ResponsibleUserID = *b.ResponsibleUserID
	}
	if b.RoutingRules != nil {
		l.RoutingRules = *b.RoutingRules
	}
	if b.AutoOpen != nil {
		l.AutoOpen = *b.AutoOpen
	}
	if b.HideOperatorName != nil {
		l.HideOperatorName = *b.HideOperatorName
	}
	if b.AutoCloseMinutes != nil {
		l.AutoCloseMinutes = *b.AutoCloseMinutes
	}
	if b.MergeRepliesAfterClose != nil {
		l.MergeRepliesAfterClose = *b.MergeRepliesAfterClose
	}
	if b.RegulationID != nil || clearRegulation {
		l.RegulationID = b.RegulationID
	}
	var problems fieldErrors
	if l.Name == "" {
		problems.add("name is required")
	}
	if len(l.Name) > 200 {
		problems.add("name is longer than 200 characters")
	}
	if utf8.RuneCountInString(l.GreetingText) > 2000 || utf8.RuneCountInString(l.OutOfHoursText) > 2000 {
		problems.add("greeting_text and out_of_hours_text are at most 2000 characters")
	}
	if l.AutoCloseMinutes < 0 || l.AutoCloseMinutes > 60*24*365 {
		problems.add("auto_close_minutes must be between 0 (never) and 525600")
	}
	if l.PausedClientMessage == "" {
		l.PausedClientMessage = workflows.PausedResume
	}
	if l.PausedClientMessage != workflows.PausedResume && l.PausedClientMessage != workflows.PausedStay {
		problems.add("paused_client_message must be resume or stay")
	}
	if l.Routing == "" {
		l.Routing = store.RoutingManual
	}
	if l.Routing != store.RoutingManual && l.Routing != store.RoutingRoundRobin && l.Routing != store.RoutingLeastBusy &&
		l.Routing != store.RoutingResponsible {
		problems.add("routing must be manual, round_robin, least_busy or responsible")
	}
	if len(l.RoutingRules) > 50 {
		problems.add("routing_rules: at most 50 rules")
	}
	for i, r := range l.RoutingRules {
		if r.Key == "" || utf8.RuneCountInString(r.Key) > 50 || utf8.RuneCountInString(r.Value) > 500 {
			problems.add("routing_rules[%d]: key is 1 to 50 characters, value at most 500", i)
		}
		if _, err := st.GroupByID(ctx, r.GroupID); errors.Is(err, store.ErrNotFound) {
			problems.add("routing_rules[%d]: group %d does not exist", i, r.GroupID)
		} else if err != nil {
			return err
		}
	}
	if l.Routing == store.RoutingResponsible && l.ResponsibleUserID == 0 {
		problems.add("routing responsible needs responsible_user_id: the employee who handles the line's requests")
	}
	if l.ResponsibleUserID != 0 {
		if ok, err := st.UserExists(ctx, l.ResponsibleUserID); err != nil {
			return err
		} else if !ok {
			problems.add("responsible_user_id %d is not a user", l.ResponsibleUserID)
		}
	}
	if l.AwayPolicy == "" {
		l.AwayPolicy = store.AwayKeep
	}
	if l.AwayPolicy != store.AwayKeep && l.AwayPolicy != store.AwayReturn {
		problems.add("away_policy must be keep or return")
	}
	if l.RegulationID != nil {
		if _, err := st.RegulationByID(ctx, *l.RegulationID); errors.Is(err, store.ErrNotFound) {
			problems.add("regulation_id %d does not exist", *l.RegulationID)
		} else if err != nil {
			return err
		}
	}
	if l.DefaultType != "" {
		ds, err := dialogSettingsIn(ctx, st)
		if err != nil {
			return err
		}
		checkIn(&problems, "default_type", []string{l.DefaultType}, ds.Types)
	}
	return problems.err()
}

func (s *Server) createLine(c echo.Context) error {
	var b lineBody
	if err := decodeJSON(c, &b); err != nil {
		return err
	}
	var out store.Line
	err := s.audited(c, func(ctx context.Context, tx *store.Store) (store.AuditChange, error) {
		ds, err := dialogSettingsIn(ctx, tx)
		if err != nil {
			return store.AuditChange{}, err
		}
		// New lines default to the first request type of the dialog settings ("Support").
		l := store.Line{LineSettings: store.LineSettings{DefaultType: ds.Types[0]}}
		if err := b.apply(ctx, tx, &l, false); err != nil {
			return store.AuditChange{}, err
		}
		if out, err = tx.CreateLine(ctx, l); err != nil {
			return store.AuditChange{}, err
		}
		return store.AuditChange{Entity: store.AuditLine, ID: auditID(out.ID), Action: store.AuditCreate, After: out}, nil
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, out)
}

func (s *Server) updateLine(c echo.Context) error {
	id, err := pathID(c, "line")
	if err != nil {
		return err
	}
	raw, b, err := decodePatch[lineBody](c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	var out store.Line
	err = s.audited(c, func(ctx context.Context, tx *store.Store) (store.AuditChange, error) {
		if err := lockFor(ctx, tx, store.AuditLine, id); err != nil {
			return store.AuditChange{}, err
		}
		before, err := tx.LineByID(ctx, id)
		if err != nil {
			return store.AuditChange{}, err
		}
		l := before
		_, clearReg := raw["regulation_id"]
		if err := b.apply(ctx, tx, &l, clearReg && b.RegulationID == nil); err != nil {
			return store.AuditChange{}, err
		}
		if out, err = tx.UpdateLine(ctx, l); err != nil {
			return store.AuditChange{}, err
		}
		return store.AuditChange{Entity: store.AuditLine, ID: auditID(id), Action: store.AuditUpdate, Before: before, After: out}, nil
	})
	if err != nil {
		return err
	}
	// Open conversations take the new settings (auto-close, texts, regulation…) from a worker.
	if err := s.fanOutSettings(ctx, workflows.SettingsFanOutInput{LineID: out.ID, Revision: out.UpdatedAt}); err != nil {
		return err
	}
	// A line that now routes automatically serves the conversations already waiting.
	s.wakeRouters(ctx, out.ID)
	return c.JSON(http.StatusOK, out)
}

func (s *Server) listLines(c echo.Context) error {
	lines, err := s.store.Lines(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"items": lines})
}

// decodePatch decodes a PATCH body both as raw fields (to tell null from absent) and as T.
func decodePatch[T any](c echo.Context) (map[string]json.RawMessage, T, error) {
	var raw map[string]json.RawMessage
	var body T
	if err := decodeJSON(c, &raw); err != nil {
		return nil, body, err
	}
	b, _ := json.Marshal(raw)
	if err := json.Unmarshal(b, &body); err != nil {
		return nil, body, jsonError(err)
	}
	return raw, body, nil
}

type regulationBody struct {
	Name                 *string          `json:"name"`
	FirstResponseMinutes *int             `json:"first_response_minutes"`
	NextResponseMinutes  *int             `json:"next_response_minutes"`
	ResolutionMinutes    *int             `json:"resolution_minutes"`
	WarnBeforeMinutes    *int             `json:"warn_before_minutes"`
	PauseStopsClock      *bool            `json:"pause_stops_clock"`
	Calendar             *json.RawMessage `json:"calendar"`
}

func (b regulationBody) apply(r *store.Regulation) error {
	if b.Name != nil {
		r.Name = strings.TrimSpace(*b.Name)
	}
	setInt := func(dst *int, v *int) {
		if v != nil {
			*dst = *v
		}
	}
	setInt(&r.FirstResponseMinutes, b.FirstResponseMinutes)
	setInt(&r.NextResponseMinutes, b.NextResponseMinutes)
	setInt(&r.ResolutionMinutes, b.ResolutionMinutes)
	setInt(&r.WarnBeforeMinutes, b.WarnBeforeMinutes)
	if b.PauseStopsClock != nil {
		r.PauseStopsClock = *b.PauseStopsClock
	}
	if b.Calendar != nil {
		r.Calendar = *b.Calendar
	}
	var problems fieldErrors
	if r.Name == "" {
		problems.add("name is required")
	}
	for _, f := range []struct {
		name string
		v    int
	}{{"first_response_minutes", r.FirstResponseMinutes}, {"next_response_minutes", r.NextResponseMinutes},
		{"resolution_minutes", r.ResolutionMinutes}, {"warn_before_minutes", r.WarnBeforeMinutes}} {
		if f.v < 0 || f.v > 60*24*366 {
			problems.add("%s must be between 0 (no target) and 527040", f.name)
		}
	}
	if len(r.Calendar) == 0 || string(r.Calendar) == "null" {
		r.Calendar = json.RawMessage(`{}`)
	}
	var cal workflows.Calendar
	if err := json.Unmarshal(r.Calendar, &cal); err != nil {
		problems.add("calendar: %s", strings.TrimPrefix(jsonError(err).Error(), "bad_request: "))
	} else if err := cal.Validate(); err != nil {
		problems.add("calendar: %s", err.Error())
	} else {
		r.Calendar, _ = json.Marshal(cal)
	}
	return problems.err()
}

func (s *Server) createRegulation(c echo.Context) error {
	var b regulationBody
	if err := decodeJSON(c, &b); err != nil {
		return err
	}
	var r store.Regulation
	if err := b.apply(&r); err != nil {
		return err
	}
	var out store.Regulation
	err := s.audited(c, func(ctx context.Context, tx *store.Store) (store.AuditChange, error) {
		var err error
		if out, err = tx.CreateRegulation(ctx, r); err != nil {
			return store.AuditChange{}, err
		}
		return store.AuditChange{Entity: store.AuditRegulation, ID: auditID(out.ID), Action: store.AuditCreate, After: out}, nil
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, out)
}

// updateRegulation changes a regulation; a worker then re-arms the SLA timers of every open
// conversation whose line uses it.
func (s *Server) updateRegulation(c echo.Context) error {
	id, err := pathID(c, "regulation")
	if err != nil {
		return err
	}
	var b regulationBody
	if err := decodeJSON(c, &b); err != nil {
		return err
	}
	ctx := c.Request().Context()
	var out store.Regulation
	err = s.audited(c, func(ctx context.Context, tx *store.Store) (store.AuditChange, error) {
		if err := lockFor(ctx, tx, store.AuditRegulation, id); err != nil {
			return store.AuditChange{}, err
		}
		before, err := tx.RegulationByID(ctx, id)
		if err != nil {
			return store.AuditChange{}, err
		}
		r := before
		if err := b.apply(&r); err != nil {
			return store.AuditChange{}, err
		}
		if out, err = tx.UpdateRegulation(ctx, r); err != nil {
			return store.AuditChange{}, err
		}
		return store.AuditChange{Entity: store.AuditRegulation, ID: auditID(id), Action: store.AuditUpdate, Before: before, After: out}, nil
	})
	if err != nil {
		return err
	}
	if err := s.fanOutSettings(ctx, workflows.SettingsFanOutInput{RegulationID: out.ID, Revision: out.UpdatedAt}); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

// fanOutSettingsTimeout bounds starting a fan-out once the edit is saved.
const fanOutSettingsTimeout = 10 * time.Second

// fanOutSettings starts the workflow that tells the open conversations about a saved edit, and
// returns without waiting for it: a worker signals them, with retries (workflows.SettingsFanOutWorkflow).
// The workflow id names the edit's revision. While that fan-out runs, starting it again joins it
// (conflict policy USE_EXISTING); once it completed, it is not run again (reuse policy
// ALLOW_DUPLICATE_FAILED_ONLY), and only a failed or terminated one may be started anew. So a
// retried PATCH, which keeps the revision, never fans out twice, yet repairs a fan-out that could
// not be started.
func (s *Server) fanOutSettings(ctx context.Context, in workflows.SettingsFanOutInput) error {
	id := workflows.SettingsFanOutWorkflowID(in)
	// The edit is committed: a client that hangs up now must not keep its conversations from
	// hearing of it.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), fanOutSettingsTimeout)
	defer cancel()
	_, err := s.temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                       id,
		TaskQueue:                workflows.TaskQueue,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
	}, workflows.SettingsFanOutWorkflow, in)
	if err != nil {
		s.logger.WarnContext(ctx, "settings fan-out not started", "workflow_id", id, "error", err)
		return newError(http.StatusServiceUnavailable, "unavailable",
			"the change is saved, but the open conversations could not be told yet; send the same request again")
	}
	return nil
}

func (s *Server) listRegulations(c echo.Context) error {
	list, err := s.store.Regulations(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"items": list})
}

type channelBody struct {
	Kind     *string          `json:"kind"`
	Name     *string          `json:"name"`
	LineID   *int64           `json:"line_id"`
	Settings *json.RawMessage `json:"settings"`
	Enabled  *bool            `json:"enabled"`
	// Credentials are the platform's secrets (bot_token, auth_token…): write-only, sealed at
	// rest. On a change, the names given replace theirs ("" removes one); the others stay.
	Credentials map[string]string `json:"credentials"`
}

// supportedKinds are the channel kinds with a connector in this build.
func (s *Server) supportedKinds() []string {
	kinds := []string{"api", webchat.Kind, internalKind}
	for k := range s.connectors {
		kinds = append(kinds, k)
	}
	slices.Sort(kinds)
	return kinds
}

// mergeCredentials applies a body's credentials to a channel's.
func mergeCredentials(have store.Credentials, given map[string]string) store.Credentials {
	out := store.Credentials{}
	maps.Copy(out, have)
	for k, v := range given {
		if v = strings.TrimSpace(v); v == "" {
			delete(out, k)
		} else {
			out[k] = v
		}
	}
	return out
}

// channelOut is a channel as the API shows it: which credentials are set (never their values)
// and, for a messenger, the webhook address its platform posts to.
type channelOut struct {
	store.Channel
	CredentialsSet []string `json:"credentials_set"`
	WebhookURL     string   `json:"webhook_url,omitempty"`
	// Mailbox is an email channel's intake health: the last successful sync, the backlog, the
	// last error; RecentAutomatic its latest auto-replies and bounces (recorded, not answered).
	Mailbox         *store.MailboxState   `json:"mailbox,omitempty"`
	RecentAutomatic []store.AutomaticMail `json:"recent_automatic_mail,omitempty"`
	// EmbedCode is a site's widget script for its pages ("generate script", seed 000).
	EmbedCode string `json:"embed_code,omitempty"`
}

// channelOut shows a channel with the names of its credentials.
func (s *Server) channelOut(c echo.Context, ch store.Channel, credentialNames []string) channelOut {
	out := channelOut{Channel: ch, CredentialsSet: credentialNames}
	if out.CredentialsSet == nil {
		out.CredentialsSet = []string{}
	}
	// A URL holding the channel's secret (OK, a PBX) is not shown: connect registers it or shows
	// it to the admin.
	if ch.Kind == webchat.Kind {
		set, _ := webchat.ReadSettings(ch.Settings)
		out.EmbedCode = webchat.Snippet(s.baseURL(c), ch.ID, set.Language)
	}
	if conn, ok := s.connectors[ch.Kind]; ok {
		if _, secret := conn.(connectors.SecretInURL); secret {
			return out
		}
		if _, none := conn.(connectors.NoWebhooks); none {
			return out
		}
		out.WebhookURL = s.hookURL(c, ch.ID)
	}
	return out
}

// hookURL is where a channel's platform posts its webhooks.
func (s *Server) hookURL(c echo.Context, id int64) string {
	return fmt.Sprintf("%s/hooks/%d", s.baseURL(c), id)
}

func (s *Server) getChannel(c echo.Context) error {
	id, err := pathID(c, "channel")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	ch, err := s.store.ChannelByID(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return notFoundErr("channel " + c.Param("id"))
	}
	if err != nil {
		return err
	}
	names, err := s.store.ChannelCredentialNames(ctx, id)
	if err != nil {
		return err
	}
	out := s.channelOut(c, ch, names[id])
	if ch.Kind == email.Kind {
		st, err := s.store.MailboxState(ctx, id)
		if err != nil {
			return err
		}
		out.Mailbox = &st
		if out.RecentAutomatic, err = s.store.RecentAutomaticMail(ctx, id, 10); err != nil {
			return err
		}
	}
	return c.JSON(http.StatusOK, out)
}

func (b channelBody) apply(ctx context.Context, st *store.Store, s *Server, ch *store.Channel, creds *store.Credentials) error {
	allowPrivateCallbacks := s.allowPrivateCallbacks
	var problems fieldErrors
	if b.Name != nil {
		ch.Name = strings.TrimSpace(*b.Name)
	}
	if b.LineID != nil {
		ch.LineID = *b.LineID
	}
	if b.Settings != nil {
		ch.Settings = *b.Settings
	}
	if b.Enabled != nil {
		ch.Enabled = *b.Enabled
	}
	if ch.Name == "" {
		problems.add("name is required")
	}
	if ch.LineID <= 0 {
		problems.add("line_id is required")
	} else if _, err := st.LineByID(ctx, ch.LineID); errors.Is(err, store.ErrNotFound) {
		problems.add("line_id %d does not exist", ch.LineID)
	} else if err != nil {
		return err
	}
	if len(ch.Settings) == 0 || string(ch.Settings) == "null" {
		ch.Settings = json.RawMessage(`{}`)
	}
	conn, messenger := s.connectors[ch.Kind]
	switch {
	case ch.Kind == "api":
		if len(b.Credentials) > 0 {
			problems.add("an api channel takes no credentials: it signs with its own secret")
		}
		var set apichannel.Settings
		if err := json.Unmarshal(ch.Settings, &set); err != nil {
			problems.add("settings must be an object with callback_url")
		} else if err := apichannel.ValidateSettings(set.CallbackURL); err != nil {
			problems.add("settings.%s", err.Error())
		} else if err := netguard.CheckURL(ctx, set.CallbackURL, allowPrivateCallbacks); err != nil {
			problems.add("settings.callback_url %s", err.Error())
		}
	case ch.Kind == webchat.Kind:
		if len(b.Credentials) > 0 {
			problems.add("a site takes no credentials: identity hashes are signed with the channel's own secret")
		}
		set, err := webchat.ReadSettings(ch.Settings)
		if err != nil {
			problems.add("settings: %s", err.Error())
			break
		}
		if err := set.Validate(); err != nil {
			for _, p := range strings.Split(err.Error(), "\n") {
				problems.add("%s", p)
			}
			break
		}
		for i, sc := range set.Scenarios {
			if sc.LineID > 0 {
				if _, err := st.LineByID(ctx, sc.LineID); errors.Is(err, store.ErrNotFound) {
					problems.add("settings.scenarios[%d].line_id %d does not exist", i, sc.LineID)
				} else if err != nil {
					return err
				}
			}
			if sc.GroupID > 0 {
				if _, err := st.GroupByID(ctx, sc.GroupID); errors.Is(err, store.ErrNotFound) {
					problems.add("settings.scenarios[%d].group_id %d does not exist", i, sc.GroupID)
				} else if err != nil {
					return err
				}
			}
		}
		// Kept with its defaults filled in, as the widget and the console read it.
		ch.Settings, _ = json.Marshal(set)
	case ch.Kind == internalKind:
		if len(b.Credentials) > 0 {
			problems.add("an internal desk takes no credentials")
		}
		var set struct {
			GroupIDs []int64 `json:"group_ids"`
		}
		if err := json.Unmarshal(ch.Settings, &set); err != nil {
			problems.add("settings must be an object with group_ids: the groups whose members may write ([]: every user)")
			break
		}
		for _, id := range set.GroupIDs {
			if _, err := st.GroupByID(ctx, id); errors.Is(err, store.ErrNotFound) {
				problems.add("settings.group_ids: group %d does not exist", id)
			} else if err != nil {
				return err
			}
		}
		if set.GroupIDs == nil {
			set.GroupIDs = []int64{}
		}
		ch.Settings, _ = json.Marshal(set)
	case messenger:
		*creds = mergeCredentials(*creds, b.Credentials)
		if err := conn.ValidateSettings(ch.Settings, *creds); err != nil {
			for _, p := range strings.Split(err.Error(), "\n") { // errors.Join: one problem a line
				problems.add("%s", p)
			}
		} else {
			var base struct {
				APIBaseURL string `json:"api_base_url"`
			}
			_ = json.Unmarshal(ch.Settings, &base)
			if base.APIBaseURL != "" {
				if err := netguard.CheckURL(ctx, base.APIBaseURL, allowPrivateCallbacks); err != nil {
					problems.add("settings.api_base_url %s", err.Error())
				}
			}
			if ch.Kind == email.Kind {
				// The mail servers are checked as callback URLs are: no private address unless
				// the desk allows them.
				set, _ := email.ReadSettings(ch.Settings)
				for _, h := range [][2]string{{"imap_host", set.IMAPHost}, {"smtp_host", set.SMTPHost}} {
					if err := netguard.CheckURL(ctx, "https://"+h[1], allowPrivateCallbacks); err != nil {
						problems.add("settings.%s %s", h[0], err.Error())
					}
				}
			}
		}
	default:
		problems.add("kind %q is not supported yet; supported: %s", ch.Kind, strings.Join(s.supportedKinds(), ", "))
	}
	return problems.err()
}

type createdChannel struct {
	Channel channelOut `json:"channel"`
	store.ChannelSecrets
}

// createChannel adds a channel; its inbound token and signing secret are in this answer only.
func (s *Server) createChannel(c echo.Context) error {
	var b channelBody
	if err := decodeJSON(c, &b); err != nil {
		return err
	}
	ch := store.Channel{Enabled: true}
	if b.Kind == nil || *b.Kind == "" {
		return newError(http.StatusBadRequest, "invalid_fields", "kind is required")
	}
	ch.Kind = *b.Kind
	var out store.Channel
	var secrets store.ChannelSecrets
	creds := store.Credentials{}
	err := s.audited(c, func(ctx context.Context, tx *store.Store) (store.AuditChange, error) {
		if err := b.apply(ctx, tx, s, &ch, &creds); err != nil {
			return store.AuditChange{}, err
		}
		var err error
		if out, secrets, err = tx.CreateChannel(ctx, ch); err != nil {
			return store.AuditChange{}, err
		}
		if len(creds) > 0 {
			if err := tx.SetChannelCredentials(ctx, out.ID, creds); err != nil {
				return store.AuditChange{}, err
			}
		}
		return store.AuditChange{Entity: store.AuditChannel, ID: auditID(out.ID), Action: store.AuditCreate, After: auditedChannel(out, creds)}, nil
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, createdChannel{Channel: s.channelOut(c, out, creds.Names()), ChannelSecrets: secrets})
}

func (s *Server) updateChannel(c echo.Context) error {
	id, err := pathID(c, "channel")
	if err != nil {
		return err
	}
	var b channelBody
	if err := decodeJSON(c, &b); err != nil {
		return err
	}
	var out store.Channel
	var creds store.Credentials
	err = s.audited(c, func(ctx context.Context, tx *store.Store) (store.AuditChange, error) {
		if err := lockFor(ctx, tx, store.AuditChannel, id); err != nil {
			return store.AuditChange{}, err
		}
		before, err := tx.ChannelByID(ctx, id)
		if err != nil {
			return store.AuditChange{}, err
		}
		if b.Kind != nil && *b.Kind != before.Kind {
			return store.AuditChange{}, newError(http.StatusBadRequest, "invalid_fields", "kind cannot change; create a new channel")
		}
		ch := before
		have, err := tx.ChannelCredentials(ctx, id)
		if err != nil {
			return store.AuditChange{}, err
		}
		creds = maps.Clone(have)
		if err := b.apply(ctx, tx, s, &ch, &creds); err != nil {
			return store.AuditChange{}, err
		}
		if out, err = tx.UpdateChannel(ctx, ch); err != nil {
			return store.AuditChange{}, err
		}
		if b.Credentials != nil {
			if err := tx.SetChannelCredentials(ctx, id, creds); err != nil {
				return store.AuditChange{}, err
			}
		}
		return store.AuditChange{Entity: store.AuditChannel, ID: auditID(id), Action: store.AuditUpdate,
			Before: auditedChannel(before, have), After: auditedChannel(out, creds)}, nil
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, s.channelOut(c, out, creds.Names()))
}

func (s *Server) listChannels(c echo.Context) error {
	ctx := c.Request().Context()
	list, err := s.store.Channels(ctx)
	if err != nil {
		return err
	}
	ids := make([]int64, len(list))
	for i, ch := range list {
		ids[i] = ch.ID
	}
	names, err := s.store.ChannelCredentialNames(ctx, ids...)
	if err != nil {
		return err
	}
	items := make([]channelOut, 0, len(list))
	for _, ch := range list {
		items = append(items, s.channelOut(c, ch, names[ch.ID]))
	}
	return c.JSON(http.StatusOK, map[string]any{"items": items})
}

// auditedChannel is a channel as the audit log records it: its credentials by a fingerprint of
// each value, so the log shows that a token changed without ever holding it.
func auditedChannel(ch store.Channel, creds store.Credentials) any {
	marks := map[string]string{}
	for k, v := range creds {
		sum := sha256.Sum256([]byte(v))
		marks[k] = "sha256:" + hex.EncodeToString(sum[:4])
	}
	return struct {
		store.Channel
		Credentials map[string]string `json:"credential_fingerprints"`
	}{ch, marks}
}
