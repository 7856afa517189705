package main

import (
	"context"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// visibility watches PostgreSQL for accepted messages to join their conversation
// (messages.conversation_number set): one query for all pending ids every few milliseconds,
// never one per message. Each message's latency counts from the time given with it (for the
// open loop, the time it was meant to be sent).
type visibility struct {
	pool  *pgxpool.Pool
	every time.Duration

	mu      sync.Mutex
	pending map[string]watched
}

type watched struct {
	from time.Time
	rec  *recorder
}

// maxPolled bounds one query; ids beyond it wait for a later poll.
const maxPolled = 4000

func newVisibility(pool *pgxpool.Pool) *visibility {
	return &visibility{pool: pool, every: 3 * time.Millisecond, pending: map[string]watched{}}
}

func (v *visibility) add(messageID string, from time.Time, rec *recorder) {
	v.mu.Lock()
	v.pending[messageID] = watched{from: from, rec: rec}
	v.mu.Unlock()
}

// run polls until ctx ends.
func (v *visibility) run(ctx context.Context) {
	t := time.NewTicker(v.every)
	defer t.Stop()
	ids := make([]string, 0, maxPolled)
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		ids = ids[:0]
		v.mu.Lock()
		for id := range v.pending {
			if len(ids) == maxPolled {
				break
			}
			ids = append(ids, id)
		}
		v.mu.Unlock()
		if len(ids) == 0 {
			continue
		}
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
	return n
}
