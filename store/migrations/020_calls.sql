-- Phone calls as a PBX reports them (Zammad's generic CTI events): one row per call session,
-- which each event fills in whatever order the events arrive (an event repeated changes nothing).
-- The client's number is matched against contacts as digits (phone_digits); an operator turns a
-- call into a conversation, and the recording is a file like any attachment.

-- phone_digits is a number as digits only, a Russian trunk prefix (8 and ten digits) read as the
-- country code 7: +7 916 123-45-67 and 8 (916) 123-45-67 are one number.
CREATE FUNCTION phone_digits(p text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN length(d) = 11 AND left(d, 1) = '8' THEN '7' || substr(d, 2) ELSE d END
    FROM (SELECT regexp_replace(coalesce(p, ''), '[^0-9]', '', 'g') AS d) x
$$;
CREATE INDEX contacts_phone_digits_idx ON contacts (phone_digits(phone)) WHERE phone <> '';

CREATE TABLE calls (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    channel_id          bigint NOT NULL REFERENCES channels (id),
    call_id             text NOT NULL CHECK (call_id <> '' AND length(call_id) <= 250),
    direction           text NOT NULL DEFAULT 'in' CHECK (direction IN ('in', 'out')),
    from_number         text NOT NULL DEFAULT '',
    to_number           text NOT NULL DEFAULT '',
    -- The other party's number as digits (the caller of an incoming call, the callee of an outgoing one).
    client_digits       text NOT NULL DEFAULT '',
    queue               text NOT NULL DEFAULT '',
    users               text[] NOT NULL DEFAULT '{}',
    state               text NOT NULL DEFAULT 'ringing' CHECK (state IN ('ringing', 'answered', 'ended')),
    answering_number    text NOT NULL DEFAULT '',
    -- The user the PBX's answeringNumber names by their login (an extension names nobody here).
    answered_by         bigint REFERENCES users (id),
    cause               text NOT NULL DEFAULT '',
    contact_id          bigint REFERENCES contacts (id),
    conversation_number bigint,
    started_at          timestamptz NOT NULL DEFAULT now(),
    answered_at         timestamptz,
    ended_at            timestamptz,
    recording_url       text NOT NULL DEFAULT '',
    recording_file_id   uuid REFERENCES files (id),
    recording_error     text NOT NULL DEFAULT '',
    UNIQUE (channel_id, call_id)
);
CREATE INDEX calls_started_idx ON calls (started_at DESC, id DESC);
CREATE INDEX calls_contact_idx ON calls (contact_id, started_at DESC) WHERE contact_id IS NOT NULL;
CREATE INDEX calls_client_digits_idx ON calls (client_digits) WHERE client_digits <> '';
CREATE INDEX calls_conversation_idx ON calls (conversation_number) WHERE conversation_number IS NOT NULL;

-- Each change of a call is announced to the users of its channel's line: an incoming call shows
-- its card (with the matching contact) in the console as it rings.
CREATE FUNCTION calls_events() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO events (kind, line_id, data)
    SELECT 'call', ch.line_id, jsonb_build_object('id', NEW.id, 'state', NEW.state, 'direction', NEW.direction,
        'from', NEW.from_number, 'to', NEW.to_number, 'contact_id', NEW.contact_id, 'answered_by', NEW.answered_by,
        'conversation', NEW.conversation_number, 'cause', NEW.cause, 'recording', NEW.recording_file_id IS NOT NULL)
    FROM channels ch WHERE ch.id = NEW.channel_id;
    RETURN NULL;
END
$$;
CREATE TRIGGER calls_insert_events AFTER INSERT ON calls FOR EACH ROW EXECUTE FUNCTION calls_events();
-- A repeated event changes nothing and announces nothing.
CREATE TRIGGER calls_update_events AFTER UPDATE ON calls FOR EACH ROW
    WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION calls_events();
