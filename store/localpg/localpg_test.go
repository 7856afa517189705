package localpg

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

// TestPrivateClusterStartsKeepsDataAndStops runs the fallback `linedesk dev` uses when no server
// answers: a cluster of its own in the data dir, stopped again, with its data kept for the next
// start.
func TestPrivateClusterStartsKeepsDataAndStops(t *testing.T) {
	if _, err := findBinDir(); err != nil {
		t.Skip("PostgreSQL server binaries are not installed")
	}
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir := t.TempDir()
	if os.Geteuid() == 0 {
		// The cluster runs as the postgres user, who must be able to reach the data dir.
		require.NoError(t, os.Chmod(dir, 0o755))
		require.NoError(t, os.Chmod(filepath.Dir(dir), 0o755))
	}

	srv, err := startPrivate(ctx, Options{DataDir: dir, DBName: "linedesk"}, nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Stop(context.Background()) })
	require.True(t, srv.Private)
	conn, err := pgx.Connect(ctx, srv.URL)
	require.NoError(t, err)
	_, err = conn.Exec(ctx, `CREATE TABLE kept (v text); INSERT INTO kept VALUES ('still here')`)
	require.NoError(t, err)
	require.NoError(t, conn.Close(ctx))
	require.NoError(t, srv.Stop(ctx))

	// Nothing keeps running after Stop.
	status := exec.Command(srv.pgCtl, "-D", srv.dataDir, "status")
	status.SysProcAttr = srv.command(ctx, "true").SysProcAttr
	require.Error(t, status.Run(), "the private cluster still runs after Stop")

	again, err := startPrivate(ctx, Options{DataDir: dir, DBName: "linedesk"}, nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = again.Stop(context.Background()) })
	conn, err = pgx.Connect(ctx, again.URL)
	require.NoError(t, err)
	defer conn.Close(ctx)
	var v string
	require.NoError(t, conn.QueryRow(ctx, `SELECT v FROM kept`).Scan(&v))
	require.Equal(t, "still here", v)
}

func TestDiscoverUsesTheGivenURL(t *testing.T) {
	t.Parallel()
	srv, err := Discover(context.Background(), Options{DatabaseURL: "postgres://nobody@127.0.0.1:1/x?connect_timeout=1"})
	require.Error(t, err)
	require.Nil(t, srv)
	require.False(t, errors.Is(err, ErrNoPostgres))
}
