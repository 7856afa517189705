package store

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	"github.com/jackc/pgx/v5"
)

// What each sealed column holds; a value sealed for one does not open as another.
const (
	purposeChannelSecret      = "channels.secret"
	purposeChannelCredentials = "channels.credentials"
	purposeWebhookSecret      = "webhooks.secret"
	purposeLinkedAppSecret    = "linked_apps.secret"
)

// Credentials are a channel's platform secrets by name (bot_token, auth_token, app_secret,
// access_token…). They are sealed at rest and never leave the store in a Channel.
type Credentials map[string]string

// ChannelCredentials returns a channel's platform credentials (empty when none were set).
func (s *Store) ChannelCredentials(ctx context.Context, id int64) (Credentials, error) {
	var sealed []byte
	err := s.pool.QueryRow(ctx, `SELECT coalesce(credentials, '') FROM channels WHERE id = $1`, id).Scan(&sealed)
	if err != nil {
		return nil, translate(err, "channel credentials")
	}
	return s.openCredentials(sealed)
}

func (s *Store) openCredentials(sealed []byte) (Credentials, error) {
	c := Credentials{}
	if len(sealed) == 0 {
		return c, nil
	}
	plain, err := s.box.Open(purposeChannelCredentials, sealed)
	if err != nil {
		return nil, fmt.Errorf("channel credentials: %w", err)
	}
	if err := json.Unmarshal(plain, &c); err != nil {
		return nil, fmt.Errorf("channel credentials: %w", err)
	}
	return c, nil
}

// ChannelCredentialNames returns, for each of the channels with credentials among ids, the names
// of those credentials (never their values), in one query.
func (s *Store) ChannelCredentialNames(ctx context.Context, ids ...int64) (map[int64][]string, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, credentials FROM channels WHERE id = ANY($1) AND credentials IS NOT NULL AND length(credentials) > 0`, ids)
	if err != nil {
		return nil, translate(err, "channel credential names")
	}
	out := map[int64][]string{}
	for rows.Next() {
		var id int64
		var sealed []byte
		if err := rows.Scan(&id, &sealed); err != nil {
			rows.Close()
			return nil, translate(err, "channel credential names")
		}
		c, err := s.openCredentials(sealed)
		if err != nil {
			rows.Close()
			return nil, err
		}
		out[id] = c.Names()
	}
	return out, translate(rows.Err(), "channel credential names")
}

// Names lists the credentials' names, sorted.
func (c Credentials) Names() []string { return slices.Sorted(maps.Keys(c)) }

// SetChannelCredentials replaces a channel's platform credentials.
func (s *Store) SetChannelCredentials(ctx context.Context, id int64, c Credentials) error {
	var sealed []byte
	if len(c) > 0 {
		plain, err := json.Marshal(c)
		if err != nil {
			return err
		}
		sealed = s.box.Seal(purposeChannelCredentials, plain)
	}
	tag, err := s.pool.Exec(ctx, `UPDATE channels SET credentials = $2, updated_at = now() WHERE id = $1`, id, sealed)
	if err == nil && tag.RowsAffected() == 0 {
		err = pgx.ErrNoRows
	}
	return translate(err, "set channel credentials")
}

// SealSecrets seals every secret stored before sealing existed and re-seals those sealed with
// an older key of the box, so after it the database holds only values the primary key opens.
// It returns how many values it rewrote; running it again rewrites none.
func (s *Store) SealSecrets(ctx context.Context) (int, error) {
	type column struct{ table, column, purpose string }
	n := 0
	for _, c := range []column{{"channels", "secret", purposeChannelSecret}, {"channels", "credentials", purposeChannelCredentials},
		{"webhooks", "secret", purposeWebhookSecret}, {"linked_apps", "secret", purposeLinkedAppSecret}} {
		err := s.InTx(ctx, func(tx *Store) error {
			rows, err := tx.pool.Query(ctx, `SELECT id, `+c.column+` FROM `+c.table+` WHERE `+c.column+` IS NOT NULL AND length(`+c.column+`) > 0 FOR UPDATE`)
			if err != nil {
				return translate(err, "seal secrets")
			}
			type row struct {
				id    int64
				value []byte
			}
			all, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (row, error) {
				var x row
				err := r.Scan(&x.id, &x.value)
				return x, err
			})
			if err != nil {
				return translate(err, "seal secrets")
			}
			for _, x := range all {
				if s.box.SealedWithPrimary(x.value) {
					continue
				}
				plain, err := s.box.Open(c.purpose, x.value)
				if err != nil {
					return fmt.Errorf("%s.%s of %d: %w", c.table, c.column, x.id, err)
				}
				if _, err := tx.pool.Exec(ctx, `UPDATE `+c.table+` SET `+c.column+` = $2 WHERE id = $1`, x.id, s.box.Seal(c.purpose, plain)); err != nil {
					return translate(err, "seal secrets")
				}
				n++
			}
			return nil
		})
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// ChannelWithSecrets returns a channel with its opened signing secret and credentials in one
// query: what a webhook needs to authenticate the platform.
func (s *Store) ChannelWithSecrets(ctx context.Context, id int64) (Channel, string, Credentials, error) {
	var secret, creds []byte
	var c Channel
	var settings []byte
	err := s.pool.QueryRow(ctx, `SELECT `+channelColumns+`, coalesce(secret, ''), coalesce(credentials, '') FROM channels WHERE id = $1`, id).
		Scan(&c.ID, &c.Kind, &c.Name, &c.LineID, &settings, &c.Enabled, &c.CreatedAt, &c.UpdatedAt, &secret, &creds)
	if err != nil {
		return Channel{}, "", nil, translate(err, "channel with secrets")
	}
	c.Settings = settings
	plain, err := s.box.Open(purposeChannelSecret, secret)
	if err != nil {
		return Channel{}, "", nil, fmt.Errorf("channel secret: %w", err)
	}
	cr, err := s.openCredentials(creds)
	if err != nil {
		return Channel{}, "", nil, err
	}
	return c, string(plain), cr, nil
}
