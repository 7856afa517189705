-- API tokens may expire and may act with a lower role than their owner's (NULL: the owner's).
ALTER TABLE api_tokens ADD COLUMN expires_at timestamptz;
ALTER TABLE api_tokens ADD COLUMN role text CHECK (role IN ('admin', 'supervisor', 'operator'));
