package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// MemoryPoint is S5 at one number of open idle conversations opened by the bench.
type MemoryPoint struct {
	Conversations int `json:"conversations"`
	// RSS and Go heap in use of the linedesk dev process, in KB, before the first conversation
	// of S5 and at this point.
	RSSBeforeKB       int64   `json:"rss_before_kb"`
	RSSAfterKB        int64   `json:"rss_after_kb"`
	RSSPerConvKB      float64 `json:"rss_kb_per_conversation"`
	HeapBeforeKB      int64   `json:"heap_inuse_before_kb"`
	HeapAfterKB       int64   `json:"heap_inuse_after_kb"`
	HeapPerConvKB     float64 `json:"heap_kb_per_conversation"`
	PostgresBeforeKB  int64   `json:"postgres_anon_before_kb,omitempty"`
	PostgresAfterKB   int64   `json:"postgres_anon_after_kb,omitempty"`
	PostgresPerConvKB float64 `json:"postgres_kb_per_conversation,omitempty"`
	OpenSeconds       float64 `json:"open_seconds"`
}

type memorySample struct{ rss, heap, pg int64 }

// runS5 opens idle conversations up to each size in turn and reads the dev process's resident
// memory after a settle, as a slope per conversation from the same starting point.
func (b *bench) runS5(ctx context.Context) error {
	if !b.st.managed() {
		b.rep.Notes = append(b.rep.Notes, "S5 skipped: it reads the memory of a linedesk dev this tool started (not of -target)")
		return nil
	}
	ch, err := b.channel(ctx, "S5")
	if err != nil {
		return err
	}
	before, err := b.sampleMemory(ctx)
	if err != nil {
		return err
	}
	opened := 0
	for _, size := range b.o.MemorySizes {
		b.progress("S5: opening idle conversations up to %d", size)
		t0 := time.Now()
		n := size - opened
		from := opened
		sent := forEach(ctx, 8, n, 30*time.Minute, func(ctx context.Context, k int) error {
			ext := fmt.Sprintf("%s-s5-%d", b.run, from+k)
			_, err := b.api.inbound(ctx, ch, ext, ext, "hello")
			return err
		})
		if sent.OK < n {
			return fmt.Errorf("opening conversations: %d of %d accepted, first error: %s", sent.OK, n, sent.FirstErr)
		}
		opened = size
		if err := b.waitConversations(ctx, ch.ID, size, 10*time.Minute); err != nil {
			return err
		}
		took := time.Since(t0)
		after, err := b.sampleMemory(ctx)
		if err != nil {
			return err
		}
		per := func(a, b int64) float64 { return float64(a-b) / float64(size) }
		p := MemoryPoint{Conversations: size, RSSBeforeKB: before.rss, RSSAfterKB: after.rss, RSSPerConvKB: per(after.rss, before.rss),
			HeapBeforeKB: before.heap, HeapAfterKB: after.heap, HeapPerConvKB: per(after.heap, before.heap), OpenSeconds: took.Seconds()}
		if before.pg > 0 && after.pg > 0 {
			p.PostgresBeforeKB, p.PostgresAfterKB, p.PostgresPerConvKB = before.pg, after.pg, per(after.pg, before.pg)
		}
		b.rep.S5 = append(b.rep.S5, p)
	}
	return nil
}

// waitConversations waits until the channel has want conversations that are not closed.
func (b *bench) waitConversations(ctx context.Context, channelID int64, want int, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		var n int
		if err := b.st.pool.QueryRow(ctx, `SELECT count(*) FROM conversations WHERE channel_id = $1 AND status <> 'closed'`, channelID).Scan(&n); err != nil {
			return err
		}
		if n >= want {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("only %d of %d conversations open after %s", n, want, limit)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// sampleMemory lets the process settle, forces a garbage collection through its pprof endpoint
// and reads VmRSS, the Go heap in use (/metrics) and the anonymous memory of PostgreSQL's
// processes (a shared server: other databases' work shows in it too).
func (b *bench) sampleMemory(ctx context.Context) (memorySample, error) {
	var s memorySample
	select {
	case <-ctx.Done():
		return s, ctx.Err()
	case <-time.After(b.o.MemorySettle):
	}
	for range 2 {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+b.st.pprofAddr+"/debug/pprof/heap?gc=1", nil)
		if res, err := http.DefaultClient.Do(req); err == nil {
			res.Body.Close()
		}
	}
	var err error
	if s.rss, err = procStatusKB(b.st.pid, "VmRSS"); err != nil {
		return s, err
	}
	if heap, err := b.api.metric(ctx, "go_memstats_heap_inuse_bytes"); err == nil {
		s.heap = int64(heap / 1024)
	}
	s.pg = postgresAnonKB()
	return s, nil
}

// procStatusKB reads one "kB" field of /proc/<pid>/status.
func procStatusKB(pid int, field string) (int64, error) {
	f, err := os.Open(filepath.Join("/proc", strconv.Itoa(pid), "status"))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			return strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
		}
	}
	return 0, errors.New("no " + field + " in /proc/" + strconv.Itoa(pid) + "/status")
}

// postgresAnonKB sums RssAnon of every process named postgres (0 when none can be read).
func postgresAnonKB() int64 {
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	var total int64
	for _, d := range dirs {
		comm, err := os.ReadFile(filepath.Join(d, "comm"))
		if err != nil || strings.TrimSpace(string(comm)) != "postgres" {
			continue
		}
		pid, _ := strconv.Atoi(filepath.Base(d))
		if kb, err := procStatusKB(pid, "RssAnon"); err == nil {
			total += kb
		}
	}
	return total
}
