package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/server/temporaltest"

	"github.com/linedesk/linedesk/store"
	"github.com/linedesk/linedesk/store/storetest"
)

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().String()
}

// TestSplitDeployment runs the pieces of a split deployment as separate commands against one
// Temporal server and one database: migrate (which creates the first admin), api and worker.
// A message sent to the api opens a conversation that only the worker can run.
func TestSplitDeployment(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a Temporal server and two linedesk processes' worth of components")
	}
	dbURL := storetest.NewDatabase(t)
	ts := temporaltest.NewServer(temporaltest.WithT(t))
	t.Setenv("TEMPORAL_ADDRESS", ts.GetFrontendHostPort())
	t.Setenv("TEMPORAL_NAMESPACE", ts.GetDefaultNamespace())
	logger := slog.New(slog.DiscardHandler)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	// Without a password, migrate creates no admin: production never gets admin/admin.
	cfg, err := loadConfig("migrate", nil, envOf(map[string]string{"DATABASE_URL": dbURL}), io.Discard)
	require.NoError(t, err)
	require.NoError(t, runMigrate(ctx, cfg, logger))
	n, err := countUsers(ctx, dbURL)
	require.NoError(t, err)
	require.Zero(t, n)

	env := map[string]string{"DATABASE_URL": dbURL, "LINEDESK_ADMIN_EMAIL": "boss@example.com", "LINEDESK_ADMIN_PASSWORD": "s3cret"}
	cfg, err = loadConfig("migrate", nil, envOf(env), io.Discard)
	require.NoError(t, err)
	require.NoError(t, runMigrate(ctx, cfg, logger))
	require.NoError(t, runMigrate(ctx, cfg, logger), "migrate runs again without harm")
	n, err = countUsers(ctx, dbURL)
	require.NoError(t, err)
	require.Equal(t, 1, n, "one first admin, however often migrate runs")

	apiAddr, workerAddr := freeAddr(t), freeAddr(t)
	// The integrator below listens on this machine: private callback targets are allowed.
	apiCfg, err := loadConfig("api", nil, envOf(map[string]string{"DATABASE_URL": dbURL, "LINEDESK_HTTP_ADDR": apiAddr,
		"LINEDESK_ALLOW_PRIVATE_CALLBACKS": "true"}), io.Discard)
	require.NoError(t, err)
	workerCfg, err := loadConfig("worker", nil, envOf(map[string]string{"DATABASE_URL": dbURL, "LINEDESK_HTTP_ADDR": workerAddr,
		"LINEDESK_ALLOW_PRIVATE_CALLBACKS": "true"}), io.Discard)
	require.NoError(t, err)
	apiDone, workerDone := make(chan error, 1), make(chan error, 1)
	go func() { apiDone <- runAPI(ctx, apiCfg, logger) }()
	go func() { workerDone <- runWorker(ctx, workerCfg, logger) }()
	for _, addr := range []string{apiAddr, workerAddr} {
		require.Eventually(t, func() bool {
			res, err := http.Get("http://" + addr + "/readyz")
			if err != nil {
				return false
			}
			res.Body.Close()
			return res.StatusCode == http.StatusOK
		}, time.Minute, 50*time.Millisecond, "%s ready", addr)
	}

	base := "http://" + apiAddr
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	status, _ := postJSON(t, c, base+"/api/v1/auth/login", map[string]string{"email": "boss@example.com", "password": "s3cret"}, nil)
	require.Equal(t, http.StatusOK, status)
	status, line := postJSON(t, c, base+"/api/v1/lines", map[string]any{"name": "Support", "auto_open": true}, nil)
	require.Equal(t, http.StatusCreated, status)
	status, ch := postJSON(t, c, base+"/api/v1/channels", map[string]any{"kind": "api", "name": "Site", "line_id": line["id"],
		"settings": map[string]string{"callback_url": "http://127.0.0.1:9/hook"}}, nil)
	require.Equal(t, http.StatusCreated, status)
	channelID := int64(ch["channel"].(map[string]any)["id"].(float64))
	status, in := postJSON(t, c, fmt.Sprintf("%s/api/v1/channels/%d/inbound", base, channelID),
		map[string]any{"contact": map[string]string{"external_id": "u-1"}, "text": "hello"},
		map[string]string{"Authorization": "Bearer " + ch["inbound_token"].(string), "Idempotency-Key": "m-1", "Prefer": "wait=20"})
	require.Equal(t, http.StatusAccepted, status, "%v", in)
	require.NotNil(t, in["conversation"], "the worker opened a conversation")

	cancel()
	for _, done := range []chan error{apiDone, workerDone} {
		select {
		case err := <-done:
			require.NoError(t, err)
		case <-time.After(time.Minute):
			t.Fatal("a process did not stop")
		}
	}
}

func countUsers(ctx context.Context, dbURL string) (int, error) {
	pool, err := store.Open(ctx, dbURL)
	if err != nil {
		return 0, err
	}
	defer pool.Close()
	return store.New(pool).CountUsers(ctx)
}
