-- Outbound webhooks for integrators (issue 7 item 12): subscriptions to conversation and message
-- events, one delivery per event per webhook, and every attempt at it.

CREATE TABLE webhooks (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    url         text NOT NULL,
    -- The HMAC key deliveries are signed with; shown once, on create and on rotation.
    secret      bytea NOT NULL,
    -- Event names (store.WebhookEvents), or '*' for all of them.
    events      text[] NOT NULL,
    -- Only events of this line; NULL: every line.
    line_id     bigint REFERENCES lines (id) ON DELETE CASCADE,
    description text NOT NULL DEFAULT '',
    enabled     boolean NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE webhook_deliveries (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    webhook_id      bigint NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event           text NOT NULL,
    -- The events row it announces; events are pruned, so the payload is copied, not referenced.
    event_xid       xid8 NOT NULL,
    event_id        bigint NOT NULL,
    payload         jsonb NOT NULL,
    status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
    -- Attempts in the current round (a manual retry starts a new round); webhook_attempts keeps all.
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    -- A dispatcher that claimed the delivery holds it until then; after a crash another takes over.
    locked_until    timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    delivered_at    timestamptz,
    UNIQUE (webhook_id, event_xid, event_id)
);
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_webhook_idx ON webhook_deliveries (webhook_id, created_at DESC);

CREATE TABLE webhook_attempts (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    delivery_id uuid NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    at          timestamptz NOT NULL DEFAULT now(),
    status_code integer,
    error       text NOT NULL DEFAULT '',
    duration_ms integer NOT NULL
);
CREATE INDEX webhook_attempts_delivery_idx ON webhook_attempts (delivery_id, id);

-- webhook_event_name is the name integrators subscribe to for an events row, or NULL when the
-- row is not one webhooks announce (notifications, tasks, presence, other message statuses).
CREATE FUNCTION webhook_event_name(p_kind text, p_data jsonb) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE
        WHEN p_kind = 'message' THEN 'message.created'
        WHEN p_kind = 'message.status' AND p_data->>'status' = 'failed' THEN 'message.delivery_failed'
        WHEN p_kind LIKE 'conversation.%' THEN p_kind
    END
$$;

-- Deliveries are queued by the same statement that writes the events, in the same commit, so an
-- event is announced to every subscribed webhook exactly once. One statement-level trigger per
-- insert keeps the cost off desks without webhooks.
CREATE FUNCTION events_webhooks() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM webhooks WHERE enabled) THEN
        RETURN NULL;
    END IF;
    INSERT INTO webhook_deliveries (webhook_id, event, event_xid, event_id, payload)
    SELECT w.id, e.name, e.xid, e.id,
        jsonb_build_object('event', e.name, 'occurred_at', e.at, 'line_id', e.line_id,
            'conversation', e.conversation_number, 'status', e.status, 'assignee_id', e.assignee_id, 'data', e.data)
    FROM (SELECT n.*, webhook_event_name(n.kind, n.data) AS name FROM new_events n) e
    JOIN webhooks w ON w.enabled AND (w.line_id IS NULL OR w.line_id = e.line_id)
        AND (e.name = ANY (w.events) OR '*' = ANY (w.events))
    WHERE e.name IS NOT NULL
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$$;
CREATE TRIGGER events_webhooks AFTER INSERT ON events REFERENCING NEW TABLE AS new_events
    FOR EACH STATEMENT EXECUTE FUNCTION events_webhooks();
