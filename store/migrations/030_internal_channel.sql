-- Internal clients (issue 12, F107, F023; seed 004): employees of chosen groups write to a line
-- from inside linedesk (an internal helpdesk). Such a line has an "internal" channel; its
-- settings name the groups whose members may write (none: every user).
ALTER TABLE channels DROP CONSTRAINT channels_kind_check;
ALTER TABLE channels ADD CONSTRAINT channels_kind_check CHECK (kind IN ('telegram', 'vk', 'viber', 'facebook', 'instagram',
    'whatsapp', 'ok', 'email', 'webchat', 'phone', 'api', 'internal'));
