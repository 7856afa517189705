package main

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/linedesk/linedesk/secretbox"
	"github.com/linedesk/linedesk/store"
	"github.com/linedesk/linedesk/store/storetest"
)

// requirePgDump skips a test when this machine has no pg_dump at all (it has one in CI and on
// the project's machines) and returns the one the backup would pick first.
func requirePgDump(t *testing.T) pgTool {
	t.Helper()
	tools, err := findPgDumps("", exec.LookPath, pgDumpDirs)
	if err != nil {
		t.Skipf("no pg_dump here: %v", err)
	}
	return tools[0]
}

// backup runs `linedesk backup` with args and env (DATABASE_URL and the rest) as main would.
func backup(t *testing.T, env map[string]string, args ...string) (string, error) {
	t.Helper()
	cfg, err := loadConfig("backup", args, envOf(env), io.Discard)
	if err != nil {
		return "", err
	}
	var out bytes.Buffer
	err = runBackup(t.Context(), cfg, &out)
	return out.String(), err
}

// tableCounts is every table's row count and every sequence's position in a database: what a
// restore must bring back.
func tableCounts(t *testing.T, dbURL string) map[string]int64 {
	t.Helper()
	ctx := t.Context()
	conn, err := pgx.Connect(ctx, dbURL)
	require.NoError(t, err)
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT 'table ' || quote_ident(table_name) FROM information_schema.tables
		WHERE table_schema = 'public' AND table_type = 'BASE TABLE'
		UNION ALL SELECT 'sequence ' || quote_ident(sequencename) FROM pg_sequences WHERE schemaname = 'public'`)
	require.NoError(t, err)
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	out := map[string]int64{}
	for _, n := range names {
		kind, name, _ := strings.Cut(n, " ")
		q := `SELECT count(*) FROM ` + name
		if kind == "sequence" {
			q = `SELECT coalesce(last_value, 0) FROM pg_sequences WHERE schemaname = 'public' AND quote_ident(sequencename) = '` + name + `'`
		}
		var v int64
		require.NoError(t, conn.QueryRow(ctx, q).Scan(&v), n)
		out[n] = v
	}
	return out
}

// restore runs pg_restore (beside the pg_dump the backup used) into dbURL.
func restore(t *testing.T, pgDump, file, dbURL string) {
	t.Helper()
	pgRestore := siblingTool(pgDump, "pg_restore")
	require.NotEmpty(t, pgRestore, "no pg_restore beside %s", pgDump)
	u, password := pgDumpURL(dbURL)
	cmd := exec.CommandContext(t.Context(), pgRestore, "--no-owner", "--exit-on-error", "--dbname="+u, file)
	cmd.Env = append(os.Environ(), "PGPASSWORD="+password)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
}

// fakeTemporalDatabase is an empty database with the tables that mark one of Temporal's.
func fakeTemporalDatabase(t *testing.T, tables ...string) string {
	t.Helper()
	dbURL := storetest.NewEmptyDatabase(t)
	conn, err := pgx.Connect(t.Context(), dbURL)
	require.NoError(t, err)
	defer conn.Close(t.Context())
	for _, table := range tables {
		_, err := conn.Exec(t.Context(), `CREATE TABLE `+table+` (id bigint PRIMARY KEY, data bytea); INSERT INTO `+table+` VALUES (1, '\x01')`)
		require.NoError(t, err)
	}
	return dbURL
}

// TestBackupRestoresIntoAFreshDatabase: a database with a desk's data (a line, a channel with
// sealed credentials, a webhook, a conversation number taken) is dumped, with Temporal's two
// databases after it; pg_restore of the dump into a fresh database brings every table's rows
// and every sequence back, and the configured key opens the restored secrets.
func TestBackupRestoresIntoAFreshDatabase(t *testing.T) {
	t.Parallel()
	tool := requirePgDump(t)
	ctx := t.Context()
	dbURL := storetest.NewDatabase(t)
	key := secretbox.NewKey()
	box, err := secretbox.New(key)
	require.NoError(t, err)
	pool, err := store.Open(ctx, dbURL)
	require.NoError(t, err)
	defer pool.Close()
	st := store.New(pool).WithSecrets(box)
	line, err := st.CreateLine(ctx, store.Line{Name: "Support"})
	require.NoError(t, err)
	ch, _, err := st.CreateChannel(ctx, store.Channel{Kind: "telegram", Name: "Bot", LineID: line.ID, Settings: json.RawMessage(`{}`), Enabled: true})
	require.NoError(t, err)
	require.NoError(t, st.SetChannelCredentials(ctx, ch.ID, store.Credentials{"bot_token": "123:token"}))
	_, _, err = st.CreateWebhook(ctx, store.Webhook{URL: "https://example.com/h", Events: []string{"message.created"}, Enabled: true})
	require.NoError(t, err)
	_, err = pool.Exec(ctx, `SELECT nextval('conversation_number_seq')`)
	require.NoError(t, err)
	want := tableCounts(t, dbURL)
	require.Equal(t, int64(1), want["table channels"])

	dir := t.TempDir()
	out, err := backup(t, map[string]string{
		"DATABASE_URL":                            dbURL,
		"LINEDESK_STORAGE_URL":                    "file:///var/lib/linedesk/files",
		"LINEDESK_BACKUP_TEMPORAL_URL":            fakeTemporalDatabase(t, "executions", "cluster_metadata_info"),
		"LINEDESK_BACKUP_TEMPORAL_VISIBILITY_URL": fakeTemporalDatabase(t, "executions_visibility"),
	}, "-o", filepath.Join(dir, "nightly.dump"))
	require.NoError(t, err)
	t.Log(out)
	for _, f := range []string{"nightly.dump", "nightly-temporal.dump", "nightly-temporal_visibility.dump"} {
		fi, err := os.Stat(filepath.Join(dir, f))
		require.NoError(t, err)
		require.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), "a dump holds customers' data: its owner's only")
		require.Contains(t, out, "Wrote "+filepath.Join(dir, f))
	}
	require.NoFileExists(t, filepath.Join(dir, "nightly.dump.partial"))
	require.Contains(t, out, "Temporal's dumps began ")
	require.Contains(t, out, "copy that directory too")
	require.Contains(t, out, "LINEDESK_SECRETS_KEY")
	require.NotContains(t, out, "123:token")

	restored := storetest.NewEmptyDatabase(t)
	restore(t, tool.path, filepath.Join(dir, "nightly.dump"), restored)
	require.Equal(t, want, tableCounts(t, restored))
	rpool, err := store.Open(ctx, restored)
	require.NoError(t, err)
	defer rpool.Close()
	creds, err := store.New(rpool).WithSecrets(box).ChannelCredentials(ctx, ch.ID)
	require.NoError(t, err)
	require.Equal(t, "123:token", creds["bot_token"])

	// A second backup to the same file is refused; the first is left as it was.
	_, err = backup(t, map[string]string{"DATABASE_URL": dbURL}, "-o", filepath.Join(dir, "nightly.dump"))
	require.ErrorContains(t, err, "exists already")
}

// TestBackupChecksBeforeDumping: the default name, a wrong database, Temporal's URLs swapped, a
// missing or too old pg_dump are all told before anything is written.
func TestBackupChecksBeforeDumping(t *testing.T) {
	t.Parallel()
	requirePgDump(t)
	dbURL := storetest.NewDatabase(t)
	dir := t.TempDir()

	out, err := backup(t, map[string]string{"DATABASE_URL": dbURL, "LINEDESK_STORAGE_URL": ""}, "-o", dir)
	require.NoError(t, err)
	files, _ := filepath.Glob(filepath.Join(dir, "linedesk-*.dump"))
	require.Len(t, files, 1, "a directory gets the default name")
	require.Regexp(t, `linedesk-\d{8}-\d{6}\.dump$`, files[0])
	require.Contains(t, out, "Temporal's databases were not dumped")
	require.Contains(t, out, "LINEDESK_STORAGE_URL is not set here")

	empty := t.TempDir()
	_, err = backup(t, map[string]string{"DATABASE_URL": storetest.NewEmptyDatabase(t)}, "-o", empty)
	require.ErrorContains(t, err, "has no table linedesk_schema_version: is DATABASE_URL linedesk's database")

	temporal := fakeTemporalDatabase(t, "executions", "cluster_metadata_info")
	visibility := fakeTemporalDatabase(t, "executions_visibility")
	_, err = backup(t, map[string]string{"DATABASE_URL": dbURL, "LINEDESK_BACKUP_TEMPORAL_URL": visibility,
		"LINEDESK_BACKUP_TEMPORAL_VISIBILITY_URL": temporal}, "-o", empty)
	require.ErrorContains(t, err, "Temporal database")
	require.ErrorContains(t, err, "is LINEDESK_BACKUP_TEMPORAL_URL Temporal's main database")

	old := filepath.Join(t.TempDir(), "pg_dump")
	require.NoError(t, os.WriteFile(old, []byte("#!/bin/sh\necho 'pg_dump (PostgreSQL) 9.6.24'\n"), 0o755))
	_, err = backup(t, map[string]string{"DATABASE_URL": dbURL, "LINEDESK_PG_DUMP": old}, "-o", empty)
	require.ErrorContains(t, err, "and the newest pg_dump here is 9.6 ("+old+"): pg_dump cannot dump a server newer than itself")
	_, err = backup(t, map[string]string{"DATABASE_URL": dbURL, "LINEDESK_PG_DUMP": filepath.Join(empty, "nowhere")}, "-o", empty)
	require.ErrorContains(t, err, "LINEDESK_PG_DUMP: ")
	left, _ := os.ReadDir(empty)
	require.Empty(t, left, "a refused backup wrote something")
}

func TestBackupFindsPgDump(t *testing.T) {
	t.Parallel()
	none := func(string) (string, error) { return "", exec.ErrNotFound }
	_, err := findPgDumps("", none, []string{filepath.Join(t.TempDir(), "*", "bin")})
	require.ErrorContains(t, err, "pg_dump is not installed: none on PATH or in ")
	require.ErrorContains(t, err, "apt-get install postgresql-client-16")

	dir := t.TempDir()
	for _, v := range []string{"14", "16", "17"} {
		bin := filepath.Join(dir, v, "bin")
		require.NoError(t, os.MkdirAll(bin, 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(bin, "pg_dump"), []byte("#!/bin/sh\necho 'pg_dump (PostgreSQL) "+v+".2'\n"), 0o755))
	}
	tools, err := findPgDumps("", none, []string{filepath.Join(dir, "*", "bin")})
	require.NoError(t, err)
	require.Len(t, tools, 3)
	for server, want := range map[int]int{14: 14, 15: 16, 16: 16, 17: 17, 13: 14} {
		got, err := chooseDumper(tools, pgVersion(server, 0))
		require.NoError(t, err)
		require.Equal(t, pgVersion(want, 0), got.major, "server %d", server)
	}
	got, err := chooseDumper(tools, serverMajor(90624))
	require.NoError(t, err)
	require.Equal(t, "14", majorString(got.major), "a 9.6 server")
	_, err = chooseDumper(tools, pgVersion(18, 0))
	require.ErrorContains(t, err, "the server runs PostgreSQL 18 and the newest pg_dump here is 17")
	require.ErrorContains(t, err, "postgresql-client-18")
	require.Equal(t, "9.6", majorString(serverMajor(90624)))
	require.Equal(t, "15", majorString(serverMajor(150020)))
	require.Less(t, serverMajor(90624), serverMajor(100001))
}

func TestBackupConfig(t *testing.T) {
	t.Parallel()
	cfg, err := loadConfig("backup", []string{"-o", "x.dump"}, envOf(map[string]string{"DATABASE_URL": "postgres://u:p@h/linedesk",
		"LINEDESK_SECRETS_KEY": ""}), io.Discard)
	require.NoError(t, err, "backup needs no secrets key")
	require.Equal(t, "x.dump", cfg.Backup.Output)

	_, err = loadConfig("backup", nil, envOf(map[string]string{}), io.Discard)
	require.ErrorContains(t, err, "DATABASE_URL is required for linedesk backup")
	_, err = loadConfig("backup", nil, envOf(map[string]string{"DATABASE_URL": "host=h dbname=linedesk"}), io.Discard)
	require.ErrorContains(t, err, "linedesk backup needs it as a URL")
	_, err = loadConfig("backup", nil, envOf(map[string]string{"DATABASE_URL": "postgres://h/linedesk",
		"LINEDESK_BACKUP_TEMPORAL_URL": "postgres://h/temporal"}), io.Discard)
	require.ErrorContains(t, err, "go together")
	_, err = loadConfig("backup", []string{"--temporal-url", "temporal", "--temporal-visibility-url", "postgres://h/v"},
		envOf(map[string]string{"DATABASE_URL": "postgres://h/linedesk"}), io.Discard)
	require.ErrorContains(t, err, `LINEDESK_BACKUP_TEMPORAL_URL: "temporal" is not a URL`)
	_, err = loadConfig("api", []string{"-o", "x"}, envOf(map[string]string{"DATABASE_URL": "postgres://h/linedesk"}), io.Discard)
	require.Error(t, err, "-o is backup's only")
}

func TestBackupPassesThePasswordApart(t *testing.T) {
	t.Parallel()
	u, password := pgDumpURL("postgres://desk:s3cr%40t@db.example.com:5432/linedesk?sslmode=require&pool_max_conns=20&statement_cache_capacity=0")
	require.Equal(t, "s3cr@t", password)
	require.NotContains(t, u, "s3cr")
	require.Equal(t, "postgres://desk@db.example.com:5432/linedesk?application_name=linedesk-backup&sslmode=require", u)
	u, password = pgDumpURL("postgres://db/linedesk?password=x&application_name=ops")
	require.Equal(t, "x", password)
	require.Equal(t, "postgres://db/linedesk?application_name=ops", u)
}

func TestBackupStorageNote(t *testing.T) {
	t.Parallel()
	require.Contains(t, storageNote("file:///var/lib/linedesk/files"), "rsync -a /var/lib/linedesk/files/ ")
	require.Contains(t, storageNote("s3://desk-files/prod?endpoint=s3.example.com"), "bucket desk-files/prod")
	require.Contains(t, storageNote("s3://desk-files/prod?endpoint=s3.example.com"), "versioning and replication")
	require.Contains(t, storageNote(""), "not set here")
}
