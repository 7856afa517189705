-- The audit log: who changed which configuration or permission, when, from where, and how
-- (issue 7 item 11; seed 000's channel change history is the log filtered to one channel).
-- Secrets never reach it: the application writes "[hidden]" or "changed" in their place.
CREATE TABLE audit_log (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at             timestamptz NOT NULL DEFAULT now(),
    -- NULL: the system itself (a migration, the dev bootstrap). No foreign keys: a record
    -- outlives whatever it names.
    actor_id       bigint,
    -- The API token the actor used, when the change came through one.
    actor_token_id bigint,
    remote_addr    text NOT NULL DEFAULT '',
    entity_kind    text NOT NULL CHECK (entity_kind <> ''),
    entity_id      text NOT NULL,
    action         text NOT NULL CHECK (action <> ''),
    -- For an update, only the fields that changed, before and after; a creation has no before
    -- and a deletion no after.
    before         jsonb,
    after          jsonb
);

CREATE INDEX audit_log_entity_idx ON audit_log (entity_kind, entity_id, id DESC);
CREATE INDEX audit_log_actor_idx ON audit_log (actor_id, id DESC);
CREATE INDEX audit_log_at_idx ON audit_log (at);

-- Append-only: a record, once written, is neither changed nor removed, not even by the
-- application's own database user.
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER audit_log_no_update_delete BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
