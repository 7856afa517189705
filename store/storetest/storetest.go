// Package storetest gives each test its own PostgreSQL database, cloned from a template that
// holds the migrated schema, so database tests run in parallel against the real thing.
//
// A test package that uses it calls Main from its TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }
//
// The server is TEST_DATABASE_URL if set, else found the way `linedesk dev` finds one: a server
// on 127.0.0.1:5432, else a private cluster started from the system's PostgreSQL binaries for
// the duration of the test binary.
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/linedesk/linedesk/blobstore"
	"github.com/linedesk/linedesk/store"
	"github.com/linedesk/linedesk/store/localpg"
)

var (
	serverURL   string // maintenance database of the test server
	setupErr    error
	templateMu  sync.Mutex
	templateFor string
)

// Main finds (or starts) the test server, runs the tests and stops a private server again.
func Main(m *testing.M) int {
	ctx := context.Background()
	var private *localpg.Server
	if u := os.Getenv("TEST_DATABASE_URL"); u != "" {
		serverURL = u
	} else {
		dir, err := os.MkdirTemp("", "linedesk-test-pg-")
		if err != nil {
			setupErr = err
			return m.Run()
		}
		// As root the private cluster runs as the postgres user, who must be able to enter it.
		if err := os.Chmod(dir, 0o755); err != nil {
			setupErr = err
			return m.Run()
		}
		defer os.RemoveAll(dir)
		srv, err := localpg.Discover(ctx, localpg.Options{DataDir: dir, DBName: "postgres"})
		if err != nil {
			setupErr = err
		} else {
			serverURL = srv.URL
			if srv.Private {
				private = srv
			}
		}
	}
	code := m.Run()
	if private != nil {
		if err := private.Stop(ctx); err != nil {
			fmt.Fprintln(os.Stderr, "storetest:", err)
		}
	}
	return code
}

// NewStore returns a store on a fresh database of its own, dropped when the test ends, keeping
// attachments in a directory of the test's own.
func NewStore(t testing.TB) *store.Store {
	blobs, err := blobstore.NewDir(t.TempDir())
	if err != nil {
		t.Fatalf("storetest: %v", err)
	}
	return store.New(NewPool(t)).WithBlobs(blobs)
}

// NewPool returns a pool on a fresh, migrated database of its own.
func NewPool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	dbURL := NewDatabase(t)
	pool, err := store.Open(t.Context(), dbURL)
	if err != nil {
		t.Fatalf("storetest: open: %v", err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// NewDatabase creates a fresh database from the migrated template and returns its URL.
func NewDatabase(t testing.TB) string {
	t.Helper()
	return newDatabase(t, "linedesk_test_", true)
}

// NewEmptyDatabase creates a database with nothing in it (for stores other than linedesk's,
// such as the embedded Temporal server's), dropped when the test ends, and returns its URL.
func NewEmptyDatabase(t testing.TB) string {
	t.Helper()
	return newDatabase(t, "linedesk_test_empty_", false)
}

// newDatabase creates a database named prefix+random, from the migrated template if migrated,
// dropped when the test ends.
func newDatabase(t testing.TB, prefix string, migrated bool) string {
	t.Helper()
	if setupErr != nil {
		t.Fatalf("storetest: %v", setupErr)
	}
	if serverURL == "" {
		t.Fatal("storetest: call storetest.Main from TestMain")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	name := prefix + randomSuffix()
	create := "CREATE DATABASE " + name
	if migrated {
		tmpl, err := template(ctx)
		if err != nil {
			t.Fatalf("storetest: template: %v", err)
		}
		create += " TEMPLATE " + tmpl
	}
	admin, err := pgx.Connect(ctx, serverURL)
	if err != nil {
		t.Fatalf("storetest: connect: %v", err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, create); err != nil {
		t.Fatalf("storetest: create database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if c, err := pgx.Connect(ctx, serverURL); err == nil {
			_, _ = c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
			_ = c.Close(ctx)
		}
	})
	return withDatabase(serverURL, name)
}

// template makes sure the migrated template for the current migrations exists. Test binaries
// of several packages run at once, so creation is serialised with an advisory lock.
func template(ctx context.Context) (string, error) {
	templateMu.Lock()
	defer templateMu.Unlock()
	name := "linedesk_template_" + store.MigrationsDigest()
	if templateFor == name {
		return name, nil
	}
	admin, err := pgx.Connect(ctx, serverURL)
	if err != nil {
		return "", err
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "SELECT pg_advisory_lock(74207421)"); err != nil {
		return "", err
	}
	defer admin.Exec(ctx, "SELECT pg_advisory_unlock(74207421)") //nolint:errcheck
	var exists bool
	if err := admin.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		return "", err
	}
	if !exists {
		building := name + "_building"
		_, _ = admin.Exec(ctx, "DROP DATABASE IF EXISTS "+building+" WITH (FORCE)")
		if _, err := admin.Exec(ctx, "CREATE DATABASE "+building); err != nil {
			return "", err
		}
		if err := store.Migrate(ctx, withDatabase(serverURL, building)); err != nil {
			return "", err
		}
		// Renaming after migrating means a half-built template is never used.
		if _, err := admin.Exec(ctx, "ALTER DATABASE "+building+" RENAME TO "+name); err != nil {
			return "", err
		}
	}
	templateFor = name
	return name, nil
}

func randomSuffix() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func withDatabase(databaseURL, name string) string {
	u, err := url.Parse(databaseURL)
	if err != nil {
		return databaseURL
	}
	u.Path = "/" + name
	return u.String()
}
