-- A contact's profile beyond name, email and phone: a link to their page in the integrator's
-- system, their time zone (operators see the client's local time) and custom fields.
ALTER TABLE contacts
    ADD COLUMN profile_url text NOT NULL DEFAULT '',
    ADD COLUMN timezone text NOT NULL DEFAULT '',
    ADD COLUMN fields jsonb NOT NULL DEFAULT '{}';

-- ingest_inbound with the contact's profile. The fourteen-argument function stays as it was, for
-- messages without a profile and for replicas not yet upgraded; this one runs it and then fills
-- in the profile, in the same transaction, touching the row only when something changes.
CREATE OR REPLACE FUNCTION ingest_inbound(
    p_channel_id bigint, p_key text, p_fingerprint bytea, p_message_id uuid, p_chat_id uuid,
    p_external_id text, p_name text, p_email text, p_phone text,
    p_text text, p_attachments jsonb, p_kind text, p_button text, p_at timestamptz,
    p_profile_url text, p_timezone text, p_fields jsonb,
    OUT message_id uuid, OUT chat_id uuid, OUT contact_id bigint, OUT seq bigint,
    OUT duplicate boolean, OUT same_request boolean, OUT conversation_number bigint, OUT routed boolean)
LANGUAGE plpgsql AS $$
BEGIN
    SELECT i.message_id, i.chat_id, i.contact_id, i.seq, i.duplicate, i.same_request, i.conversation_number, i.routed
        INTO message_id, chat_id, contact_id, seq, duplicate, same_request, conversation_number, routed
        FROM ingest_inbound(p_channel_id, p_key, p_fingerprint, p_message_id, p_chat_id,
            p_external_id, p_name, p_email, p_phone, p_text, p_attachments, p_kind, p_button, p_at) i;
    IF duplicate THEN
        RETURN;
    END IF;
    p_fields := coalesce(p_fields, '{}');
    UPDATE contacts c SET
        profile_url = CASE WHEN p_profile_url <> '' THEN p_profile_url ELSE c.profile_url END,
        timezone = CASE WHEN p_timezone <> '' THEN p_timezone ELSE c.timezone END,
        fields = c.fields || p_fields,
        updated_at = now()
    WHERE c.id = contact_id AND ((p_profile_url <> '' AND c.profile_url <> p_profile_url)
        OR (p_timezone <> '' AND c.timezone <> p_timezone) OR NOT c.fields @> p_fields);
END
$$;
