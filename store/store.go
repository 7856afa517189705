// Package store is linedesk's PostgreSQL layer: the connection pool, the embedded migrations and
// every query of the read model and the configuration tables. No other package writes SQL.
package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync/atomic"
	"syscall"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/linedesk/linedesk/blobstore"
	"github.com/linedesk/linedesk/secretbox"
)

// Domain errors the store returns; callers map them to HTTP statuses.
var (
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("already exists")
	ErrInvalid  = errors.New("violates a constraint")
	// ErrUnavailable: PostgreSQL could not be reached or refused service for now; retry later.
	ErrUnavailable = errors.New("database unavailable")
)

// Store holds what every query runs on: the pool, or a transaction when the Store is bound to
// one by InTx.
type Store struct {
	pool db
	root *pgxpool.Pool
	// box seals the secrets kept in the database (channel credentials and secrets, webhook
	// secrets).
	box *secretbox.Box
	// blobs keeps attachments' bytes.
	blobs blobstore.Store
}

// db is what queries run on: a *pgxpool.Pool or a pgx.Tx. Begin on a pgx.Tx opens a savepoint,
// so the store's own transactions nest inside InTx.
type db interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
	Begin(ctx context.Context) (pgx.Tx, error)
}

// New wraps an open pool. Its secrets key lives as long as the process (tests and tools);
// the commands give the configured one with WithSecrets.
func New(pool *pgxpool.Pool) *Store {
	return &Store{pool: pool, root: pool, box: secretbox.Ephemeral()}
}

// WithSecrets returns the store sealing and opening secrets with box.
func (s *Store) WithSecrets(box *secretbox.Box) *Store {
	c := *s
	c.box = box
	return &c
}

// Pool returns the underlying pool (for health checks and tests).
func (s *Store) Pool() *pgxpool.Pool { return s.root }

// InTx runs fn with a Store bound to one transaction, committed when fn returns nil and rolled
// back otherwise. Called on a Store that is already in a transaction, it runs fn in a savepoint,
// so a helper that needs a transaction works the same inside a larger one.
func (s *Store) InTx(ctx context.Context, fn func(tx *Store) error) error {
	var fnErr error
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		fnErr = fn(&Store{pool: tx, root: s.root, box: s.box, blobs: s.blobs})
		return fnErr
	})
	if err != nil && fnErr != nil {
		return fnErr // already the store's or the caller's error
	}
	return translate(err, "transaction")
}

// Open connects to databaseURL and checks the connection.
func Open(ctx context.Context, databaseURL string) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(databaseURL)
	if err != nil {
		return nil, fmt.Errorf("parse database url: %w", err)
	}
	if cfg.ConnConfig.Tracer == nil {
		cfg.ConnConfig.Tracer = statementCounter{}
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

// statementsSent counts the SQL statements every pool Open made in this process has sent,
// including BEGIN and COMMIT, each statement of a batch and each COPY.
var statementsSent atomic.Uint64

// StatementsSent returns how many SQL statements this process has sent (linedesk exposes it on
// /metrics as linedesk_sql_statements_total, so a load test can count statements per request).
func StatementsSent() uint64 { return statementsSent.Load() }

// statementCounter is a pgx tracer that only counts.
type statementCounter struct{}

func (statementCounter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	statementsSent.Add(1)
	return ctx
}
func (statementCounter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}
func (statementCounter) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	return ctx
}
func (statementCounter) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {
	statementsSent.Add(1)
}
func (statementCounter) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}
func (statementCounter) TraceCopyFromStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceCopyFromStartData) context.Context {
	statementsSent.Add(1)
	return ctx
}
func (statementCounter) TraceCopyFromEnd(context.Context, *pgx.Conn, pgx.TraceCopyFromEndData) {}

// Ping reports whether PostgreSQL answers.
func (s *Store) Ping(ctx context.Context) error { return s.root.Ping(ctx) }

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
		case "57P01", "57P02", "57P03", "53300": // shutting down, crash shutdown, cannot connect now, too many connections
			return fmt.Errorf("%s: %w: %w", what, ErrUnavailable, err)
		}
		if strings.HasPrefix(pgErr.Code, "08") { // connection exception
			return fmt.Errorf("%s: %w: %w", what, ErrUnavailable, err)
		}
		return fmt.Errorf("%s: %w", what, err)
	}
	var connErr *pgconn.ConnectError
	var netErr net.Error
	if errors.As(err, &connErr) || errors.As(err, &netErr) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || pgconn.SafeToRetry(err) {
		return fmt.Errorf("%s: %w: %w", what, ErrUnavailable, err)
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
