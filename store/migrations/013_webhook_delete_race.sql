-- A webhook deleted while an event is being written must not fail the event's transaction (a
-- conversation's projection, a message): the trigger read the webhook from its snapshot, and the
-- delivery's foreign key then found it gone. Key-share locking the webhooks it joins makes the
-- trigger wait for a concurrent delete and skip the deleted webhook instead.

CREATE OR REPLACE FUNCTION events_webhooks() RETURNS trigger LANGUAGE plpgsql AS $$
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
    FOR KEY SHARE OF w
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$$;
