-- Routing and live events (seed 002, seed 004).

-- Capacity: how many active conversations routing and taking may give an operator (0: no limit).
ALTER TABLE users ADD COLUMN capacity integer NOT NULL DEFAULT 0 CHECK (capacity BETWEEN 0 AND 1000);

-- When a conversation last entered its line's queue: the router serves the oldest first.
ALTER TABLE conversations ADD COLUMN queued_at timestamptz;
UPDATE conversations SET queued_at = created_at WHERE status = 'queued';
CREATE INDEX conversations_queue_idx ON conversations (line_id, queued_at, number)
    WHERE status = 'queued' AND assignee_id IS NULL;

-- An operator's active conversations, one row each: the one place capacity is counted. A
-- conversation's workflow claims a slot (store.ClaimSlot, under the operator's row lock) before
-- it gives the conversation to someone; the trigger below keeps the rows equal to the projected
-- state afterwards, so a slot frees itself when the conversation is paused, returned, passed on
-- or closed.
CREATE TABLE operator_claims (
    number     bigint PRIMARY KEY REFERENCES conversations (number) ON DELETE CASCADE,
    user_id    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    claimed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX operator_claims_user_idx ON operator_claims (user_id);

CREATE FUNCTION conversations_queued_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status = 'queued' AND (TG_OP = 'INSERT' OR OLD.status <> 'queued') THEN
        NEW.queued_at := CASE WHEN TG_OP = 'INSERT' THEN NEW.created_at ELSE now() END;
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER conversations_queued_at BEFORE INSERT OR UPDATE OF status ON conversations
    FOR EACH ROW EXECUTE FUNCTION conversations_queued_at();

CREATE FUNCTION conversations_claims() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status = 'active' AND NEW.assignee_id IS NOT NULL THEN
        INSERT INTO operator_claims (number, user_id) VALUES (NEW.number, NEW.assignee_id)
            ON CONFLICT (number) DO UPDATE SET user_id = excluded.user_id, claimed_at = now()
            WHERE operator_claims.user_id <> excluded.user_id;
    ELSIF TG_OP = 'UPDATE' THEN
        DELETE FROM operator_claims WHERE number = NEW.number;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER conversations_claims AFTER INSERT OR UPDATE OF status, assignee_id ON conversations
    FOR EACH ROW EXECUTE FUNCTION conversations_claims();

-- Live events: what the console's stream (GET /api/v1/events) and outbound webhooks deliver.
-- Rows are written by triggers in the same commit as the change they describe, so nothing is
-- announced that did not happen and nothing that happened goes unannounced. Readers page by
-- (xid, id) and only read transactions older than every running one (pg_snapshot_xmin), so a
-- transaction that commits late can never slip in behind a reader's cursor.
CREATE TABLE events (
    xid                 xid8 NOT NULL DEFAULT pg_current_xact_id(),
    id                  bigint GENERATED ALWAYS AS IDENTITY,
    at                  timestamptz NOT NULL DEFAULT now(),
    kind                text NOT NULL,
    line_id             bigint,
    conversation_number bigint,
    -- The conversation as it was then, so each reader decides who may see the event without a query.
    status              text,
    assignee_id         bigint,
    participants        bigint[] NOT NULL DEFAULT '{}',
    -- Only these users see the event (notifications, tasks); NULL: whoever sees the line or conversation.
    user_ids            bigint[],
    data                jsonb NOT NULL DEFAULT '{}',
    PRIMARY KEY (xid, id)
);
CREATE INDEX events_at_idx ON events (at);

-- emit_conversation_event writes an event about a conversation with its current state.
CREATE FUNCTION emit_conversation_event(p_kind text, p_number bigint, p_data jsonb) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO events (kind, line_id, conversation_number, status, assignee_id, participants, data)
    SELECT p_kind, c.line_id, c.number, c.status, c.assignee_id, c.participants, p_data
    FROM conversations c WHERE c.number = p_number
$$;

-- notify_user records a notification once per dedupe key (its own trigger announces it).
CREATE FUNCTION notify_user(p_user bigint, p_kind text, p_text text, p_data jsonb, p_key text) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO notifications (user_id, kind, text, data, dedupe_key) VALUES (p_user, p_kind, p_text, p_data, p_key)
    ON CONFLICT (dedupe_key) DO NOTHING
$$;

CREATE FUNCTION message_payload(m messages) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
    SELECT jsonb_build_object('id', m.id, 'chat_id', m.chat_id, 'conversation', m.conversation_number,
        'direction', m.direction, 'author_id', m.author_id, 'text', left(m.text, 500), 'kind', m.kind,
        'status', m.status, 'created_at', m.created_at)
$$;

CREATE FUNCTION messages_events() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_assignee bigint;
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.status IS DISTINCT FROM OLD.status THEN
        PERFORM emit_conversation_event('message.status', NEW.conversation_number, message_payload(NEW));
        IF NEW.status = 'failed' AND NEW.author_id IS NOT NULL THEN
            PERFORM notify_user(NEW.author_id, 'delivery_failed', 'A message could not be delivered',
                jsonb_build_object('conversation', NEW.conversation_number, 'message_id', NEW.id),
                'delivery_failed:' || NEW.id);
        END IF;
    END IF;
    -- New in a conversation, linked to one, or moved to another by the chat's workflow.
    IF NEW.conversation_number IS NOT NULL
        AND (TG_OP = 'INSERT' OR OLD.conversation_number IS DISTINCT FROM NEW.conversation_number) THEN
        PERFORM emit_conversation_event('message', NEW.conversation_number, message_payload(NEW));
        -- A note by someone else in a conversation an operator handles is a comment for them
        -- (a supervisor's word to the operator, seed 002).
        IF NEW.direction = 'note' AND NEW.author_id IS NOT NULL THEN
            SELECT assignee_id INTO v_assignee FROM conversations WHERE number = NEW.conversation_number;
            IF v_assignee IS NOT NULL AND v_assignee <> NEW.author_id THEN
                PERFORM notify_user(v_assignee, 'comment', left(NEW.text, 200),
                    jsonb_build_object('conversation', NEW.conversation_number, 'message_id', NEW.id, 'author_id', NEW.author_id),
                    'comment:' || NEW.id);
            END IF;
        END IF;
    ELSIF TG_OP = 'INSERT' AND NEW.conversation_number IS NULL AND NEW.direction <> 'in' THEN
        -- A message written in the chat itself (seed 003); client messages are announced once
        -- their chat's workflow links them to a conversation, or stay in the chat unannounced.
        INSERT INTO events (kind, line_id, data)
        SELECT 'message', ch.line_id, message_payload(NEW) FROM chats c JOIN channels ch ON ch.id = c.channel_id
        WHERE c.id = NEW.chat_id;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER messages_events AFTER INSERT OR UPDATE OF conversation_number, status ON messages
    FOR EACH ROW EXECUTE FUNCTION messages_events();

CREATE FUNCTION conversation_events_events() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_to bigint;
    v_assignee bigint;
    v_line bigint;
BEGIN
    PERFORM emit_conversation_event('conversation.' || NEW.kind, NEW.number,
        jsonb_build_object('seq', NEW.seq, 'at', NEW.at, 'actor_id', NEW.actor_id, 'data', NEW.data));
    IF NEW.kind IN ('assigned', 'transferred', 'routed') THEN
        v_to := nullif(NEW.data->>'to', '')::bigint;
        IF v_to IS NOT NULL AND v_to IS DISTINCT FROM NEW.actor_id THEN
            PERFORM notify_user(v_to, NEW.kind, 'Conversation #' || NEW.number || ' is yours now',
                jsonb_build_object('conversation', NEW.number, 'by', NEW.actor_id, 'comment', NEW.data->'comment'),
                NEW.kind || ':' || NEW.number || ':' || NEW.seq);
        END IF;
    ELSIF NEW.kind IN ('sla_warning', 'sla_breached') THEN
        -- The assignee hears of it; with nobody assigned, the line's supervisors do.
        SELECT assignee_id, line_id INTO v_assignee, v_line FROM conversations WHERE number = NEW.number;
        PERFORM notify_user(u.id, NEW.kind,
            CASE NEW.kind WHEN 'sla_warning' THEN 'SLA due soon in conversation #' ELSE 'SLA breached in conversation #' END || NEW.number,
            jsonb_build_object('conversation', NEW.number, 'clock', NEW.data->'clock', 'due', NEW.data->'due'),
            NEW.kind || ':' || NEW.number || ':' || NEW.seq || ':' || u.id)
        FROM (SELECT v_assignee AS id WHERE v_assignee IS NOT NULL
              UNION
              SELECT m.user_id FROM line_groups lg JOIN groups g ON g.id = lg.group_id AND g.kind = 'supervisors'
                  JOIN group_members m ON m.group_id = g.id
              WHERE v_assignee IS NULL AND lg.line_id = v_line) u;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER conversation_events_events AFTER INSERT ON conversation_events
    FOR EACH ROW EXECUTE FUNCTION conversation_events_events();

CREATE FUNCTION notifications_events() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO events (kind, user_ids, conversation_number, data)
    VALUES ('notification', ARRAY[NEW.user_id], nullif(NEW.data->>'conversation', '')::bigint,
        jsonb_build_object('id', NEW.id, 'kind', NEW.kind, 'text', NEW.text, 'data', NEW.data, 'created_at', NEW.created_at));
    RETURN NULL;
END
$$;
CREATE TRIGGER notifications_events AFTER INSERT ON notifications
    FOR EACH ROW EXECUTE FUNCTION notifications_events();

CREATE FUNCTION tasks_events() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO events (kind, user_ids, conversation_number, data)
    VALUES (CASE WHEN TG_OP = 'INSERT' THEN 'task' ELSE 'task.updated' END, ARRAY[NEW.assignee_id], NEW.conversation_number,
        jsonb_build_object('id', NEW.id, 'title', NEW.title, 'starts_at', NEW.starts_at, 'done_at', NEW.done_at));
    RETURN NULL;
END
$$;
CREATE TRIGGER tasks_events AFTER INSERT OR UPDATE OF done_at ON tasks
    FOR EACH ROW EXECUTE FUNCTION tasks_events();

-- Presence: supervisors watch everyone's status (seed 002).
CREATE FUNCTION users_presence_events() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO events (kind, data) VALUES ('presence', jsonb_build_object('user_id', NEW.id, 'status', NEW.presence));
    RETURN NULL;
END
$$;
CREATE TRIGGER users_presence_events AFTER UPDATE OF presence ON users
    FOR EACH ROW WHEN (OLD.presence IS DISTINCT FROM NEW.presence) EXECUTE FUNCTION users_presence_events();

-- Operators' replies by author and time: the supervisor's "today" figures read only these.
CREATE INDEX messages_author_idx ON messages (author_id, created_at) WHERE author_id IS NOT NULL;
