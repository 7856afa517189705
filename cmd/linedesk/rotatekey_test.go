package main

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/linedesk/linedesk/secretbox"
	"github.com/linedesk/linedesk/store"
	"github.com/linedesk/linedesk/store/storetest"
)

// rotateKeyFixture is a migrated database whose sealed columns each hold a value sealed with
// key: a channel's secret and credentials, a webhook's secret, a linked app's secret.
type rotateKeyFixture struct {
	url       string
	channelID int64
	secret    string // the channel's signing secret, to check it never shows
}

func newRotateKeyFixture(t *testing.T, key []byte) rotateKeyFixture {
	t.Helper()
	ctx := t.Context()
	f := rotateKeyFixture{url: storetest.NewDatabase(t)}
	pool, err := store.Open(ctx, f.url)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	box, err := secretbox.New(key)
	require.NoError(t, err)
	st := store.New(pool).WithSecrets(box)
	line, err := st.CreateLine(ctx, store.Line{Name: "Support"})
	require.NoError(t, err)
	ch, secrets, err := st.CreateChannel(ctx, store.Channel{Kind: "telegram", Name: "Bot", LineID: line.ID, Settings: json.RawMessage(`{}`), Enabled: true})
	require.NoError(t, err)
	f.channelID, f.secret = ch.ID, secrets.Secret
	require.NoError(t, st.SetChannelCredentials(ctx, ch.ID, store.Credentials{"bot_token": "123:plain-bot-token"}))
	_, _, err = st.CreateWebhook(ctx, store.Webhook{URL: "https://example.com/h", Events: []string{"message.created"}, Enabled: true})
	require.NoError(t, err)
	_, _, err = st.SaveLinkedApp(ctx, store.LinkedApp{Name: "CRM", CreateURL: "https://crm.example.com/new",
		ItemURLTemplate: "https://crm.example.com/items/{id}", Kinds: []string{"deal"}})
	require.NoError(t, err)
	return f
}

// rotateKey runs `linedesk rotate-key` with env on top of DATABASE_URL, as main would.
func rotateKey(t *testing.T, dbURL string, env map[string]string, args ...string) (string, error) {
	t.Helper()
	m := map[string]string{"DATABASE_URL": dbURL}
	for k, v := range env {
		m[k] = v
	}
	cfg, err := loadConfig("rotate-key", args, envOf(m), io.Discard)
	require.NoError(t, err)
	var out bytes.Buffer
	err = runRotateKey(t.Context(), cfg, &out)
	return out.String(), err
}

// openWith opens every sealed value of the fixture's database with key alone, as an api or
// worker started with it would: the channel's secret and credentials through the store's
// readers, and every column through a dry-run rotation, which fails on a value key does not open.
func (f rotateKeyFixture) openWith(t *testing.T, key []byte) error {
	t.Helper()
	ctx := t.Context()
	pool, err := store.Open(ctx, f.url)
	require.NoError(t, err)
	defer pool.Close()
	box, err := secretbox.New(key)
	require.NoError(t, err)
	st := store.New(pool).WithSecrets(box)
	if _, err := st.RotateSecrets(ctx, true); err != nil {
		return err
	}
	creds, err := st.ChannelCredentials(ctx, f.channelID)
	if err != nil {
		return err
	}
	require.Equal(t, "123:plain-bot-token", creds["bot_token"])
	secret, err := st.ChannelSecret(ctx, f.channelID)
	if err != nil {
		return err
	}
	require.Equal(t, f.secret, secret)
	return nil
}

// sealedBytes is every sealed column's stored bytes, to tell "nothing changed" exactly.
func sealedBytes(t *testing.T, dbURL string) string {
	t.Helper()
	pool, err := store.Open(t.Context(), dbURL)
	require.NoError(t, err)
	defer pool.Close()
	var all []byte
	require.NoError(t, pool.QueryRow(t.Context(), `SELECT string_agg(v, '|' ORDER BY v) FROM (
		SELECT encode(secret, 'hex') v FROM channels UNION ALL SELECT encode(credentials, 'hex') FROM channels
		UNION ALL SELECT encode(secret, 'hex') FROM webhooks UNION ALL SELECT encode(secret, 'hex') FROM linked_apps) x`).Scan(&all))
	return string(all)
}

// TestRotateKeyFromAToB: secrets sealed with key A; `rotate-key` with B as the key and A as an
// old one re-seals all four, in one transaction, printing counts and key ids but no secret or
// key; afterwards B alone opens everything and A alone nothing; a second run changes nothing.
func TestRotateKeyFromAToB(t *testing.T) {
	t.Parallel()
	keyA, keyB := secretbox.NewKey(), secretbox.NewKey()
	f := newRotateKeyFixture(t, keyA)
	a, b := secretbox.EncodeKey(keyA), secretbox.EncodeKey(keyB)

	out, err := rotateKey(t, f.url, map[string]string{"LINEDESK_SECRETS_KEY": b, "LINEDESK_SECRETS_OLD_KEYS": a}, "--dry-run")
	require.NoError(t, err)
	require.Contains(t, out, "Dry run, nothing was changed: every one of the 4 stored secrets opens")
	require.NoError(t, f.openWith(t, keyA), "the dry run re-sealed")

	out, err = rotateKey(t, f.url, map[string]string{"LINEDESK_SECRETS_KEY": b, "LINEDESK_SECRETS_OLD_KEYS": a})
	require.NoError(t, err)
	t.Log(out)
	require.Contains(t, out, "Current key "+secretbox.KeyID(keyB)+" (LINEDESK_SECRETS_KEY); old keys: "+secretbox.KeyID(keyA)+".")
	require.Contains(t, out, "Re-sealed 4 of 4 stored secrets in one transaction: 4 re-sealed from an old key")
	for _, hidden := range []string{a, b, f.secret, "plain-bot-token"} {
		require.NotContains(t, out, hidden)
	}

	require.NoError(t, f.openWith(t, keyB), "an api or worker with the new key alone opens everything")
	require.ErrorIs(t, f.openWith(t, keyA), secretbox.ErrWrongKey)

	before := sealedBytes(t, f.url)
	out, err = rotateKey(t, f.url, map[string]string{"LINEDESK_SECRETS_KEY": b, "LINEDESK_SECRETS_OLD_KEYS": a})
	require.NoError(t, err)
	require.Contains(t, out, "Nothing to do: all 4 stored secrets are sealed with the current key.")
	out, err = rotateKey(t, f.url, map[string]string{"LINEDESK_SECRETS_KEY": b})
	require.NoError(t, err, "the check before removing the old key: the new one alone")
	require.Contains(t, out, "old keys: none.")
	require.Contains(t, out, "Nothing to do")
	require.Equal(t, before, sealedBytes(t, f.url), "a second run rewrote values")
}

// TestRotateKeyRefusesAWrongOldKey: with an old key that is not A, no secret opens; the command
// refuses, names the values and the key they need, and changes nothing.
func TestRotateKeyRefusesAWrongOldKey(t *testing.T) {
	t.Parallel()
	keyA, keyB, keyC := secretbox.NewKey(), secretbox.NewKey(), secretbox.NewKey()
	f := newRotateKeyFixture(t, keyA)
	before := sealedBytes(t, f.url)

	out, err := rotateKey(t, f.url, map[string]string{"LINEDESK_SECRETS_KEY": secretbox.EncodeKey(keyB),
		"LINEDESK_SECRETS_OLD_KEYS": secretbox.EncodeKey(keyC)})
	require.Error(t, err)
	t.Log(err)
	require.ErrorContains(t, err, "refused, nothing was changed: 4 stored secret(s) open with none of the keys given")
	require.ErrorContains(t, err, "channels.secret of channel ")
	require.ErrorContains(t, err, "sealed with key "+secretbox.KeyID(keyA))
	require.ErrorContains(t, err, "LINEDESK_SECRETS_OLD_KEYS")
	require.NotContains(t, out+err.Error(), f.secret)
	require.Equal(t, before, sealedBytes(t, f.url))
	require.NoError(t, f.openWith(t, keyA), "A still opens everything")

	// Without the old key at all: refused the same way.
	_, err = rotateKey(t, f.url, map[string]string{"LINEDESK_SECRETS_KEY": secretbox.EncodeKey(keyB)})
	require.ErrorContains(t, err, "refused, nothing was changed")
	require.Equal(t, before, sealedBytes(t, f.url))
}

// TestRotateKeyIsOneTransaction: a failure after some values were rewritten (a trigger fails
// the last table's update, as a crash would end the transaction) leaves every value as it was,
// so A still opens all and B none; run again once the fault is gone, the rotation completes.
func TestRotateKeyIsOneTransaction(t *testing.T) {
	t.Parallel()
	keyA, keyB := secretbox.NewKey(), secretbox.NewKey()
	f := newRotateKeyFixture(t, keyA)
	before := sealedBytes(t, f.url)
	pool, err := store.Open(t.Context(), f.url)
	require.NoError(t, err)
	defer pool.Close()
	_, err = pool.Exec(t.Context(), `
		CREATE FUNCTION crash() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'crash mid-rotation'; END $$;
		CREATE TRIGGER crash BEFORE UPDATE ON linked_apps FOR EACH ROW EXECUTE FUNCTION crash();`)
	require.NoError(t, err)

	env := map[string]string{"LINEDESK_SECRETS_KEY": secretbox.EncodeKey(keyB), "LINEDESK_SECRETS_OLD_KEYS": secretbox.EncodeKey(keyA)}
	_, err = rotateKey(t, f.url, env)
	require.ErrorContains(t, err, "crash mid-rotation")
	require.Equal(t, before, sealedBytes(t, f.url), "some values were re-sealed without the others")
	require.NoError(t, f.openWith(t, keyA))

	_, err = pool.Exec(t.Context(), `DROP TRIGGER crash ON linked_apps`)
	require.NoError(t, err)
	out, err := rotateKey(t, f.url, env)
	require.NoError(t, err)
	require.Contains(t, out, "Re-sealed 4 of 4")
	require.NoError(t, f.openWith(t, keyB))
}

// TestRotateKeyConfig: rotate-key needs the database and the new key; old keys are checked.
func TestRotateKeyConfig(t *testing.T) {
	t.Parallel()
	_, err := loadConfig("rotate-key", nil, envOf(map[string]string{"LINEDESK_SECRETS_KEY": ""}), io.Discard)
	require.ErrorContains(t, err, "LINEDESK_SECRETS_KEY is required for linedesk rotate-key")
	require.ErrorContains(t, err, "DATABASE_URL is required for linedesk rotate-key")
	_, err = loadConfig("rotate-key", nil, envOf(map[string]string{"DATABASE_URL": "postgres://x/y", "LINEDESK_SECRETS_OLD_KEYS": "short"}), io.Discard)
	require.ErrorContains(t, err, "LINEDESK_SECRETS_OLD_KEYS: a secrets key is 32 random bytes")
	old := secretbox.EncodeKey(secretbox.NewKey())
	cfg, err := loadConfig("rotate-key", []string{"--dry-run"}, envOf(map[string]string{"DATABASE_URL": "postgres://x/y",
		"LINEDESK_SECRETS_OLD_KEYS": " " + old + " ,"}), io.Discard)
	require.NoError(t, err)
	require.True(t, cfg.DryRun)
	require.Len(t, cfg.SecretsOldKeys, 1)
	_, err = loadConfig("api", []string{"--dry-run"}, envOf(map[string]string{"DATABASE_URL": "postgres://x/y"}), io.Discard)
	require.Error(t, err, "--dry-run is rotate-key's only")

	var stderr bytes.Buffer
	require.Equal(t, 0, run([]string{"help"}, io.Discard, &stderr))
	require.True(t, strings.Contains(stderr.String(), "linedesk rotate-key") && strings.Contains(stderr.String(), "linedesk backup"), stderr.String())
}
