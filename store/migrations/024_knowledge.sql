-- The knowledge base (issue 12, F041; seed 001: "the instruction from the knowledge base helps
-- you solve it"): articles in folders, Markdown bodies, drafts and published ones; a published
-- article may be public, readable by clients (the widget, a link in a reply).
CREATE TABLE kb_folders (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name       text NOT NULL CHECK (name <> ''),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX kb_folders_name_key ON kb_folders (lower(name));

CREATE TABLE kb_articles (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    folder_id  bigint REFERENCES kb_folders (id) ON DELETE SET NULL,
    title      text NOT NULL CHECK (title <> ''),
    body       text NOT NULL DEFAULT '',
    status     text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'published')),
    public     boolean NOT NULL DEFAULT false,
    author_id  bigint REFERENCES users (id),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    -- Russian and English at once, as messages (migration 023); the title weighs more.
    search     tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('russian'::regconfig, title), 'A') || setweight(to_tsvector('russian'::regconfig, body), 'B')) STORED
);
CREATE INDEX kb_articles_search_idx ON kb_articles USING gin (search);
CREATE INDEX kb_articles_folder_idx ON kb_articles (folder_id, title);

-- An article's images are files like attachments, in no chat, readable by anyone holding the
-- link (a public article's readers).
ALTER TABLE files ADD COLUMN public boolean NOT NULL DEFAULT false;
