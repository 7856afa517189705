package devserver

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/linedesk/linedesk/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }

func greet(ctx workflow.Context, name string) (string, error) {
	if err := workflow.Sleep(ctx, time.Millisecond); err != nil {
		return "", err
	}
	return "hello " + name, nil
}

// runGreeting starts the server with opts, runs one workflow through it and stops it again.
func runGreeting(t *testing.T, opts Options, id string) {
	t.Helper()
	srv, err := Start(opts)
	require.NoError(t, err)
	defer func() { require.NoError(t, srv.Stop()) }()
	c, err := client.Dial(client.Options{HostPort: srv.HostPort(), Namespace: opts.Namespace})
	require.NoError(t, err)
	defer c.Close()
	w := worker.New(c, "greetings", worker.Options{})
	w.RegisterWorkflow(greet)
	require.NoError(t, w.Start())
	defer w.Stop()

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: "greetings"}, greet, id)
	require.NoError(t, err)
	var out string
	require.NoError(t, run.Get(ctx, &out))
	require.Equal(t, "hello "+id, out)
}

// TestPostgresProfileRunsWorkflowsAndKeepsThem starts the embedded server on two empty
// PostgreSQL databases (schema and namespace created on the way), runs a workflow with a timer,
// and starts it again on the same databases: the schema is found current and the first
// workflow's history is still there.
func TestPostgresProfileRunsWorkflowsAndKeepsThem(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the embedded Temporal server twice")
	}
	opts := Options{
		Postgres:  &Postgres{URL: storetest.NewEmptyDatabase(t), VisibilityURL: storetest.NewEmptyDatabase(t)},
		Namespace: "default",
	}
	runGreeting(t, opts, "first")

	srv, err := Start(opts)
	require.NoError(t, err)
	defer func() { require.NoError(t, srv.Stop()) }()
	c, err := client.Dial(client.Options{HostPort: srv.HostPort(), Namespace: opts.Namespace})
	require.NoError(t, err)
	defer c.Close()
	desc, err := c.DescribeWorkflowExecution(t.Context(), "first", "")
	require.NoError(t, err)
	require.Equal(t, "Completed", desc.WorkflowExecutionInfo.Status.String())
}

func TestSQLConfigFromURL(t *testing.T) {
	t.Parallel()
	cfg, err := sqlConfig("postgres://ann:s%40cret@db.local:6543/linedesk_x_temporal?sslmode=require", 5)
	require.NoError(t, err)
	require.Equal(t, "postgres12_pgx", cfg.PluginName)
	require.Equal(t, "db.local:6543", cfg.ConnectAddr)
	require.Equal(t, "ann", cfg.User)
	require.Equal(t, "s@cret", cfg.Password)
	require.Equal(t, "linedesk_x_temporal", cfg.DatabaseName)
	require.Equal(t, "require", cfg.ConnectAttributes["sslmode"])

	cfg, err = sqlConfig("postgres://postgres@127.0.0.1/x", 5)
	require.NoError(t, err)
	require.Equal(t, "127.0.0.1:5432", cfg.ConnectAddr)
	_, err = sqlConfig("mysql://x/y", 5)
	require.Error(t, err)
}
