package store

import (
	"context"
	"errors"
)

// ChannelCursor returns where a pulling channel has got to ("" before its first update).
func (s *Store) ChannelCursor(ctx context.Context, channelID int64) (string, error) {
	var c string
	err := translate(s.pool.QueryRow(ctx, `SELECT cursor FROM channel_cursors WHERE channel_id = $1`, channelID).Scan(&c), "channel cursor")
	if errors.Is(err, ErrNotFound) {
		return "", nil
	}
	return c, err
}

// SetChannelCursor records where a pulling channel has got to.
func (s *Store) SetChannelCursor(ctx context.Context, channelID int64, cursor string) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO channel_cursors (channel_id, cursor) VALUES ($1, $2)
		ON CONFLICT (channel_id) DO UPDATE SET cursor = excluded.cursor, updated_at = now()`, channelID, cursor)
	return translate(err, "set channel cursor")
}

// pullLockSpace is the first key of the advisory locks that make one process the puller of a
// channel.
const pullLockSpace = 0x6c64_7075 // "ldpu"

// HoldChannelPuller makes this process the one pulling a channel's updates while it holds the
// returned lock (a PostgreSQL session advisory lock on a connection of its own, so a process that
// dies lets go at once). ok is false when another process holds it.
func (s *Store) HoldChannelPuller(ctx context.Context, channelID int64) (release func(), ok bool, err error) {
	conn, err := s.root.Acquire(ctx)
	if err != nil {
		return nil, false, translate(err, "hold channel puller")
	}
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1, $2)`, int32(pullLockSpace), int32(channelID)).Scan(&ok); err != nil || !ok {
		conn.Release()
		return nil, false, translate(err, "hold channel puller")
	}
	return func() {
		_, _ = conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1, $2)`, int32(pullLockSpace), int32(channelID))
		conn.Release()
	}, true, nil
}
