-- The email channel (ARCHITECTURE §4): a mailbox read over IMAP, replies over SMTP.
--
-- A mail chat is one mail thread, not one sender: ingest_inbound takes the chat's external id
-- apart from the sender's (p_chat_external); every other channel passes the sender's id for both.
CREATE OR REPLACE FUNCTION ingest_inbound(
    p_channel_id bigint, p_key text, p_fingerprint bytea, p_message_id uuid, p_chat_id uuid,
    p_external_id text, p_name text, p_email text, p_phone text,
    p_text text, p_attachments jsonb, p_kind text, p_button text, p_at timestamptz,
    p_chat_external text,
    OUT message_id uuid, OUT chat_id uuid, OUT contact_id bigint, OUT seq bigint,
    OUT duplicate boolean, OUT same_request boolean, OUT conversation_number bigint, OUT routed boolean)
LANGUAGE plpgsql AS $$
DECLARE
    v_fingerprint bytea;
    v_turn bigint;
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
    -- Fast path: while the chat's workflow has published a client turn (turn_conversation) and has
    -- routed every numbered message, a text message only joins that conversation: nothing in the
    -- workflow changes, so it takes no sequence number and no outbox row.
    INSERT INTO chats AS c (id, channel_id, contact_id, external_id, last_message_at, inbound_seq)
        VALUES (p_chat_id, p_channel_id, contact_id, p_chat_external, p_at, 1)
        ON CONFLICT (channel_id, external_id) DO UPDATE
            SET last_message_at = greatest(c.last_message_at, excluded.last_message_at),
                inbound_seq = c.inbound_seq +
                    CASE WHEN c.turn_conversation IS NOT NULL AND c.routed_seq = c.inbound_seq AND p_button = '' THEN 0 ELSE 1 END
        RETURNING c.id, c.inbound_seq,
            CASE WHEN c.turn_conversation IS NOT NULL AND c.routed_seq = c.inbound_seq AND p_button = '' THEN c.turn_conversation END
        INTO chat_id, seq, v_turn;

    IF v_turn IS NOT NULL THEN
        seq := 0; -- routed already: sequence 0 counts as routed (routed_seq >= 0)
    END IF;
    UPDATE inbound_keys k SET chat_id = ingest_inbound.chat_id, seq = ingest_inbound.seq
        WHERE k.channel_id = p_channel_id AND k.key = p_key;
    INSERT INTO messages (id, chat_id, conversation_number, direction, text, attachments, status, kind, created_at)
        VALUES (message_id, chat_id, v_turn, 'in', p_text, p_attachments, 'received', p_kind, p_at);
    IF v_turn IS NOT NULL THEN
        -- Counted as store.LinkInbound counts a routed message.
        UPDATE conversations cv SET
            unread = cv.unread + CASE WHEN cv.replied_at IS NULL OR p_at > cv.replied_at THEN 1 ELSE 0 END,
            last_activity_at = greatest(cv.last_activity_at, p_at)
        WHERE cv.number = v_turn;
        routed := true;
        conversation_number := v_turn;
        RETURN;
    END IF;
    INSERT INTO inbound_outbox (chat_id, seq, message_id, at, button)
        VALUES (chat_id, seq, message_id, p_at, p_button);
    routed := false;
END
$$;

CREATE OR REPLACE FUNCTION ingest_inbound(
    p_channel_id bigint, p_key text, p_fingerprint bytea, p_message_id uuid, p_chat_id uuid,
    p_external_id text, p_name text, p_email text, p_phone text,
    p_text text, p_attachments jsonb, p_kind text, p_button text, p_at timestamptz,
    OUT message_id uuid, OUT chat_id uuid, OUT contact_id bigint, OUT seq bigint,
    OUT duplicate boolean, OUT same_request boolean, OUT conversation_number bigint, OUT routed boolean)
LANGUAGE sql AS $$
    SELECT * FROM ingest_inbound(p_channel_id, p_key, p_fingerprint, p_message_id, p_chat_id,
        p_external_id, p_name, p_email, p_phone, p_text, p_attachments, p_kind, p_button, p_at, p_external_id);
$$;

-- A mail thread's subject, shown as its conversations' title while they have none of their own.
ALTER TABLE chats ADD COLUMN subject text NOT NULL DEFAULT '';

-- Every Message-ID the desk met on a channel, received or sent, with the chat of its thread: a
-- reply naming one (In-Reply-To, References) joins that chat, and a mail met again after a
-- UIDVALIDITY change is known by it.
CREATE TABLE mail_ids (
    channel_id bigint NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    header_id  text NOT NULL,
    chat_id    uuid NOT NULL REFERENCES chats (id),
    message_id uuid,
    direction  text NOT NULL CHECK (direction IN ('in', 'out')),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (channel_id, header_id)
);
CREATE INDEX mail_ids_message_id_idx ON mail_ids (message_id);

-- A message that came or went as mail, as mail: its headers, its whole text with the quoted
-- history (the message's own text is without it) and its HTML, sanitised.
CREATE TABLE mails (
    message_id uuid PRIMARY KEY REFERENCES messages (id) ON DELETE CASCADE,
    header_id  text NOT NULL DEFAULT '',
    subject    text NOT NULL DEFAULT '',
    sender     jsonb NOT NULL DEFAULT '{}',
    recipients jsonb NOT NULL DEFAULT '[]',
    cc         jsonb NOT NULL DEFAULT '[]',
    full_text  text NOT NULL DEFAULT '',
    html       text NOT NULL DEFAULT ''
);

-- Automatic mail (auto-replies, bounces, bulk): recorded, never a conversation, never answered.
CREATE TABLE mail_automatic (
    channel_id  bigint NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    key         text NOT NULL,
    reason      text NOT NULL,
    sender      text NOT NULL DEFAULT '',
    subject     text NOT NULL DEFAULT '',
    detail      text NOT NULL DEFAULT '',
    received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (channel_id, key)
);
CREATE INDEX mail_automatic_received_idx ON mail_automatic (channel_id, received_at DESC);

-- Each mailbox's intake: its IMAP cursor (UIDVALIDITY and the last UID handed over; advanced
-- only after the mail before it is stored) and its health.
CREATE TABLE mailbox_state (
    channel_id   bigint PRIMARY KEY REFERENCES channels (id) ON DELETE CASCADE,
    uid_validity bigint NOT NULL DEFAULT 0,
    last_uid     bigint NOT NULL DEFAULT 0,
    backlog      integer NOT NULL DEFAULT 0,
    synced_at    timestamptz,
    last_error   text NOT NULL DEFAULT '',
    error_at     timestamptz,
    resyncs      integer NOT NULL DEFAULT 0
);
