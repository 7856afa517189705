package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/linedesk/linedesk/store/localpg"
)

// TestSmoke runs the whole bench at its smoke sizes against a linedesk dev it builds and starts
// itself, and checks only that every workload completed and reported.
func TestSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts linedesk dev; skipped with -short")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 4*time.Minute)
	defer cancel()
	pgURL := os.Getenv("TEST_DATABASE_URL")
	if pgURL == "" {
		dir := t.TempDir()
		require.NoError(t, os.Chmod(dir, 0o755)) // a private cluster run as postgres must enter it
		srv, err := localpg.Discover(ctx, localpg.Options{DataDir: dir, DBName: "postgres"})
		require.NoError(t, err)
		t.Cleanup(func() { _ = srv.Stop(context.Background()) })
		pgURL = srv.URL
	}
	jsonPath := filepath.Join(t.TempDir(), "bench.json")
	var stdout, stderr bytes.Buffer
	err := run(ctx, []string{"-smoke", "-postgres-url", pgURL, "-json", jsonPath}, &stdout, &stderr)
	t.Log(stderr.String())
	t.Log(stdout.String())
	require.NoError(t, err)

	raw, err := os.ReadFile(jsonPath)
	require.NoError(t, err)
	var rep Report
	require.NoError(t, json.Unmarshal(raw, &rep))
	require.Empty(t, rep.Errors)
	require.NotNil(t, rep.B1)
	require.NotNil(t, rep.B2)
	require.Len(t, rep.B6a, 2)
	require.Len(t, rep.S1, 2)
	require.NotNil(t, rep.S1c)
	require.NotNil(t, rep.S2)
	require.NotNil(t, rep.S3)
	require.Len(t, rep.S5, 2)
	require.NotNil(t, rep.S9)
	require.NotNil(t, rep.Q1)
	require.NotNil(t, rep.R1)
	for _, q := range rep.Q1.Queries {
		if q.Name == "frequent word (most messages)" || q.Name == "contacts by name prefix" {
			require.Positive(t, q.Hits, "Q1 %s finds the seeded words", q.Name)
		}
		if q.Name == "no such word" {
			require.Zero(t, q.Hits)
		}
	}
	require.Len(t, rep.W1, 7, "every messenger kind W1 knows")
	for _, w := range rep.W1 {
		require.Zero(t, w.Answered.Failed, "W1 %s: %s", w.Kind, w.Answered.FirstErr)
		require.Equal(t, w.Webhooks-w.Redelivered, w.Stored, "W1 %s: every event stored once", w.Kind)
		require.Zero(t, w.Doubled, "W1 %s", w.Kind)
	}
	for name, n := range map[string]int{"B1": rep.B1.OK, "B2": rep.B2.OK, "S1c": rep.S1c.Ack.OK, "S2": rep.S2.Ack.OK,
		"S3": rep.S3.Total.OK, "S9": rep.S9.Overall.OK, "Q1": rep.Q1.Overall.OK, "R1": rep.R1.Overall.OK} {
		require.Positive(t, n, name)
	}
	for _, r := range rep.S1 {
		require.Positive(t, r.Visible.Count, "S1 at %v/s: messages seen joining their conversation", r.Rate)
	}
	require.Contains(t, rep.Ratios, "R1 = S2 conversations/s / B1 starts/s")
	require.Contains(t, stdout.String(), "S1 max sustained rate")
	require.NotEmpty(t, rep.Versions["go.temporal.io/server"])

	// The bench database is gone.
	m := regexp.MustCompile(`database (linedesk_bench_[0-9a-f]+)`).FindStringSubmatch(stderr.String())
	require.NotNil(t, m, "the progress names the bench database")
	conn, err := pgx.Connect(ctx, pgURL)
	require.NoError(t, err)
	defer conn.Close(ctx)
	var exists bool
	require.NoError(t, conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, m[1]).Scan(&exists))
	require.False(t, exists, "database %s left behind", m[1])
}

func TestLoadGoesOnlyToLoopback(t *testing.T) {
	for _, ok := range []string{"http://127.0.0.1:8080", "http://localhost:8080", "postgres://postgres@127.0.0.1:5432/postgres", "http://[::1]:80"} {
		require.NoError(t, requireLoopbackURL(ok), ok)
	}
	for _, bad := range []string{"http://10.0.0.1:8080", "https://example.com", "postgres://db.internal/x", "host=/tmp dbname=x"} {
		require.Error(t, requireLoopbackURL(bad), bad)
	}
	require.NoError(t, requireLoopbackHostPort("127.0.0.1:7233"))
	require.Error(t, requireLoopbackHostPort("temporal:7233"))
	_, err := parseOptions([]string{"-target", "http://127.0.0.1:8080"}, &bytes.Buffer{})
	require.ErrorContains(t, err, "-target needs -database-url and -temporal-address")
	_, err = parseOptions([]string{"-rate-duration", "1h"}, &bytes.Buffer{})
	require.ErrorContains(t, err, "at most 10m")
}
