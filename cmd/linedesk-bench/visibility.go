package main

import (
	"context"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// visibility watches PostgreSQL for accepted messages to join their conversation
// (messages.conversation_number set): one query for the oldest pending ids every few
// milliseconds, never one per message. Each message's latency counts from the time given with it
// (for the open loop, the time it was meant to be sent).
//
// The poller shares the machine with the system it measures, so it keeps its own PostgreSQL work
// to about a tenth of the time: after a query that took d it waits at least 9d. With a small
// backlog that is the 3 ms tick; when thousands of messages wait (S2's flood of new contacts) a
// poll of 4,000 ids takes milliseconds and the poller backs off instead of keeping a PostgreSQL
// backend busy and slowing the engine it measures. The error this adds to a latency is at most
// the wait, which is small against the latencies of such a backlog.
type visibility struct {
	pool  *pgxpool.Pool
	every time.Duration

	mu      sync.Mutex
	pending map[string]watched
	// order holds the pending ids oldest first (and ids already seen, dropped lazily).
	order []string
}

type watched struct {
	from time.Time
	rec  *recorder
}

// maxPolled bounds one query; ids beyond it wait for a later poll.
const maxPolled = 4000

// pollDuty is the share of time the poller may spend waiting for its query.
const pollDuty = 10

func newVisibility(pool *pgxpool.Pool) *visibility {
	return &visibility{pool: pool, every: 3 * time.Millisecond, pending: map[string]watched{}}
}

func (v *visibility) add(messageID string, from time.Time, rec *recorder) {
	v.mu.Lock()
	v.pending[messageID] = watched{from: from, rec: rec}
	v.order = append(v.order, messageID)
	v.mu.Unlock()
}

// oldest fills ids with up to maxPolled pending ids, oldest first, and drops seen ones from order.
func (v *visibility) oldest(ids []string) []string {
	v.mu.Lock()
	defer v.mu.Unlock()
	kept := v.order[:0]
	for _, id := range v.order {
		if _, ok := v.pending[id]; !ok {
			continue
		}
		kept = append(kept, id)
		if len(ids) < maxPolled {
			ids = append(ids, id)
		}
	}
	clear(v.order[len(kept):])
	v.order = kept
	return ids
}

// run polls until ctx ends.
func (v *visibility) run(ctx context.Context) {
	ids := make([]string, 0, maxPolled)
	wait := v.every
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = v.every
		ids = v.oldest(ids[:0])
		if len(ids) == 0 {
			continue
		}
		t0 := time.Now()
		rows, err := v.pool.Query(ctx, `SELECT id::text FROM messages WHERE id = ANY($1::uuid[]) AND conversation_number IS NOT NULL`, ids)
		if err != nil {
			continue // the next poll tries again; a message never seen counts as not visible
		}
		now := time.Now()
		var found []string
		for rows.Next() {
			var id string
			if rows.Scan(&id) == nil {
				found = append(found, id)
			}
		}
		rows.Close()
		wait = max(v.every, (pollDuty-1)*time.Since(t0))
		v.mu.Lock()
		for _, id := range found {
			if w, ok := v.pending[id]; ok {
				w.rec.add(now.Sub(w.from), nil)
				delete(v.pending, id)
			}
		}
		v.mu.Unlock()
	}
}

// drain waits until no message is pending, at most timeout; it forgets and returns the
// messages still not visible by then.
func (v *visibility) drain(ctx context.Context, timeout time.Duration) int {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		v.mu.Lock()
		n := len(v.pending)
		v.mu.Unlock()
		if n == 0 {
			return 0
		}
		time.Sleep(10 * time.Millisecond)
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	n := len(v.pending)
	clear(v.pending)
	v.order = nil
	return n
}
