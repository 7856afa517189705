//go:build faults

// The fault suite (CI runs it as a job of its own: go test -tags faults -run '^TestFault'):
// linedesk as a scaled-out stack (stack_test.go) under load while a process is killed, its
// PostgreSQL goes away or its Temporal server restarts. Each test logs its figures in a line
// starting with "FIGURE:"; docs/reliability.md gives them.
package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/linedesk/linedesk/store/localpg"
	"github.com/linedesk/linedesk/store/storetest"
)

// loadStats is what the integrators saw while sending.
type loadStats struct {
	sent          atomic.Int64 // messages accepted (202)
	unavailable   atomic.Int64 // 503 answers
	noRetryAfter  atomic.Int64 // 503 answers without Retry-After
	transport     atomic.Int64 // connection refused or reset, or no answer in 10 s
	resent        atomic.Int64 // accepted messages sent again with the same key, answered 202
	other         atomic.Int64 // any other answer (a failure)
	mu            sync.Mutex
	otherExamples []string
	slowest       atomic.Int64 // the longest a message took to be accepted, in ms
}

// runLoad sends S1 traffic until ctx ends: clients integrators, each writing at rate/clients
// messages a second, sequentially (the next message after the last is accepted), perChat
// messages from one client and then from a new one (a new chat whose first message the chat
// workflow must route to a new conversation; the rest go straight to it),
// through the apis in turn; a message not accepted is sent again with the same key after the
// Retry-After asked for (or 500 ms), to the next api. It returns when every message begun is
// accepted or give-up passes.
func runLoad(ctx context.Context, d *desk, clients int, rate float64, perChat int, giveUp time.Duration) *loadStats {
	st := &loadStats{}
	every := time.Duration(float64(time.Second) * float64(clients) / rate)
	var wg sync.WaitGroup
	c := &http.Client{Timeout: 10 * time.Second}
	for cl := range clients {
		wg.Go(func() {
			api := cl
			next := time.Now().Add(time.Duration(cl) * every / time.Duration(clients))
			for m := 1; ctx.Err() == nil; m++ {
				time.Sleep(time.Until(next))
				next = next.Add(every)
				key, text := fmt.Sprintf("c%d-m%06d", cl, m), fmt.Sprintf("msg %06d", m)
				contact := fmt.Sprintf("client-%d-%d", cl, (m-1)/perChat)
				if !st.deliver(d, c, &api, key, fmt.Sprintf(`{"contact":{"external_id":%q},"text":%q}`, contact, text), giveUp) {
					return // gave up: the checks afterwards count what is missing
				}
			}
		})
	}
	wg.Wait()
	return st
}

// deliver sends one message until it is accepted (true) or giveUp passes (false).
func (st *loadStats) deliver(d *desk, c *http.Client, api *int, key, body string, giveUp time.Duration) bool {
	began := time.Now()
	for time.Since(began) < giveUp {
		*api++
		req, _ := http.NewRequest("POST", fmt.Sprintf("%s/api/v1/channels/%d/inbound", d.s.url(*api), d.channelID), strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+d.token)
		req.Header.Set("Idempotency-Key", key)
		res, err := c.Do(req)
		wait := 500 * time.Millisecond
		switch {
		case err != nil:
			st.transport.Add(1)
		case res.StatusCode == http.StatusAccepted:
			res.Body.Close()
			st.sent.Add(1)
			if ms := time.Since(began).Milliseconds(); ms > st.slowest.Load() {
				st.slowest.Store(ms)
			}
			// Every fifth message the integrator did not hear the answer of, and sends it
			// again with the same key through the other api: it must be told "accepted" again.
			if st.sent.Load()%5 == 0 {
				*api++
				again, _ := http.NewRequest("POST", fmt.Sprintf("%s/api/v1/channels/%d/inbound", d.s.url(*api), d.channelID), strings.NewReader(body))
				again.Header = req.Header.Clone()
				if res, err := c.Do(again); err == nil {
					res.Body.Close()
					if res.StatusCode == http.StatusAccepted {
						st.resent.Add(1)
					}
				}
			}
			return true
		case res.StatusCode == http.StatusServiceUnavailable:
			res.Body.Close()
			st.unavailable.Add(1)
			if s, err := strconv.Atoi(res.Header.Get("Retry-After")); err == nil && s > 0 {
				wait = min(time.Duration(s)*time.Second, 2*time.Second)
			} else {
				st.noRetryAfter.Add(1)
			}
		default:
			st.other.Add(1)
			st.mu.Lock()
			if len(st.otherExamples) < 5 {
				st.otherExamples = append(st.otherExamples, fmt.Sprintf("%s: %d", key, res.StatusCode))
			}
			st.mu.Unlock()
			res.Body.Close()
		}
		time.Sleep(wait)
	}
	return false
}

// kill stops p at once (SIGKILL): no drain, no goodbye.
func (s *scaledStack) kill(p *proc) {
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
	p.cmd = nil
}

// restart starts a killed or stopped p again and waits until it is ready (on a new address: the
// old one may have been taken meanwhile).
func (s *scaledStack) restart(p *proc) {
	p.addr = freeAddr(s.t)
	s.run(p)
	s.waitReady(p, time.Minute)
}

// backlogAge is how long the oldest inbound message not yet in a conversation has waited (0
// when none waits); an error while the database is away.
func (s *scaledStack) backlogAge(ctx context.Context) (time.Duration, error) {
	var secs float64
	err := s.db.QueryRow(ctx, `SELECT coalesce(extract(epoch FROM now() - min(created_at)), 0)
		FROM messages WHERE direction = 'in' AND conversation_number IS NULL`).Scan(&secs)
	return time.Duration(secs * float64(time.Second)), err
}

// backlogSampler watches the backlog every 100 ms from its start until stop: its largest age,
// and when it was last back under a second after being over it.
type backlogSampler struct {
	start     time.Time
	worst     time.Duration
	recovered time.Duration // since start; 0 when it never went over a second
	done      chan struct{}
}

func (s *scaledStack) sampleBacklog(ctx context.Context) *backlogSampler {
	b := &backlogSampler{start: time.Now(), done: make(chan struct{})}
	go func() {
		defer close(b.done)
		over := false
		for ctx.Err() == nil {
			if age, err := s.backlogAge(ctx); err == nil {
				b.worst = max(b.worst, age)
				if age >= time.Second {
					over = true
				} else if over {
					over = false
					b.recovered = time.Since(b.start)
				}
			}
			time.Sleep(100 * time.Millisecond)
		}
	}()
	return b
}

// recovered waits from since until the backlog is younger than a second, and returns how long
// that took.
func (s *scaledStack) recovered(since time.Time, within time.Duration) time.Duration {
	s.t.Helper()
	for time.Since(since) < within {
		if age, err := s.backlogAge(s.t.Context()); err == nil && age < time.Second {
			return time.Since(since)
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.t.Fatalf("the backlog did not drain within %s of the fault", within)
	return 0
}

// settle waits until every accepted message is in a conversation and checks each is there
// once, in order.
func (d *desk) settle(t *testing.T, st *loadStats) {
	require.Zero(t, st.other.Load(), "answers other than 202 and 503: %v", st.otherExamples)
	d.s.waitFor("every accepted message in its conversation", 2*time.Minute, func() bool {
		return d.s.queryInt(`SELECT count(*) FROM messages WHERE direction = 'in' AND conversation_number IS NOT NULL`) >= st.sent.Load()
	})
	d.checkInboundOnce(t, int(st.sent.Load()))
}

// startLoad runs S1 (runLoad: ten integrators, 50 messages a second, a new chat every ten) on d
// for the given time; the channel gives its stats when it is over.
func startLoad(t *testing.T, d *desk, lasting, giveUp time.Duration) <-chan *loadStats {
	ctx, stop := context.WithTimeout(t.Context(), lasting)
	done := make(chan *loadStats, 1)
	go func() {
		defer stop()
		done <- runLoad(ctx, d, 10, 50, 10, giveUp)
	}()
	return done
}

// TestFaultWorkerKilledMidLoad: S1 at 50 messages a second from ten integrators, a new chat
// every ten messages, a fifth of them sent twice with the same key; one of two workers is killed
// with SIGKILL mid-load, the other carries on alone for 15 s, then the killed one is back.
// Nothing is lost or doubled, each chat's messages are in the one conversation its first opened,
// and the backlog drains.
func TestFaultWorkerKilledMidLoad(t *testing.T) {
	s := newScaledStack(t, storetest.NewDatabase(t), 2, 2)
	d := newDesk(t, s, 0, 0)
	done := startLoad(t, d, 35*time.Second, time.Minute)

	time.Sleep(10 * time.Second)
	watch, stopWatch := context.WithCancel(t.Context())
	backlog := s.sampleBacklog(watch)
	s.kill(s.workers[0])
	// The other worker carries on alone for 15 s; then the killed one comes back.
	time.Sleep(15 * time.Second)
	s.restart(s.workers[0])
	st := <-done
	stopWatch()
	<-backlog.done
	d.settle(t, st)
	require.Positive(t, st.resent.Load(), "integrators' repeats were answered as accepted")
	recovery := "never over 1 s"
	if backlog.recovered > 0 {
		recovery = fmt.Sprintf("back under 1 s %.1f s after the kill", backlog.recovered.Seconds())
	}
	t.Logf("FIGURE: worker kill -9 at 50 msg/s (the other worker alone for 15 s, then the killed one back): %d messages accepted, %d of them sent twice with the same key; 0 lost, 0 duplicated, each chat in the one conversation its first message opened; backlog at most %.1f s, %s; slowest accept %d ms",
		st.sent.Load(), st.resent.Load(), backlog.worst.Seconds(), recovery, st.slowest.Load())
}

// TestFaultTemporalRestart: the Temporal server stops mid-load for ten seconds (its stop takes
// a few more). The apis go on
// accepting (the hand-off outbox is in PostgreSQL) and every accepted message reaches its
// conversation once Temporal is back.
func TestFaultTemporalRestart(t *testing.T) {
	s := newScaledStack(t, storetest.NewDatabase(t), 2, 2)
	d := newDesk(t, s, 0, 0)
	done := startLoad(t, d, 35*time.Second, time.Minute)

	time.Sleep(10 * time.Second)
	require.NoError(t, s.temporal.Stop())
	s.temporal = nil
	down := time.Now()
	sentBefore := d.s.queryInt(`SELECT count(*) FROM messages WHERE direction = 'in'`)
	time.Sleep(10 * time.Second)
	acceptedWhileDown := d.s.queryInt(`SELECT count(*) FROM messages WHERE direction = 'in'`) - sentBefore
	s.startTemporal()
	back := time.Now()
	recovery := s.recovered(back, 2*time.Minute)
	st := <-done
	d.settle(t, st)
	require.Positive(t, acceptedWhileDown, "messages were accepted while Temporal was down")
	t.Logf("FIGURE: Temporal server down %.0f s at 50 msg/s: %d messages accepted (%d while it was down), 0 lost, 0 duplicated, each chat in the one conversation its first message opened; backlog under 1 s %.1f s after it was back; slowest accept %d ms",
		back.Sub(down).Seconds(), st.sent.Load(), acceptedWhileDown, recovery.Seconds(), st.slowest.Load())
}

// TestFaultPostgresOutage: linedesk's PostgreSQL crashes (immediate shutdown) mid-load and
// stays away 15 seconds. The apis answer 503 with Retry-After meanwhile, no linedesk process
// restarts, and after it every message is there once, in order.
func TestFaultPostgresOutage(t *testing.T) {
	pg := startPrivatePostgres(t)
	s := newScaledStackOn(t, pg.url("linedesk"), storetest.NewDatabase(t), 2, 2)
	d := newDesk(t, s, 0, 0)
	done := startLoad(t, d, 40*time.Second, 2*time.Minute)

	time.Sleep(10 * time.Second)
	pg.stop(t, "immediate")
	down := time.Now()
	// A console keeps asking meanwhile: a clear 503, never a 500.
	var consoleCodes []int
	for time.Since(down) < 15*time.Second {
		code, _ := call(d.admins[0], "GET", s.url(0)+"/api/v1/conversations", nil, nil)
		consoleCodes = append(consoleCodes, code)
		time.Sleep(time.Second)
	}
	pg.start(t)
	back := time.Now()
	recovery := s.recovered(back, 2*time.Minute)
	st := <-done
	for _, p := range append(append([]*proc{}, s.workers...), s.apis...) {
		select {
		case err := <-p.done:
			t.Fatalf("%s exited during the outage: %v", p.name, err)
		default:
		}
	}
	d.settle(t, st)
	require.Positive(t, st.unavailable.Load(), "the apis answered 503 during the outage")
	require.Zero(t, st.noRetryAfter.Load(), "a 503 without Retry-After")
	require.Zero(t, st.transport.Load(), "an api that stayed up must answer (503), not hang or drop the connection")
	for _, code := range consoleCodes {
		require.Contains(t, []int{http.StatusOK, http.StatusServiceUnavailable}, code, "the console's list during the outage: %v", consoleCodes)
	}
	t.Logf("FIGURE: PostgreSQL down %.0f s at 50 msg/s: %d messages accepted; every write meanwhile answered 503 with Retry-After (%d answers), 0 connection errors or hangs, the console's list %v; 0 lost, 0 duplicated, each chat in the one conversation its first message opened, no process restarted; backlog under 1 s %.1f s after it was back; slowest accept %d ms",
		back.Sub(down).Seconds(), st.sent.Load(), st.unavailable.Load(), consoleCodes, recovery.Seconds(), st.slowest.Load())
}

// TestFaultTimersAcrossRestart: an auto-close and an SLA breach fall due while every worker is
// down; once a worker is back both fire within 2 seconds.
func TestFaultTimersAcrossRestart(t *testing.T) {
	s := newScaledStack(t, storetest.NewDatabase(t), 1, 1)
	d := newDesk(t, s, 0, 0)
	admin, base := d.admins[0], s.url(0)
	status, reg := postJSON(t, admin, base+"/api/v1/regulations", map[string]any{"name": "Fast", "first_response_minutes": 1,
		"next_response_minutes": 60, "resolution_minutes": 600, "warn_before_minutes": 0}, nil)
	require.Equal(t, http.StatusCreated, status, "%v", reg)
	code, text := call(admin, "PATCH", fmt.Sprintf("%s/api/v1/lines/%d", base, d.lineID),
		map[string]any{"auto_close_minutes": 1, "regulation_id": reg["id"]}, nil)
	require.Equal(t, http.StatusOK, code, text)

	// One conversation waits in the queue (its first response falls due in a minute), the other
	// is answered (its auto-close falls due a minute after the answer).
	waiting := d.open(t, "client-sla")
	answered := d.open(t, "client-close")
	path := fmt.Sprintf("%s/api/v1/conversations/%d", base, answered)
	code, text = call(admin, "POST", path+"/take", map[string]any{}, nil)
	require.Equal(t, http.StatusOK, code, text)
	code, text = call(admin, "POST", path+"/messages", map[string]string{"text": "Done, anything else?"}, nil)
	require.Equal(t, http.StatusCreated, code, text)
	answeredAt := time.Now()

	s.kill(s.workers[0])
	time.Sleep(time.Until(answeredAt.Add(75 * time.Second)))
	require.Zero(t, s.queryInt(`SELECT count(*) FROM conversation_events WHERE kind IN ('auto_closed', 'sla_breached')`),
		"nothing fires without a worker")
	// Measured from the moment the worker process starts again (its start-up included).
	ready := time.Now()
	s.restart(s.workers[0])
	up := time.Since(ready)
	var breach, closing time.Duration
	s.waitFor("both timers fired", 30*time.Second, func() bool {
		if breach == 0 && s.queryInt(`SELECT count(*) FROM conversation_events WHERE number = $1 AND kind = 'sla_breached'`, waiting) > 0 {
			breach = time.Since(ready)
		}
		if closing == 0 && s.queryInt(`SELECT count(*) FROM conversation_events WHERE number = $1 AND kind = 'auto_closed'`, answered) > 0 {
			closing = time.Since(ready)
		}
		return breach > 0 && closing > 0
	})
	require.Equal(t, int64(1), s.queryInt(`SELECT count(*) FROM conversations WHERE number = $1 AND status = 'closed'`, answered))
	// Each fired once: still one of each 3 s later (read here, not in require.Never's goroutine,
	// which may still be querying when the test's context ends).
	for end := time.Now().Add(3 * time.Second); time.Now().Before(end); time.Sleep(200 * time.Millisecond) {
		require.Equal(t, int64(2), s.queryInt(`SELECT count(*) FROM conversation_events
			WHERE (number = $1 AND kind = 'sla_breached') OR (number = $2 AND kind = 'auto_closed')`, waiting, answered))
	}
	require.LessOrEqual(t, breach, 2*time.Second, "the SLA breach fired %s after the worker was back", breach)
	require.LessOrEqual(t, closing, 2*time.Second, "the auto-close fired %s after the worker was back", closing)
	t.Logf("FIGURE: timers due while the only worker was down (killed, started again after 75 s, ready in %d ms): SLA breach projected %d ms and auto-close %d ms after the worker process started",
		up.Milliseconds(), breach.Milliseconds(), closing.Milliseconds())
}

// open writes a client's first message and returns the conversation it opened.
func (d *desk) open(t *testing.T, contact string) int64 {
	t.Helper()
	code, text := d.write(0, contact, contact+"-1", "hello")
	require.Equal(t, http.StatusAccepted, code, text)
	var n int64
	d.s.waitFor("the conversation opened", 30*time.Second, func() bool {
		err := d.s.db.QueryRow(t.Context(), `SELECT coalesce(max(m.conversation_number), 0) FROM messages m
			JOIN inbound_keys k ON k.message_id = m.id WHERE k.channel_id = $1 AND k.key = $2`, d.channelID, contact+"-1").Scan(&n)
		return err == nil && n > 0
	})
	return n
}

// privatePostgres is a PostgreSQL cluster of the test's own, on a Unix socket, that the test
// can crash and start again.
type privatePostgres struct {
	bin, data string
	runAs     *syscall.Credential
}

func startPrivatePostgres(t *testing.T) *privatePostgres {
	t.Helper()
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pg_ctl")
	sort.Strings(bins)
	bin := ""
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		bin = filepath.Dir(p)
	} else if len(bins) > 0 {
		bin = filepath.Dir(bins[len(bins)-1])
	}
	require.NotEmpty(t, bin, "the fault suite needs the PostgreSQL server binaries (initdb, pg_ctl)")
	dir, err := os.MkdirTemp("", "linedesk-faults-pg-")
	require.NoError(t, err)
	require.NoError(t, os.Chmod(dir, 0o755))
	p := &privatePostgres{bin: bin, data: filepath.Join(dir, "data")}
	require.NoError(t, os.Mkdir(p.data, 0o700))
	if os.Geteuid() == 0 { // PostgreSQL refuses to run as root
		u, err := user.Lookup("postgres")
		require.NoError(t, err)
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		p.runAs = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		require.NoError(t, os.Chown(p.data, uid, gid))
	}
	out, err := p.command("initdb", "-D", p.data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C").CombinedOutput()
	require.NoError(t, err, "initdb: %s", out)
	p.start(t)
	t.Cleanup(func() {
		_ = p.command("pg_ctl", "-D", p.data, "-m", "immediate", "-w", "stop").Run()
		_ = os.RemoveAll(dir)
	})
	require.NoError(t, localpg.EnsureDatabase(t.Context(), p.url("linedesk")))
	return p
}

func (p *privatePostgres) command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(p.bin, name), args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: p.runAs}
	cmd.Dir = os.TempDir()
	return cmd
}

// url reaches the cluster through its Unix socket in the data dir: no TCP port another process
// could take while it is down.
func (p *privatePostgres) url(db string) string {
	return fmt.Sprintf("postgres://postgres@/%s?host=%s&port=5432&sslmode=disable", db, p.data)
}

func (p *privatePostgres) start(t *testing.T) {
	t.Helper()
	out, err := p.command("pg_ctl", "-D", p.data, "-l", filepath.Join(p.data, "server.log"),
		"-o", fmt.Sprintf("-p 5432 -h '' -k %s -c fsync=on", p.data), "-w", "-t", "60", "start").CombinedOutput()
	require.NoError(t, err, "pg_ctl start: %s", out)
}

// stop shuts the cluster down: "immediate" is a crash (no checkpoint; recovery on start).
func (p *privatePostgres) stop(t *testing.T, mode string) {
	t.Helper()
	out, err := p.command("pg_ctl", "-D", p.data, "-m", mode, "-w", "-t", "60", "stop").CombinedOutput()
	require.NoError(t, err, "pg_ctl stop: %s", out)
}
