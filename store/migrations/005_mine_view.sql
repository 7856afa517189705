-- The "mine" view (open conversations an operator is assigned to or takes part in) is read in
-- two index walks that each stop after a page: conversations assigned to the user, in the
-- order the view sorts by, and conversations the user takes part in without being assigned.
-- With one OR over both, PostgreSQL walked the global activity index and skipped every newer
-- conversation that was not the user's: fine on a quiet desk, ~100 ms at 100,000 conversations
-- once thousands of newer queued ones lay ahead of them.
DROP INDEX conversations_assignee_idx;
CREATE INDEX conversations_mine_activity_idx ON conversations (assignee_id, last_activity_at DESC, number DESC)
    WHERE status <> 'closed' AND assignee_id IS NOT NULL;
CREATE INDEX conversations_mine_created_idx ON conversations (assignee_id, created_at DESC, number DESC)
    WHERE status <> 'closed' AND assignee_id IS NOT NULL;
-- Participants other than the assignee: few per conversation, so the user's are a short list,
-- read whole; without the pending list (fastupdate) a read never scans unmerged entries.
CREATE INDEX conversations_participating_idx ON conversations USING gin (array_remove(participants, assignee_id))
    WITH (fastupdate = off)
    WHERE status <> 'closed';
