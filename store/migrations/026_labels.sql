-- Priority and tags on conversations (issue 12, X01): the desk's own labels, set by operators
-- and used by the lists' filters. The conversation workflow's state does not hold them: nothing
-- it enforces depends on them, so they are written to the read model directly.
ALTER TABLE conversations ADD COLUMN tags text[] NOT NULL DEFAULT '{}';
ALTER TABLE conversations ADD COLUMN priority text NOT NULL DEFAULT 'normal'
    CHECK (priority IN ('low', 'normal', 'high', 'urgent'));
CREATE INDEX conversations_tags_idx ON conversations USING gin (tags);
CREATE INDEX conversations_priority_idx ON conversations (priority, created_at DESC) WHERE priority <> 'normal';
