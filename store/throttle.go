package store

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
)

// LoginLimit is how many sign-in attempts a key may fail within Window before it is blocked for
// Block.
type LoginLimit struct {
	Failures int
	Window   time.Duration
	Block    time.Duration
}

// LoginAttempt counts a sign-in attempt against key before its password is checked, and
// answers how long the key stays blocked (0: go ahead). Counting first, under the row's lock,
// means a burst of parallel guesses cannot all pass the check before any failure is recorded;
// a successful sign-in takes its attempt back (LoginSucceeded).
func (s *Store) LoginAttempt(ctx context.Context, key string, l LoginLimit) (time.Duration, error) {
	var blocked time.Duration
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var failures int
		var windowStart time.Time
		var blockedUntil *time.Time
		var now time.Time
		err := tx.QueryRow(ctx, `SELECT failures, window_start, blocked_until, now() FROM login_failures WHERE key = $1 FOR UPDATE`, key).
			Scan(&failures, &windowStart, &blockedUntil, &now)
		if errors.Is(err, pgx.ErrNoRows) {
			_, err = tx.Exec(ctx, `INSERT INTO login_failures (key, failures, window_start) VALUES ($1, 1, now())
				ON CONFLICT (key) DO UPDATE SET failures = login_failures.failures + 1`, key)
			return err
		}
		if err != nil {
			return err
		}
		if blockedUntil != nil && blockedUntil.After(now) {
			blocked = blockedUntil.Sub(now)
			return nil
		}
		if now.Sub(windowStart) > l.Window {
			failures, windowStart = 0, now
		}
		failures++
		blockedUntil = nil
		if failures > l.Failures {
			until := now.Add(l.Block)
			blockedUntil, blocked = &until, l.Block
		}
		_, err = tx.Exec(ctx, `UPDATE login_failures SET failures = $2, window_start = $3, blocked_until = $4 WHERE key = $1`,
			key, failures, windowStart, blockedUntil)
		return err
	})
	return blocked, translate(err, "login attempt")
}

// LoginSucceeded forgets an account's failures after a good sign-in and takes the attempt back
// from the other keys it was counted against (the client address).
func (s *Store) LoginSucceeded(ctx context.Context, account string, others ...string) error {
	_, err := s.pool.Exec(ctx, `DELETE FROM login_failures WHERE key = $1`, account)
	if err == nil && len(others) > 0 {
		_, err = s.pool.Exec(ctx, `UPDATE login_failures SET failures = greatest(failures - 1, 0) WHERE key = ANY($1)`, others)
	}
	return translate(err, "login succeeded")
}

// PruneLoginFailures deletes counts whose window and block are over.
func (s *Store) PruneLoginFailures(ctx context.Context, window time.Duration) error {
	_, err := s.pool.Exec(ctx, `DELETE FROM login_failures WHERE window_start < now() - $1::interval
		AND (blocked_until IS NULL OR blocked_until < now())`, window)
	return translate(err, "prune login failures")
}
