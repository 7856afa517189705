package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// DevOwner is the `linedesk dev` instance a database belongs to: the id it shares with its
// Temporal store, and that store described for people.
type DevOwner struct {
	InstanceID    string
	TemporalStore string
	PairedAt      time.Time
}

// DevOwner returns the instance this database is paired with, or ErrNotFound when it is not.
func (s *Store) DevOwner(ctx context.Context) (DevOwner, error) {
	var o DevOwner
	err := s.pool.QueryRow(ctx, `SELECT instance_id, temporal_store, paired_at FROM dev_owner`).
		Scan(&o.InstanceID, &o.TemporalStore, &o.PairedAt)
	return o, translate(err, "dev owner")
}

// PairDevOwner records o as the database's owner unless one is recorded already, and returns
// the owner the database holds afterwards: o, or the one a racing dev recorded first.
func (s *Store) PairDevOwner(ctx context.Context, o DevOwner) (DevOwner, error) {
	_, err := s.pool.Exec(ctx, `INSERT INTO dev_owner (instance_id, temporal_store) VALUES ($1, $2)
		ON CONFLICT (singleton) DO NOTHING`, o.InstanceID, o.TemporalStore)
	if err != nil {
		return DevOwner{}, translate(err, "pair dev owner")
	}
	return s.DevOwner(ctx)
}

// HoldsConversations reports whether any chat or conversation exists: data whose workflows
// live in some Temporal store.
func (s *Store) HoldsConversations(ctx context.Context) (bool, error) {
	var holds bool
	err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM chats) OR EXISTS (SELECT 1 FROM conversations)`).Scan(&holds)
	return holds, translate(err, "look for conversations")
}

// Wipe deletes everything linedesk keeps in the database at databaseURL (its public schema with
// every table, sequence and the migration version) and leaves an empty schema for Migrate.
// `linedesk dev --reset` uses it; the database itself stays, so no CREATEDB right is needed.
func Wipe(ctx context.Context, databaseURL string) error {
	conn, err := pgx.Connect(ctx, databaseURL)
	if err != nil {
		return fmt.Errorf("connect to wipe: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, `DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public`); err != nil {
		return fmt.Errorf("wipe database: %w", err)
	}
	return nil
}
