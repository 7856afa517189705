package store

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
)

// Contact is a client's profile as the client panel shows it.
type Contact struct {
	ContactRef
	// ProfileURL links to the client's page in the integrator's system.
	ProfileURL string `json:"profile_url"`
	// Timezone is the client's IANA time zone ("" when unknown).
	Timezone string `json:"timezone"`
	// Fields are the custom fields channels sent.
	Fields map[string]string `json:"fields"`
	// Channels are the kinds of the channels the client has written from.
	Channels []string `json:"channels"`
	// Blocked is why the intake takes nothing from the client: "spam" or "blocked" ("" when not).
	Blocked string `json:"blocked"`
	// MergedInto is the contact this one was merged into (then it is kept only for the record).
	MergedInto *int64    `json:"merged_into,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// ContactByID reads a contact's profile; ErrNotFound for an unknown id.
func (s *Store) ContactByID(ctx context.Context, id int64) (Contact, error) {
	var c Contact
	err := s.pool.QueryRow(ctx, `SELECT ct.id, ct.name, ct.email, ct.phone, ct.profile_url, ct.timezone, ct.fields,
			coalesce((SELECT array_agg(DISTINCT ch.kind ORDER BY ch.kind) FROM contact_identities i
				JOIN channels ch ON ch.id = i.channel_id WHERE i.contact_id = ct.id), '{}'),
			ct.blocked_reason, ct.merged_into, ct.created_at, ct.updated_at
		FROM contacts ct WHERE ct.id = $1`, id).
		Scan(&c.ID, &c.Name, &c.Email, &c.Phone, &c.ProfileURL, &c.Timezone, &c.Fields, &c.Channels, &c.Blocked, &c.MergedInto, &c.CreatedAt, &c.UpdatedAt)
	if c.Fields == nil {
		c.Fields = map[string]string{}
	}
	return c, translate(err, "contact")
}

// ContactNeedsName reports whether the contact of a channel identity has no name yet.
func (s *Store) ContactNeedsName(ctx context.Context, channelID int64, externalID string) (bool, error) {
	var need bool
	err := s.pool.QueryRow(ctx, `SELECT k.name = '' FROM contact_identities i JOIN contacts k ON k.id = i.contact_id
		WHERE i.channel_id = $1 AND i.external_id = $2`, channelID, externalID).Scan(&need)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	return need, translate(err, "contact needs name")
}

// NameContact names the contact of a channel identity, if it has no name yet (a name an operator
// or the client gave stays).
func (s *Store) NameContact(ctx context.Context, channelID int64, externalID, name string) error {
	_, err := s.pool.Exec(ctx, `UPDATE contacts k SET name = $3, updated_at = now() FROM contact_identities i
		WHERE i.channel_id = $1 AND i.external_id = $2 AND k.id = i.contact_id AND k.name = ''`, channelID, externalID, name)
	return translate(err, "name contact")
}

// ContactChange is an operator's edit of a client's card; nil fields stay. Fields merge into
// the card's custom fields: a field with "" is removed.
type ContactChange struct {
	Name, Email, Phone *string
	Fields             map[string]string
}

// UpdateContact edits a client's card.
func (s *Store) UpdateContact(ctx context.Context, id int64, ch ContactChange) (Contact, error) {
	set, drop := map[string]string{}, []string{}
	for k, v := range ch.Fields {
		if v == "" {
			drop = append(drop, k)
		} else {
			set[k] = v
		}
	}
	tag, err := s.pool.Exec(ctx, `UPDATE contacts SET name = coalesce($2, name), email = coalesce($3, email), phone = coalesce($4, phone),
		fields = (fields - $6::text[]) || $5::jsonb, updated_at = now() WHERE id = $1`, id, ch.Name, ch.Email, ch.Phone, set, drop)
	if err == nil && tag.RowsAffected() == 0 {
		return Contact{}, ErrNotFound
	}
	if err != nil {
		return Contact{}, translate(err, "update contact")
	}
	return s.ContactByID(ctx, id)
}
