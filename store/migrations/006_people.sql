-- People and permissions (seed 002, "Группы, права доступа"): what each group may do, whether a
-- user is disabled, and one-time links with which a new user chooses a password.
ALTER TABLE groups ADD COLUMN permissions text[] NOT NULL DEFAULT '{}'
    CHECK (permissions <@ ARRAY['omni', 'unassigned_queue', 'omni_settings', 'telephony', 'omni_management',
                                'dialog_settings']::text[]);
ALTER TABLE groups ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();
ALTER TABLE users ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();

-- One-time password links: only a hash of the token is stored; a link works once, until it expires.
CREATE TABLE password_links (
    token_hash bytea PRIMARY KEY,
    user_id    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at    timestamptz
);
CREATE INDEX password_links_user_id_idx ON password_links (user_id);
