package main

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/linedesk/linedesk/store"
	"github.com/linedesk/linedesk/store/storetest"
)

// addChat gives the database a chat, as if an earlier dev had received a message.
func addChat(t *testing.T, st *store.Store) {
	t.Helper()
	_, err := st.Pool().Exec(t.Context(), `
		WITH l AS (INSERT INTO lines (name) VALUES ('Support') RETURNING id),
		     c AS (INSERT INTO channels (kind, name, line_id) SELECT 'api', 'Site', id FROM l RETURNING id),
		     p AS (INSERT INTO contacts DEFAULT VALUES RETURNING id)
		INSERT INTO chats (id, channel_id, contact_id, external_id)
		SELECT gen_random_uuid(), c.id, p.id, 'u-1' FROM c, p`)
	require.NoError(t, err)
}

// touchStore makes the SQLite store exist, as if its server had run.
func touchStore(t *testing.T, s sqliteStore) {
	t.Helper()
	require.NoError(t, os.WriteFile(s.file(), nil, 0o644))
}

func TestPairInstance(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	logger := slog.New(slog.DiscardHandler)
	newStore := func() sqliteStore { return sqliteStore{dataDir: t.TempDir()} }

	t.Run("new database and new store pair, then go together", func(t *testing.T) {
		t.Parallel()
		st, ts := storetest.NewStore(t), newStore()
		require.NoError(t, pairInstance(ctx, st, ts, "db", logger))
		owner, err := st.DevOwner(ctx)
		require.NoError(t, err)
		id, database, err := ts.Pairing(ctx)
		require.NoError(t, err)
		require.Equal(t, owner.InstanceID, id)
		require.Equal(t, "db", database)
		require.Equal(t, ts.String(), owner.TemporalStore)
		touchStore(t, ts)
		addChat(t, st)
		require.NoError(t, pairInstance(ctx, st, ts, "db", logger), "the same pair starts again")
	})

	t.Run("a new store against a paired database is refused, naming both", func(t *testing.T) {
		t.Parallel()
		st, first, second := storetest.NewStore(t), newStore(), newStore()
		require.NoError(t, pairInstance(ctx, st, first, "db", logger))
		err := pairInstance(ctx, st, second, "postgres://x/db", logger)
		require.ErrorIs(t, err, errNotPaired)
		for _, want := range []string{"postgres://x/db", second.file(), first.file(), "DATABASE_URL", "--reset"} {
			require.Contains(t, err.Error(), want)
		}
	})

	t.Run("a paired store against another database is refused", func(t *testing.T) {
		t.Parallel()
		ts := newStore()
		require.NoError(t, pairInstance(ctx, storetest.NewStore(t), ts, "first", logger))
		touchStore(t, ts)
		err := pairInstance(ctx, storetest.NewStore(t), ts, "second", logger)
		require.ErrorIs(t, err, errNotPaired)
		require.Contains(t, err.Error(), "another database (first)")
	})

	t.Run("an unpaired database with conversations and a new store are refused", func(t *testing.T) {
		t.Parallel()
		st := storetest.NewStore(t)
		addChat(t, st)
		err := pairInstance(ctx, st, newStore(), "db", logger)
		require.ErrorIs(t, err, errNotPaired)
		require.Contains(t, err.Error(), "this one is new")
	})

	t.Run("an unpaired store with workflows and a new database are refused", func(t *testing.T) {
		t.Parallel()
		ts := newStore()
		touchStore(t, ts)
		err := pairInstance(ctx, storetest.NewStore(t), ts, "db", logger)
		require.ErrorIs(t, err, errNotPaired)
		require.Contains(t, err.Error(), `"linedesk"`)
	})

	t.Run("a database and store from before pairing pair", func(t *testing.T) {
		t.Parallel()
		st, ts := storetest.NewStore(t), newStore()
		addChat(t, st)
		touchStore(t, ts)
		require.NoError(t, pairInstance(ctx, st, ts, "db", logger))
	})

	t.Run("a paired database whose store is gone is refused", func(t *testing.T) {
		t.Parallel()
		st, ts := storetest.NewStore(t), newStore()
		require.NoError(t, pairInstance(ctx, st, ts, "db", logger))
		addChat(t, st)
		err := pairInstance(ctx, st, ts, "db", logger)
		require.ErrorIs(t, err, errNotPaired)
		require.Contains(t, err.Error(), "gone")
	})

	t.Run("a store paired just before a crash is adopted by its empty database", func(t *testing.T) {
		t.Parallel()
		st, ts := storetest.NewStore(t), newStore()
		require.NoError(t, ts.Pair(ctx, "crashed-id", "db"))
		require.NoError(t, pairInstance(ctx, st, ts, "db", logger))
		owner, err := st.DevOwner(ctx)
		require.NoError(t, err)
		require.Equal(t, "crashed-id", owner.InstanceID)
	})

	t.Run("wipe removes the store and its pairing", func(t *testing.T) {
		t.Parallel()
		ts := newStore()
		require.NoError(t, ts.Pair(ctx, "id", "db"))
		touchStore(t, ts)
		require.NoError(t, ts.Wipe(ctx))
		entries, err := os.ReadDir(filepath.Dir(ts.file()))
		require.NoError(t, err)
		require.Empty(t, entries)
	})
}

func TestPairInstanceWithPostgresStore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	logger := slog.New(slog.DiscardHandler)
	dbURL := storetest.NewDatabase(t)
	ts, err := newPostgresStore(dbURL)
	require.NoError(t, err)
	t.Cleanup(func() { _ = ts.Wipe(context.Background()) })

	pool, err := store.Open(ctx, dbURL)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	lst := store.New(pool)
	require.NoError(t, pairInstance(ctx, lst, ts, "db", logger))
	has, err := ts.HasData(ctx)
	require.NoError(t, err)
	require.True(t, has, "pairing creates the Temporal databases")
	id, database, err := ts.Pairing(ctx)
	require.NoError(t, err)
	owner, err := lst.DevOwner(ctx)
	require.NoError(t, err)
	require.Equal(t, owner.InstanceID, id)
	require.Equal(t, "db", database)
	require.Contains(t, owner.TemporalStore, "_temporal_visibility")
	require.NoError(t, pairInstance(ctx, lst, ts, "db", logger), "the same pair starts again")

	// The same database with the SQLite store is another Temporal store: refused.
	err = pairInstance(ctx, lst, sqliteStore{dataDir: t.TempDir()}, "db", logger)
	require.ErrorIs(t, err, errNotPaired)
	require.Contains(t, err.Error(), ts.String())

	require.NoError(t, ts.Wipe(ctx))
	has, err = ts.HasData(ctx)
	require.NoError(t, err)
	require.False(t, has, "wipe drops the Temporal databases")
}
