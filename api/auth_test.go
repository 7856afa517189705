package api_test

import (
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestLoginSessionAndLogout(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{noTemporal: true})
	anon := &http.Client{}

	res := a.do(anon, "POST", "/api/v1/auth/login", map[string]string{"email": "ADMIN@example.com ", "password": "secret"}, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)
	cookie := res.header.Get("Set-Cookie")
	require.Contains(t, cookie, "linedesk_session=")
	require.Contains(t, cookie, "HttpOnly")
	require.Contains(t, cookie, "SameSite=Lax")
	var body struct {
		User struct {
			ID    int64  `json:"id"`
			Email string `json:"email"`
			Role  string `json:"role"`
		} `json:"user"`
	}
	res.json(t, &body)
	require.Equal(t, "admin@example.com", body.User.Email)
	require.Equal(t, "admin", body.User.Role)

	me := a.do(a.http, "GET", "/api/v1/me", nil, nil)
	require.Equal(t, http.StatusOK, me.status)
	require.Contains(t, me.text, `"email":"admin@example.com"`)

	require.Equal(t, http.StatusNoContent, a.do(a.http, "POST", "/api/v1/auth/logout", nil, nil).status)
	after := a.do(a.http, "GET", "/api/v1/me", nil, nil)
	require.Equal(t, http.StatusUnauthorized, after.status)
	require.Equal(t, "unauthorized", after.errorCode(t))
}

func TestWrongPasswordIs401(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{noTemporal: true})
	for _, creds := range []map[string]string{
		{"email": "admin@example.com", "password": "wrong"},
		{"email": "nobody@example.com", "password": "secret"},
	} {
		res := a.do(&http.Client{}, "POST", "/api/v1/auth/login", creds, nil)
		require.Equal(t, http.StatusUnauthorized, res.status)
		require.Equal(t, "invalid_credentials", res.errorCode(t))
		require.Empty(t, res.header.Get("Set-Cookie"))
	}
}

func TestBadAuthRequestsAre400(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{noTemporal: true})
	cases := map[string]struct {
		body        any
		contentType string
		code        string
	}{
		"malformed json":   {body: `{"email": "a@b",`, code: "bad_request"},
		"not an object":    {body: `[1,2]`, code: "bad_request"},
		"wrong field type": {body: `{"email": 5, "password": "x"}`, code: "bad_request"},
		"empty body":       {body: ``, code: "bad_request"},
		"trailing data":    {body: `{"email":"a","password":"b"} {}`, code: "bad_request"},
		"missing password": {body: map[string]string{"email": "admin@example.com"}, code: "invalid_fields"},
		"missing both":     {body: `{}`, code: "invalid_fields"},
		"oversize body":    {body: `{"email":"` + strings.Repeat("a", 2<<20) + `","password":"x"}`, code: "body_too_large"},
		"wrong type":       {body: `email=a&password=b`, contentType: "application/x-www-form-urlencoded", code: "bad_request"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			header := map[string]string{}
			if tc.contentType != "" {
				header["Content-Type"] = tc.contentType
			}
			res := a.do(&http.Client{}, "POST", "/api/v1/auth/login", tc.body, header)
			require.Equal(t, http.StatusBadRequest, res.status, res.text)
			require.Equal(t, tc.code, res.errorCode(t), res.text)
		})
	}
	// The token endpoint validates the same way.
	res := a.do(a.http, "POST", "/api/v1/tokens", `{"name":`, nil)
	require.Equal(t, http.StatusBadRequest, res.status)
}

func TestAPITokens(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{noTemporal: true})
	res := a.do(a.http, "POST", "/api/v1/tokens", map[string]string{"name": "ci"}, nil)
	require.Equal(t, http.StatusCreated, res.status, res.text)
	var tok struct {
		ID    int64  `json:"id"`
		Name  string `json:"name"`
		Token string `json:"token"`
	}
	res.json(t, &tok)
	require.Equal(t, "ci", tok.Name)
	require.True(t, strings.HasPrefix(tok.Token, "ldt_"), tok.Token)

	bearer := map[string]string{"Authorization": "Bearer " + tok.Token}
	me := a.do(&http.Client{}, "GET", "/api/v1/me", nil, bearer)
	require.Equal(t, http.StatusOK, me.status)
	require.Contains(t, me.text, "admin@example.com")

	// Only a hash is stored: the token is nowhere in the database.
	var n int
	require.NoError(t, a.store.Pool().QueryRow(t.Context(),
		`SELECT count(*) FROM api_tokens WHERE position($1::bytea in token_hash) > 0`, []byte(tok.Token)).Scan(&n))
	require.Zero(t, n)

	for _, h := range []string{"Bearer " + tok.Token + "x", "Bearer ", "Basic abc"} {
		res := a.do(&http.Client{}, "GET", "/api/v1/me", nil, map[string]string{"Authorization": h})
		require.Equal(t, http.StatusUnauthorized, res.status, h)
	}
}

func TestCrossOriginWritesAreRefused(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{noTemporal: true})
	res := a.do(a.http, "POST", "/api/v1/tokens", map[string]string{"name": "x"},
		map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"})
	require.Equal(t, http.StatusForbidden, res.status)
	require.Equal(t, "cross_origin", res.errorCode(t))
}

func TestReadyzSaysWhichIsDown(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{noTemporal: true})
	res := a.do(&http.Client{}, "GET", "/readyz", nil, nil)
	require.Equal(t, http.StatusServiceUnavailable, res.status)
	require.Contains(t, res.text, `"postgres":"ok"`)
	require.Contains(t, res.text, `"temporal":"down`)
	require.Equal(t, http.StatusOK, a.do(&http.Client{}, "GET", "/healthz", nil, nil).status)
}

// TestNULCharactersAreRefused: PostgreSQL cannot store NUL in text; such input is a 400 and
// never reaches a workflow.
func TestNULCharactersAreRefused(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{noTemporal: true})
	for path, body := range map[string]string{
		"/api/v1/auth/login": `{"email":"a\u0000b@example.com","password":"x"}`,
		"/api/v1/lines":      `{"name":"Sup\u0000port"}`,
		"/api/v1/tokens":     `{"name":"\u0000"}`,
	} {
		res := a.do(a.http, "POST", path, body, nil)
		require.Equal(t, http.StatusBadRequest, res.status, "%s: %s", path, res.text)
		require.Contains(t, res.text, "NUL")
	}
}

// TestGuessingPasswordsIsThrottled: after 10 wrong passwords an account answers 429 with
// Retry-After, even for the right password, while other accounts still sign in; forged
// X-Forwarded-For headers do not spread the guesses over other addresses. Being blocked is stored
// in PostgreSQL, so every api replica refuses the same way.
func TestGuessingPasswordsIsThrottled(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{noTemporal: true})
	a.newOperator("olga@example.com", "Olga")
	for i := range 10 {
		res := a.do(&http.Client{}, "POST", "/api/v1/auth/login", map[string]string{"email": "admin@example.com", "password": "guess"},
			map[string]string{"X-Forwarded-For": "203.0.113." + strconv.Itoa(i)})
		require.Equal(t, http.StatusUnauthorized, res.status, "guess %d: %s", i+1, res.text)
	}
	for _, password := range []string{"guess", "secret"} {
		res := a.do(&http.Client{}, "POST", "/api/v1/auth/login", map[string]string{"email": " Admin@Example.com", "password": password}, nil)
		require.Equal(t, http.StatusTooManyRequests, res.status, res.text)
		require.Equal(t, "too_many_attempts", res.errorCode(t))
		after, err := strconv.Atoi(res.header.Get("Retry-After"))
		require.NoError(t, err, "Retry-After %q", res.header.Get("Retry-After"))
		require.InDelta(t, 15*60, after, 5)
		require.Empty(t, res.header.Get("Set-Cookie"))
	}
	require.Equal(t, http.StatusOK, a.tryLogin("olga@example.com", "pw-Olga"), "another account is not blocked")
	require.Equal(t, http.StatusOK, a.do(a.http, "GET", "/api/v1/me", nil, nil).status, "sessions already open keep working")

	// The block ends after its quarter of an hour; a successful sign-in then clears the count.
	_, err := a.store.Pool().Exec(t.Context(), `UPDATE login_failures SET blocked_until = now() - interval '1 second', window_start = now() - interval '16 minutes'`)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, a.tryLogin("admin@example.com", "secret"))
	require.Equal(t, http.StatusUnauthorized, a.tryLogin("admin@example.com", "guess"), "one mistake after a good sign-in is just a mistake")
	require.Equal(t, http.StatusOK, a.tryLogin("admin@example.com", "secret"))
}

// TestEveryResponseCarriesSecurityHeaders: the console, the API (answers and errors) and health
// all tell the browser not to sniff types, not to be framed, and to run only linedesk's own code.
func TestEveryResponseCarriesSecurityHeaders(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{noTemporal: true})
	for _, path := range []string{"/", "/inbox/7", "/api/v1/me", "/api/v1/conversations/x", "/healthz", "/api/openapi.yaml"} {
		res := a.do(&http.Client{}, "GET", path, nil, nil)
		require.Equal(t, "nosniff", res.header.Get("X-Content-Type-Options"), path)
		require.Equal(t, "DENY", res.header.Get("X-Frame-Options"), path)
		csp := res.header.Get("Content-Security-Policy")
		require.Contains(t, csp, "default-src 'self'", path)
		require.Contains(t, csp, "frame-ancestors 'none'", path)
		require.NotContains(t, csp, "unsafe-inline", path)
	}
	res := a.do(&http.Client{}, "GET", "/", nil, nil)
	require.Equal(t, http.StatusOK, res.status)
	require.NotContains(t, res.text, "<script>", "the console has no inline script the policy would block")
	require.NotContains(t, res.text, "<style>", "the console has no inline style the policy would block")
}

// TestUnknownAPIPathIsAJSON404: the console answers every path with the app so its screens open
// on reload, but a path under /api/ that no route has stays the API's own 404.
func TestUnknownAPIPathIsAJSON404(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{noTemporal: true})
	res := a.do(&http.Client{}, "GET", "/api/v1/no-such-thing", nil, nil)
	require.Equal(t, http.StatusNotFound, res.status)
	require.Contains(t, res.text, `"code":"not_found"`)
	res = a.do(&http.Client{}, "GET", "/inbox/12", nil, nil)
	require.Equal(t, http.StatusOK, res.status)
	require.Contains(t, res.text, `<div id="root">`)
}

type tokenView struct {
	ID        int64   `json:"id"`
	Name      string  `json:"name"`
	Role      string  `json:"role"`
	ExpiresAt *string `json:"expires_at"`
	Revoked   bool    `json:"revoked"`
	Token     string  `json:"token"`
}

func (a *app) newToken(c *http.Client, body map[string]any) tokenView {
	a.t.Helper()
	res := a.do(c, "POST", "/api/v1/tokens", body, nil)
	require.Equal(a.t, http.StatusCreated, res.status, res.text)
	var tv tokenView
	res.json(a.t, &tv)
	return tv
}

func bearer(token string) map[string]string {
	return map[string]string{"Authorization": "Bearer " + token}
}

// TestAPITokensAreListedRevokedExpiringAndScoped: a user lists and revokes their tokens, a
// revoked or expired token stops at once, and a token acts with no more than the role it was
// given, nor can it make a stronger one.
func TestAPITokensAreListedRevokedExpiringAndScoped(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{noTemporal: true})
	anon := &http.Client{}
	full := a.newToken(a.http, map[string]any{"name": "deploy"})
	limited := a.newToken(a.http, map[string]any{"name": "reports", "role": "operator", "expires_in_days": 30})
	require.Empty(t, full.Role)
	require.Nil(t, full.ExpiresAt)
	require.Equal(t, "operator", limited.Role)
	require.NotNil(t, limited.ExpiresAt)

	// The admin's full token creates users; the operator-scoped one may not.
	require.Equal(t, http.StatusOK, a.do(anon, "GET", "/api/v1/users", nil, bearer(full.Token)).status)
	res := a.do(anon, "GET", "/api/v1/users", nil, bearer(limited.Token))
	require.Equal(t, http.StatusForbidden, res.status, res.text)
	var me struct{ User struct{ Role string } }
	a.do(anon, "GET", "/api/v1/me", nil, bearer(limited.Token)).json(t, &me)
	require.Equal(t, "operator", me.User.Role)
	// No token mints tokens: a child would outlive its parent's expiry and revocation.
	for _, tok := range []string{limited.Token, full.Token} {
		res = a.do(anon, "POST", "/api/v1/tokens", map[string]any{"name": "child"}, bearer(tok))
		require.Equal(t, http.StatusForbidden, res.status, res.text)
	}

	// An operator cannot ask for a supervisor token.
	_, opClient := a.newOperator("olga@example.com", "Olga")
	res = a.do(opClient, "POST", "/api/v1/tokens", map[string]any{"role": "supervisor"}, nil)
	require.Equal(t, http.StatusBadRequest, res.status, res.text)
	opToken := a.newToken(opClient, map[string]any{"name": "mine"})

	// Listing shows the caller's tokens, never the secret.
	res = a.do(a.http, "GET", "/api/v1/tokens", nil, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)
	require.NotContains(t, res.text, full.Token)
	var list struct{ Items []tokenView }
	res.json(t, &list)
	require.Len(t, list.Items, 2, "deploy and reports")
	res = a.do(opClient, "GET", "/api/v1/tokens?user_id="+strconv.FormatInt(a.admin.ID, 10), nil, nil)
	require.Equal(t, http.StatusForbidden, res.status, "an operator lists only their own tokens: %s", res.text)

	// Revoking stops a token at once; another user's token is not there to revoke.
	res = a.do(opClient, "DELETE", "/api/v1/tokens/"+strconv.FormatInt(full.ID, 10), nil, nil)
	require.Equal(t, http.StatusNotFound, res.status, res.text)
	require.Equal(t, http.StatusOK, a.do(anon, "GET", "/api/v1/me", nil, bearer(full.Token)).status)
	res = a.do(a.http, "DELETE", "/api/v1/tokens/"+strconv.FormatInt(full.ID, 10), nil, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)
	require.Contains(t, res.text, `"revoked":true`)
	require.Equal(t, http.StatusUnauthorized, a.do(anon, "GET", "/api/v1/me", nil, bearer(full.Token)).status)
	res = a.do(a.http, "DELETE", "/api/v1/tokens/"+strconv.FormatInt(opToken.ID, 10), nil, nil)
	require.Equal(t, http.StatusOK, res.status, "an admin revokes anyone's: %s", res.text)
	require.Equal(t, http.StatusUnauthorized, a.do(anon, "GET", "/api/v1/me", nil, bearer(opToken.Token)).status)

	// An expired token stops.
	_, err := a.store.Pool().Exec(t.Context(), `UPDATE api_tokens SET expires_at = now() - interval '1 second' WHERE id = $1`, limited.ID)
	require.NoError(t, err)
	require.Equal(t, http.StatusUnauthorized, a.do(anon, "GET", "/api/v1/me", nil, bearer(limited.Token)).status)

	for _, body := range []map[string]any{{"role": "root"}, {"expires_in_days": -1}, {"expires_in_days": 4000}} {
		res := a.do(a.http, "POST", "/api/v1/tokens", body, nil)
		require.Equal(t, http.StatusBadRequest, res.status, "%v: %s", body, res.text)
	}
}

// TestRequestsForAnotherHostAreRefused: a page on another site whose name resolves to linedesk
// (DNS rebinding) gets 421 for every route but health, sign-in included.
func TestRequestsForAnotherHostAreRefused(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{noTemporal: true, allowedHosts: []string{"127.0.0.1", "desk.example.com"}})
	send := func(host, method, path string, body string) *http.Response {
		req, err := http.NewRequestWithContext(t.Context(), method, a.url+path, strings.NewReader(body))
		require.NoError(t, err)
		req.Host = host
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		res.Body.Close()
		return res
	}
	login := `{"email":"admin@example.com","password":"secret"}`
	for _, host := range []string{"evil.example", "evil.example:8080", "127.0.0.1.evil.example"} {
		require.Equal(t, http.StatusMisdirectedRequest, send(host, "POST", "/api/v1/auth/login", login).StatusCode, host)
		require.Equal(t, http.StatusMisdirectedRequest, send(host, "GET", "/", "").StatusCode, host)
		require.Equal(t, http.StatusOK, send(host, "GET", "/healthz", "").StatusCode, "probes address the server by IP")
	}
	for _, host := range []string{"desk.example.com", "DESK.example.com:443", "127.0.0.1"} {
		require.Equal(t, http.StatusOK, send(host, "POST", "/api/v1/auth/login", login).StatusCode, host)
	}
}

func TestMetricsWantTheTokenWhenOneIsSet(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{noTemporal: true, metricsToken: "m-secret"})
	anon := &http.Client{}
	require.Equal(t, http.StatusUnauthorized, a.do(anon, "GET", "/metrics", nil, nil).status)
	require.Equal(t, http.StatusUnauthorized, a.do(anon, "GET", "/metrics", nil, bearer("wrong")).status)
	res := a.do(anon, "GET", "/metrics", nil, bearer("m-secret"))
	require.Equal(t, http.StatusOK, res.status)
	require.Contains(t, res.text, "linedesk_up 1")
	open := newApp(t, appOptions{noTemporal: true})
	require.Equal(t, http.StatusOK, open.do(anon, "GET", "/metrics", nil, nil).status, "no token set: open (dev, the worker's private address)")

	// Prometheus scrapes each replica by its pod address, whatever the public name: with the
	// token /metrics answers for any host; without it, still nothing.
	public := newApp(t, appOptions{noTemporal: true, metricsToken: "m-secret", allowedHosts: []string{"127.0.0.1", "desk.example.com"}})
	scrape := func(header map[string]string) int {
		req, err := http.NewRequestWithContext(t.Context(), "GET", public.url+"/metrics", nil)
		require.NoError(t, err)
		req.Host = "10.1.2.3:8080"
		for k, v := range header {
			req.Header.Set(k, v)
		}
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		res.Body.Close()
		return res.StatusCode
	}
	require.Equal(t, http.StatusOK, scrape(bearer("m-secret")))
	require.Equal(t, http.StatusUnauthorized, scrape(nil))
	// Without a token (dev) /metrics stays behind the host check: a rebound page reads nothing.
	public = newApp(t, appOptions{noTemporal: true, allowedHosts: []string{"127.0.0.1", "desk.example.com"}})
	require.Equal(t, http.StatusMisdirectedRequest, scrape(nil))
}

// TestParallelGuessesDoNotSlipPastTheLimit: a burst of 40 wrong passwords at once gets at most
// 10 answers that checked the password; the rest are 429.
func TestParallelGuessesDoNotSlipPastTheLimit(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{noTemporal: true})
	var wg sync.WaitGroup
	statuses := make([]int, 40)
	for i := range statuses {
		wg.Go(func() {
			statuses[i] = a.do(&http.Client{}, "POST", "/api/v1/auth/login", map[string]string{"email": "admin@example.com", "password": "guess"}, nil).status
		})
	}
	wg.Wait()
	counts := map[int]int{}
	for _, s := range statuses {
		counts[s]++
	}
	require.Equal(t, 10, counts[http.StatusUnauthorized], "%v", counts)
	require.Equal(t, 30, counts[http.StatusTooManyRequests], "%v", counts)
}
