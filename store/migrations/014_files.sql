-- Files: what operators attach to replies (and, with the messenger and email channels, what
-- clients send), kept in PostgreSQL beside the messages that link to them, so a backup of the
-- database is a backup of the desk and every api replica serves every file.
CREATE TABLE files (
    id           uuid PRIMARY KEY,
    chat_id      uuid NOT NULL REFERENCES chats (id),
    name         text NOT NULL CHECK (name <> '' AND length(name) <= 255),
    content_type text NOT NULL,
    size         bigint NOT NULL CHECK (size > 0),
    sha256       bytea NOT NULL,
    uploaded_by  bigint REFERENCES users (id),
    created_at   timestamptz NOT NULL DEFAULT now(),
    data         bytea NOT NULL
);
-- Images, archives and PDFs are compressed already: skip TOAST's compression attempt.
ALTER TABLE files ALTER COLUMN data SET STORAGE EXTERNAL;
CREATE INDEX files_chat_id_idx ON files (chat_id);
