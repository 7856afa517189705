#!/bin/sh
# Creates the Temporal server's two PostgreSQL databases and brings their schemas up to date.
# docker-compose.yml runs it in the temporalio/admin-tools image (same version as the server)
# before the server starts. Every step is idempotent, so it runs on every `docker compose up`
# and upgrades the schema when TEMPORAL_VERSION is raised (one minor version at a time).
#
# Environment (the same variables the server reads): POSTGRES_SEEDS (host), DB_PORT,
# POSTGRES_USER, POSTGRES_PWD; DBNAME and VISIBILITY_DBNAME default to temporal and
# temporal_visibility.
set -eu

: "${POSTGRES_SEEDS:?POSTGRES_SEEDS (PostgreSQL host) is required}"
: "${POSTGRES_USER:?POSTGRES_USER is required}"
: "${POSTGRES_PWD:?POSTGRES_PWD is required}"
DB_PORT="${DB_PORT:-5432}"
DBNAME="${DBNAME:-temporal}"
VISIBILITY_DBNAME="${VISIBILITY_DBNAME:-temporal_visibility}"

# temporal-sql-tool reads the password from SQL_PASSWORD, which keeps it off the command line.
SQL_PASSWORD="$POSTGRES_PWD"
export SQL_PASSWORD

sql_tool() {
  temporal-sql-tool --plugin postgres12 --endpoint "$POSTGRES_SEEDS" --port "$DB_PORT" \
    --user "$POSTGRES_USER" "$@"
}

# database schema: temporal (the persistence store) and its visibility store.
setup() {
  echo "temporal-schema: database $1 (schema $2)"
  sql_tool --database "$1" create-database
  sql_tool --database "$1" setup-schema --version 0.0
  sql_tool --database "$1" update-schema --schema-name "$2"
}

setup "$DBNAME" postgresql/v12/temporal
setup "$VISIBILITY_DBNAME" postgresql/v12/visibility
echo "temporal-schema: done"
