-- Blocked contacts (issue 12, X14): an operator blocks a client or marks them as spam; the
-- intake then takes nothing more from any of their identities (the platforms are still answered,
-- so they do not retry).
ALTER TABLE contacts ADD COLUMN blocked_at timestamptz;
ALTER TABLE contacts ADD COLUMN blocked_reason text NOT NULL DEFAULT '' CHECK (blocked_reason IN ('', 'spam', 'blocked'));
ALTER TABLE contacts ADD COLUMN blocked_by bigint REFERENCES users (id);
CREATE INDEX contacts_blocked_idx ON contacts (id) WHERE blocked_at IS NOT NULL;
