package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/linedesk/linedesk/store/localpg"
)

// BackupConfig is what `linedesk backup` dumps and where.
type BackupConfig struct {
	// Output is the file linedesk's dump goes to (-o, --output), or a directory for the default
	// name, linedesk-YYYYMMDD-HHMMSS.dump (UTC); empty: that name in the current directory.
	// Temporal's dumps go beside it, named after it.
	Output string
	// TemporalURL and TemporalVisibilityURL are Temporal's two databases
	// (LINEDESK_BACKUP_TEMPORAL_URL, LINEDESK_BACKUP_TEMPORAL_VISIBILITY_URL), dumped right after
	// linedesk's when given: both or neither.
	TemporalURL           string
	TemporalVisibilityURL string
	// PgDump is the pg_dump to run (LINEDESK_PG_DUMP); empty: the one on PATH or under
	// /usr/lib/postgresql/*/bin that suits each server.
	PgDump string
}

func (b *BackupConfig) addFlags(fs *flag.FlagSet, env func(key, def string) string) {
	const output = "file for linedesk's dump, or a directory (default: linedesk-YYYYMMDD-HHMMSS.dump, UTC, in the current directory)"
	fs.StringVar(&b.Output, "output", "", output)
	fs.StringVar(&b.Output, "o", "", "same as --output")
	fs.StringVar(&b.TemporalURL, "temporal-url", env("LINEDESK_BACKUP_TEMPORAL_URL", ""),
		"Temporal's main database (postgres://…/temporal), dumped right after linedesk's; empty: Temporal is backed up by its operator")
	fs.StringVar(&b.TemporalVisibilityURL, "temporal-visibility-url", env("LINEDESK_BACKUP_TEMPORAL_VISIBILITY_URL", ""),
		"Temporal's visibility database (postgres://…/temporal_visibility); needed with --temporal-url")
	fs.StringVar(&b.PgDump, "pg-dump", env("LINEDESK_PG_DUMP", ""),
		"pg_dump to run (empty: found on PATH or under /usr/lib/postgresql/*/bin, of at least the server's version)")
}

// problems checks the backup's settings as loadConfig checks the others.
func (b BackupConfig) problems(databaseURL string) []error {
	var problems []error
	if databaseURL != "" && !isPostgresURL(databaseURL) {
		problems = append(problems, errors.New("DATABASE_URL: linedesk backup needs it as a URL, postgres://user:password@host:5432/linedesk?sslmode=…"))
	}
	for _, u := range []struct{ name, value string }{
		{"LINEDESK_BACKUP_TEMPORAL_URL", b.TemporalURL}, {"LINEDESK_BACKUP_TEMPORAL_VISIBILITY_URL", b.TemporalVisibilityURL},
	} {
		if u.value != "" && !isPostgresURL(u.value) {
			problems = append(problems, fmt.Errorf("%s: %q is not a URL like postgres://user:password@host:5432/temporal", u.name, localpg.Redact(u.value)))
		}
	}
	if (b.TemporalURL == "") != (b.TemporalVisibilityURL == "") {
		problems = append(problems, errors.New("LINEDESK_BACKUP_TEMPORAL_URL and LINEDESK_BACKUP_TEMPORAL_VISIBILITY_URL go together: "+
			"Temporal restores from both of its databases, so give both (or neither, when Temporal is backed up by its operator)"))
	}
	if b.TemporalURL != "" && b.TemporalURL == b.TemporalVisibilityURL {
		problems = append(problems, errors.New("LINEDESK_BACKUP_TEMPORAL_URL and LINEDESK_BACKUP_TEMPORAL_VISIBILITY_URL name the same database"))
	}
	return problems
}

func isPostgresURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql")
}

// dumpTarget is one database the backup dumps.
type dumpTarget struct {
	name   string // what it is, for messages: "linedesk", "Temporal", "Temporal visibility"
	url    string
	file   string
	tables []string // tables that show it is the database meant, checked before dumping
	hint   string   // what to check when they are missing

	server int // the server's major version, as pgVersion counts it
	dumper pgTool
}

// dumped is one dump written.
type dumped struct {
	target  dumpTarget
	began   time.Time
	took    time.Duration
	size    int64
	entries int // archive entries pg_restore --list reads back; -1 when no pg_restore was found
}

// runBackup writes a pg_dump (custom format) of linedesk's database and, when their URLs are
// given, of Temporal's two databases right after it, then says how to restore them and what
// else a backup needs: the attachments' storage and the secrets key.
func runBackup(ctx context.Context, cfg Config, stdout io.Writer) error {
	now := time.Now().UTC()
	out, err := backupFile(cfg.Backup.Output, now)
	if err != nil {
		return err
	}
	targets := []dumpTarget{{name: "linedesk", url: cfg.DatabaseURL, file: out, tables: []string{"linedesk_schema_version"},
		hint: "is DATABASE_URL linedesk's database, migrated with `linedesk migrate`?"}}
	if cfg.Backup.TemporalURL != "" {
		ext := filepath.Ext(out)
		base := strings.TrimSuffix(out, ext)
		targets = append(targets,
			dumpTarget{name: "Temporal", url: cfg.Backup.TemporalURL, file: base + "-temporal" + ext,
				tables: []string{"executions", "cluster_metadata_info"},
				hint:   "is LINEDESK_BACKUP_TEMPORAL_URL Temporal's main database (temporal, not temporal_visibility)?"},
			dumpTarget{name: "Temporal visibility", url: cfg.Backup.TemporalVisibilityURL, file: base + "-temporal_visibility" + ext,
				tables: []string{"executions_visibility"},
				hint:   "is LINEDESK_BACKUP_TEMPORAL_VISIBILITY_URL Temporal's visibility database (temporal_visibility)?"})
	}
	for _, t := range targets {
		if _, err := os.Stat(t.file); err == nil {
			return fmt.Errorf("%s exists already: choose another file with -o (a backup never overwrites one)", t.file)
		}
	}

	// Everything that can be checked is checked before the first dump, so that a mistake costs
	// nothing and the dumps follow each other closely.
	tools, err := findPgDumps(cfg.Backup.PgDump, exec.LookPath, pgDumpDirs)
	if err != nil {
		return err
	}
	for i := range targets {
		t := &targets[i]
		if t.server, err = checkDatabase(ctx, *t); err != nil {
			return err
		}
		if t.dumper, err = chooseDumper(tools, t.server); err != nil {
			return fmt.Errorf("%s database: %w", t.name, err)
		}
	}

	var done []dumped
	for _, t := range targets {
		d, err := dump(ctx, t)
		if err != nil {
			return err
		}
		done = append(done, d)
		fmt.Fprintf(stdout, "Wrote %s (%s): %s database %s on PostgreSQL %s as of %s, dumped in %s by %s %s; %s.\n",
			d.target.file, byteSize(d.size), d.target.name, databaseName(d.target.url), majorString(d.target.server),
			d.began.UTC().Format(time.RFC3339), d.took.Round(time.Millisecond), d.target.dumper.path,
			majorString(d.target.dumper.major), entriesString(d.entries))
	}
	printBackupNotes(stdout, cfg, done)
	return nil
}

// backupFile is where linedesk's dump goes: output, or the default name in output (a directory)
// or in the current directory.
func backupFile(output string, now time.Time) (string, error) {
	name := "linedesk-" + now.Format("20060102-150405") + ".dump"
	if output == "" {
		return name, nil
	}
	if fi, err := os.Stat(output); err == nil && fi.IsDir() {
		return filepath.Join(output, name), nil
	}
	if dir := filepath.Dir(output); dir != "." {
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
			return "", fmt.Errorf("-o %s: directory %s does not exist", output, dir)
		}
	}
	return output, nil
}

// checkDatabase connects to a target, checks it holds the tables it should and returns the
// server's major version.
func checkDatabase(ctx context.Context, t dumpTarget) (int, error) {
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(cctx, t.url)
	if err != nil {
		return 0, fmt.Errorf("%s database %s: %w", t.name, localpg.Redact(t.url), err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var num int
	var missing []string
	err = conn.QueryRow(cctx, `SELECT current_setting('server_version_num')::int,
			coalesce(array_agg(t) FILTER (WHERE to_regclass(t) IS NULL), '{}') FROM unnest($1::text[]) t`, t.tables).Scan(&num, &missing)
	if err != nil {
		return 0, fmt.Errorf("%s database %s: %w", t.name, localpg.Redact(t.url), err)
	}
	if len(missing) > 0 {
		return 0, fmt.Errorf("%s database %s has no table %s: %s", t.name, databaseName(t.url), strings.Join(missing, ", "), t.hint)
	}
	return serverMajor(num), nil
}

// dump runs pg_dump for one target into a file of its owner's only, written beside the final
// name and renamed once complete, so a file with the final name is always a whole dump.
func dump(ctx context.Context, t dumpTarget) (dumped, error) {
	d := dumped{target: t, began: time.Now(), entries: -1}
	partial := t.file + ".partial"
	f, err := os.OpenFile(partial, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return d, fmt.Errorf("create %s: %w", partial, err)
	}
	f.Close()
	defer os.Remove(partial) // a no-op once renamed

	dbURL, password := pgDumpURL(t.url)
	cmd := exec.CommandContext(ctx, t.dumper.path, "--format=custom", "--no-password", "--lock-wait-timeout=120000",
		"--file="+partial, "--dbname="+dbURL)
	// The password goes through the environment, not the command line other users can read.
	cmd.Env = os.Environ()
	if password != "" {
		cmd.Env = append(cmd.Env, "PGPASSWORD="+password)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return d, fmt.Errorf("%s database: %s failed: %w\n%s", t.name, t.dumper.path, err, strings.TrimSpace(stderr.String()))
	}
	d.took = time.Since(d.began)
	if fi, err := os.Stat(partial); err != nil || fi.Size() == 0 {
		return d, fmt.Errorf("%s database: %s wrote nothing to %s", t.name, t.dumper.path, partial)
	}
	if restore := siblingTool(t.dumper.path, "pg_restore"); restore != "" {
		n, err := archiveEntries(ctx, restore, partial)
		if err != nil {
			return d, fmt.Errorf("%s database: the dump does not read back: %w", t.name, err)
		}
		d.entries = n
	}
	if _, err := os.Stat(t.file); err == nil {
		return d, fmt.Errorf("%s appeared while dumping: the dump is left in %s", t.file, partial)
	}
	if err := os.Rename(partial, t.file); err != nil {
		return d, err
	}
	fi, err := os.Stat(t.file)
	if err != nil {
		return d, err
	}
	d.size = fi.Size()
	return d, nil
}

// pgDumpURL returns the database URL as libpq reads it — without pgx's own pool settings and
// with linedesk-backup as the application name — and its password apart.
func pgDumpURL(raw string) (string, string) {
	u, err := url.Parse(raw)
	if err != nil {
		return raw, ""
	}
	password := ""
	if u.User != nil {
		if p, ok := u.User.Password(); ok {
			password = p
			u.User = url.User(u.User.Username())
		}
	}
	q := u.Query()
	if p := q.Get("password"); p != "" {
		password = p
	}
	q.Del("password")
	for k := range q {
		if strings.HasPrefix(k, "pool_") || slices.Contains(pgxOnlyParams, k) {
			q.Del(k)
		}
	}
	if !q.Has("application_name") {
		q.Set("application_name", "linedesk-backup")
	}
	u.RawQuery = q.Encode()
	return u.String(), password
}

// pgxOnlyParams are connection settings pgx reads and libpq refuses.
var pgxOnlyParams = []string{"statement_cache_capacity", "description_cache_capacity", "default_query_exec_mode",
	"min_read_buffer_size"}

// archiveEntries counts the entries of a custom-format archive's table of contents.
func archiveEntries(ctx context.Context, pgRestore, file string) (int, error) {
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, pgRestore, "--list", file)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return 0, fmt.Errorf("%s --list: %w: %s", pgRestore, err, strings.TrimSpace(stderr.String()))
	}
	n := 0
	for line := range strings.Lines(stdout.String()) {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, ";") {
			n++
		}
	}
	return n, nil
}

// pgTool is one pg_dump found, with its major version.
type pgTool struct {
	path  string
	major int // as pgVersion counts it
}

// pgVersion counts a PostgreSQL major version so that versions compare as numbers: 1500 for 15,
// 906 for 9.6 (before 10 a major version had two parts).
func pgVersion(major, minor int) int {
	if major >= 10 {
		return major * 100
	}
	return major*100 + minor
}

// pgDumpDirs are where PostgreSQL's versioned binaries live: Debian and Ubuntu, then Red Hat's
// packages.
var pgDumpDirs = []string{"/usr/lib/postgresql/*/bin", "/usr/pgsql-*/bin"}

// findPgDumps lists the pg_dump binaries here: given alone when set, else the one on PATH and
// those in dirs (glob patterns).
func findPgDumps(given string, lookPath func(string) (string, error), dirs []string) ([]pgTool, error) {
	var paths []string
	if given != "" {
		paths = []string{given}
	} else {
		if p, err := lookPath("pg_dump"); err == nil {
			paths = append(paths, p)
		}
		for _, d := range dirs {
			found, _ := filepath.Glob(filepath.Join(d, "pg_dump"))
			slices.Sort(found)
			paths = append(paths, found...)
		}
	}
	var tools []pgTool
	var problems []string
	for _, p := range paths {
		major, err := pgDumpVersion(p)
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		tools = append(tools, pgTool{path: p, major: major})
	}
	switch {
	case given != "" && len(tools) == 0:
		return nil, fmt.Errorf("LINEDESK_PG_DUMP: %s", strings.Join(problems, "; "))
	case len(tools) == 0:
		msg := "pg_dump is not installed: none on PATH or in " + strings.Join(dirs, " or ")
		if len(problems) > 0 {
			msg += " (" + strings.Join(problems, "; ") + ")"
		}
		return nil, errors.New(msg + ". Install the PostgreSQL client of the server's version " +
			"(Debian, Ubuntu: apt-get install postgresql-client-16; Alpine: apk add postgresql16-client; macOS: brew install libpq) " +
			"or point LINEDESK_PG_DUMP (--pg-dump) at one")
	}
	return tools, nil
}

var pgDumpVersionRE = regexp.MustCompile(`\(PostgreSQL\) (\d+)(?:\.(\d+))?`)

// pgDumpVersion runs `pg_dump --version` and returns its major version.
func pgDumpVersion(path string) (int, error) {
	out, err := exec.Command(path, "--version").Output()
	if err != nil {
		return 0, fmt.Errorf("%s --version: %w", path, err)
	}
	m := pgDumpVersionRE.FindSubmatch(out)
	if m == nil {
		return 0, fmt.Errorf("%s --version says %q, not a PostgreSQL version", path, strings.TrimSpace(string(out)))
	}
	major, _ := strconv.Atoi(string(m[1]))
	minor, _ := strconv.Atoi(string(m[2]))
	return pgVersion(major, minor), nil
}

// chooseDumper picks the pg_dump for a server: one of the server's major version, else the
// oldest newer one (pg_dump reads older servers, and the closer its version the more restore
// tools read its archive). pg_dump refuses a server newer than itself, so an older one is an
// error.
func chooseDumper(tools []pgTool, server int) (pgTool, error) {
	var best *pgTool
	for i, t := range tools {
		if t.major >= server && (best == nil || t.major < best.major) {
			best = &tools[i]
		}
	}
	if best != nil {
		return *best, nil
	}
	newest := slices.MaxFunc(tools, func(a, b pgTool) int { return a.major - b.major })
	return pgTool{}, fmt.Errorf("the server runs PostgreSQL %s and the newest pg_dump here is %s (%s): pg_dump cannot dump a server newer than itself. "+
		"Install postgresql-client-%s (or newer) and run again, or point LINEDESK_PG_DUMP (--pg-dump) at it",
		majorString(server), majorString(newest.major), newest.path, majorString(server))
}

// serverMajor reads server_version_num (150020 for 15.20, 90624 for 9.6.24) as pgVersion counts it.
func serverMajor(num int) int {
	if num >= 100000 {
		return pgVersion(num/10000, 0)
	}
	return pgVersion(num/10000, num/100%100)
}

// majorString writes a version as pgVersion counts it: 15, 9.6.
func majorString(v int) string {
	if v >= 1000 {
		return strconv.Itoa(v / 100)
	}
	return fmt.Sprintf("%d.%d", v/100, v%100)
}

// siblingTool is the tool called name beside path (pg_restore beside pg_dump), "" if none.
func siblingTool(path, name string) string {
	p := filepath.Join(filepath.Dir(path), name)
	if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
		return p
	}
	return ""
}

func databaseName(dbURL string) string {
	name, err := localpg.DatabaseName(dbURL)
	if err != nil || name == "" {
		return localpg.Redact(dbURL)
	}
	return name
}

func byteSize(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}

func entriesString(n int) string {
	if n < 0 {
		return "not read back (no pg_restore beside pg_dump)"
	}
	return fmt.Sprintf("pg_restore reads back its %d entries", n)
}

// printBackupNotes says what the dumps do not hold and how they go back.
func printBackupNotes(w io.Writer, cfg Config, done []dumped) {
	fmt.Fprintln(w)
	if len(done) > 1 {
		gap := done[1].began.Sub(done[0].began)
		fmt.Fprintf(w, "Temporal's dumps began %s after linedesk's (each is consistent in itself): restore the three together, "+
			"Temporal stopped, as docs/operations.md describes; for one exact moment across all three, stop api and worker while backing up "+
			"or use the PostgreSQL cluster's point-in-time recovery.\n", gap.Round(time.Millisecond))
	} else {
		fmt.Fprintln(w, "Temporal's databases were not dumped (no LINEDESK_BACKUP_TEMPORAL_URL): back them up at the same time, "+
			"or have Temporal's operator do so (docs/operations.md says what a restore from different moments means).")
	}
	fmt.Fprintf(w, "Restore into an empty database: pg_restore --no-owner --exit-on-error --dbname=postgres://…/linedesk %s\n", done[0].target.file)
	fmt.Fprintln(w, storageNote(cfg.StorageURL))
	fmt.Fprintln(w, "Secrets: channel credentials and signing secrets in the dump are sealed with LINEDESK_SECRETS_KEY. Keep that key "+
		"(and any in LINEDESK_SECRETS_OLD_KEYS) safe and apart from the backup: a restored desk needs it, and the dump alone does not open them.")
}

// storageNote says where the attachments are and how to keep them: the dump holds their
// records, not their bytes.
func storageNote(storageURL string) string {
	u, err := url.Parse(storageURL)
	switch {
	case storageURL == "" || err != nil:
		return "Attachments: LINEDESK_STORAGE_URL is not set here, so this command cannot say where they are. The dump holds their records; " +
			"their bytes are where api and worker keep them (their LINEDESK_STORAGE_URL): a file:// directory to copy, or an S3 bucket to version and replicate."
	case u.Scheme == "file":
		return fmt.Sprintf("Attachments are files under %s, not in the dump: copy that directory too, after the dump "+
			"(e.g. rsync -a %s/ backup-host:linedesk-files/), so every file the dump names is in the copy.", u.Path, strings.TrimSuffix(u.Path, "/"))
	default:
		return fmt.Sprintf("Attachments are objects in the bucket %s%s, not in the dump: keep them with the bucket's versioning and "+
			"replication (or the provider's backup), so the objects the dump names can be restored.", u.Host, u.Path)
	}
}
