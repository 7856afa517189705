-- When each inbound message entered the hand-off outbox (its transaction's time), so the
-- dispatcher can report the hand-off lag (linedesk_handoff_lag_seconds). Rows written before
-- this migration count from now.
ALTER TABLE inbound_outbox ADD COLUMN queued_at timestamptz NOT NULL DEFAULT now();
