package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/linedesk/linedesk/secretbox"
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

// sealedColumns are every column holding a sealed secret, with the purpose it is sealed for
// and what one of its rows is called in a message. A new sealed column belongs here, so that
// migrate seals it and rotate-key re-seals it.
var sealedColumns = []struct{ table, column, purpose, row string }{
	{"channels", "secret", purposeChannelSecret, "channel"},
	{"channels", "credentials", purposeChannelCredentials, "channel"},
	{"webhooks", "secret", purposeWebhookSecret, "webhook"},
	{"linked_apps", "secret", purposeLinkedAppSecret, "linked app"},
}

// SecretsReport says what a pass over the stored secrets found, and did unless it was a dry run.
type SecretsReport struct {
	Stored   int // non-empty sealed columns in the database
	Current  int // already sealed with the current key: left as they were
	Resealed int // sealed with an older key: sealed again with the current one
	Sealed   int // stored before sealing existed: sealed with the current key
}

// Rewritten is how many values the pass sealed anew.
func (r SecretsReport) Rewritten() int { return r.Resealed + r.Sealed }

// UnopenableSecret is a stored value that none of the store's keys opens. It names the value's
// place and the id of the key it was sealed with, never the value.
type UnopenableSecret struct {
	Table, Column, Row string
	ID                 int64
	// KeyID is the id of the key the value names (secretbox.KeyID), "" when it names none.
	KeyID string
}

// UnopenableSecretsError is RotateSecrets' refusal: some stored values open with none of the
// keys given, so it changed nothing.
type UnopenableSecretsError struct{ Values []UnopenableSecret }

// Unwrap makes the refusal a secretbox.ErrWrongKey.
func (e *UnopenableSecretsError) Unwrap() error { return secretbox.ErrWrongKey }

func (e *UnopenableSecretsError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d stored secret(s) open with none of the keys given: ", len(e.Values))
	for i, v := range e.Values {
		if i == 5 {
			fmt.Fprintf(&b, "; and %d more", len(e.Values)-i)
			break
		}
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "%s.%s of %s %d", v.Table, v.Column, v.Row, v.ID)
		if v.KeyID != "" {
			fmt.Fprintf(&b, " (sealed with key %s)", v.KeyID)
		}
	}
	return b.String()
}

// errDryRun rolls back a dry run's transaction.
var errDryRun = errors.New("dry run")

// SealSecrets seals every secret stored before sealing existed and re-seals those sealed with
// an older key of the box, so after it the database holds only values the primary key opens.
// It returns how many values it rewrote; running it again rewrites none. It is RotateSecrets
// without the report: all or nothing, in one transaction.
func (s *Store) SealSecrets(ctx context.Context) (int, error) {
	r, err := s.RotateSecrets(ctx, false)
	return r.Rewritten(), err
}

// RotateSecrets re-seals with the box's primary key every stored secret sealed with one of its
// older keys, and seals values stored before sealing existed, in one transaction: a crash or an
// error leaves every value as it was, a commit leaves every value sealed with the primary key.
// It first opens every value; when some open with none of the keys it changes nothing and
// returns an *UnopenableSecretsError naming them. The tables holding secrets are locked against
// writes for the transaction, so no value sealed with another key slips in meanwhile. With
// dryRun it checks and counts, then rolls back.
func (s *Store) RotateSecrets(ctx context.Context, dryRun bool) (SecretsReport, error) {
	type value struct {
		col   int
		id    int64
		plain []byte
	}
	var report SecretsReport
	err := s.InTx(ctx, func(tx *Store) error {
		report = SecretsReport{}
		// Waiting behind a long transaction is better reported than endured.
		if _, err := tx.pool.Exec(ctx, `SET LOCAL lock_timeout = '30s'`); err != nil {
			return translate(err, "rotate secrets")
		}
		var tables []string
		for _, c := range sealedColumns {
			if !slices.Contains(tables, c.table) {
				tables = append(tables, c.table)
			}
		}
		// SHARE ROW EXCLUSIVE: others still read (webhooks authenticate, messages go out) but
		// write none of these tables until the commit.
		if _, err := tx.pool.Exec(ctx, `LOCK TABLE `+strings.Join(tables, ", ")+` IN SHARE ROW EXCLUSIVE MODE`); err != nil {
			return translate(err, "lock the tables holding secrets")
		}
		var rewrite []value
		var unopenable []UnopenableSecret
		for i, c := range sealedColumns {
			rows, err := tx.pool.Query(ctx, `SELECT id, `+c.column+` FROM `+c.table+
				` WHERE `+c.column+` IS NOT NULL AND length(`+c.column+`) > 0 ORDER BY id`)
			if err != nil {
				return translate(err, "read secrets")
			}
			var id int64
			var sealed []byte
			_, err = pgx.ForEachRow(rows, []any{&id, &sealed}, func() error {
				report.Stored++
				plain, err := s.box.Open(c.purpose, sealed)
				switch {
				case err != nil:
					unopenable = append(unopenable, UnopenableSecret{Table: c.table, Column: c.column, Row: c.row, ID: id,
						KeyID: secretbox.SealedKeyID(sealed)})
					return nil
				case s.box.SealedWithPrimary(sealed):
					report.Current++
					return nil
				case secretbox.Legacy(sealed):
					report.Sealed++
				default:
					report.Resealed++
				}
				rewrite = append(rewrite, value{col: i, id: id, plain: bytes.Clone(plain)})
				return nil
			})
			if err != nil {
				return translate(err, "read secrets")
			}
		}
		if len(unopenable) > 0 {
			return &UnopenableSecretsError{Values: unopenable}
		}
		if dryRun {
			return errDryRun
		}
		batch := &pgx.Batch{}
		for _, v := range rewrite {
			c := sealedColumns[v.col]
			batch.Queue(`UPDATE `+c.table+` SET `+c.column+` = $2 WHERE id = $1`, v.id, s.box.Seal(c.purpose, v.plain))
		}
		return translate(tx.pool.SendBatch(ctx, batch).Close(), "re-seal secrets")
	})
	if errors.Is(err, errDryRun) {
		err = nil
	}
	if err != nil {
		return SecretsReport{}, err
	}
	return report, nil
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
