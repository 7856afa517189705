-- Templates (seed 002), conversations as tasks (seed 001 "tasks on me") and leads (seed 001).

-- Canned replies: the composer finds them by /tag; channel_ids limits where one may be used
-- (empty: every channel). Tags are stored lower-case, so the lookup ignores case.
CREATE TABLE templates (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        text NOT NULL CHECK (name <> ''),
    body        text NOT NULL CHECK (body <> ''),
    tags        text[] NOT NULL DEFAULT '{}',
    channel_ids bigint[] NOT NULL DEFAULT '{}',
    created_by  bigint REFERENCES users (id) ON DELETE SET NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX templates_name_key ON templates (lower(name));

-- A task is either a conversation assigned to its assignee or one a participant was added to;
-- one of each kind per user and conversation.
ALTER TABLE tasks ADD COLUMN kind text NOT NULL DEFAULT 'participant' CHECK (kind IN ('assignment', 'participant'));
ALTER TABLE tasks DROP CONSTRAINT tasks_assignee_id_conversation_number_key;
ALTER TABLE tasks ADD CONSTRAINT tasks_assignee_conversation_kind_key UNIQUE (assignee_id, conversation_number, kind);
CREATE INDEX tasks_open_conversation_idx ON tasks (conversation_number) WHERE done_at IS NULL;
CREATE INDEX tasks_assignee_idx ON tasks (assignee_id, starts_at, id);

-- conversations_tasks keeps assignment tasks equal to the projected conversation: assigning
-- gives the assignee a task, passing the conversation on moves it (the previous holder's open
-- task goes, the new one gets theirs), returning it to the queue takes it away, and closing
-- completes every open task of the conversation, participants' too. A trigger, so every path
-- that writes the projection keeps tasks right in the same commit.
CREATE FUNCTION conversations_tasks() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.status = OLD.status AND NEW.assignee_id IS NOT DISTINCT FROM OLD.assignee_id THEN
        RETURN NULL;
    END IF;
    IF NEW.status = 'closed' THEN
        UPDATE tasks SET done_at = now() WHERE conversation_number = NEW.number AND done_at IS NULL;
        RETURN NULL;
    END IF;
    DELETE FROM tasks WHERE conversation_number = NEW.number AND kind = 'assignment' AND done_at IS NULL
        AND assignee_id IS DISTINCT FROM NEW.assignee_id;
    IF NEW.assignee_id IS NOT NULL AND (TG_OP = 'INSERT' OR NEW.assignee_id IS DISTINCT FROM OLD.assignee_id) THEN
        -- Assigned again after an earlier assignment was completed: the task opens again.
        INSERT INTO tasks (assignee_id, conversation_number, title, starts_at, kind)
        VALUES (NEW.assignee_id, NEW.number, 'Conversation #' || NEW.number, now(), 'assignment')
        ON CONFLICT (assignee_id, conversation_number, kind) DO UPDATE SET done_at = NULL, starts_at = excluded.starts_at
            WHERE tasks.done_at IS NOT NULL;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER conversations_tasks AFTER INSERT OR UPDATE OF status, assignee_id ON conversations
    FOR EACH ROW EXECUTE FUNCTION conversations_tasks();

-- A task taken away is announced to whoever had it, so their list drops it.
CREATE FUNCTION tasks_removed_events() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO events (kind, user_ids, conversation_number, data)
    VALUES ('task.removed', ARRAY[OLD.assignee_id], OLD.conversation_number, jsonb_build_object('id', OLD.id));
    RETURN NULL;
END
$$;
CREATE TRIGGER tasks_removed_events AFTER DELETE ON tasks
    FOR EACH ROW EXECUTE FUNCTION tasks_removed_events();

-- Open conversations already assigned before this migration become their assignees' tasks.
INSERT INTO tasks (assignee_id, conversation_number, title, starts_at, kind)
SELECT assignee_id, number, 'Conversation #' || number, last_activity_at, 'assignment'
FROM conversations WHERE status <> 'closed' AND assignee_id IS NOT NULL
ON CONFLICT DO NOTHING;

-- Leads: one per contact and line for each conversion, with the conversations it came from; a
-- conversation becomes a lead once.
CREATE TABLE leads (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    contact_id bigint NOT NULL REFERENCES contacts (id),
    line_id    bigint NOT NULL REFERENCES lines (id),
    topic      text NOT NULL DEFAULT '',
    created_by bigint REFERENCES users (id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX leads_created_idx ON leads (created_at DESC, id DESC);
CREATE INDEX leads_line_created_idx ON leads (line_id, created_at DESC, id DESC);

CREATE TABLE lead_sources (
    lead_id             bigint NOT NULL REFERENCES leads (id) ON DELETE CASCADE,
    conversation_number bigint NOT NULL UNIQUE REFERENCES conversations (number) ON DELETE CASCADE,
    PRIMARY KEY (lead_id, conversation_number)
);
