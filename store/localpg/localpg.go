// Package localpg finds a PostgreSQL for `linedesk dev` and the tests: the configured URL, else a
// server on 127.0.0.1:5432, else a private cluster it starts from the system's PostgreSQL
// binaries inside the data directory and stops again on exit.
package localpg

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// DefaultLocalURL is the server tried when no URL is configured.
const DefaultLocalURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable&connect_timeout=2"

// ErrNoPostgres says nothing could provide a database; its text tells the user what to install.
var ErrNoPostgres = errors.New("no PostgreSQL found: set DATABASE_URL, start a server on 127.0.0.1:5432, " +
	"or install the PostgreSQL server binaries so linedesk can start a private one " +
	"(Debian/Ubuntu: apt-get install postgresql; Fedora: dnf install postgresql-server; macOS: brew install postgresql@16)")

// Options say where to look.
type Options struct {
	// DatabaseURL, when set, is used as it is (its database is created if missing).
	DatabaseURL string
	// DBName is the database to use on a discovered server ("linedesk").
	DBName string
	// SharedDBName, when set, is the database to use on the shared server on 127.0.0.1:5432
	// instead of DBName; a private cluster belongs to one data dir and keeps DBName.
	SharedDBName string
	// DataDir holds the private cluster (DataDir/postgres) when one is needed.
	DataDir string
	Logger  *slog.Logger
}

// Server is the PostgreSQL that was found or started.
type Server struct {
	// URL points at the database to use.
	URL string
	// Private is true when this process started the cluster and must stop it.
	Private bool

	pgCtl   string
	dataDir string
	runAs   *syscall.Credential
	logger  *slog.Logger
}

// Discover returns a PostgreSQL to use, starting a private cluster if it must.
func Discover(ctx context.Context, opts Options) (*Server, error) {
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if opts.DBName == "" {
		opts.DBName = "linedesk"
	}
	if opts.DatabaseURL != "" {
		if err := EnsureDatabase(ctx, opts.DatabaseURL); err != nil {
			return nil, err
		}
		return &Server{URL: opts.DatabaseURL, logger: logger}, nil
	}
	if conn, err := pgx.Connect(ctx, DefaultLocalURL); err == nil {
		_ = conn.Close(ctx)
		name := opts.DBName
		if opts.SharedDBName != "" {
			name = opts.SharedDBName
		}
		u := withDatabase(DefaultLocalURL, name)
		if err := EnsureDatabase(ctx, u); err != nil {
			return nil, err
		}
		logger.Info("using the PostgreSQL server on 127.0.0.1:5432", "database", name)
		return &Server{URL: u, logger: logger}, nil
	}
	if opts.DataDir == "" {
		return nil, ErrNoPostgres
	}
	return startPrivate(ctx, opts, logger)
}

// EnsureDatabase connects to databaseURL and, if its database does not exist, creates it
// through the server's maintenance database.
func EnsureDatabase(ctx context.Context, databaseURL string) error {
	conn, err := pgx.Connect(ctx, databaseURL)
	if err == nil {
		return conn.Close(ctx)
	}
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "3D000" { // invalid_catalog_name
		return fmt.Errorf("connect to %s: %w", Redact(databaseURL), err)
	}
	cfg, err := pgx.ParseConfig(databaseURL)
	if err != nil {
		return fmt.Errorf("parse database url: %w", err)
	}
	name := cfg.Database
	admin, err := pgx.Connect(ctx, withDatabase(databaseURL, "postgres"))
	if err != nil {
		return fmt.Errorf("connect to the maintenance database: %w", err)
	}
	defer admin.Close(ctx)
	_, err = admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	if err != nil && !(errors.As(err, &pgErr) && pgErr.Code == "42P04") { // duplicate_database: a racing creator won
		return fmt.Errorf("create database %s: %w", name, err)
	}
	return nil
}

// Stop stops a private cluster; for any other server it does nothing.
func (s *Server) Stop(ctx context.Context) error {
	if !s.Private {
		return nil
	}
	out, err := s.command(ctx, s.pgCtl, "-D", s.dataDir, "-m", "fast", "-w", "-t", "60", "stop").CombinedOutput()
	if err != nil {
		return fmt.Errorf("stop private PostgreSQL: %w: %s", err, strings.TrimSpace(string(out)))
	}
	s.logger.Info("stopped the private PostgreSQL", "dir", s.dataDir)
	return nil
}

func startPrivate(ctx context.Context, opts Options, logger *slog.Logger) (*Server, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	bin, err := findBinDir()
	if err != nil {
		return nil, err
	}
	s := &Server{
		Private: true,
		pgCtl:   filepath.Join(bin, "pg_ctl"),
		dataDir: filepath.Join(opts.DataDir, "postgres"),
		logger:  logger,
	}
	// PostgreSQL refuses to run as root; as root, run it as the postgres system user.
	if os.Geteuid() == 0 {
		cred, err := postgresUser()
		if err != nil {
			return nil, err
		}
		s.runAs = cred
	}
	if err := os.MkdirAll(s.dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create %s: %w", s.dataDir, err)
	}
	if s.runAs != nil {
		if err := os.Chown(s.dataDir, int(s.runAs.Uid), int(s.runAs.Gid)); err != nil {
			return nil, fmt.Errorf("chown %s: %w", s.dataDir, err)
		}
		// The postgres user must be able to reach the directory through every parent.
		if out, err := s.command(ctx, "ls", "-d", s.dataDir).CombinedOutput(); err != nil {
			return nil, fmt.Errorf("linedesk runs as root, so its private PostgreSQL runs as the postgres user, who cannot reach %s (%s): "+
				"set LINEDESK_DATA_DIR to a directory every user can reach (e.g. /var/lib/linedesk), run as a regular user, or set DATABASE_URL",
				s.dataDir, strings.TrimSpace(string(out)))
		}
	}
	if _, err := os.Stat(filepath.Join(s.dataDir, "PG_VERSION")); errors.Is(err, os.ErrNotExist) {
		logger.Info("initialising a private PostgreSQL cluster", "dir", s.dataDir)
		out, err := s.command(ctx, filepath.Join(bin, "initdb"), "-D", s.dataDir, "-U", "linedesk",
			"--auth=trust", "-E", "UTF8", "--locale=C").CombinedOutput()
		if err != nil {
			return nil, fmt.Errorf("initdb: %w: %s", err, strings.TrimSpace(string(out)))
		}
	}
	// A cluster left running by a killed earlier run is ours: stop it before starting afresh.
	if err := s.command(ctx, s.pgCtl, "-D", s.dataDir, "status").Run(); err == nil {
		logger.Warn("a private PostgreSQL from an earlier run is still running; restarting it")
		_ = s.Stop(ctx)
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	logFile := filepath.Join(s.dataDir, "server.log")
	serverOpts := fmt.Sprintf("-p %d -h 127.0.0.1 -k %s -c fsync=on", port, s.dataDir)
	out, err := s.command(ctx, s.pgCtl, "-D", s.dataDir, "-l", logFile, "-o", serverOpts, "-w", "-t", "60", "start").CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("start private PostgreSQL (log: %s): %w: %s", logFile, err, strings.TrimSpace(string(out)))
	}
	s.URL = fmt.Sprintf("postgres://linedesk@127.0.0.1:%d/%s?sslmode=disable", port, opts.DBName)
	if err := EnsureDatabase(ctx, s.URL); err != nil {
		_ = s.Stop(ctx)
		return nil, err
	}
	logger.Info("started a private PostgreSQL", "dir", s.dataDir, "port", port)
	return s, nil
}

// command runs a PostgreSQL tool in its own process group, so a Ctrl-C in the terminal reaches
// linedesk alone and linedesk stops the cluster after everything that uses it.
func (s *Server) command(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Credential: s.runAs}
	cmd.Dir = os.TempDir()
	return cmd
}

// findBinDir looks for initdb and pg_ctl on PATH, then in Debian's versioned folders.
func findBinDir() (string, error) {
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		dir := filepath.Dir(p)
		if _, err := os.Stat(filepath.Join(dir, "initdb")); err == nil {
			return dir, nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return versionOf(dirs[i]) > versionOf(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	return "", ErrNoPostgres
}

func versionOf(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}

func postgresUser() (*syscall.Credential, error) {
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("linedesk runs as root, and PostgreSQL will not: create a 'postgres' system user or run as another user: %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// DatabaseComment returns the comment on the database name of the server databaseURL points
// at, and whether that database exists.
func DatabaseComment(ctx context.Context, databaseURL, name string) (comment string, exists bool, err error) {
	conn, err := pgx.Connect(ctx, databaseURL)
	if err != nil {
		return "", false, fmt.Errorf("connect to %s: %w", Redact(databaseURL), err)
	}
	defer conn.Close(ctx)
	var c *string
	err = conn.QueryRow(ctx, `SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = $1`, name).Scan(&c)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("read the comment on database %s: %w", name, err)
	}
	if c != nil {
		comment = *c
	}
	return comment, true, nil
}

// CommentOnDatabase sets the comment on the database name of the server databaseURL points at.
func CommentOnDatabase(ctx context.Context, databaseURL, name, comment string) error {
	conn, err := pgx.Connect(ctx, databaseURL)
	if err != nil {
		return fmt.Errorf("connect to %s: %w", Redact(databaseURL), err)
	}
	defer conn.Close(ctx)
	// COMMENT takes no bind parameters, so the text goes in as a literal with its quotes doubled
	// (standard_conforming_strings has been on by default since PostgreSQL 9.1).
	quoted := "'" + strings.ReplaceAll(comment, "'", "''") + "'"
	if _, err := conn.Exec(ctx, "COMMENT ON DATABASE "+pgx.Identifier{name}.Sanitize()+" IS "+quoted); err != nil {
		return fmt.Errorf("comment on database %s: %w", name, err)
	}
	return nil
}

// DropDatabase drops the database name, if it exists, of the server databaseURL points at
// (databaseURL must point at another database), disconnecting its sessions.
func DropDatabase(ctx context.Context, databaseURL, name string) error {
	conn, err := pgx.Connect(ctx, databaseURL)
	if err != nil {
		return fmt.Errorf("connect to %s: %w", Redact(databaseURL), err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
		return fmt.Errorf("drop database %s: %w", name, err)
	}
	return nil
}

// DatabaseName returns the name of the database databaseURL points at.
func DatabaseName(databaseURL string) (string, error) {
	cfg, err := pgx.ParseConfig(databaseURL)
	if err != nil {
		return "", fmt.Errorf("parse database url: %w", err)
	}
	return cfg.Database, nil
}

// WithDatabase returns databaseURL pointing at another database of the same server.
func WithDatabase(databaseURL, name string) string { return withDatabase(databaseURL, name) }

// withDatabase returns databaseURL pointing at another database.
func withDatabase(databaseURL, name string) string {
	u, err := url.Parse(databaseURL)
	if err != nil {
		return databaseURL
	}
	u.Path = "/" + name
	return u.String()
}

// Redact hides a password in a URL for messages.
func Redact(databaseURL string) string {
	u, err := url.Parse(databaseURL)
	if err != nil {
		return "the database"
	}
	return u.Redacted()
}
