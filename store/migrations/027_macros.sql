-- Macros (issue 12, X15): one click applies several actions to a conversation, in order — take
-- it, tag it, set its priority, reply, add a note, pause or close it.
CREATE TABLE macros (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name       text NOT NULL CHECK (name <> ''),
    actions    jsonb NOT NULL DEFAULT '[]',
    created_by bigint REFERENCES users (id),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX macros_name_key ON macros (lower(name));
