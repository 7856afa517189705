package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/linedesk/linedesk/worker/devserver"
)

// A scaled-out stack as production runs it: a Temporal server on PostgreSQL persistence (the
// embedded server configured for SQL, as docker-compose.yml's temporal service is), and
// linedesk's api and worker as separate processes of the built binary, several of each, on one
// database. The scaled-out test and the fault suite (faults_test.go) drive it over HTTP only.

var (
	binaryOnce sync.Once
	binaryDir  string
	binaryPath string
	binaryErr  error
)

// linedeskBinary builds the linedesk command once per test process (the build cache makes a
// rebuild after no change a link only).
func linedeskBinary(t *testing.T) string {
	t.Helper()
	binaryOnce.Do(func() {
		// A directory of this test process's own (TestMain removes it): two runs side by side
		// never start each other's build.
		dir, err := os.MkdirTemp("", "linedesk-stacktest-")
		if binaryErr = err; err != nil {
			return
		}
		binaryDir = dir
		binaryPath = filepath.Join(dir, "linedesk")
		out, err := exec.Command("go", "build", "-o", binaryPath, ".").CombinedOutput()
		if err != nil {
			binaryErr = fmt.Errorf("go build: %w: %s", err, out)
		}
	})
	require.NoError(t, binaryErr)
	return binaryPath
}

// scaledStack is one scaled-out deployment under test.
type scaledStack struct {
	t        *testing.T
	bin      string
	dbURL    string
	env      []string
	temporal *devserver.Server
	tOpts    devserver.Options
	apis     []*proc
	workers  []*proc
	db       *pgxpool.Pool
}

// proc is one linedesk process: its command, HTTP address and log.
type proc struct {
	name string
	args []string
	addr string
	cmd  *exec.Cmd
	log  *syncBuffer
	done chan error
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// newScaledStack starts Temporal on PostgreSQL beside dbURL's database, migrates dbURL with a first
// admin (admin@example.com / admin), and starts apis api and workers worker processes.
func newScaledStack(t *testing.T, dbURL string, apis, workers int) *scaledStack {
	return newScaledStackOn(t, dbURL, dbURL, apis, workers)
}

// newScaledStackOn is newScaledStack with Temporal's databases beside temporalBase's instead
// (another server: the fault suite takes linedesk's PostgreSQL down alone).
func newScaledStackOn(t *testing.T, dbURL, temporalBase string, apis, workers int) *scaledStack {
	t.Helper()
	s := &scaledStack{t: t, bin: linedeskBinary(t), dbURL: dbURL}
	ts, err := newPostgresStore(temporalBase)
	require.NoError(t, err)
	t.Cleanup(func() { _ = ts.Wipe(context.Background()) })
	s.tOpts, err = ts.Open(t.Context())
	require.NoError(t, err)
	s.tOpts.Namespace = "default"
	s.tOpts.FrontendAddr = freeAddr(t)
	s.startTemporal()
	t.Cleanup(func() {
		if s.temporal != nil {
			_ = s.temporal.Stop()
		}
	})

	key := make([]byte, 32)
	for i := range key {
		key[i] = byte(i*7 + 1)
	}
	files := t.TempDir()
	s.env = []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"),
		"DATABASE_URL=" + dbURL,
		"TEMPORAL_ADDRESS=" + s.tOpts.FrontendAddr, "TEMPORAL_NAMESPACE=default",
		"LINEDESK_SECRETS_KEY=" + base64.StdEncoding.EncodeToString(key),
		"LINEDESK_STORAGE_URL=file://" + files,
		"LINEDESK_LOG_FORMAT=text", "LINEDESK_LOG_LEVEL=info",
		"LINEDESK_ALLOW_PRIVATE_CALLBACKS=true",
	}
	migrate := exec.Command(s.bin, "migrate")
	migrate.Env = append(s.env, "LINEDESK_ADMIN_EMAIL=admin@example.com", "LINEDESK_ADMIN_PASSWORD=admin")
	out, err := migrate.CombinedOutput()
	require.NoError(t, err, "linedesk migrate: %s", out)

	s.db, err = pgxpool.New(t.Context(), dbURL)
	require.NoError(t, err)
	t.Cleanup(s.db.Close)
	for i := range workers {
		s.workers = append(s.workers, s.start(fmt.Sprintf("worker-%d", i+1), "worker"))
	}
	for i := range apis {
		s.apis = append(s.apis, s.start(fmt.Sprintf("api-%d", i+1), "api"))
	}
	for _, p := range append(append([]*proc{}, s.workers...), s.apis...) {
		s.waitReady(p, time.Minute)
	}
	t.Cleanup(func() {
		if t.Failed() {
			for _, p := range append(append([]*proc{}, s.workers...), s.apis...) {
				t.Logf("--- %s log (last 4 KB) ---\n%s", p.name, tail(p.log.String(), 4096))
			}
		}
	})
	return s
}

func (s *scaledStack) startTemporal() {
	ts, err := devserver.Start(s.tOpts)
	require.NoError(s.t, err)
	s.temporal = ts
}

// start runs `linedesk <command>` as a process on a free loopback address.
func (s *scaledStack) start(name, command string) *proc {
	p := &proc{name: name, args: []string{command}, addr: freeAddr(s.t), log: &syncBuffer{}}
	s.run(p)
	s.t.Cleanup(func() { s.stop(p) })
	return p
}

func (s *scaledStack) run(p *proc) {
	cmd := exec.Command(s.bin, p.args...)
	cmd.Env = append(append([]string{}, s.env...), "LINEDESK_HTTP_ADDR="+p.addr)
	cmd.Stdout, cmd.Stderr = p.log, p.log
	require.NoError(s.t, cmd.Start())
	p.cmd, p.done = cmd, make(chan error, 1)
	go func() { p.done <- cmd.Wait() }()
}

func (s *scaledStack) stop(p *proc) {
	if p.cmd == nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
	p.cmd = nil
}

func (s *scaledStack) waitReady(p *proc, within time.Duration) {
	s.t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		select {
		case err := <-p.done:
			s.t.Fatalf("%s exited before it was ready: %v\n%s", p.name, err, tail(p.log.String(), 4096))
		default:
		}
		res, err := readyClient.Get("http://" + p.addr + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.t.Fatalf("%s not ready within %s\n%s", p.name, within, tail(p.log.String(), 4096))
}

var readyClient = &http.Client{Timeout: 5 * time.Second}

// url is the base URL of api i.
func (s *scaledStack) url(i int) string { return "http://" + s.apis[i%len(s.apis)].addr }

// queryInt runs a counting query on linedesk's database.
func (s *scaledStack) queryInt(sql string, args ...any) int64 {
	s.t.Helper()
	var n int64
	require.NoError(s.t, s.db.QueryRow(s.t.Context(), sql, args...).Scan(&n), sql)
	return n
}

// waitFor polls cond until it holds or the time is up.
func (s *scaledStack) waitFor(what string, within time.Duration, cond func() bool) time.Duration {
	s.t.Helper()
	start := time.Now()
	for time.Since(start) < within {
		if cond() {
			return time.Since(start)
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.t.Fatalf("%s: not within %s", what, within)
	return 0
}

// session signs in on the api at base and returns a client holding the session.
func session(t *testing.T, base, email, password string) *http.Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	status, body := postJSON(t, c, base+"/api/v1/auth/login", map[string]string{"email": email, "password": password}, nil)
	require.Equal(t, http.StatusOK, status, "%v", body)
	return c
}

// call sends a JSON request and returns the status and the body's text; a transport error is
// status 0 (the caller decides whether that is a failure: during a fault it is expected).
func call(c *http.Client, method, url string, body any, header map[string]string) (int, string) {
	var r io.Reader
	if body != nil {
		raw, _ := json.Marshal(body)
		r = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, url, r)
	if err != nil {
		return 0, err.Error()
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := c.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer res.Body.Close()
	text, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(text)
}

// sseEvents reads the event stream at url with c and sends each event's kind and data on the
// returned channel until ctx ends.
func sseEvents(ctx context.Context, t *testing.T, c *http.Client, url string) <-chan [2]string {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	require.NoError(t, err)
	stream := &http.Client{Jar: c.Jar}
	res, err := stream.Do(req)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode)
	out := make(chan [2]string, 1024)
	go func() {
		defer res.Body.Close()
		defer close(out)
		sc := bufio.NewScanner(res.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		var kind string
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "event: "):
				kind = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				select {
				case out <- [2]string{kind, strings.TrimPrefix(line, "data: ")}:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return out
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[len(s)-n:]
}
