-- The `linedesk dev` instance this database belongs to. dev keeps its workflows in a Temporal
-- store of its own (a SQLite file in its data dir, or databases beside this one) and pairs that
-- store with this database on first start: a database whose conversations' workflows live in
-- another store is refused rather than half used. One row at most; empty outside dev.
CREATE TABLE dev_owner (
    singleton      boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    instance_id    text NOT NULL CHECK (instance_id <> ''),
    temporal_store text NOT NULL,
    paired_at      timestamptz NOT NULL DEFAULT now()
);
