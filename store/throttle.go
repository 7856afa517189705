package store

import (
	"context"
	"time"
)

// LoginLimit is how many failed sign-ins a key may have within Window before it is blocked for
// Block.
type LoginLimit struct {
	Failures int
	Window   time.Duration
	Block    time.Duration
}

// LoginBlockedFor returns how long sign-in stays blocked for the most blocked of keys (0: not
// blocked).
func (s *Store) LoginBlockedFor(ctx context.Context, keys []string) (time.Duration, error) {
	var left *float64
	err := s.pool.QueryRow(ctx, `SELECT extract(epoch FROM max(blocked_until) - now())::float8 FROM login_failures
		WHERE key = ANY($1) AND blocked_until > now()`, keys).Scan(&left)
	if err != nil || left == nil {
		return 0, translate(err, "login blocked")
	}
	return time.Duration(*left * float64(time.Second)), nil
}

// RecordLoginFailure counts a failed sign-in against key and blocks the key once it reaches the
// limit within the window.
func (s *Store) RecordLoginFailure(ctx context.Context, key string, l LoginLimit) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO login_failures AS f (key, failures, window_start) VALUES ($1, 1, now())
		ON CONFLICT (key) DO UPDATE SET
			failures = CASE WHEN f.window_start < now() - $2::interval THEN 1 ELSE f.failures + 1 END,
			window_start = CASE WHEN f.window_start < now() - $2::interval THEN now() ELSE f.window_start END,
			blocked_until = CASE WHEN f.window_start >= now() - $2::interval AND f.failures + 1 >= $3
				THEN now() + $4::interval ELSE f.blocked_until END`,
		key, l.Window, l.Failures, l.Block)
	return translate(err, "record login failure")
}

// ClearLoginFailures forgets the failures of key (after a successful sign-in).
func (s *Store) ClearLoginFailures(ctx context.Context, key string) error {
	_, err := s.pool.Exec(ctx, `DELETE FROM login_failures WHERE key = $1`, key)
	return translate(err, "clear login failures")
}
