-- Messenger channels: the platform's credentials (bot token, auth token, app secret, access
-- token…) sealed with the desk's secrets key as one JSON document, apart from the settings any
-- signed-in user may read; the platform's id of each message sent or received, so delivery and
-- read receipts find their message; webhook secrets and channel secrets are sealed from now on
-- (linedesk migrate seals the ones stored before).
ALTER TABLE channels ADD COLUMN credentials bytea;

ALTER TABLE messages ADD COLUMN external_id text;
CREATE INDEX messages_external_id_idx ON messages (chat_id, external_id) WHERE external_id IS NOT NULL;

-- Files from a channel (a client's photo) are stored before their chat exists.
ALTER TABLE files ALTER COLUMN chat_id DROP NOT NULL;
