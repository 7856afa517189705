package api_test

import (
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/linedesk/linedesk/api"
	"github.com/linedesk/linedesk/store"
)

// TestEveryRouteHasARule: a route registered around the route table (without a rule) fails here.
func TestEveryRouteHasARule(t *testing.T) {
	rules := api.RouteRules()
	e := api.New(api.Deps{Metrics: http.NotFoundHandler()})
	var missing []string
	for _, r := range e.Routes() {
		if strings.Contains(r.Path, "*") || r.Method == "echo_route_not_found" {
			continue
		}
		if _, ok := rules[r.Method+" "+r.Path]; !ok {
			missing = append(missing, r.Method+" "+r.Path)
		}
	}
	slices.Sort(missing)
	require.Empty(t, missing, "routes without a permission rule")
}

// TestPermissionMatrix calls every route as nobody, an operator, a supervisor and an admin, and
// checks that each is let through or refused as the route's rule says: 401 without sign-in, 403
// for a role below the rule, and for everyone allowed an answer that is neither (a 400 or 404 for
// the placeholder ids and bodies is fine: the request got past the permission check).
func TestPermissionMatrix(t *testing.T) {
	a := newApp(t, appOptions{})
	_, operator := a.newOperator("op@example.com", "Olga")
	_, err := a.store.CreateUser(t.Context(), store.NewUser{Email: "sup@example.com", Name: "Semyon", Password: "pw-Semyon", Role: store.RoleSupervisor})
	require.NoError(t, err)
	supervisor := a.login("sup@example.com", "pw-Semyon")
	callers := []struct {
		name   string
		client *http.Client
		level  int // 0 nobody, 1 signed in, 2 supervisor, 3 admin
	}{
		{"nobody", &http.Client{}, 0}, {"operator", operator, 1}, {"supervisor", supervisor, 2}, {"admin", a.http, 3},
	}
	need := map[string]int{"public": 0, "channel_token": 0, "signed_in": 1, "supervisor": 2, "admin": 3}
	param := regexp.MustCompile(`:(\w+)`)
	rules := api.RouteRules()
	keys := make([]string, 0, len(rules))
	for k := range rules {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, key := range keys {
		rule := rules[key]
		method, path, _ := strings.Cut(key, " ")
		if method == http.MethodPost && path == "/api/v1/auth/logout" {
			continue // it would end the callers' sessions; it needs no sign-in and is tested with login
		}
		path = param.ReplaceAllStringFunc(path, func(p string) string {
			if p == ":id" && strings.HasPrefix(path, "/api/v1/chats/") {
				return "00000000-0000-4000-8000-000000000000"
			}
			return "999999"
		})
		level, ok := need[rule]
		require.True(t, ok, "%s: unknown rule %q", key, rule)
		for _, c := range callers {
			var body any
			if method != http.MethodGet && method != http.MethodDelete {
				body = "{}"
			}
			res := a.do(c.client, method, path, body, nil)
			switch {
			case rule == "channel_token":
				require.Equal(t, http.StatusUnauthorized, res.status, "%s as %s: a channel endpoint wants the channel's token: %s", key, c.name, res.text)
			case c.level < level && c.level == 0:
				require.Equal(t, http.StatusUnauthorized, res.status, "%s as %s: %s", key, c.name, res.text)
			case c.level < level:
				require.Equal(t, http.StatusForbidden, res.status, "%s as %s: %s", key, c.name, res.text)
			default:
				require.NotContains(t, []int{http.StatusUnauthorized, http.StatusForbidden}, res.status,
					"%s as %s (rule %s) was refused: %s", key, c.name, rule, res.text)
			}
		}
	}
}
