package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/linedesk/linedesk/store"
	"github.com/linedesk/linedesk/store/storetest"
)

// devProcess is one run of `linedesk dev` inside the test process.
type devProcess struct {
	url  string
	stop func()
}

func startDev(t *testing.T, cfg Config) devProcess {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- runDev(ctx, cfg, slog.New(slog.DiscardHandler), pw)
		pw.Close()
	}()
	urlRE := regexp.MustCompile(`console:\s+(http://\S+)/`)
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			if m := urlRE.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
			}
		}
	}()
	var url string
	select {
	case url = <-found:
	case err := <-done:
		cancel()
		t.Fatalf("linedesk dev stopped before it was ready: %v", err)
	case <-time.After(2 * time.Minute):
		cancel()
		t.Fatal("linedesk dev was not ready in time")
	}
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			require.NoError(t, err)
		case <-time.After(time.Minute):
			t.Fatal("linedesk dev did not stop")
		}
	}
	t.Cleanup(stop)
	return devProcess{url: url, stop: stop}
}

func postJSON(t *testing.T, c *http.Client, url string, body any, header map[string]string) (int, map[string]any) {
	t.Helper()
	raw, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", url, strings.NewReader(string(raw)))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := c.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(res.Body).Decode(&out)
	return res.StatusCode, out
}

// apiChannel is an API channel a test writes to as clients, with an admin logged in.
type apiChannel struct {
	admin *http.Client
	url   string
	id    int64
	token string
}

// setUpAPIChannel logs in as the first admin and sets up an auto-opening line with an API channel.
func setUpAPIChannel(t *testing.T, url string) apiChannel {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	status, _ := postJSON(t, c, url+"/api/v1/auth/login", map[string]string{"email": "admin@example.com", "password": "admin"}, nil)
	require.Equal(t, http.StatusOK, status)
	status, line := postJSON(t, c, url+"/api/v1/lines", map[string]any{"name": "Support", "auto_open": true}, nil)
	require.Equal(t, http.StatusCreated, status)
	status, ch := postJSON(t, c, url+"/api/v1/channels", map[string]any{"kind": "api", "name": "Site",
		"line_id": line["id"], "settings": map[string]string{"callback_url": "http://127.0.0.1:9/hook"}}, nil)
	require.Equal(t, http.StatusCreated, status)
	return apiChannel{admin: c, url: url, id: int64(ch["channel"].(map[string]any)["id"].(float64)), token: ch["inbound_token"].(string)}
}

// write sends a client's first message and waits for its routing: the conversation's number.
func (a apiChannel) write(t *testing.T, contact, key string) int64 {
	t.Helper()
	status, in := postJSON(t, a.admin, fmt.Sprintf("%s/api/v1/channels/%d/inbound", a.url, a.id),
		map[string]any{"contact": map[string]string{"external_id": contact}, "text": "hello"},
		map[string]string{"Authorization": "Bearer " + a.token, "Idempotency-Key": key, "Prefer": "wait=20"})
	require.Equal(t, http.StatusAccepted, status)
	require.NotNil(t, in["conversation"], "%s got a conversation", contact)
	return int64(in["conversation"].(float64))
}

// openConversation logs in as the first admin, sets up a line with an API channel and writes
// as a client, which opens a conversation: a logged-in client and the conversation's number.
func openConversation(t *testing.T, url string) (*http.Client, int64) {
	t.Helper()
	ch := setUpAPIChannel(t, url)
	return ch.admin, ch.write(t, "u-1", "m-1")
}

// TestDevKeepsEverythingAcrossRestarts runs `linedesk dev`, works with it, stops it and starts
// it again on the same data dir: the admin, the configuration, the conversation and its running
// workflow are all still there.
func TestDevKeepsEverythingAcrossRestarts(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the embedded Temporal server twice")
	}
	cfg, err := loadConfig("dev", nil, envOf(map[string]string{
		"DATABASE_URL":              storetest.NewDatabase(t),
		"LINEDESK_DATA_DIR":         filepath.Join(t.TempDir(), "data"),
		"LINEDESK_HTTP_ADDR":        "127.0.0.1:0",
		"LINEDESK_TEMPORAL_UI_ADDR": "",
	}), io.Discard)
	require.NoError(t, err)

	dev := startDev(t, cfg)
	_, number := openConversation(t, dev.url)
	dev.stop()

	again := startDev(t, cfg)
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	status, _ := postJSON(t, c, again.url+"/api/v1/auth/login", map[string]string{"email": "admin@example.com", "password": "admin"}, nil)
	require.Equal(t, http.StatusOK, status, "the admin survives a restart")
	// The conversation's workflow survived too: it takes the operator's action.
	status, conv := postJSON(t, c, fmt.Sprintf("%s/api/v1/conversations/%d/take", again.url, number), nil, nil)
	require.Equal(t, http.StatusOK, status, "%v", conv)
	require.Equal(t, "active", conv["status"])
	res, err := c.Get(again.url + "/readyz")
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode)
}

// TestDevOwnsItsData runs `linedesk dev` the ways that used to leave conversations without
// their workflows: a second dev on the same data dir, a fresh data dir against a database an
// earlier one filled, and the way out, --reset.
func TestDevOwnsItsData(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the embedded Temporal server three times")
	}
	dbURL := storetest.NewDatabase(t)
	configFor := func(dataDir string, args ...string) Config {
		cfg, err := loadConfig("dev", args, envOf(map[string]string{
			"DATABASE_URL":              dbURL,
			"LINEDESK_DATA_DIR":         dataDir,
			"LINEDESK_HTTP_ADDR":        "127.0.0.1:0",
			"LINEDESK_TEMPORAL_UI_ADDR": "",
		}), io.Discard)
		require.NoError(t, err)
		return cfg
	}
	runOnce := func(cfg Config) error {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		return runDev(ctx, cfg, slog.New(slog.DiscardHandler), io.Discard)
	}
	dirA, dirB := filepath.Join(t.TempDir(), "a"), filepath.Join(t.TempDir(), "b")

	first := startDev(t, configFor(dirA))
	err := runOnce(configFor(dirA))
	require.ErrorIs(t, err, errDataDirBusy, "a second dev on the same data dir")
	require.Contains(t, err.Error(), dirA)
	pool, err := store.Open(t.Context(), dbURL)
	require.NoError(t, err)
	defer pool.Close()
	_, err = pool.Exec(t.Context(), `INSERT INTO lines (name) VALUES ('from A')`)
	require.NoError(t, err)
	first.stop()

	err = runOnce(configFor(dirB))
	require.ErrorIs(t, err, errNotPaired, "a fresh data dir against a database paired with another")
	for _, want := range []string{filepath.Join(dirB, "temporal.db"), filepath.Join(dirA, "temporal.db"), "DATABASE_URL", "--reset"} {
		require.Contains(t, err.Error(), want)
	}

	reset := startDev(t, configFor(dirB, "--reset"))
	var lines int
	require.NoError(t, pool.QueryRow(t.Context(), `SELECT count(*) FROM lines`).Scan(&lines))
	require.Zero(t, lines, "--reset starts the database clean")
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	status, _ := postJSON(t, c, reset.url+"/api/v1/auth/login", map[string]string{"email": "admin@example.com", "password": "admin"}, nil)
	require.Equal(t, http.StatusOK, status, "the reset database has its admin again")
	reset.stop()

	startDev(t, configFor(dirB)).stop()
	require.ErrorIs(t, runOnce(configFor(dirA)), errNotPaired, "the old data dir no longer fits the database")
}

// TestDevRunsTemporalOnPostgres runs `linedesk dev` with the embedded Temporal server on
// PostgreSQL: a client message opens a conversation whose workflow takes the operator's
// action, and the database, now paired with those Temporal databases, refuses the SQLite store.
func TestDevRunsTemporalOnPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the embedded Temporal server")
	}
	dbURL := storetest.NewDatabase(t)
	ts, err := newPostgresStore(dbURL)
	require.NoError(t, err)
	t.Cleanup(func() { _ = ts.Wipe(context.Background()) })
	env := map[string]string{
		"DATABASE_URL":              dbURL,
		"LINEDESK_DATA_DIR":         filepath.Join(t.TempDir(), "data"),
		"LINEDESK_HTTP_ADDR":        "127.0.0.1:0",
		"LINEDESK_TEMPORAL_UI_ADDR": "",
		"LINEDESK_TEMPORAL_DB":      "postgres",
	}
	cfg, err := loadConfig("dev", nil, envOf(env), io.Discard)
	require.NoError(t, err)

	dev := startDev(t, cfg)
	c, number := openConversation(t, dev.url)
	status, conv := postJSON(t, c, fmt.Sprintf("%s/api/v1/conversations/%d/take", dev.url, number), nil, nil)
	require.Equal(t, http.StatusOK, status, "%v", conv)
	require.Equal(t, "active", conv["status"])
	has, err := ts.HasData(t.Context())
	require.NoError(t, err)
	require.True(t, has)
	dev.stop()

	cfg, err = loadConfig("dev", []string{"--temporal-db", "sqlite"}, envOf(env), io.Discard)
	require.NoError(t, err)
	err = runDev(t.Context(), cfg, slog.New(slog.DiscardHandler), io.Discard)
	require.ErrorIs(t, err, errNotPaired, "the conversation's workflow is in PostgreSQL, not in a new SQLite file")
}

// TestDevBoundsTheWorkflowCache: LINEDESK_WORKFLOW_CACHE bounds the workflows dev keeps in memory.
// The SDK has one cache per process, sized when its first worker starts; the embedded server's
// own workers start before linedesk's, so a size set after them was silently ignored and dev
// kept every open workflow.
//
// The cache is the process's, so the test runs in a process of its own: a dev or worker of
// another test in this one would have sized it already.
func TestDevBoundsTheWorkflowCache(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the embedded Temporal server")
	}
	if os.Getenv("LINEDESK_TEST_OWN_PROCESS") == "" {
		cmd := exec.Command(os.Args[0], "-test.run=^TestDevBoundsTheWorkflowCache$", "-test.count=1")
		cmd.Env = append(os.Environ(), "LINEDESK_TEST_OWN_PROCESS=1")
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "%s", out)
		require.Contains(t, string(out), "PASS")
		return
	}
	cfg, err := loadConfig("dev", nil, envOf(map[string]string{
		"DATABASE_URL":              storetest.NewDatabase(t),
		"LINEDESK_DATA_DIR":         filepath.Join(t.TempDir(), "data"),
		"LINEDESK_HTTP_ADDR":        "127.0.0.1:0",
		"LINEDESK_TEMPORAL_UI_ADDR": "",
		"LINEDESK_WORKFLOW_CACHE":   "3",
	}), io.Discard)
	require.NoError(t, err)
	dev := startDev(t, cfg)
	ch := setUpAPIChannel(t, dev.url)
	// Five clients: five chat and five conversation workflows.
	for i := range 5 {
		ch.write(t, fmt.Sprint("u-", i), fmt.Sprint("m-", i))
	}

	res, err := ch.admin.Get(dev.url + "/metrics")
	require.NoError(t, err)
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	sizes := regexp.MustCompile(`(?m)^temporal_sticky_cache_size\{[^}]*\} (\d+)`).FindAllStringSubmatch(string(body), -1)
	require.NotEmpty(t, sizes, "the worker reports its cache size")
	for _, m := range sizes {
		n, err := strconv.Atoi(m[1])
		require.NoError(t, err)
		require.LessOrEqual(t, n, 3, "workflows kept in memory")
	}
}
