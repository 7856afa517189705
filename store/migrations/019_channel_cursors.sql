-- Where a channel that pulls its updates (Telegram long polling; later IMAP) has got to: the
-- platform's cursor, advanced only after the updates before it are stored, so a restart goes on
-- from there and a crash in between repeats updates the inbound dedupe then drops.
CREATE TABLE channel_cursors (
    channel_id bigint PRIMARY KEY REFERENCES channels (id),
    cursor     text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
