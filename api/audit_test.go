package api_test

import (
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/linedesk/linedesk/store"
)

type auditEntry struct {
	ID           int64          `json:"id"`
	At           time.Time      `json:"at"`
	ActorID      *int64         `json:"actor_id"`
	ActorTokenID *int64         `json:"actor_token_id"`
	RemoteAddr   string         `json:"remote_addr"`
	EntityKind   string         `json:"entity_kind"`
	EntityID     string         `json:"entity_id"`
	Action       string         `json:"action"`
	Before       map[string]any `json:"before"`
	After        map[string]any `json:"after"`
}

type auditPage struct {
	Items      []auditEntry `json:"items"`
	NextBefore *int64       `json:"next_before"`
}

// audit reads a page of the audit log (or a channel's history) as the client c.
func (a *app) audit(c *http.Client, path string) (auditPage, string) {
	a.t.Helper()
	res := a.do(c, "GET", path, nil, nil)
	require.Equal(a.t, http.StatusOK, res.status, res.text)
	var p auditPage
	res.json(a.t, &p)
	return p, res.text
}

// TestLineEditIsAudited: editing a line records who did it (and through which API token), when,
// from where, and only the fields that changed; a refused or empty edit records nothing.
func TestLineEditIsAudited(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{})
	cs := a.setupChannel(map[string]any{"name": "Sales", "auto_open": true, "auto_close_minutes": 30})
	res := a.do(a.http, "POST", "/api/v1/tokens", map[string]any{"name": "ops script"}, nil)
	require.Equal(t, http.StatusCreated, res.status, res.text)
	var tok struct {
		ID    int64  `json:"id"`
		Token string `json:"token"`
	}
	res.json(t, &tok)
	bearer := map[string]string{"Authorization": "Bearer " + tok.Token}
	line := "/api/v1/lines/" + strconv.FormatInt(cs.lineID, 10)
	lineLog := fmt.Sprintf("/api/v1/audit?entity=line&entity_id=%d", cs.lineID)

	start := time.Now()
	res = a.do(&http.Client{}, "PATCH", line, map[string]any{"auto_close_minutes": 45, "name": "Sales", "routing": "manual"}, bearer)
	require.Equal(t, http.StatusOK, res.status, res.text)
	page, _ := a.audit(a.http, lineLog)
	require.Len(t, page.Items, 2, "the creation and the edit")
	edit, created := page.Items[0], page.Items[1]
	require.Equal(t, "create", created.Action)
	require.Equal(t, "Sales", created.After["name"])
	require.Equal(t, "update", edit.Action)
	require.Equal(t, a.admin.ID, *edit.ActorID)
	require.NotNil(t, edit.ActorTokenID, "the edit came through an API token")
	require.Equal(t, tok.ID, *edit.ActorTokenID)
	require.Nil(t, created.ActorTokenID, "the creation came from the console session")
	require.Equal(t, "127.0.0.1", edit.RemoteAddr)
	require.WithinDuration(t, start, edit.At, time.Minute)
	require.Equal(t, map[string]any{"auto_close_minutes": float64(30)}, edit.Before, "only the changed field")
	require.Equal(t, map[string]any{"auto_close_minutes": float64(45)}, edit.After)

	// The same edit again changes nothing, and a refused one changes nothing: no records.
	res = a.do(a.http, "PATCH", line, map[string]any{"auto_close_minutes": 45}, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)
	res = a.do(a.http, "PATCH", line, map[string]any{"auto_close_minutes": 60, "routing": "sometimes"}, nil)
	require.Equal(t, http.StatusBadRequest, res.status, res.text)
	page, _ = a.audit(a.http, lineLog)
	require.Len(t, page.Items, 2)
	l, err := a.store.LineByID(t.Context(), cs.lineID)
	require.NoError(t, err)
	require.Equal(t, 45, l.AutoCloseMinutes, "the refused edit saved nothing")

	// Filters: by actor, by time, paging newest first.
	page, _ = a.audit(a.http, fmt.Sprintf("/api/v1/audit?actor_id=%d&limit=1", a.admin.ID))
	require.Len(t, page.Items, 1)
	require.NotNil(t, page.NextBefore)
	older, _ := a.audit(a.http, fmt.Sprintf("/api/v1/audit?actor_id=%d&limit=1&before=%d", a.admin.ID, *page.NextBefore))
	require.Len(t, older.Items, 1)
	require.Less(t, older.Items[0].ID, page.Items[0].ID)
	future := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	page, _ = a.audit(a.http, "/api/v1/audit?from="+future)
	require.Empty(t, page.Items)
	res = a.do(a.http, "GET", "/api/v1/audit?entity=planet&from=yesterday", nil, nil)
	require.Equal(t, http.StatusBadRequest, res.status, res.text)
	require.Contains(t, res.text, "entity must be")
	require.Contains(t, res.text, "from must be")
}

// TestPasswordResetIsAuditedWithoutThePassword: creating a user, resetting their password and
// giving them a link are recorded; no password, hash or link token is in the log.
func TestPasswordResetIsAuditedWithoutThePassword(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{noTemporal: true})
	res := a.do(a.http, "POST", "/api/v1/users", map[string]any{"email": "olga@desk.example", "name": "Olga", "password": "first-Secret-71"}, nil)
	require.Equal(t, http.StatusCreated, res.status, res.text)
	var created struct {
		User struct{ ID int64 } `json:"user"`
	}
	res.json(t, &created)
	id := strconv.FormatInt(created.User.ID, 10)
	res = a.do(a.http, "PUT", "/api/v1/users/"+id+"/password", map[string]any{"password": "second-Secret-82"}, nil)
	require.Equal(t, http.StatusNoContent, res.status, res.text)
	res = a.do(a.http, "POST", "/api/v1/users/"+id+"/password-link", nil, nil)
	require.Equal(t, http.StatusCreated, res.status, res.text)
	var link struct{ Token string }
	res.json(t, &link)
	res = a.do(&http.Client{}, "POST", "/api/v1/auth/password", map[string]any{"token": link.Token, "password": "third-Secret-93"}, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)
	// A refused reset (too short) records nothing.
	res = a.do(a.http, "PUT", "/api/v1/users/"+id+"/password", map[string]any{"password": "short"}, nil)
	require.Equal(t, http.StatusBadRequest, res.status, res.text)

	page, text := a.audit(a.http, "/api/v1/audit?entity=user&entity_id="+id)
	var actions []string
	for _, e := range page.Items {
		actions = append(actions, e.Action)
	}
	require.Equal(t, []string{"password_set", "password_link", "password_reset", "create"}, actions)
	require.Equal(t, map[string]any{"password": "changed"}, page.Items[2].After)
	require.Equal(t, created.User.ID, *page.Items[0].ActorID, "the link's holder set the password")
	require.Equal(t, a.admin.ID, *page.Items[2].ActorID)
	for _, secret := range []string{"first-Secret-71", "second-Secret-82", "third-Secret-93", link.Token, "argon2id"} {
		require.NotContains(t, text, secret)
	}
	var raw string
	require.NoError(t, a.store.Pool().QueryRow(t.Context(),
		`SELECT coalesce(string_agg(coalesce(before::text, '') || coalesce(after::text, ''), ' '), '') FROM audit_log`).Scan(&raw))
	for _, secret := range []string{"first-Secret-71", "second-Secret-82", "third-Secret-93", link.Token, "argon2id"} {
		require.NotContains(t, raw, secret)
	}
}

// TestAuditLogIsForAdmins: operators and supervisors are refused the log.
func TestAuditLogIsForAdmins(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{noTemporal: true})
	a.newUser("sup@desk.example", "Sam", store.RoleSupervisor)
	a.newUser("op@desk.example", "Olga", store.RoleOperator)
	for _, c := range []*http.Client{a.login("sup@desk.example", "pw-Sam"), a.login("op@desk.example", "pw-Olga")} {
		res := a.do(c, "GET", "/api/v1/audit", nil, nil)
		require.Equal(t, http.StatusForbidden, res.status, res.text)
	}
	require.Equal(t, http.StatusUnauthorized, a.do(&http.Client{}, "GET", "/api/v1/audit", nil, nil).status)
}

// newAPIChannel makes a line and an api channel on it without a worker.
func (a *app) newAPIChannel(lineName string) channelSetup {
	a.t.Helper()
	res := a.do(a.http, "POST", "/api/v1/lines", map[string]any{"name": lineName}, nil)
	require.Equal(a.t, http.StatusCreated, res.status, res.text)
	var l struct{ ID int64 }
	res.json(a.t, &l)
	res = a.do(a.http, "POST", "/api/v1/channels", map[string]any{"kind": "api", "name": lineName + " API", "line_id": l.ID,
		"settings": map[string]string{"callback_url": "http://127.0.0.1:1/hook"}}, nil)
	require.Equal(a.t, http.StatusCreated, res.status, res.text)
	var ch struct {
		Channel      struct{ ID int64 } `json:"channel"`
		InboundToken string             `json:"inbound_token"`
	}
	res.json(a.t, &ch)
	return channelSetup{lineID: l.ID, channelID: ch.Channel.ID, token: ch.InboundToken}
}

// TestChannelHistoryShowsOnlyThatChannel: a channel's history holds its own changes only, and
// is open to admins and the supervisors of its line.
func TestChannelHistoryShowsOnlyThatChannel(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{noTemporal: true})
	sales, support := a.newAPIChannel("Sales"), a.newAPIChannel("Support")
	chURL := func(cs channelSetup) string { return "/api/v1/channels/" + strconv.FormatInt(cs.channelID, 10) }
	res := a.do(a.http, "PATCH", chURL(sales), map[string]any{"name": "Sales site", "enabled": false}, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)
	res = a.do(a.http, "PATCH", chURL(support), map[string]any{"name": "Support site"}, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)
	res = a.do(a.http, "POST", chURL(sales)+"/rotate-secret", nil, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)
	var rotated struct{ Secret string }
	res.json(t, &rotated)
	require.NotEmpty(t, rotated.Secret)

	page, text := a.audit(a.http, chURL(sales)+"/history")
	var actions []string
	for _, e := range page.Items {
		require.Equal(t, "channel", e.EntityKind)
		require.Equal(t, strconv.FormatInt(sales.channelID, 10), e.EntityID)
		actions = append(actions, e.Action)
	}
	require.Equal(t, []string{"rotate_secret", "update", "create"}, actions)
	require.Equal(t, map[string]any{"name": "Sales API", "enabled": true}, page.Items[1].Before)
	require.Equal(t, map[string]any{"name": "Sales site", "enabled": false}, page.Items[1].After)
	require.Equal(t, map[string]any{"secret": "changed"}, page.Items[0].After)
	require.NotContains(t, text, rotated.Secret)
	require.NotContains(t, text, sales.token)

	// Sam supervises Sales: he reads its history, not Support's; an operator of Sales reads neither.
	sam := a.newUser("sam@desk.example", "Sam", store.RoleSupervisor)
	olga := a.newUser("olga@desk.example", "Olga", store.RoleOperator)
	_, err := a.store.SaveGroup(t.Context(), store.Group{Name: "Sales supervisors", Kind: store.GroupSupervisors,
		LineIDs: []int64{sales.lineID}, MemberIDs: []int64{sam.ID}})
	require.NoError(t, err)
	_, err = a.store.SaveGroup(t.Context(), store.Group{Name: "Sales operators", Kind: store.GroupOperators,
		LineIDs: []int64{sales.lineID}, MemberIDs: []int64{olga.ID}})
	require.NoError(t, err)
	samC, olgaC := a.login("sam@desk.example", "pw-Sam"), a.login("olga@desk.example", "pw-Olga")
	samPage, _ := a.audit(samC, chURL(sales)+"/history")
	require.Len(t, samPage.Items, 3)
	require.Equal(t, "127.0.0.1", page.Items[0].RemoteAddr, "an admin sees where a change came from")
	require.Empty(t, samPage.Items[0].RemoteAddr, "a supervisor sees who and when, not an admin's address")
	require.Equal(t, http.StatusForbidden, a.do(samC, "GET", chURL(support)+"/history", nil, nil).status)
	require.Equal(t, http.StatusForbidden, a.do(olgaC, "GET", chURL(sales)+"/history", nil, nil).status)
	require.Equal(t, http.StatusNotFound, a.do(a.http, "GET", "/api/v1/channels/999999/history", nil, nil).status)
}

// TestRotateTokenStopsTheOldTokenAtOnce: after a rotation the old inbound token is refused on
// the very next request and the new one works; kinds without the credential get 409 and
// nothing is recorded.
func TestRotateTokenStopsTheOldTokenAtOnce(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{noTemporal: true})
	cs := a.newAPIChannel("Sales")
	res, _ := a.inboundWith(cs, "m1", clientText("u-1", "hello"), nil)
	require.Equal(t, http.StatusAccepted, res.status, res.text)

	url := "/api/v1/channels/" + strconv.FormatInt(cs.channelID, 10)
	res = a.do(a.http, "POST", url+"/rotate-token", nil, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)
	var rotated struct {
		InboundToken string `json:"inbound_token"`
	}
	res.json(t, &rotated)
	require.NotEmpty(t, rotated.InboundToken)
	require.NotEqual(t, cs.token, rotated.InboundToken)

	res, _ = a.inboundWith(cs, "m2", clientText("u-1", "still me?"), nil)
	require.Equal(t, http.StatusUnauthorized, res.status, "the old token: %s", res.text)
	cs.token = rotated.InboundToken
	res, _ = a.inboundWith(cs, "m3", clientText("u-1", "new token"), nil)
	require.Equal(t, http.StatusAccepted, res.status, res.text)

	page, text := a.audit(a.http, url+"/history")
	require.Equal(t, "rotate_token", page.Items[0].Action)
	require.Equal(t, map[string]any{"inbound_token": "changed"}, page.Items[0].After)
	require.NotContains(t, text, rotated.InboundToken)

	// A website chat has no inbound token, an email channel no signing secret.
	var webchat, email int64
	require.NoError(t, a.store.Pool().QueryRow(t.Context(), `INSERT INTO channels (kind, name, line_id) VALUES ('webchat', 'Widget', $1)
		RETURNING id`, cs.lineID).Scan(&webchat))
	require.NoError(t, a.store.Pool().QueryRow(t.Context(), `INSERT INTO channels (kind, name, line_id) VALUES ('email', 'Mail', $1)
		RETURNING id`, cs.lineID).Scan(&email))
	res = a.do(a.http, "POST", fmt.Sprintf("/api/v1/channels/%d/rotate-token", webchat), nil, nil)
	require.Equal(t, http.StatusConflict, res.status, res.text)
	require.Equal(t, "no_inbound_token", res.errorCode(t))
	res = a.do(a.http, "POST", fmt.Sprintf("/api/v1/channels/%d/rotate-secret", email), nil, nil)
	require.Equal(t, http.StatusConflict, res.status, res.text)
	require.Equal(t, "no_secret", res.errorCode(t))
	for _, id := range []int64{webchat, email} {
		page, _ := a.audit(a.http, fmt.Sprintf("/api/v1/channels/%d/history", id))
		require.Empty(t, page.Items, "a refused rotation records nothing")
	}
	require.Equal(t, http.StatusNotFound, a.do(a.http, "POST", "/api/v1/channels/999999/rotate-token", nil, nil).status)
}

// TestPermissionChangesAreAudited: group membership, a user's role and disabling, API tokens and
// the desk-wide settings are each recorded with the fields that changed.
func TestPermissionChangesAreAudited(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{noTemporal: true})
	olga := a.newUser("olga@desk.example", "Olga", store.RoleOperator)
	res := a.do(a.http, "POST", "/api/v1/groups", map[string]any{"name": "Sales", "permissions": []string{"omni"}}, nil)
	require.Equal(t, http.StatusCreated, res.status, res.text)
	var g struct{ ID int64 }
	res.json(t, &g)
	group := "/api/v1/groups/" + strconv.FormatInt(g.ID, 10)
	res = a.do(a.http, "PATCH", group, map[string]any{"member_ids": []int64{olga.ID}}, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)
	res = a.do(a.http, "PATCH", group, map[string]any{"member_ids": []int64{olga.ID, 424242}}, nil)
	require.Equal(t, http.StatusBadRequest, res.status, "an unknown member: %s", res.text)
	res = a.do(a.http, "DELETE", group, nil, nil)
	require.Equal(t, http.StatusNoContent, res.status, res.text)
	page, _ := a.audit(a.http, "/api/v1/audit?entity=group&entity_id="+strconv.FormatInt(g.ID, 10))
	require.Len(t, page.Items, 3)
	require.Equal(t, "delete", page.Items[0].Action)
	require.Nil(t, page.Items[0].After)
	require.Equal(t, "Sales", page.Items[0].Before["name"])
	require.Equal(t, map[string]any{"member_ids": []any{}}, page.Items[1].Before)
	require.Equal(t, map[string]any{"member_ids": []any{float64(olga.ID)}}, page.Items[1].After)

	user := "/api/v1/users/" + strconv.FormatInt(olga.ID, 10)
	res = a.do(a.http, "PATCH", user, map[string]any{"role": "supervisor", "disabled": true}, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)
	page, _ = a.audit(a.http, "/api/v1/audit?entity=user&entity_id="+strconv.FormatInt(olga.ID, 10))
	require.Len(t, page.Items, 1)
	require.Equal(t, map[string]any{"role": "operator", "disabled": false}, page.Items[0].Before)
	require.Equal(t, map[string]any{"role": "supervisor", "disabled": true}, page.Items[0].After)

	res = a.do(a.http, "POST", "/api/v1/tokens", map[string]any{"name": "script"}, nil)
	require.Equal(t, http.StatusCreated, res.status, res.text)
	var tok struct {
		ID    int64
		Token string
	}
	res.json(t, &tok)
	res = a.do(a.http, "DELETE", "/api/v1/tokens/"+strconv.FormatInt(tok.ID, 10), nil, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)
	page, text := a.audit(a.http, "/api/v1/audit?entity=api_token")
	require.Len(t, page.Items, 2)
	require.Equal(t, "revoke", page.Items[0].Action)
	require.Equal(t, map[string]any{"revoked": true}, page.Items[0].After)
	require.NotContains(t, text, tok.Token)

	res = a.do(a.http, "PUT", "/api/v1/presence-settings", map[string]any{"offline_blocked_by": []string{"active"}}, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)
	res = a.do(a.http, "PUT", "/api/v1/dialog-settings", map[string]any{"types": []string{"Support"}, "reasons": []string{"Price"}}, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)
	res = a.do(a.http, "PUT", "/api/v1/standard-messages", map[string]any{"csat_thanks": "Thank you!"}, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)
	page, _ = a.audit(a.http, "/api/v1/audit?entity=setting")
	require.Len(t, page.Items, 3)
	require.Equal(t, "standard_messages", page.Items[0].EntityID)
	require.Equal(t, map[string]any{"csat_thanks": "Thank you!"}, page.Items[0].After)
	require.Equal(t, map[string]any{"types": []any{"Support"}, "reasons": []any{"Price"}}, page.Items[1].After)
	require.Equal(t, map[string]any{"offline_blocked_by": []any{"active"}}, page.Items[2].After)
}

// TestTemplateChangesAreAudited: a template's creation, edit and deletion are recorded with who
// made them and, for the edit, only the fields that changed; a refused create or edit records
// nothing.
func TestTemplateChangesAreAudited(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{noTemporal: true})
	sam := a.newUser("sam@desk.example", "Sam", store.RoleSupervisor)
	samC := a.login("sam@desk.example", "pw-Sam")
	res := a.do(a.http, "POST", "/api/v1/templates", map[string]any{"name": "Greeting", "body": "Hello!", "tags": []string{"hi"}}, nil)
	require.Equal(t, http.StatusCreated, res.status, res.text)
	var tpl templateView
	res.json(t, &tpl)
	url := "/api/v1/templates/" + strconv.FormatInt(tpl.ID, 10)
	templateLog := "/api/v1/audit?entity=template&entity_id=" + strconv.FormatInt(tpl.ID, 10)

	res = a.do(samC, "PATCH", url, map[string]any{"name": "Greeting", "body": "Hello! How can I help?", "tags": []string{"hi"}}, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)
	page, _ := a.audit(a.http, templateLog)
	require.Len(t, page.Items, 2, "the creation and the edit")
	edit, created := page.Items[0], page.Items[1]
	require.Equal(t, "create", created.Action)
	require.Equal(t, a.admin.ID, *created.ActorID)
	require.Nil(t, created.Before)
	require.Equal(t, "Greeting", created.After["name"])
	require.Equal(t, []any{"hi"}, created.After["tags"])
	require.Equal(t, "update", edit.Action)
	require.Equal(t, "template", edit.EntityKind)
	require.Equal(t, sam.ID, *edit.ActorID, "Sam made the edit")
	require.Equal(t, map[string]any{"body": "Hello!"}, edit.Before, "only the changed field")
	require.Equal(t, map[string]any{"body": "Hello! How can I help?"}, edit.After)

	// Refused: a second "greeting" (names ignore case), an edit naming a missing channel.
	res = a.do(a.http, "POST", "/api/v1/templates", map[string]any{"name": "greeting", "body": "Hi"}, nil)
	require.Equal(t, http.StatusConflict, res.status, res.text)
	require.Equal(t, "name_taken", res.errorCode(t))
	res = a.do(a.http, "POST", "/api/v1/templates", map[string]any{"name": "Bye", "body": "Bye!"}, nil)
	require.Equal(t, http.StatusCreated, res.status, res.text)
	var bye templateView
	res.json(t, &bye)
	res = a.do(a.http, "PATCH", "/api/v1/templates/"+strconv.FormatInt(bye.ID, 10), map[string]any{"name": "Greeting"}, nil)
	require.Equal(t, http.StatusConflict, res.status, res.text)
	require.Equal(t, "name_taken", res.errorCode(t))
	res = a.do(a.http, "PATCH", url, map[string]any{"body": "Changed", "channel_ids": []int64{424242}}, nil)
	require.Equal(t, http.StatusBadRequest, res.status, res.text)
	require.Equal(t, http.StatusNotFound, a.do(a.http, "PATCH", "/api/v1/templates/999999", map[string]any{"body": "x"}, nil).status)
	page, _ = a.audit(a.http, "/api/v1/audit?entity=template")
	require.Len(t, page.Items, 3, "Greeting's creation and edit, Bye's creation")
	got, err := a.store.TemplateByID(t.Context(), tpl.ID)
	require.NoError(t, err)
	require.Equal(t, "Hello! How can I help?", got.Body, "the refused edit saved nothing")

	res = a.do(a.http, "DELETE", url, nil, nil)
	require.Equal(t, http.StatusNoContent, res.status, res.text)
	require.Equal(t, http.StatusNotFound, a.do(a.http, "DELETE", url, nil, nil).status)
	page, _ = a.audit(a.http, templateLog)
	require.Len(t, page.Items, 3)
	require.Equal(t, "delete", page.Items[0].Action)
	require.Nil(t, page.Items[0].After)
	require.Equal(t, "Hello! How can I help?", page.Items[0].Before["body"])
}

// TestWebhookChangesAreAuditedWithoutTheSecret: a webhook's creation, edit, secret rotation and
// deletion are recorded; neither secret is anywhere in the log, and a refused create records
// nothing.
func TestWebhookChangesAreAuditedWithoutTheSecret(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{noTemporal: true})
	hook, secret := a.createWebhook(map[string]any{"url": "http://127.0.0.1:1/hook", "events": []string{"message.created"}})
	url := "/api/v1/webhooks/" + strconv.FormatInt(hook.ID, 10)
	res := a.do(a.http, "POST", "/api/v1/webhooks", map[string]any{"url": "http://127.0.0.1:1/hook", "events": []string{"message.sent"}}, nil)
	require.Equal(t, http.StatusBadRequest, res.status, "an unknown event: %s", res.text)
	res = a.do(a.http, "PATCH", url, map[string]any{"enabled": false, "description": "CRM"}, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)
	res = a.do(a.http, "POST", url+"/rotate-secret", nil, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)
	var rotated struct{ Secret string }
	res.json(t, &rotated)
	require.NotEmpty(t, rotated.Secret)
	require.NotEqual(t, secret, rotated.Secret)
	res = a.do(a.http, "DELETE", url, nil, nil)
	require.Equal(t, http.StatusNoContent, res.status, res.text)
	require.Equal(t, http.StatusNotFound, a.do(a.http, "POST", url+"/rotate-secret", nil, nil).status)

	page, text := a.audit(a.http, "/api/v1/audit?entity=webhook")
	var actions []string
	for _, e := range page.Items {
		require.Equal(t, strconv.FormatInt(hook.ID, 10), e.EntityID)
		require.Equal(t, a.admin.ID, *e.ActorID)
		actions = append(actions, e.Action)
	}
	require.Equal(t, []string{"delete", "rotate_secret", "update", "create"}, actions)
	require.Equal(t, "http://127.0.0.1:1/hook", page.Items[0].Before["url"])
	require.NotContains(t, page.Items[0].Before, "secret")
	require.Equal(t, map[string]any{"secret": "changed"}, page.Items[1].After)
	require.Equal(t, map[string]any{"enabled": true, "description": ""}, page.Items[2].Before)
	require.Equal(t, map[string]any{"enabled": false, "description": "CRM"}, page.Items[2].After)
	require.Equal(t, []any{"message.created"}, page.Items[3].After["events"])
	require.NotContains(t, page.Items[3].After, "secret")
	for _, s := range []string{secret, rotated.Secret} {
		require.NotContains(t, text, s)
	}
	var raw string
	require.NoError(t, a.store.Pool().QueryRow(t.Context(),
		`SELECT coalesce(string_agg(coalesce(before::text, '') || coalesce(after::text, ''), ' '), '') FROM audit_log`).Scan(&raw))
	for _, s := range []string{secret, rotated.Secret} {
		require.NotContains(t, raw, s)
	}
}
