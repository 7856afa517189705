package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"github.com/linedesk/linedesk/activities"
	"github.com/linedesk/linedesk/api"
	"github.com/linedesk/linedesk/inbound"
	"github.com/linedesk/linedesk/store"
	"github.com/linedesk/linedesk/store/storetest"
	"github.com/linedesk/linedesk/telemetry"
	"github.com/linedesk/linedesk/worker/workertest"
)

// app is the whole product for one test: its own database, a Temporal test server with the
// worker, and the HTTP API.
type app struct {
	t        *testing.T
	url      string
	store    *store.Store
	temporal client.Client
	admin    store.User
	// http is signed in as the admin (session cookie).
	http *http.Client
	// logger writes to the server log a failing test shows (logs, unless LINEDESK_TEST_LOG).
	logger *slog.Logger
	logs   *logBuffer
}

type appOptions struct {
	noTemporal bool
	// noDispatch leaves the inbound dispatcher off: accepted messages wait in the outbox.
	noDispatch bool
	mail       activities.Mailer
	// allowedHosts and metricsToken are passed to the API as they are.
	allowedHosts []string
	metricsToken string
	// strictCallbacks refuses private callback URLs, as api and worker do by default; tests'
	// fake integrators listen on loopback, so it is off unless a test is about it.
	strictCallbacks bool
	// vk is the VK app for connecting communities through VK's OAuth.
	vk api.VKApp
	// trustedProxies are the reverse proxies whose X-Forwarded-For the API believes.
	trustedProxies []*net.IPNet
}

func newApp(t *testing.T, opts appOptions) *app {
	t.Helper()
	// The server's and the worker's log is shown when the test fails (or always, on stderr,
	// with LINEDESK_TEST_LOG set): a 500 says no more than "internal" to the client.
	logs := &logBuffer{}
	var logOut io.Writer = logs
	if os.Getenv("LINEDESK_TEST_LOG") != "" {
		logOut = os.Stderr
	}
	t.Cleanup(func() {
		if t.Failed() && logs.Len() > 0 {
			t.Logf("server log:\n%s", logs)
		}
	})
	logger := slog.New(telemetry.NewHandler(slog.NewTextHandler(logOut, nil)))
	st := storetest.NewStore(t)
	var tc client.Client
	if !opts.noTemporal {
		tc = workertest.Start(t, st, workertest.Options{Mail: opts.mail, Logger: logger})
	}
	hand := inbound.New(st, tc, logger)
	if tc != nil && !opts.noDispatch {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); hand.Run(ctx) }()
		t.Cleanup(func() { cancel(); <-done })
	}
	srv := httptest.NewServer(api.New(api.Deps{Store: st, Temporal: tc, Logger: logger, Inbound: hand,
		AllowedHosts: opts.allowedHosts, MetricsToken: opts.metricsToken, AllowPrivateCallbacks: !opts.strictCallbacks, VK: opts.vk, TrustedProxies: opts.trustedProxies, Metrics: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			_, _ = io.WriteString(w, "linedesk_up 1\n")
		})}))
	t.Cleanup(srv.Close)
	admin, err := st.CreateUser(t.Context(), store.NewUser{Email: "admin@example.com", Name: "Admin", Password: "secret", Role: store.RoleAdmin})
	require.NoError(t, err)
	a := &app{t: t, url: srv.URL, store: st, temporal: tc, admin: admin, logger: logger, logs: logs}
	a.http = a.login("admin@example.com", "secret")
	return a
}

// logBuffer holds a test's log; the server writes to it from many goroutines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) Len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Len()
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// login returns a client holding a session for the user.
func (a *app) login(email, password string) *http.Client {
	a.t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	res := a.do(c, "POST", "/api/v1/auth/login", map[string]string{"email": email, "password": password}, nil)
	require.Equal(a.t, http.StatusOK, res.status, res.text)
	return c
}

// newOperator creates an operator on every line setupChannel makes (the test desk's operator
// group, with the unassigned queue) and returns them with a signed-in client.
func (a *app) newOperator(email, name string) (store.User, *http.Client) {
	a.t.Helper()
	u := a.newUser(email, name, store.RoleOperator)
	g := a.deskOperators()
	g.MemberIDs = append(g.MemberIDs, u.ID)
	_, err := a.store.SaveGroup(a.t.Context(), g)
	require.NoError(a.t, err)
	return u, a.login(email, "pw-"+name)
}

// newUser creates a user in no group; their password is "pw-" + name.
func (a *app) newUser(email, name, role string) store.User {
	a.t.Helper()
	u, err := a.store.CreateUser(a.t.Context(), store.NewUser{Email: email, Name: name, Password: "pw-" + name, Role: role})
	require.NoError(a.t, err)
	return u
}

// deskOperators is the test desk's operator group, made on first use.
func (a *app) deskOperators() store.Group {
	a.t.Helper()
	groups, err := a.store.ListGroups(a.t.Context())
	require.NoError(a.t, err)
	for _, g := range groups {
		if g.Name == "Desk operators" {
			return g
		}
	}
	g, err := a.store.SaveGroup(a.t.Context(), store.Group{Name: "Desk operators", Kind: store.GroupOperators,
		Permissions: []string{store.PermOmni, store.PermUnassignedQueue}})
	require.NoError(a.t, err)
	return g
}

type response struct {
	status int
	header http.Header
	text   string
}

func (r response) json(t *testing.T, v any) {
	t.Helper()
	require.NoError(t, json.Unmarshal([]byte(r.text), v), r.text)
}

func (r response) errorCode(t *testing.T) string {
	t.Helper()
	var e struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	r.json(t, &e)
	require.NotEmpty(t, e.Error.Code, r.text)
	return e.Error.Code
}

// do sends a request; body is JSON-encoded unless it is a string (sent as is).
func (a *app) do(c *http.Client, method, path string, body any, header map[string]string) response {
	a.t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	case []byte:
		r = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		require.NoError(a.t, err)
		r = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(a.t.Context(), method, a.url+path, r)
	require.NoError(a.t, err)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := c.Do(req)
	require.NoError(a.t, err)
	defer res.Body.Close()
	text, err := io.ReadAll(res.Body)
	require.NoError(a.t, err)
	// A client mistake is never a 5xx; 503 (a dependency down) and 502 (an outside app the desk
	// called failed) are legitimate answers.
	if res.StatusCode != http.StatusServiceUnavailable && res.StatusCode != http.StatusBadGateway {
		require.Less(a.t, res.StatusCode, 500, "%s %s answered %d: %s", method, path, res.StatusCode, text)
	}
	return response{status: res.StatusCode, header: res.Header, text: string(text)}
}
