// Package store is linedesk's PostgreSQL layer: the connection pool, the embedded migrations and
// every query of the read model and the configuration tables. No other package writes SQL.
package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Domain errors the store returns; callers map them to HTTP statuses.
var (
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("already exists")
	ErrInvalid  = errors.New("violates a constraint")
)

// Store holds the pool every query runs on.
type Store struct {
	pool *pgxpool.Pool
}

// New wraps an open pool.
func New(pool *pgxpool.Pool) *Store { return &Store{pool: pool} }

// Pool returns the underlying pool (for health checks and tests).
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Open connects to databaseURL and checks the connection.
func Open(ctx context.Context, databaseURL string) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(databaseURL)
	if err != nil {
		return nil, fmt.Errorf("parse database url: %w", err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open database pool: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("ping database: %w", err)
	}
	return pool, nil
}

// Ping reports whether PostgreSQL answers.
func (s *Store) Ping(ctx context.Context) error { return s.pool.Ping(ctx) }

// translate turns driver errors into the store's domain errors; it is the only place that
// inspects PostgreSQL error codes.
func translate(err error, what string) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("%s: %w", what, ErrNotFound)
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "23505": // unique_violation
			return fmt.Errorf("%s: %w", what, ErrConflict)
		case "23503", "23514", "23502", "22P02": // foreign key, check, not null, invalid text
			return fmt.Errorf("%s: %w: %s", what, ErrInvalid, pgErr.ConstraintName)
		case "22021", "22P05", "22001", "54000": // bad character, untranslatable, too long, too large
			return fmt.Errorf("%s: %w: %s", what, ErrInvalid, pgErr.Message)
		}
	}
	return fmt.Errorf("%s: %w", what, err)
}

func isNotFound(err error) bool { return errors.Is(err, ErrNotFound) }

// rowScanner is a row or rows: what the scan functions read from.
type rowScanner interface{ Scan(...any) error }

// queryAll runs a query and scans every row with scan. The result is never nil, so lists
// render as [] rather than null.
func queryAll[T any](ctx context.Context, s *Store, what, sql string, scan func(rowScanner) (T, error), args ...any) ([]T, error) {
	rows, err := s.pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, translate(err, what)
	}
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, translate(err, what)
		}
		out = append(out, v)
	}
	return out, translate(rows.Err(), what)
}
