-- The website channel (issue 11; seeds 000 and 002): a site's widget visitors, and the line a
-- scenario gave a chat.
--
-- A site's scenario can send a page's visitors to another line than the channel's (seed 002:
-- "/pricing" to sales). The line is fixed when the chat is first written to, before its first
-- message, so the chat workflow starts on it; every query that takes a chat's line reads this
-- table first and the channel's line after.
CREATE TABLE chat_lines (
    channel_id  bigint NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    external_id text NOT NULL,
    line_id     bigint NOT NULL REFERENCES lines (id),
    PRIMARY KEY (channel_id, external_id)
);

-- A visitor is one browser's token on one site; contact_key is the contact's external id on the
-- channel: the visitor's own ("v:<id>") or, for a user the site signed (identity hash), the
-- site's user id ("u:<id>"), which every device of that user shares.
CREATE TABLE widget_visitors (
    id          uuid PRIMARY KEY,
    channel_id  bigint NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    token_hash  bytea NOT NULL UNIQUE,
    contact_key text NOT NULL,
    name        text NOT NULL DEFAULT '',
    email       text NOT NULL DEFAULT '',
    phone       text NOT NULL DEFAULT '',
    language    text NOT NULL DEFAULT '',
    page_url    text NOT NULL DEFAULT '',
    page_title  text NOT NULL DEFAULT '',
    referrer    text NOT NULL DEFAULT '',
    ip          text NOT NULL DEFAULT '',
    user_agent  text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    seen_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX widget_visitors_seen_idx ON widget_visitors (channel_id, seen_at);
CREATE INDEX widget_visitors_contact_idx ON widget_visitors (channel_id, contact_key);

-- ingest_inbound with both a chat apart from the sender (a site's visitor has a chat per line a
-- scenario sent them to) and the contact's profile (the page, referrer, address and browser the
-- operator sees), in one transaction as the others.
CREATE OR REPLACE FUNCTION ingest_inbound(
    p_channel_id bigint, p_key text, p_fingerprint bytea, p_message_id uuid, p_chat_id uuid,
    p_external_id text, p_name text, p_email text, p_phone text,
    p_text text, p_attachments jsonb, p_kind text, p_button text, p_at timestamptz,
    p_chat_external text, p_profile_url text, p_timezone text, p_fields jsonb,
    OUT message_id uuid, OUT chat_id uuid, OUT contact_id bigint, OUT seq bigint,
    OUT duplicate boolean, OUT same_request boolean, OUT conversation_number bigint, OUT routed boolean)
LANGUAGE plpgsql AS $$
BEGIN
    SELECT i.message_id, i.chat_id, i.contact_id, i.seq, i.duplicate, i.same_request, i.conversation_number, i.routed
        INTO message_id, chat_id, contact_id, seq, duplicate, same_request, conversation_number, routed
        FROM ingest_inbound(p_channel_id, p_key, p_fingerprint, p_message_id, p_chat_id,
            p_external_id, p_name, p_email, p_phone, p_text, p_attachments, p_kind, p_button, p_at, p_chat_external) i;
    IF duplicate THEN
        RETURN;
    END IF;
    p_fields := coalesce(p_fields, '{}');
    UPDATE contacts c SET
        profile_url = CASE WHEN p_profile_url <> '' THEN p_profile_url ELSE c.profile_url END,
        timezone = CASE WHEN p_timezone <> '' THEN p_timezone ELSE c.timezone END,
        fields = c.fields || p_fields,
        updated_at = now()
    WHERE c.id = contact_id AND ((p_profile_url <> '' AND c.profile_url <> p_profile_url)
        OR (p_timezone <> '' AND c.timezone <> p_timezone) OR NOT c.fields @> p_fields);
END
$$;

-- A message written in a chat outside any conversation is announced on the chat's line (a
-- scenario's), not only the channel's: migration 009's function with that one change.
CREATE OR REPLACE FUNCTION messages_events() RETURNS trigger LANGUAGE plpgsql AS $$
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
        SELECT 'message', coalesce(cl.line_id, ch.line_id), message_payload(NEW) FROM chats c JOIN channels ch ON ch.id = c.channel_id
        LEFT JOIN chat_lines cl ON cl.channel_id = c.channel_id AND cl.external_id = c.external_id
        WHERE c.id = NEW.chat_id;
    END IF;
    RETURN NULL;
END
$$;
