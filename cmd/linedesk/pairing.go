package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/uuid"

	"github.com/linedesk/linedesk/store"
	"github.com/linedesk/linedesk/store/localpg"
	"github.com/linedesk/linedesk/worker/devserver"
)

// errNotPaired says the database and the Temporal store of `linedesk dev` belong to different
// instances, so conversations listed in one would have no workflow in the other.
var errNotPaired = errors.New("database and Temporal store do not belong together")

// temporalStore is where dev's embedded Temporal server keeps its state, with the instance id
// that pairs it with linedesk's database.
type temporalStore interface {
	// String names the store for people: "SQLite file /x/temporal.db".
	String() string
	// HasData reports whether the store exists already (and so may hold workflows).
	HasData(ctx context.Context) (bool, error)
	// Pairing returns the instance id the store was paired with and the database it names,
	// "" when it was never paired.
	Pairing(ctx context.Context) (id, database string, err error)
	// Pair records the instance id and the database it is paired with.
	Pair(ctx context.Context, id, database string) error
	// Wipe deletes the store and its pairing.
	Wipe(ctx context.Context) error
	// Open makes the store ready for the embedded server and returns the options that point
	// the server at it.
	Open(ctx context.Context) (devserver.Options, error)
}

// sqliteStore is the Temporal SQLite file in the data dir; the pairing is the data dir's
// instance-id file.
type sqliteStore struct{ dataDir string }

func (s sqliteStore) file() string   { return filepath.Join(s.dataDir, "temporal.db") }
func (s sqliteStore) idFile() string { return filepath.Join(s.dataDir, "instance-id") }
func (s sqliteStore) String() string { return "SQLite file " + s.file() }

func (s sqliteStore) HasData(context.Context) (bool, error) {
	_, err := os.Stat(s.file())
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	return err == nil, err
}

func (s sqliteStore) Pairing(context.Context) (string, string, error) {
	b, err := os.ReadFile(s.idFile())
	if errors.Is(err, os.ErrNotExist) {
		return "", "", nil
	}
	if err != nil {
		return "", "", fmt.Errorf("read instance id: %w", err)
	}
	id, database, _ := strings.Cut(strings.TrimSpace(string(b)), "\n")
	return strings.TrimSpace(id), strings.TrimSpace(database), nil
}

func (s sqliteStore) Pair(_ context.Context, id, database string) error {
	tmp := s.idFile() + ".tmp"
	if err := os.WriteFile(tmp, []byte(id+"\n"+database+"\n"), 0o644); err != nil {
		return fmt.Errorf("write instance id: %w", err)
	}
	if err := os.Rename(tmp, s.idFile()); err != nil {
		return fmt.Errorf("write instance id: %w", err)
	}
	return nil
}

func (s sqliteStore) Wipe(context.Context) error {
	vis := devserver.VisibilityFile(s.file())
	for _, f := range []string{s.file(), s.file() + "-wal", s.file() + "-shm", vis, vis + "-wal", vis + "-shm", s.idFile()} {
		if err := os.Remove(f); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("wipe temporal store: %w", err)
		}
	}
	return nil
}

func (s sqliteStore) Open(context.Context) (devserver.Options, error) {
	return devserver.Options{DatabaseFile: s.file()}, nil
}

// postgresStore is a pair of databases beside linedesk's on the same server, named after it:
// <db>_temporal and <db>_temporal_visibility. The pairing is a comment on the first.
type postgresStore struct {
	linedeskURL string // linedesk's database, through which the others are managed
	main        string
	visibility  string
}

// pairingPrefix starts the comment that pairs a Temporal database with an instance.
const pairingPrefix = "linedesk dev instance "

func newPostgresStore(linedeskURL string) (postgresStore, error) {
	name, err := localpg.DatabaseName(linedeskURL)
	if err != nil {
		return postgresStore{}, err
	}
	s := postgresStore{linedeskURL: linedeskURL, main: name + "_temporal", visibility: name + "_temporal_visibility"}
	// PostgreSQL cuts longer names silently, which could make the two names one.
	if len(s.visibility) > 63 {
		return postgresStore{}, fmt.Errorf("database name %q is too long for the Temporal databases beside it "+
			"(%s must fit in 63 bytes): use a shorter name in DATABASE_URL, or LINEDESK_TEMPORAL_DB=sqlite", name, s.visibility)
	}
	return s, nil
}

func (s postgresStore) String() string {
	return fmt.Sprintf("PostgreSQL databases %s and %s", s.main, s.visibility)
}

func (s postgresStore) HasData(ctx context.Context) (bool, error) {
	_, exists, err := localpg.DatabaseComment(ctx, s.linedeskURL, s.main)
	return exists, err
}

func (s postgresStore) Pairing(ctx context.Context) (string, string, error) {
	comment, _, err := localpg.DatabaseComment(ctx, s.linedeskURL, s.main)
	if err != nil || !strings.HasPrefix(comment, pairingPrefix) {
		return "", "", err
	}
	id, database, _ := strings.Cut(strings.TrimPrefix(comment, pairingPrefix), " of ")
	return id, database, nil
}

func (s postgresStore) Pair(ctx context.Context, id, database string) error {
	if _, err := s.Open(ctx); err != nil {
		return err
	}
	return localpg.CommentOnDatabase(ctx, s.linedeskURL, s.main, pairingPrefix+id+" of "+database)
}

func (s postgresStore) Wipe(ctx context.Context) error {
	for _, name := range []string{s.main, s.visibility} {
		if err := localpg.DropDatabase(ctx, s.linedeskURL, name); err != nil {
			return fmt.Errorf("wipe temporal store: %w", err)
		}
	}
	return nil
}

func (s postgresStore) Open(ctx context.Context) (devserver.Options, error) {
	opts := devserver.Options{Postgres: &devserver.Postgres{
		URL:           localpg.WithDatabase(s.linedeskURL, s.main),
		VisibilityURL: localpg.WithDatabase(s.linedeskURL, s.visibility),
	}}
	for _, u := range []string{opts.Postgres.URL, opts.Postgres.VisibilityURL} {
		if err := localpg.EnsureDatabase(ctx, u); err != nil {
			return devserver.Options{}, err
		}
	}
	return opts, nil
}

// newTemporalStore returns the Temporal store cfg.TemporalDB selects.
func newTemporalStore(cfg Config, dataDir, linedeskURL string) (temporalStore, error) {
	if cfg.TemporalDB == temporalDBPostgres {
		return newPostgresStore(linedeskURL)
	}
	return sqliteStore{dataDir: dataDir}, nil
}

// pairInstance makes sure linedesk's database and the Temporal store belong to one `linedesk
// dev` instance, pairing them on first use, and refuses with errNotPaired when they do not:
// the database's conversations would be listed but their workflows missing, and new
// conversation numbers would collide with the store's old workflows. database names the
// database for messages.
func pairInstance(ctx context.Context, st *store.Store, ts temporalStore, database string, logger *slog.Logger) error {
	owner, err := st.DevOwner(ctx)
	dbPaired := err == nil
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	storeID, storeDB, err := ts.Pairing(ctx)
	if err != nil {
		return err
	}
	dbHasData, err := st.HoldsConversations(ctx)
	if err != nil {
		return err
	}
	storeHasData, err := ts.HasData(ctx)
	if err != nil {
		return err
	}
	refuse := func(why string) error {
		return fmt.Errorf("%w: %s.\n"+
			"  database:       %s\n"+
			"  Temporal store: %s\n"+
			"Either use another database (set DATABASE_URL) or the data dir this database belongs to (LINEDESK_DATA_DIR), "+
			"or start both clean with `linedesk dev --reset`, which deletes this database's linedesk data and the Temporal store",
			errNotPaired, why, database, ts)
	}
	switch {
	case dbPaired && owner.InstanceID == storeID:
		if dbHasData && !storeHasData {
			return refuse("the database's conversations have their workflows in the Temporal store, and the store is gone")
		}
		return nil
	case dbPaired:
		return refuse(fmt.Sprintf("the database belongs to another linedesk dev instance, whose workflows live in %s "+
			"(paired %s), not in this Temporal store", owner.TemporalStore, owner.PairedAt.Format("2006-01-02 15:04")))
	case storeID != "" && (dbHasData || storeHasData):
		return refuse(fmt.Sprintf("the Temporal store belongs to another database (%s) and the database was never paired with it", storeDB))
	case storeID == "" && dbHasData && !storeHasData:
		return refuse("the database holds conversations whose workflows live in another Temporal store, and this one is new")
	case storeID == "" && !dbHasData && storeHasData:
		return refuse("the Temporal store holds workflows from before linedesk paired data dirs with databases, and the database is new " +
			"(dev used to default to the database \"linedesk\" on 127.0.0.1:5432; set DATABASE_URL to keep using it)")
	}
	// Both sides new, or both holding data from before pairing existed: they belong together.
	// The store records the id first, so a crash between the two writes leaves a store paired
	// with an empty database, which the next start adopts (storeID set, neither side has data).
	id := storeID
	if id == "" {
		id = uuid.NewString()
		if err := ts.Pair(ctx, id, database); err != nil {
			return err
		}
	}
	stored, err := st.PairDevOwner(ctx, store.DevOwner{InstanceID: id, TemporalStore: ts.String()})
	if err != nil {
		return err
	}
	if stored.InstanceID != id {
		return refuse(fmt.Sprintf("another linedesk dev paired the database with %s a moment ago", stored.TemporalStore))
	}
	logger.Info("paired the database with the Temporal store", "instance_id", id, "temporal_store", ts.String())
	return nil
}
