-- Custom attributes on conversations (issue 12, X01): the desk's own keys and values (order
-- number, plan, city…), set by operators and integrators, and filters of the lists; a contact's
-- custom fields (migration 015) filter them too.
ALTER TABLE conversations ADD COLUMN attributes jsonb NOT NULL DEFAULT '{}';
CREATE INDEX conversations_attributes_idx ON conversations USING gin (attributes jsonb_path_ops);
CREATE INDEX contacts_fields_idx ON contacts USING gin (fields jsonb_path_ops);
