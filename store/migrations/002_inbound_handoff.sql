-- The inbound hand-off: a message is made durable together with its outbox row in one commit,
-- and a dispatcher hands the outbox to the chat workflows asynchronously.

-- Each chat numbers its inbound messages; the chat workflow applies them in that order, once.
ALTER TABLE chats ADD COLUMN inbound_seq bigint NOT NULL DEFAULT 0;
-- The highest sequence number the chat workflow has routed (recorded by its link activity).
ALTER TABLE chats ADD COLUMN routed_seq bigint NOT NULL DEFAULT 0;

-- A fingerprint of the request that used an idempotency key, so reusing the key for another
-- message is refused instead of silently answered with the first one.
ALTER TABLE inbound_keys ADD COLUMN fingerprint bytea;
ALTER TABLE inbound_keys ADD COLUMN seq bigint;
-- Set in the same commit as the key (a claimed key is written before its chat is known).
ALTER TABLE inbound_keys ALTER COLUMN chat_id DROP NOT NULL;
ALTER TABLE inbound_keys DROP COLUMN delivered_at;
ALTER TABLE inbound_keys DROP COLUMN response;

-- When an operator last answered the client: messages before it are read.
ALTER TABLE conversations ADD COLUMN replied_at timestamptz;

-- Messages durable but not yet handed to their chat workflow. A dispatcher claims rows for a
-- while (claimed_until), signals the chat, and deletes them.
CREATE TABLE inbound_outbox (
    id            bigserial PRIMARY KEY,
    chat_id       uuid NOT NULL,
    seq           bigint NOT NULL,
    message_id    uuid NOT NULL,
    at            timestamptz NOT NULL,
    button        text NOT NULL DEFAULT '',
    claimed_until timestamptz
);
CREATE INDEX inbound_outbox_chat_idx ON inbound_outbox (chat_id, seq);

-- ingest_inbound stores one inbound message in one round trip: the dedupe key, the contact and
-- its identity, the chat (with the message's sequence number), the message and its outbox row.
-- A repeated key stores nothing and returns the first message, with same_request telling whether
-- the request was the same one.
CREATE FUNCTION ingest_inbound(
    p_channel_id bigint, p_key text, p_fingerprint bytea, p_message_id uuid, p_chat_id uuid,
    p_external_id text, p_name text, p_email text, p_phone text,
    p_text text, p_attachments jsonb, p_kind text, p_button text, p_at timestamptz,
    OUT message_id uuid, OUT chat_id uuid, OUT contact_id bigint, OUT seq bigint,
    OUT duplicate boolean, OUT same_request boolean, OUT conversation_number bigint, OUT routed boolean)
LANGUAGE plpgsql AS $$
DECLARE
    v_fingerprint bytea;
BEGIN
    duplicate := false;
    same_request := true;
    message_id := p_message_id;
    -- Claim the key first: a concurrent request with the same key waits here for the first one
    -- to commit, then finds its row.
    INSERT INTO inbound_keys (channel_id, key, message_id, chat_id, fingerprint)
        VALUES (p_channel_id, p_key, message_id, NULL, p_fingerprint)
        ON CONFLICT DO NOTHING;
    IF NOT FOUND THEN
        SELECT k.message_id, k.chat_id, k.fingerprint, k.seq INTO message_id, chat_id, v_fingerprint, seq
            FROM inbound_keys k WHERE k.channel_id = p_channel_id AND k.key = p_key;
        duplicate := true;
        same_request := v_fingerprint IS NULL OR v_fingerprint = p_fingerprint;
        SELECT c.contact_id, c.routed_seq >= seq INTO contact_id, routed FROM chats c WHERE c.id = chat_id;
        SELECT m.conversation_number INTO conversation_number FROM messages m WHERE m.id = message_id;
        RETURN;
    END IF;

    SELECT i.contact_id INTO contact_id FROM contact_identities i
        WHERE i.channel_id = p_channel_id AND i.external_id = p_external_id;
    IF FOUND THEN
        UPDATE contacts SET
            name = CASE WHEN p_name <> '' THEN p_name ELSE name END,
            email = CASE WHEN p_email <> '' THEN p_email ELSE email END,
            phone = CASE WHEN p_phone <> '' THEN p_phone ELSE phone END,
            updated_at = now()
        WHERE id = contact_id AND ((p_name <> '' AND name <> p_name) OR (p_email <> '' AND email <> p_email)
            OR (p_phone <> '' AND phone <> p_phone));
    ELSE
        INSERT INTO contacts (name, email, phone) VALUES (p_name, p_email, p_phone) RETURNING id INTO contact_id;
        -- A concurrent first message from the same sender may have created the identity: keep theirs.
        INSERT INTO contact_identities (channel_id, external_id, contact_id) VALUES (p_channel_id, p_external_id, contact_id)
            ON CONFLICT (channel_id, external_id) DO UPDATE SET contact_id = contact_identities.contact_id
            RETURNING contact_identities.contact_id INTO contact_id;
    END IF;

    -- The chat row lock orders the chat's messages: sequence order is commit order.
    INSERT INTO chats AS c (id, channel_id, contact_id, external_id, last_message_at, inbound_seq)
        VALUES (p_chat_id, p_channel_id, contact_id, p_external_id, p_at, 1)
        ON CONFLICT (channel_id, external_id) DO UPDATE
            SET last_message_at = greatest(c.last_message_at, excluded.last_message_at), inbound_seq = c.inbound_seq + 1
        RETURNING c.id, c.inbound_seq INTO chat_id, seq;

    UPDATE inbound_keys k SET chat_id = ingest_inbound.chat_id, seq = ingest_inbound.seq
        WHERE k.channel_id = p_channel_id AND k.key = p_key;
    INSERT INTO messages (id, chat_id, direction, text, attachments, status, kind, created_at)
        VALUES (message_id, chat_id, 'in', p_text, p_attachments, 'received', p_kind, p_at);
    INSERT INTO inbound_outbox (chat_id, seq, message_id, at, button)
        VALUES (chat_id, seq, message_id, p_at, p_button);
    routed := false;
END
$$;
