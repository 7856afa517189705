package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"debug/buildinfo"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
)

// stack is the linedesk under test: its HTTP base URL, its PostgreSQL and its Temporal frontend,
// and, when this tool started it, the process and what to remove at the end.
type stack struct {
	baseURL string
	dbURL   string
	pool    *pgxpool.Pool
	tc      client.Client

	// Set only for a stack started here.
	cmd       *exec.Cmd
	exited    chan struct{}
	pid       int
	pprofAddr string
	dir       string // temp dir: binary, data dir, log
	// temporalDB is where the embedded Temporal keeps its state (sqlite or postgres).
	temporalDB string
	logPath    string
	binary     string
	dbName     string
	adminURL   string
	keep       bool
}

func (s *stack) managed() bool { return s.cmd != nil }

// openStack starts `linedesk dev` on a fresh database, or reaches the stack -target names.
func openStack(ctx context.Context, o options, progress func(string, ...any)) (*stack, error) {
	s := &stack{keep: o.Keep}
	if o.Target != "" {
		s.baseURL = strings.TrimRight(o.Target, "/")
		s.dbURL = o.DatabaseURL
		for what, addr := range map[string]string{"-target": s.baseURL, "-database-url": s.dbURL} {
			if err := requireLoopbackURL(addr); err != nil {
				return nil, fmt.Errorf("%s: %w", what, err)
			}
		}
		if err := requireLoopbackHostPort(o.TemporalAddress); err != nil {
			return nil, fmt.Errorf("-temporal-address: %w", err)
		}
		if err := s.connect(ctx, o.TemporalAddress, o.Namespace); err != nil {
			s.close(progress)
			return nil, err
		}
		return s, nil
	}
	if err := s.start(ctx, o, progress); err != nil {
		s.close(progress)
		return nil, err
	}
	return s, nil
}

// start builds ./cmd/linedesk, creates the bench database and runs `linedesk dev` on free
// loopback ports with its state in a temp dir.
func (s *stack) start(ctx context.Context, o options, progress func(string, ...any)) error {
	if err := requireLoopbackURL(o.PostgresURL); err != nil {
		return fmt.Errorf("-postgres-url: %w", err)
	}
	s.adminURL, s.temporalDB = o.PostgresURL, o.TemporalDB
	root, err := moduleRoot(ctx)
	if err != nil {
		return err
	}
	if s.dir, err = os.MkdirTemp("", "linedesk-bench-"); err != nil {
		return err
	}
	s.binary = filepath.Join(s.dir, "linedesk")
	progress("building ./cmd/linedesk")
	build := exec.CommandContext(ctx, "go", "build", "-o", s.binary, "./cmd/linedesk")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("go build ./cmd/linedesk: %w\n%s", err, out)
	}
	// The fresh binary is a few hundred megabytes of dirty page cache (and `go run` of this tool
	// left its own). Left alone, the kernel writes it back about 30 s later
	// (vm.dirty_expire_centisecs), in the middle of a workload, and PostgreSQL's WAL fsyncs
	// queue behind it: the third W1 window's p99 doubled that way. Written out now, the
	// measurements see only linedesk's own I/O.
	progress("writing the build out to the disk")
	flushDisk()

	suffix := make([]byte, 4)
	_, _ = rand.Read(suffix)
	s.dbName = "linedesk_bench_" + hex.EncodeToString(suffix)
	admin, err := pgx.Connect(ctx, o.PostgresURL)
	if err != nil {
		return fmt.Errorf("connect to %s: %w", redact(o.PostgresURL), err)
	}
	_, err = admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{s.dbName}.Sanitize())
	_ = admin.Close(ctx)
	if err != nil {
		s.dbName = ""
		return fmt.Errorf("create the bench database: %w", err)
	}
	s.dbURL, err = withDatabase(o.PostgresURL, s.dbName)
	if err != nil {
		return err
	}

	ports, err := freeLoopbackAddrs(2)
	if err != nil {
		return err
	}
	httpAddr, temporalAddr := ports[0], ports[1]
	s.pprofAddr = o.PprofAddr
	if s.pprofAddr == "" {
		// Only to force a garbage collection before reading memory (S5); never profiled here.
		more, err := freeLoopbackAddrs(1)
		if err != nil {
			return err
		}
		s.pprofAddr = more[0]
	}
	dataDir := filepath.Join(s.dir, "data")
	s.logPath = filepath.Join(s.dir, "linedesk.log")
	logFile, err := os.Create(s.logPath)
	if err != nil {
		return err
	}
	defer logFile.Close()
	s.cmd = exec.Command(s.binary, "dev")
	s.cmd.Env = append(os.Environ(),
		"LINEDESK_DATA_DIR="+dataDir,
		"DATABASE_URL="+s.dbURL,
		"LINEDESK_HTTP_ADDR="+httpAddr,
		"LINEDESK_TEMPORAL_ADDR="+temporalAddr,
		"LINEDESK_TEMPORAL_UI_ADDR=",
		"LINEDESK_ADMIN_EMAIL="+o.Email,
		"LINEDESK_ADMIN_PASSWORD="+o.Password,
		"LINEDESK_PPROF_ADDR="+s.pprofAddr,
		"LINEDESK_LOG_LEVEL=warn",
		"LINEDESK_TEMPORAL_DB="+o.TemporalDB,
	)
	s.cmd.Stdout, s.cmd.Stderr = logFile, logFile
	progress("starting linedesk dev (database %s, log %s)", s.dbName, s.logPath)
	if err := s.cmd.Start(); err != nil {
		s.cmd = nil
		return fmt.Errorf("start linedesk dev: %w", err)
	}
	s.pid = s.cmd.Process.Pid
	s.exited = make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(s.exited) }()
	s.baseURL = "http://" + httpAddr
	if err := s.waitReady(ctx, 3*time.Minute); err != nil {
		return err
	}
	return s.connect(ctx, temporalAddr, o.Namespace)
}

// waitReady polls /readyz until linedesk answers 200.
func (s *stack) waitReady(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.baseURL+"/readyz", nil)
		if res, err := http.DefaultClient.Do(req); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-s.exited:
			return fmt.Errorf("linedesk dev exited before it was ready:\n%s", s.logTail())
		case <-ctx.Done():
			return fmt.Errorf("linedesk dev not ready after %s:\n%s", timeout, s.logTail())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (s *stack) logTail() string {
	b, err := os.ReadFile(s.logPath)
	if err != nil {
		return ""
	}
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// connect opens the pool (visibility polls, seeding, B6a) and the Temporal client (B1, B2).
func (s *stack) connect(ctx context.Context, temporalAddr, namespace string) error {
	cfg, err := pgxpool.ParseConfig(s.dbURL)
	if err != nil {
		return fmt.Errorf("database url: %w", err)
	}
	cfg.MaxConns = 8
	if s.pool, err = pgxpool.NewWithConfig(ctx, cfg); err != nil {
		return fmt.Errorf("open database: %w", err)
	}
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("ping database: %w", err)
	}
	s.tc, err = client.DialContext(ctx, client.Options{HostPort: temporalAddr, Namespace: namespace,
		Logger: sdklog.NewStructuredLogger(discardLogger())})
	if err != nil {
		return fmt.Errorf("connect to temporal at %s: %w", temporalAddr, err)
	}
	return nil
}

// close stops a started linedesk (SIGINT, then SIGKILL after 30 s), drops its database and
// removes its files unless -keep.
func (s *stack) close(progress func(string, ...any)) {
	if s.tc != nil {
		s.tc.Close()
	}
	if s.pool != nil {
		s.pool.Close()
	}
	if s.cmd != nil {
		_ = s.cmd.Process.Signal(syscall.SIGINT)
		select {
		case <-s.exited:
		case <-time.After(30 * time.Second):
			progress("linedesk dev did not stop in 30 s; killing it")
			_ = s.cmd.Process.Kill()
			<-s.exited
		}
	}
	if s.keep {
		if s.dbName != "" || s.dir != "" {
			progress("kept database %s and dir %s", s.dbName, s.dir)
		}
		return
	}
	if s.dbName != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if admin, err := pgx.Connect(ctx, s.adminURL); err == nil {
			// With -temporal-db postgres, dev keeps Temporal's state in two databases beside it.
			for _, name := range []string{s.dbName, s.dbName + "_temporal", s.dbName + "_temporal_visibility"} {
				if _, err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
					progress("drop database %s: %v", name, err)
				}
			}
			_ = admin.Close(ctx)
		}
	}
	if s.dir != "" {
		_ = os.RemoveAll(s.dir)
	}
}

// buildVersions reads module versions from the built linedesk binary, or from this tool's own
// build when it did not build one.
func (s *stack) buildVersions() map[string]string {
	out := map[string]string{}
	path := s.binary
	if path == "" {
		path, _ = os.Executable()
	}
	info, err := buildinfo.ReadFile(path)
	if err != nil {
		return out
	}
	out["go (build)"] = info.GoVersion
	for _, d := range info.Deps {
		switch d.Path {
		case "go.temporal.io/server", "go.temporal.io/sdk", "github.com/jackc/pgx/v5", "github.com/labstack/echo/v4":
			v := d.Version
			if d.Replace != nil {
				v = d.Replace.Version
			}
			out[d.Path] = v
		}
	}
	return out
}

func moduleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("run linedesk-bench inside the linedesk module (it builds ./cmd/linedesk)")
	}
	root := filepath.Dir(mod)
	if b, err := os.ReadFile(mod); err != nil || !bytes.Contains(b, []byte("module github.com/linedesk/linedesk\n")) {
		return "", fmt.Errorf("%s is not linedesk's go.mod", mod)
	}
	return root, nil
}

func freeLoopbackAddrs(n int) ([]string, error) {
	var out []string
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			_ = l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("find a free port: %w", err)
		}
		ls = append(ls, l)
		out = append(out, l.Addr().String())
	}
	return out, nil
}

// requireLoopbackURL refuses a URL whose host is not a loopback address: load goes nowhere else.
func requireLoopbackURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return err
	}
	host := u.Hostname()
	if host == "" {
		// A key=value DSN or a socket path: pgx decides; only a URL with a host is checked.
		if strings.HasPrefix(raw, "postgres") {
			return errors.New("give a postgres:// URL with a loopback host")
		}
		return fmt.Errorf("%q has no host", raw)
	}
	return requireLoopbackHost(host)
}

func requireLoopbackHostPort(hp string) error {
	host, _, err := net.SplitHostPort(hp)
	if err != nil {
		return err
	}
	return requireLoopbackHost(host)
}

func requireLoopbackHost(host string) error {
	if host == "localhost" {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("%s is not a loopback address; linedesk-bench sends load only to this machine", host)
	}
	return nil
}

func withDatabase(raw, db string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", err
	}
	u.Path = "/" + db
	return u.String(), nil
}

func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(database url)"
	}
	return u.Redacted()
}
