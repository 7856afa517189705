package store

import (
	"context"
	"time"
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
	Channels  []string  `json:"channels"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// ContactByID reads a contact's profile; ErrNotFound for an unknown id.
func (s *Store) ContactByID(ctx context.Context, id int64) (Contact, error) {
	var c Contact
	err := s.pool.QueryRow(ctx, `SELECT ct.id, ct.name, ct.email, ct.phone, ct.profile_url, ct.timezone, ct.fields,
			coalesce((SELECT array_agg(DISTINCT ch.kind ORDER BY ch.kind) FROM contact_identities i
				JOIN channels ch ON ch.id = i.channel_id WHERE i.contact_id = ct.id), '{}'),
			ct.created_at, ct.updated_at
		FROM contacts ct WHERE ct.id = $1`, id).
		Scan(&c.ID, &c.Name, &c.Email, &c.Phone, &c.ProfileURL, &c.Timezone, &c.Fields, &c.Channels, &c.CreatedAt, &c.UpdatedAt)
	if c.Fields == nil {
		c.Fields = map[string]string{}
	}
	return c, translate(err, "contact")
}
