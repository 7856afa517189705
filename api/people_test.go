package api_test

import (
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

type userAnswer struct {
	User struct {
		ID       int64   `json:"id"`
		Email    string  `json:"email"`
		Role     string  `json:"role"`
		Disabled bool    `json:"disabled"`
		GroupIDs []int64 `json:"group_ids"`
	} `json:"user"`
	PasswordLink *struct {
		Token string `json:"token"`
		URL   string `json:"url"`
	} `json:"password_link"`
}

type groupAnswer struct {
	ID          int64    `json:"id"`
	Name        string   `json:"name"`
	Kind        string   `json:"kind"`
	Permissions []string `json:"permissions"`
	MemberIDs   []int64  `json:"member_ids"`
	LineIDs     []int64  `json:"line_ids"`
}

// tryLogin signs in and returns the status.
func (a *app) tryLogin(email, password string) int {
	a.t.Helper()
	jar, _ := cookiejar.New(nil)
	return a.do(&http.Client{Jar: jar}, "POST", "/api/v1/auth/login", map[string]string{"email": email, "password": password}, nil).status
}

func TestAdminOnboardsAUserWithAOneTimeLink(t *testing.T) {
	a := newApp(t, appOptions{noTemporal: true})
	res := a.do(a.http, "POST", "/api/v1/users", map[string]any{"email": "olga@example.com", "name": "Olga"}, nil)
	require.Equal(t, http.StatusCreated, res.status, res.text)
	var u userAnswer
	res.json(t, &u)
	require.Equal(t, "operator", u.User.Role)
	require.NotNil(t, u.PasswordLink, "a user created without a password gets a link")
	require.Equal(t, "/#set-password="+u.PasswordLink.Token, u.PasswordLink.URL, "the console page that asks for the password")

	// Nobody knows the password until the user chooses one.
	require.Equal(t, http.StatusUnauthorized, a.tryLogin("olga@example.com", "a-guessed-password"))
	res = a.do(&http.Client{}, "POST", "/api/v1/auth/password", map[string]string{"token": u.PasswordLink.Token, "password": "short"}, nil)
	require.Equal(t, http.StatusBadRequest, res.status, res.text)
	require.Equal(t, "invalid_fields", res.errorCode(t))
	res = a.do(&http.Client{}, "POST", "/api/v1/auth/password", map[string]string{"token": u.PasswordLink.Token, "password": "olga-chose-this"}, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)
	require.Equal(t, http.StatusOK, a.tryLogin("olga@example.com", "olga-chose-this"))

	// The link works once.
	res = a.do(&http.Client{}, "POST", "/api/v1/auth/password", map[string]string{"token": u.PasswordLink.Token, "password": "someone-else"}, nil)
	require.Equal(t, http.StatusBadRequest, res.status, res.text)
	require.Equal(t, "invalid_link", res.errorCode(t))
	require.Equal(t, http.StatusOK, a.tryLogin("olga@example.com", "olga-chose-this"))

	// A new link replaces an unused older one.
	first := a.do(a.http, "POST", fmt.Sprintf("/api/v1/users/%d/password-link", u.User.ID), nil, nil)
	require.Equal(t, http.StatusCreated, first.status, first.text)
	second := a.do(a.http, "POST", fmt.Sprintf("/api/v1/users/%d/password-link", u.User.ID), nil, nil)
	var l1, l2 struct{ Token string }
	first.json(t, &l1)
	second.json(t, &l2)
	res = a.do(&http.Client{}, "POST", "/api/v1/auth/password", map[string]string{"token": l1.Token, "password": "from-the-old-link"}, nil)
	require.Equal(t, "invalid_link", res.errorCode(t))
	res = a.do(&http.Client{}, "POST", "/api/v1/auth/password", map[string]string{"token": l2.Token, "password": "from-the-new-link"}, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)
	require.Equal(t, http.StatusOK, a.tryLogin("olga@example.com", "from-the-new-link"))

	// The same email again is refused, whatever its case.
	res = a.do(a.http, "POST", "/api/v1/users", map[string]any{"email": "OLGA@example.com", "name": "Olga 2", "password": "password-2"}, nil)
	require.Equal(t, http.StatusConflict, res.status, res.text)
	require.Equal(t, "email_taken", res.errorCode(t))
}

func TestAdminSetsAPasswordAndTheUsersSessionsEnd(t *testing.T) {
	a := newApp(t, appOptions{noTemporal: true})
	res := a.do(a.http, "POST", "/api/v1/users", map[string]any{"email": "ivan@example.com", "name": "Ivan", "role": "supervisor", "password": "first-password"}, nil)
	require.Equal(t, http.StatusCreated, res.status, res.text)
	var u userAnswer
	res.json(t, &u)
	require.Nil(t, u.PasswordLink)
	require.Equal(t, "supervisor", u.User.Role)
	ivan := a.login("ivan@example.com", "first-password")
	require.Equal(t, http.StatusOK, a.do(ivan, "GET", "/api/v1/users", nil, nil).status, "a supervisor lists users")

	link := a.do(a.http, "POST", fmt.Sprintf("/api/v1/users/%d/password-link", u.User.ID), nil, nil)
	require.Equal(t, http.StatusCreated, link.status, link.text)
	var unused struct{ Token string }
	link.json(t, &unused)
	res = a.do(a.http, "PUT", fmt.Sprintf("/api/v1/users/%d/password", u.User.ID), map[string]string{"password": "second-password"}, nil)
	require.Equal(t, http.StatusNoContent, res.status, res.text)
	res = a.do(&http.Client{}, "POST", "/api/v1/auth/password", map[string]string{"token": unused.Token, "password": "from-an-old-link"}, nil)
	require.Equal(t, "invalid_link", res.errorCode(t), "a new password spends the links given before it")
	require.Equal(t, http.StatusUnauthorized, a.do(ivan, "GET", "/api/v1/me", nil, nil).status, "the old session ended")
	require.Equal(t, http.StatusUnauthorized, a.tryLogin("ivan@example.com", "first-password"))
	require.Equal(t, http.StatusOK, a.tryLogin("ivan@example.com", "second-password"))
}

func TestDisablingAUserStopsTheirSessionsAndTokensAtOnce(t *testing.T) {
	a := newApp(t, appOptions{noTemporal: true})
	op, opClient := a.newOperator("petr@example.com", "Petr")
	link := a.do(a.http, "POST", fmt.Sprintf("/api/v1/users/%d/password-link", op.ID), nil, nil)
	require.Equal(t, http.StatusCreated, link.status, link.text)
	var pending struct{ Token string }
	link.json(t, &pending)
	res := a.do(opClient, "POST", "/api/v1/tokens", map[string]string{"name": "script"}, nil)
	require.Equal(t, http.StatusCreated, res.status, res.text)
	var tok struct{ Token string }
	res.json(t, &tok)
	bearer := map[string]string{"Authorization": "Bearer " + tok.Token}
	require.Equal(t, http.StatusOK, a.do(&http.Client{}, "GET", "/api/v1/me", nil, bearer).status)

	res = a.do(a.http, "PATCH", fmt.Sprintf("/api/v1/users/%d", op.ID), map[string]any{"disabled": true}, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)
	var u userAnswer
	res.json(t, &u)
	require.True(t, u.User.Disabled)
	require.Equal(t, http.StatusUnauthorized, a.do(opClient, "GET", "/api/v1/me", nil, nil).status)
	require.Equal(t, http.StatusUnauthorized, a.do(&http.Client{}, "GET", "/api/v1/me", nil, bearer).status)
	require.Equal(t, http.StatusUnauthorized, a.tryLogin("petr@example.com", "pw-Petr"))
	res = a.do(a.http, "POST", fmt.Sprintf("/api/v1/users/%d/password-link", op.ID), nil, nil)
	require.Equal(t, http.StatusNotFound, res.status, "no link for a disabled user: %s", res.text)

	// Enabled again, the token works again; the session stays ended.
	res = a.do(a.http, "PATCH", fmt.Sprintf("/api/v1/users/%d", op.ID), map[string]any{"disabled": false}, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)
	require.Equal(t, http.StatusOK, a.do(&http.Client{}, "GET", "/api/v1/me", nil, bearer).status)
	require.Equal(t, http.StatusUnauthorized, a.do(opClient, "GET", "/api/v1/me", nil, nil).status)
	res = a.do(&http.Client{}, "POST", "/api/v1/auth/password", map[string]string{"token": pending.Token, "password": "from-before-disabling"}, nil)
	require.Equal(t, "invalid_link", res.errorCode(t), "disabling spends the user's links")
}

func TestTheLastAdminStays(t *testing.T) {
	a := newApp(t, appOptions{noTemporal: true})
	path := fmt.Sprintf("/api/v1/users/%d", a.admin.ID)
	for _, body := range []map[string]any{{"disabled": true}, {"role": "operator"}} {
		res := a.do(a.http, "PATCH", path, body, nil)
		require.Equal(t, http.StatusConflict, res.status, res.text)
		require.Equal(t, "last_admin", res.errorCode(t))
	}
	require.Equal(t, http.StatusOK, a.do(a.http, "GET", "/api/v1/me", nil, nil).status, "nothing changed")

	// With a second admin the first may step down.
	res := a.do(a.http, "POST", "/api/v1/users", map[string]any{"email": "anna@example.com", "name": "Anna", "role": "admin", "password": "anna-password"}, nil)
	require.Equal(t, http.StatusCreated, res.status, res.text)
	res = a.do(a.http, "PATCH", path, map[string]any{"role": "supervisor"}, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)
	require.Equal(t, http.StatusForbidden, a.do(a.http, "POST", "/api/v1/users", map[string]any{"email": "x@example.com", "name": "X"}, nil).status,
		"a supervisor now: the role takes effect on the next request")
}

func TestUserInputIsChecked(t *testing.T) {
	a := newApp(t, appOptions{noTemporal: true})
	for _, tc := range []struct {
		body any
		want string
	}{
		{map[string]any{"name": "No email"}, "email is required"},
		{map[string]any{"email": "not an address", "name": "X"}, "email must be"},
		{map[string]any{"email": "Name <n@example.com>", "name": "X"}, "email must be"},
		{map[string]any{"email": "n@example.com"}, "name is required"},
		{map[string]any{"email": "n@example.com", "name": "X", "role": "root"}, "role must be"},
		{map[string]any{"email": "n@example.com", "name": "X", "password": "1234567"}, "password must have"},
		{map[string]any{"email": "n@example.com", "name": strings.Repeat("я", 201)}, "name is longer"},
		{`{"email": "n@example.com", "name": 5}`, `must be a string, not number`},
	} {
		res := a.do(a.http, "POST", "/api/v1/users", tc.body, nil)
		require.Equal(t, http.StatusBadRequest, res.status, res.text)
		require.Contains(t, res.text, tc.want)
	}
	for _, body := range []string{`{"name": null}`, `{"password": null}`, `{"password": "via-patch-1"}`} {
		res := a.do(a.http, "PATCH", fmt.Sprintf("/api/v1/users/%d", a.admin.ID), body, nil)
		require.Equal(t, http.StatusBadRequest, res.status, "%s: %s", body, res.text)
	}
	res := a.do(a.http, "GET", "/api/v1/me", nil, nil)
	require.Equal(t, http.StatusOK, res.status)
	res = a.do(a.http, "PATCH", "/api/v1/users/424242", map[string]any{"name": "Ghost"}, nil)
	require.Equal(t, http.StatusNotFound, res.status, res.text)
	res = a.do(a.http, "GET", "/api/v1/users", nil, nil)
	var list struct{ Items []userAnswer }
	res.json(t, &list)
	require.Len(t, list.Items, 1, "no bad request created a user: %s", res.text)
}

func TestGroupsCarryPermissionsMembersAndLines(t *testing.T) {
	a := newApp(t, appOptions{noTemporal: true})
	olga, olgaClient := a.newOperator("olga@example.com", "Olga")
	petr, _ := a.newOperator("petr@example.com", "Petr")
	var line struct{ ID int64 }
	res := a.do(a.http, "POST", "/api/v1/lines", map[string]any{"name": "Sales"}, nil)
	require.Equal(t, http.StatusCreated, res.status, res.text)
	res.json(t, &line)

	res = a.do(a.http, "POST", "/api/v1/groups", map[string]any{"name": "Sales operators", "permissions": []string{"omni", "unassigned_queue", "omni"},
		"member_ids": []int64{olga.ID, petr.ID}, "line_ids": []int64{line.ID}}, nil)
	require.Equal(t, http.StatusCreated, res.status, res.text)
	var g groupAnswer
	res.json(t, &g)
	require.Equal(t, "operators", g.Kind)
	require.Equal(t, []string{"omni", "unassigned_queue"}, g.Permissions)
	require.ElementsMatch(t, []int64{olga.ID, petr.ID}, g.MemberIDs)
	require.Equal(t, []int64{line.ID}, g.LineIDs)

	var me struct {
		Access struct {
			OperatorLines   []int64  `json:"operator_lines"`
			SupervisorLines []int64  `json:"supervisor_lines"`
			Permissions     []string `json:"permissions"`
		} `json:"access"`
	}
	a.do(olgaClient, "GET", "/api/v1/me", nil, nil).json(t, &me)
	require.Equal(t, []int64{line.ID}, me.Access.OperatorLines)
	require.Empty(t, me.Access.SupervisorLines)
	require.Equal(t, []string{"omni", "unassigned_queue"}, me.Access.Permissions)

	// A list sent replaces the list; fields left out stay.
	res = a.do(a.http, "PATCH", fmt.Sprintf("/api/v1/groups/%d", g.ID), map[string]any{"member_ids": []int64{petr.ID}, "kind": "supervisors"}, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)
	res.json(t, &g)
	require.Equal(t, []int64{petr.ID}, g.MemberIDs)
	require.Equal(t, "supervisors", g.Kind)
	require.Equal(t, []string{"omni", "unassigned_queue"}, g.Permissions)
	a.do(olgaClient, "GET", "/api/v1/me", nil, nil).json(t, &me)
	require.Empty(t, me.Access.OperatorLines, "Olga left the group")

	// Unknown references and values are named, and change nothing.
	res = a.do(a.http, "PATCH", fmt.Sprintf("/api/v1/groups/%d", g.ID),
		map[string]any{"member_ids": []int64{petr.ID, 9001}, "line_ids": []int64{777}, "permissions": []string{"root"}}, nil)
	require.Equal(t, http.StatusBadRequest, res.status, res.text)
	require.Contains(t, res.text, "member_ids: user 9001 does not exist")
	require.Contains(t, res.text, "line_ids: line 777 does not exist")
	require.Contains(t, res.text, `permissions: \"root\" is not one of`)
	res = a.do(a.http, "PATCH", fmt.Sprintf("/api/v1/groups/%d", g.ID), `{"member_ids": null}`, nil)
	require.Equal(t, http.StatusBadRequest, res.status, res.text)
	res = a.do(a.http, "GET", fmt.Sprintf("/api/v1/groups/%d", g.ID), nil, nil)
	res.json(t, &g)
	require.Equal(t, []int64{petr.ID}, g.MemberIDs)
	require.Equal(t, []int64{line.ID}, g.LineIDs)

	res = a.do(a.http, "POST", "/api/v1/groups", map[string]any{"name": "Sales operators"}, nil)
	require.Equal(t, http.StatusConflict, res.status, res.text)
	require.Equal(t, "name_taken", res.errorCode(t))

	require.Equal(t, http.StatusNoContent, a.do(a.http, "DELETE", fmt.Sprintf("/api/v1/groups/%d", g.ID), nil, nil).status)
	require.Equal(t, http.StatusNotFound, a.do(a.http, "GET", fmt.Sprintf("/api/v1/groups/%d", g.ID), nil, nil).status)
	require.Equal(t, http.StatusOK, a.do(a.http, "GET", fmt.Sprintf("/api/v1/users/%d", petr.ID), nil, nil).status, "members stay")
}

// TestGoingOfflineWithOpenWorkIsRefused: an operator holding an active conversation cannot go
// offline (the answer lists it); once it is closed they can; the admin decides which statuses
// count, and supervisors see everyone's status.
func TestGoingOfflineWithOpenWorkIsRefused(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{})
	cs := a.setupChannel(map[string]any{"name": "Support", "auto_open": true})
	olga, olgaClient := a.newOperator("olga@desk.example", "Olga")
	require.Equal(t, http.StatusOK, a.do(olgaClient, "PUT", "/api/v1/me/status", map[string]string{"status": "online"}, nil).status)
	_, in := a.inbound(cs, "1", clientText("u-1", "hello"))
	require.NotNil(t, in.Conversation)
	path := fmt.Sprintf("/api/v1/conversations/%d", *in.Conversation)
	require.Equal(t, http.StatusOK, a.do(olgaClient, "POST", path+"/take", nil, nil).status)

	res := a.do(olgaClient, "PUT", "/api/v1/me/status", map[string]string{"status": "offline"}, nil)
	require.Equal(t, http.StatusConflict, res.status, res.text)
	var refusal struct {
		Error struct {
			Code          string  `json:"code"`
			Conversations []int64 `json:"conversations"`
		} `json:"error"`
	}
	res.json(t, &refusal)
	require.Equal(t, "open_work", refusal.Error.Code)
	require.Equal(t, []int64{*in.Conversation}, refusal.Error.Conversations)
	require.Equal(t, http.StatusOK, a.do(olgaClient, "PUT", "/api/v1/me/status", map[string]string{"status": "away"}, nil).status, "away is allowed")

	// A supervisor sees her status.
	var presence struct {
		User struct{ Presence string } `json:"user"`
	}
	a.do(a.http, "GET", fmt.Sprintf("/api/v1/users/%d", olga.ID), nil, nil).json(t, &presence)
	require.Equal(t, "away", presence.User.Presence)

	// With the admin's rule "only paused work blocks", her active conversation no longer does.
	res = a.do(a.http, "PUT", "/api/v1/presence-settings", map[string]any{"offline_blocked_by": []string{"paused", "closed"}}, nil)
	require.Equal(t, http.StatusBadRequest, res.status, res.text)
	require.Equal(t, http.StatusForbidden, a.do(olgaClient, "PUT", "/api/v1/presence-settings", map[string]any{"offline_blocked_by": []string{}}, nil).status)
	res = a.do(a.http, "PUT", "/api/v1/presence-settings", map[string]any{"offline_blocked_by": []string{"paused"}}, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)
	require.Equal(t, http.StatusOK, a.do(olgaClient, "PUT", "/api/v1/me/status", map[string]string{"status": "offline"}, nil).status)

	// Back to the default rule: once her work is closed she goes offline.
	require.Equal(t, http.StatusOK, a.do(olgaClient, "PUT", "/api/v1/me/status", map[string]string{"status": "online"}, nil).status)
	res = a.do(a.http, "PUT", "/api/v1/presence-settings", map[string]any{"offline_blocked_by": []string{"active", "paused"}}, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)
	require.Equal(t, http.StatusConflict, a.do(olgaClient, "PUT", "/api/v1/me/status", map[string]string{"status": "offline"}, nil).status)
	res = a.do(olgaClient, "POST", path+"/close", map[string]any{"confirm_unread": true}, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)
	require.Eventually(t, func() bool {
		return a.do(olgaClient, "PUT", "/api/v1/me/status", map[string]string{"status": "offline"}, nil).status == http.StatusOK
	}, 20*time.Second, 50*time.Millisecond, "the read model shows it closed")

	res = a.do(olgaClient, "PUT", "/api/v1/me/status", map[string]string{"status": "busy"}, nil)
	require.Equal(t, http.StatusBadRequest, res.status, res.text)
}
