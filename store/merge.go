package store

import (
	"context"
	"fmt"
)

// AuditContact is a client's card in the audit log (merges).
var AuditContact = auditEntity("contact")

// ErrMergeRefused is a merge that cannot be: a contact with itself, or one merged already.
var ErrMergeRefused = fmt.Errorf("merge refused: %w", ErrInvalid)

// MergeContacts merges the contact from into the contact into, in one transaction: every
// identity, chat, conversation, call and lead of from becomes into's, into's empty fields take
// from's values (custom fields: into's win), a block on either card holds for the kept one, and
// from is marked merged into into.
func (s *Store) MergeContacts(ctx context.Context, into, from int64) (Contact, error) {
	if into == from {
		return Contact{}, fmt.Errorf("a contact cannot be merged with itself: %w", ErrMergeRefused)
	}
	err := s.InTx(ctx, func(tx *Store) error {
		var merged []bool
		rows, err := tx.pool.Query(ctx, `SELECT merged_into IS NOT NULL FROM contacts WHERE id = ANY($1) ORDER BY id FOR UPDATE`, []int64{into, from})
		if err != nil {
			return translate(err, "merge contacts")
		}
		for rows.Next() {
			var m bool
			if err := rows.Scan(&m); err != nil {
				rows.Close()
				return translate(err, "merge contacts")
			}
			merged = append(merged, m)
		}
		rows.Close()
		if len(merged) != 2 {
			return fmt.Errorf("merge contacts: %w", ErrNotFound)
		}
		if merged[0] || merged[1] {
			return fmt.Errorf("a contact was merged already: %w", ErrMergeRefused)
		}
		for _, table := range []string{"contact_identities", "chats", "conversations", "calls", "leads"} {
			if _, err := tx.pool.Exec(ctx, `UPDATE `+table+` SET contact_id = $1 WHERE contact_id = $2`, into, from); err != nil {
				return translate(err, "merge "+table)
			}
		}
		_, err = tx.pool.Exec(ctx, `UPDATE contacts k SET
				name = CASE WHEN k.name = '' THEN f.name ELSE k.name END,
				email = CASE WHEN k.email = '' THEN f.email ELSE k.email END,
				phone = CASE WHEN k.phone = '' THEN f.phone ELSE k.phone END,
				profile_url = CASE WHEN k.profile_url = '' THEN f.profile_url ELSE k.profile_url END,
				timezone = CASE WHEN k.timezone = '' THEN f.timezone ELSE k.timezone END,
				fields = f.fields || k.fields,
				-- A block on either card holds for the client they are.
				blocked_at = coalesce(k.blocked_at, f.blocked_at),
				blocked_reason = CASE WHEN k.blocked_reason <> '' THEN k.blocked_reason ELSE f.blocked_reason END,
				blocked_by = coalesce(k.blocked_by, f.blocked_by),
				updated_at = now()
			FROM contacts f WHERE k.id = $1 AND f.id = $2`, into, from)
		if err != nil {
			return translate(err, "merge contacts")
		}
		_, err = tx.pool.Exec(ctx, `UPDATE contacts SET merged_into = $1, updated_at = now() WHERE id = $2`, into, from)
		return translate(err, "merge contacts")
	})
	if err != nil {
		return Contact{}, err
	}
	return s.ContactByID(ctx, into)
}

// BlockedIdentity is a channel identity of a blocked contact.
type BlockedIdentity struct {
	ChannelID  int64
	ExternalID string
}

// BlockedIdentities lists every identity of the blocked contacts (the intake's list).
func (s *Store) BlockedIdentities(ctx context.Context) ([]BlockedIdentity, error) {
	return queryAll(ctx, s, "blocked identities", `SELECT i.channel_id, i.external_id FROM contacts k
		JOIN contact_identities i ON i.contact_id = k.id WHERE k.blocked_at IS NOT NULL`, func(r rowScanner) (BlockedIdentity, error) {
		var b BlockedIdentity
		err := r.Scan(&b.ChannelID, &b.ExternalID)
		return b, err
	})
}

// BlockContact blocks a contact (reason spam or blocked) or, with reason "", unblocks it.
func (s *Store) BlockContact(ctx context.Context, id int64, reason string, by int64) (Contact, error) {
	tag, err := s.pool.Exec(ctx, `UPDATE contacts SET blocked_at = CASE WHEN $2 = '' THEN NULL ELSE coalesce(blocked_at, now()) END,
		blocked_reason = $2, blocked_by = CASE WHEN $2 = '' THEN NULL ELSE $3::bigint END, updated_at = now() WHERE id = $1`, id, reason, by)
	if err == nil && tag.RowsAffected() == 0 {
		return Contact{}, ErrNotFound
	}
	if err != nil {
		return Contact{}, translate(err, "block contact")
	}
	return s.ContactByID(ctx, id)
}
