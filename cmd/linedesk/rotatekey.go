package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/linedesk/linedesk/secretbox"
	"github.com/linedesk/linedesk/store"
)

// runRotateKey re-seals every secret stored in the database (channels' signing secrets and
// credentials, webhooks' and linked apps' secrets) with LINEDESK_SECRETS_KEY, opening those
// sealed before with any of LINEDESK_SECRETS_OLD_KEYS, in one transaction. It refuses, changing
// nothing, when some value opens with none of the keys. It prints counts and key ids, never a
// secret or a key. Running it again finds everything sealed with the current key and rewrites
// nothing; run with the new key alone, it proves the old keys can go.
func runRotateKey(ctx context.Context, cfg Config, stdout io.Writer) error {
	box, err := secretbox.New(cfg.SecretsKey, cfg.SecretsOldKeys...)
	if err != nil {
		return err
	}
	pool, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer pool.Close()

	fmt.Fprintf(stdout, "Current key %s (LINEDESK_SECRETS_KEY); old keys: %s.\n", secretbox.KeyID(cfg.SecretsKey), oldKeyIDs(cfg.SecretsOldKeys))
	r, err := store.New(pool).WithSecrets(box).RotateSecrets(ctx, cfg.DryRun)
	var refused *store.UnopenableSecretsError
	var pgErr *pgconn.PgError
	switch {
	case errors.As(err, &refused):
		return fmt.Errorf("refused, nothing was changed: %w.\n"+
			"Add the key they were sealed with to LINEDESK_SECRETS_OLD_KEYS; a key's id is the first 8 hex digits of its SHA-256:\n"+
			"  printf %%s \"$KEY\" | base64 -d | sha256sum | cut -c1-8", err)
	case errors.As(err, &pgErr) && pgErr.Code == "42P01": // undefined_table
		return fmt.Errorf("%w\nIs DATABASE_URL linedesk's database, migrated by this version? Run `linedesk migrate` first", err)
	case err != nil:
		return err
	}

	counts := fmt.Sprintf("%d re-sealed from an old key, %d sealed for the first time (stored before sealing existed), %d already sealed with the current key",
		r.Resealed, r.Sealed, r.Current)
	switch {
	case cfg.DryRun:
		fmt.Fprintf(stdout, "Dry run, nothing was changed: every one of the %d stored secrets opens with the keys given.\n"+
			"A rotation would rewrite %d: %s.\n", r.Stored, r.Rewritten(), strings.Replace(counts, "re-sealed", "to re-seal", 1))
	case r.Rewritten() == 0:
		fmt.Fprintf(stdout, "Nothing to do: all %d stored secrets are sealed with the current key.\n", r.Stored)
	default:
		fmt.Fprintf(stdout, "Re-sealed %d of %d stored secrets in one transaction: %s.\n", r.Rewritten(), r.Stored, counts)
	}
	if !cfg.DryRun && len(cfg.SecretsOldKeys) > 0 {
		fmt.Fprintln(stdout, "Every stored secret now opens with LINEDESK_SECRETS_KEY alone. If some api or worker still runs with an old "+
			"LINEDESK_SECRETS_KEY, run this again once all run with the new one: it re-seals what they wrote meanwhile. Then "+
			"`linedesk rotate-key --dry-run` with LINEDESK_SECRETS_OLD_KEYS empty confirms nothing needs the old keys, and they can go "+
			"from every process (links to files signed with them stop working then).")
	}
	return nil
}

// oldKeyIDs names the old keys by id.
func oldKeyIDs(keys [][]byte) string {
	if len(keys) == 0 {
		return "none"
	}
	ids := make([]string, len(keys))
	for i, k := range keys {
		ids[i] = secretbox.KeyID(k)
	}
	return strings.Join(ids, ", ")
}
