-- Linked records (issue 12, F105, F106, F111; seed 004): an external app that keeps client data
-- (a CRM, a ticket tracker, an order system). A line links to one; "+Связать" in a conversation
-- creates an item there from the session (a complaint, a ticket, an order) and the conversation
-- keeps the item's id and address. The app's signing secret is sealed at rest.
CREATE TABLE linked_apps (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name              text NOT NULL CHECK (name <> ''),
    create_url        text NOT NULL,
    item_url_template text NOT NULL DEFAULT '',
    kinds             text[] NOT NULL DEFAULT '{}',
    secret            bytea NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX linked_apps_name_key ON linked_apps (lower(name));
-- The lines whose conversations link to the app: a line to one app at most.
CREATE TABLE linked_app_lines (
    line_id bigint PRIMARY KEY REFERENCES lines (id) ON DELETE CASCADE,
    app_id  bigint NOT NULL REFERENCES linked_apps (id) ON DELETE CASCADE
);
CREATE INDEX linked_app_lines_app_idx ON linked_app_lines (app_id);

CREATE TABLE conversation_links (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    conversation_number bigint NOT NULL REFERENCES conversations (number) ON DELETE CASCADE,
    app_id              bigint REFERENCES linked_apps (id) ON DELETE SET NULL,
    app_name            text NOT NULL,
    kind                text NOT NULL,
    external_id         text NOT NULL,
    title               text NOT NULL DEFAULT '',
    url                 text NOT NULL DEFAULT '',
    -- The operator's Idempotency-Key: a retried "+Связать" returns the first item.
    request_key         text,
    created_by          bigint REFERENCES users (id),
    created_at          timestamptz NOT NULL DEFAULT now(),
    UNIQUE (conversation_number, request_key)
);
CREATE INDEX conversation_links_conversation_idx ON conversation_links (conversation_number, id);
