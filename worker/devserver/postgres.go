package devserver

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"go.temporal.io/server/common/config"
	tlog "go.temporal.io/server/common/log"
	pgplugin "go.temporal.io/server/common/persistence/sql/sqlplugin/postgresql"
	pgschema "go.temporal.io/server/schema/postgresql/v12"
	sqliteschema "go.temporal.io/server/schema/sqlite"
	"go.temporal.io/server/tools/common/schema"
	sqltool "go.temporal.io/server/tools/sql"
)

// PostgresHistoryShards is the postgres profile's number of history shards. A shard is
// Temporal's unit of write ordering: every workflow of a shard updates through that shard's
// range lock and task queues. SQLite has one writer, so one shard costs it nothing; PostgreSQL
// takes concurrent writers, and with one shard every signal, timer and activity result of the
// whole desk would still queue on one lock. Four lets both cores' worth of work proceed at
// once while each shard's fixed cost (queue processors, polling goroutines, caches) stays
// small. The count is written into the cluster metadata on first start and cannot change
// afterwards: a store created with another count needs `linedesk dev --reset`.
const PostgresHistoryShards = 4

// Schema sets of the Temporal server module, set up and upgraded with its own schema tool.
const (
	pgMainSchema       = "postgresql/v12/temporal"
	pgVisibilitySchema = "postgresql/v12/visibility"
)

// Postgres keeps the embedded server's state in two PostgreSQL databases. Both must exist;
// Start creates Temporal's schema in them on first use, upgrades it when the server module
// brings a newer one, and registers the namespace.
type Postgres struct {
	// URL is the database for workflows, history and task queues.
	URL string
	// VisibilityURL is the database for workflow visibility (lists and search).
	VisibilityURL string
}

func (p *Postgres) setup(persistence *config.Persistence, ns *sqliteschema.NamespaceConfig, logger tlog.Logger) error {
	main, err := sqlConfig(p.URL, 20)
	if err != nil {
		return err
	}
	visibility, err := sqlConfig(p.VisibilityURL, 10)
	if err != nil {
		return err
	}
	if err := setupPostgresSchema(main, pgMainSchema, pgschema.Version, logger); err != nil {
		return err
	}
	if err := setupPostgresSchema(visibility, pgVisibilitySchema, pgschema.VisibilityVersion, logger); err != nil {
		return err
	}
	// CreateNamespaces lives in the sqlite schema package but writes through the generic SQL
	// persistence layer, so it serves every SQL plugin.
	if err := sqliteschema.CreateNamespaces(main, ns); err != nil {
		return fmt.Errorf("create namespace: %w", err)
	}
	persistence.DefaultStore = "postgres-default"
	persistence.VisibilityStore = "postgres-visibility"
	persistence.NumHistoryShards = PostgresHistoryShards
	persistence.DataStores = map[string]config.DataStore{
		"postgres-default":    {SQL: main},
		"postgres-visibility": {SQL: visibility},
	}
	return nil
}

// setupPostgresSchema creates the schema on a database that has none (the whole current
// schema.sql at once, recorded as version) and then applies any versioned updates beyond the
// recorded version, exactly as `temporal-sql-tool setup-schema` and `update-schema` do.
func setupPostgresSchema(cfg *config.SQL, schemaName, version string, logger tlog.Logger) error {
	conn, err := sqltool.NewConnection(cfg, logger)
	if err != nil {
		return fmt.Errorf("connect to temporal database %s: %w", cfg.DatabaseName, err)
	}
	defer conn.Close()
	if _, err := conn.ReadSchemaVersion(); err != nil {
		setup := schema.NewSetupSchemaTask(conn, &schema.SetupConfig{SchemaName: schemaName, InitialVersion: version}, logger)
		if err := setup.Run(); err != nil {
			return fmt.Errorf("create temporal schema in %s: %w", cfg.DatabaseName, err)
		}
	}
	update := schema.NewUpdateSchemaTask(conn, &schema.UpdateConfig{DBName: cfg.DatabaseName, SchemaName: schemaName}, logger)
	if err := update.Run(); err != nil {
		return fmt.Errorf("upgrade temporal schema in %s: %w", cfg.DatabaseName, err)
	}
	return nil
}

// sqlConfig turns a postgres:// URL into the server's SQL store settings for the pgx plugin;
// the URL's query parameters (sslmode, ...) become connection attributes.
func sqlConfig(databaseURL string, maxConns int) (*config.SQL, error) {
	u, err := url.Parse(databaseURL)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return nil, fmt.Errorf("temporal database: %q is not a postgres:// URL", redact(databaseURL))
	}
	name := strings.TrimPrefix(u.Path, "/")
	if name == "" || u.Hostname() == "" {
		return nil, errors.New("temporal database: the URL needs a host and a database name")
	}
	port := u.Port()
	if port == "" {
		port = "5432"
	}
	password, _ := u.User.Password()
	attrs := map[string]string{}
	for k, v := range u.Query() {
		if len(v) > 0 {
			attrs[k] = v[0]
		}
	}
	return &config.SQL{
		PluginName:        pgplugin.PluginNamePGX,
		DatabaseName:      name,
		ConnectAddr:       net.JoinHostPort(u.Hostname(), port),
		ConnectProtocol:   "tcp",
		User:              u.User.Username(),
		Password:          password,
		ConnectAttributes: attrs,
		MaxConns:          maxConns,
		MaxIdleConns:      maxConns,
		MaxConnLifetime:   time.Hour,
	}, nil
}

func redact(databaseURL string) string {
	u, err := url.Parse(databaseURL)
	if err != nil {
		return "the database URL"
	}
	return u.Redacted()
}
