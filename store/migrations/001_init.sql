-- The first linedesk schema: people, configuration, and the conversation read model.

CREATE TABLE users (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email         text NOT NULL CHECK (email <> ''),
    name          text NOT NULL DEFAULT '',
    password_hash text NOT NULL,
    role          text NOT NULL DEFAULT 'operator' CHECK (role IN ('admin', 'supervisor', 'operator')),
    presence      text NOT NULL DEFAULT 'offline' CHECK (presence IN ('online', 'away', 'offline')),
    created_at    timestamptz NOT NULL DEFAULT now(),
    disabled_at   timestamptz
);
CREATE UNIQUE INDEX users_email_key ON users (lower(email));

-- Browser sessions; only a hash of the cookie value is stored.
CREATE TABLE sessions (
    token_hash bytea PRIMARY KEY,
    user_id    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL
);
CREATE INDEX sessions_user_id_idx ON sessions (user_id);

-- API tokens for integrations and scripts; only a hash is stored, the token is shown once.
CREATE TABLE api_tokens (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id      bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         text NOT NULL DEFAULT '',
    token_hash   bytea NOT NULL UNIQUE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    revoked_at   timestamptz
);
CREATE INDEX api_tokens_user_id_idx ON api_tokens (user_id);

CREATE TABLE groups (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name       text NOT NULL UNIQUE CHECK (name <> ''),
    kind       text NOT NULL DEFAULT 'operators' CHECK (kind IN ('operators', 'supervisors')),
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE group_members (
    group_id bigint NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    user_id  bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX group_members_user_id_idx ON group_members (user_id);

-- Regulations (SLA): response and resolution targets plus a business-hours calendar.
CREATE TABLE regulations (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name       text NOT NULL CHECK (name <> ''),
    settings   jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- Lines: who handles a set of channels and how their conversations behave.
CREATE TABLE lines (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name          text NOT NULL CHECK (name <> ''),
    regulation_id bigint REFERENCES regulations (id),
    settings      jsonb NOT NULL DEFAULT '{}',
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE line_groups (
    line_id  bigint NOT NULL REFERENCES lines (id) ON DELETE CASCADE,
    group_id bigint NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    PRIMARY KEY (line_id, group_id)
);

-- Channels: one configured connection to a platform.
CREATE TABLE channels (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind               text NOT NULL CHECK (kind IN ('telegram', 'vk', 'viber', 'facebook', 'instagram',
                                                     'whatsapp', 'ok', 'email', 'webchat', 'phone', 'api')),
    name               text NOT NULL CHECK (name <> ''),
    line_id            bigint NOT NULL REFERENCES lines (id),
    settings           jsonb NOT NULL DEFAULT '{}',
    secret             bytea,
    inbound_token_hash bytea UNIQUE,
    enabled            boolean NOT NULL DEFAULT true,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX channels_line_id_idx ON channels (line_id);

CREATE TABLE contacts (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name       text NOT NULL DEFAULT '',
    email      text NOT NULL DEFAULT '',
    phone      text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- A contact's identities on channels (a telegram id, an email address, a phone number...).
CREATE TABLE contact_identities (
    channel_id  bigint NOT NULL REFERENCES channels (id),
    external_id text NOT NULL,
    contact_id  bigint NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    PRIMARY KEY (channel_id, external_id)
);
CREATE INDEX contact_identities_contact_id_idx ON contact_identities (contact_id);

-- A chat is the persistent thread between one contact and one channel.
CREATE TABLE chats (
    id              uuid PRIMARY KEY,
    channel_id      bigint NOT NULL REFERENCES channels (id),
    contact_id      bigint NOT NULL REFERENCES contacts (id),
    external_id     text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    last_message_at timestamptz,
    UNIQUE (channel_id, external_id)
);
CREATE INDEX chats_contact_id_idx ON chats (contact_id);

-- Conversations: the read model of ConversationWorkflow, written by its projection activities.
CREATE SEQUENCE conversation_number_seq START 1000;
CREATE TABLE conversations (
    number             bigint PRIMARY KEY,
    chat_id            uuid NOT NULL REFERENCES chats (id),
    line_id            bigint NOT NULL REFERENCES lines (id),
    channel_id         bigint NOT NULL REFERENCES channels (id),
    contact_id         bigint NOT NULL REFERENCES contacts (id),
    kind               text NOT NULL DEFAULT 'conversation',
    status             text NOT NULL CHECK (status IN ('queued', 'active', 'paused', 'closed')),
    assignee_id        bigint REFERENCES users (id),
    title              text NOT NULL DEFAULT '',
    type               text NOT NULL DEFAULT '',
    reasons            text[] NOT NULL DEFAULT '{}',
    components         text[] NOT NULL DEFAULT '{}',
    solution           text NOT NULL DEFAULT '',
    close_reason       text NOT NULL DEFAULT '',
    participants       bigint[] NOT NULL DEFAULT '{}',
    opening_key        text UNIQUE,
    merged_reply       text,
    overdue            boolean NOT NULL DEFAULT false,
    client_rating      smallint CHECK (client_rating BETWEEN 1 AND 3),
    csat               smallint CHECK (csat BETWEEN 1 AND 3),
    unread             integer NOT NULL DEFAULT 0,
    due_first_response timestamptz,
    due_next_response  timestamptz,
    due_resolution     timestamptz,
    created_at         timestamptz NOT NULL,
    last_activity_at   timestamptz NOT NULL,
    closed_at          timestamptz,
    -- The workflow's own sequence number of this projection, so a late retry never overwrites newer state.
    revision           bigint NOT NULL DEFAULT 0
);
CREATE INDEX conversations_chat_id_idx ON conversations (chat_id);
CREATE INDEX conversations_status_created_idx ON conversations (status, created_at DESC, number DESC);
CREATE INDEX conversations_assignee_idx ON conversations (assignee_id, status, last_activity_at DESC)
    WHERE assignee_id IS NOT NULL;
CREATE INDEX conversations_line_idx ON conversations (line_id, status, created_at DESC);
CREATE INDEX conversations_created_idx ON conversations (created_at DESC, number DESC);
CREATE INDEX conversations_activity_idx ON conversations (last_activity_at DESC, number DESC);
CREATE INDEX conversations_due_idx ON conversations (least(due_first_response, due_next_response, due_resolution), number);

-- The conversation's timeline as its workflow recorded it: who did what, when, which timer fired.
CREATE TABLE conversation_events (
    number   bigint NOT NULL REFERENCES conversations (number) ON DELETE CASCADE,
    seq      bigint NOT NULL,
    at       timestamptz NOT NULL,
    actor_id bigint,
    kind     text NOT NULL,
    data     jsonb NOT NULL DEFAULT '{}',
    PRIMARY KEY (number, seq)
);

CREATE TABLE messages (
    id                  uuid PRIMARY KEY,
    chat_id             uuid NOT NULL REFERENCES chats (id),
    conversation_number bigint,
    direction           text NOT NULL CHECK (direction IN ('in', 'out', 'note', 'system')),
    author_id           bigint REFERENCES users (id),
    text                text NOT NULL DEFAULT '',
    attachments         jsonb NOT NULL DEFAULT '[]',
    status              text NOT NULL DEFAULT 'received',
    kind                text NOT NULL DEFAULT '',
    buttons             jsonb NOT NULL DEFAULT '[]',
    created_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX messages_chat_created_idx ON messages (chat_id, created_at, id);
CREATE INDEX messages_conversation_idx ON messages (conversation_number, created_at, id)
    WHERE conversation_number IS NOT NULL;

-- Inbound dedupe: one row per (channel, provider event id), so a redelivery never becomes a second
-- message. delivered_at stays NULL until the chat workflow has been signalled.
CREATE TABLE inbound_keys (
    channel_id   bigint NOT NULL REFERENCES channels (id),
    key          text NOT NULL,
    message_id   uuid NOT NULL,
    chat_id      uuid NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    delivered_at timestamptz,
    -- The exact answer given, returned byte for byte to a redelivery (json keeps the text as is).
    response     json,
    PRIMARY KEY (channel_id, key)
);
CREATE INDEX inbound_keys_undelivered_idx ON inbound_keys (created_at) WHERE delivered_at IS NULL;

-- Every attempt to deliver an outbound message to its channel.
CREATE TABLE delivery_attempts (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    message_id  uuid NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    attempt     integer NOT NULL,
    at          timestamptz NOT NULL DEFAULT now(),
    status_code integer,
    error       text NOT NULL DEFAULT ''
);
CREATE INDEX delivery_attempts_message_idx ON delivery_attempts (message_id, attempt);

-- Personal tasks (seed 003: managers added to a dialog get one).
CREATE TABLE tasks (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    assignee_id         bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    conversation_number bigint REFERENCES conversations (number) ON DELETE CASCADE,
    title               text NOT NULL,
    starts_at           timestamptz NOT NULL,
    created_by          bigint REFERENCES users (id),
    created_at          timestamptz NOT NULL DEFAULT now(),
    done_at             timestamptz,
    UNIQUE (assignee_id, conversation_number)
);

CREATE TABLE notifications (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind       text NOT NULL,
    text       text NOT NULL,
    data       jsonb NOT NULL DEFAULT '{}',
    dedupe_key text NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now(),
    read_at    timestamptz
);
CREATE INDEX notifications_user_idx ON notifications (user_id, created_at DESC);

-- Editable texts and lists, one JSON document per key.
CREATE TABLE settings (
    key        text PRIMARY KEY,
    value      jsonb NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
