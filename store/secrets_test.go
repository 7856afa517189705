package store_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/linedesk/linedesk/blobstore"
	"github.com/linedesk/linedesk/secretbox"
	"github.com/linedesk/linedesk/store"
	"github.com/linedesk/linedesk/store/storetest"
)

// TestSecretsAreSealedAtRest: channel secrets and credentials and webhook secrets are stored
// sealed; values stored before sealing existed are sealed by SealSecrets, and after a key
// rotation it re-seals everything with the new key, so the old one can be retired.
func TestSecretsAreSealedAtRest(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	oldKey := secretbox.NewKey()
	oldBox, err := secretbox.New(oldKey)
	require.NoError(t, err)
	st := storetest.NewStore(t).WithSecrets(oldBox)
	line, err := st.CreateLine(ctx, store.Line{Name: "Support"})
	require.NoError(t, err)
	ch, _, err := st.CreateChannel(ctx, store.Channel{Kind: "telegram", Name: "Bot", LineID: line.ID, Settings: json.RawMessage(`{}`), Enabled: true})
	require.NoError(t, err)
	require.NoError(t, st.SetChannelCredentials(ctx, ch.ID, store.Credentials{"bot_token": "123:plain-bot-token"}))
	_, _, err = st.CreateWebhook(ctx, store.Webhook{URL: "https://example.com/h", Events: []string{"message.created"}, Enabled: true})
	require.NoError(t, err)

	raw := func(sql string) []byte {
		var b []byte
		require.NoError(t, st.Pool().QueryRow(ctx, sql).Scan(&b))
		return b
	}
	for _, v := range [][]byte{raw(`SELECT secret FROM channels`), raw(`SELECT credentials FROM channels`), raw(`SELECT secret FROM webhooks`)} {
		require.False(t, secretbox.Legacy(v), "a secret is stored in the clear: %q", v)
	}
	require.False(t, bytes.Contains(raw(`SELECT credentials FROM channels`), []byte("plain-bot-token")))

	// A value from before sealing: opened as it is, then sealed once.
	_, err = st.Pool().Exec(ctx, `UPDATE channels SET secret = 'ldw_legacy'`)
	require.NoError(t, err)
	got, err := st.ChannelSecret(ctx, ch.ID)
	require.NoError(t, err)
	require.Equal(t, "ldw_legacy", got)
	n, err := st.SealSecrets(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	require.False(t, secretbox.Legacy(raw(`SELECT secret FROM channels`)))
	n, err = st.SealSecrets(ctx)
	require.NoError(t, err)
	require.Zero(t, n, "a second run rewrote sealed values")

	// Rotation: the new key opens everything (through the old one) and SealSecrets re-seals all.
	newBox, err := secretbox.New(secretbox.NewKey(), oldKey)
	require.NoError(t, err)
	rotated := st.WithSecrets(newBox)
	n, err = rotated.SealSecrets(ctx)
	require.NoError(t, err)
	require.Equal(t, 3, n)
	creds, err := rotated.ChannelCredentials(ctx, ch.ID)
	require.NoError(t, err)
	require.Equal(t, "123:plain-bot-token", creds["bot_token"])
	// The old key alone no longer opens them.
	_, err = st.ChannelCredentials(ctx, ch.ID)
	require.True(t, errors.Is(err, secretbox.ErrWrongKey), "%v", err)
}

// TestFilesMoveFromTheDatabaseToTheStorage: a file an older version kept in PostgreSQL reads the
// same before and after MoveFilesToBlobs, which leaves no bytes in the database and moves
// nothing the second time; a new file's bytes go to the storage only.
func TestFilesMoveFromTheDatabaseToTheStorage(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dir := t.TempDir()
	blobs, err := blobstore.NewDir(dir)
	require.NoError(t, err)
	st := storetest.NewStore(t).WithBlobs(blobs)
	id := uuid.New()
	_, err = st.Pool().Exec(ctx, `INSERT INTO files (id, name, content_type, size, sha256, data) VALUES ($1, 'old.txt', 'text/plain', 3, '\x00', 'old')`, id)
	require.NoError(t, err)
	_, data, err := st.FileData(ctx, id)
	require.NoError(t, err)
	require.Equal(t, "old", string(data))
	n, err := st.MoveFilesToBlobs(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	_, data, err = st.FileData(ctx, id)
	require.NoError(t, err)
	require.Equal(t, "old", string(data))
	var inDB int
	require.NoError(t, st.Pool().QueryRow(ctx, `SELECT count(*) FROM files WHERE data IS NOT NULL`).Scan(&inDB))
	require.Zero(t, inDB)
	n, err = st.MoveFilesToBlobs(ctx)
	require.NoError(t, err)
	require.Zero(t, n)

	fresh, err := st.SaveChannelFile(ctx, uuid.New(), "photo.jpg", "image/jpeg", []byte("jpeg"))
	require.NoError(t, err)
	got, err := blobs.Get(ctx, "files/"+fresh.ID.String()[:2]+"/"+fresh.ID.String())
	require.NoError(t, err)
	require.Equal(t, "jpeg", string(got))
	// A store without storage refuses to keep files rather than lose them.
	_, err = store.New(st.Pool()).SaveChannelFile(ctx, uuid.New(), "x", "text/plain", []byte("x"))
	require.ErrorIs(t, err, store.ErrNoStorage)
}

// secretsFixture stores one value in every sealed column under box: a channel's secret and
// credentials, a webhook's secret and a linked app's secret. It returns the channel's id.
func secretsFixture(t *testing.T, st *store.Store) int64 {
	t.Helper()
	ctx := t.Context()
	line, err := st.CreateLine(ctx, store.Line{Name: "Support"})
	require.NoError(t, err)
	ch, _, err := st.CreateChannel(ctx, store.Channel{Kind: "telegram", Name: "Bot", LineID: line.ID, Settings: json.RawMessage(`{}`), Enabled: true})
	require.NoError(t, err)
	require.NoError(t, st.SetChannelCredentials(ctx, ch.ID, store.Credentials{"bot_token": "123:plain-bot-token"}))
	_, _, err = st.CreateWebhook(ctx, store.Webhook{URL: "https://example.com/h", Events: []string{"message.created"}, Enabled: true})
	require.NoError(t, err)
	_, _, err = st.SaveLinkedApp(ctx, store.LinkedApp{Name: "CRM", CreateURL: "https://crm.example.com/new",
		ItemURLTemplate: "https://crm.example.com/items/{id}", Kinds: []string{"deal"}})
	require.NoError(t, err)
	return ch.ID
}

// sealedValues is every sealed column's bytes, to tell "nothing changed" exactly.
func sealedValues(t *testing.T, st *store.Store) []string {
	t.Helper()
	rows, err := st.Pool().Query(t.Context(), `SELECT 'channels.secret ' || id, secret FROM channels
		UNION ALL SELECT 'channels.credentials ' || id, credentials FROM channels
		UNION ALL SELECT 'webhooks.secret ' || id, secret FROM webhooks
		UNION ALL SELECT 'linked_apps.secret ' || id, secret FROM linked_apps ORDER BY 1`)
	require.NoError(t, err)
	var out []string
	for rows.Next() {
		var name string
		var v []byte
		require.NoError(t, rows.Scan(&name, &v))
		out = append(out, name+" "+string(v))
	}
	require.NoError(t, rows.Err())
	return out
}

// TestRotateSecretsReSealsEveryColumnAtOnce: rotating from key A to B (A given as old) re-seals
// all four sealed columns in one go; B alone then opens everything; a second run changes
// nothing; a dry run counts without writing.
func TestRotateSecretsReSealsEveryColumnAtOnce(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	keyA, keyB := secretbox.NewKey(), secretbox.NewKey()
	boxA, err := secretbox.New(keyA)
	require.NoError(t, err)
	st := storetest.NewStore(t).WithSecrets(boxA)
	chID := secretsFixture(t, st)
	before := sealedValues(t, st)

	boxBA, err := secretbox.New(keyB, keyA)
	require.NoError(t, err)
	r, err := st.WithSecrets(boxBA).RotateSecrets(ctx, true)
	require.NoError(t, err)
	require.Equal(t, store.SecretsReport{Stored: 4, Resealed: 4}, r)
	require.Equal(t, before, sealedValues(t, st), "a dry run wrote")

	r, err = st.WithSecrets(boxBA).RotateSecrets(ctx, false)
	require.NoError(t, err)
	require.Equal(t, store.SecretsReport{Stored: 4, Resealed: 4}, r)

	boxB, err := secretbox.New(keyB)
	require.NoError(t, err)
	onlyB := st.WithSecrets(boxB)
	r, err = onlyB.RotateSecrets(ctx, false)
	require.NoError(t, err)
	require.Equal(t, store.SecretsReport{Stored: 4, Current: 4}, r, "B alone opens every value, and a second run rewrites none")
	creds, err := onlyB.ChannelCredentials(ctx, chID)
	require.NoError(t, err)
	require.Equal(t, "123:plain-bot-token", creds["bot_token"])
	_, err = onlyB.ChannelSecret(ctx, chID)
	require.NoError(t, err)
	_, err = st.ChannelSecret(ctx, chID)
	require.ErrorIs(t, err, secretbox.ErrWrongKey, "A alone no longer opens them")
}

// TestRotateSecretsRefusesWhatNoKeyOpens: with a wrong old key nothing opens the stored values;
// the rotation names them (table, row, the key they need) and changes nothing.
func TestRotateSecretsRefusesWhatNoKeyOpens(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	keyA := secretbox.NewKey()
	boxA, err := secretbox.New(keyA)
	require.NoError(t, err)
	st := storetest.NewStore(t).WithSecrets(boxA)
	secretsFixture(t, st)
	before := sealedValues(t, st)

	wrong, err := secretbox.New(secretbox.NewKey(), secretbox.NewKey())
	require.NoError(t, err)
	_, err = st.WithSecrets(wrong).RotateSecrets(ctx, false)
	var refused *store.UnopenableSecretsError
	require.ErrorAs(t, err, &refused)
	require.Len(t, refused.Values, 4)
	require.Equal(t, "channels", refused.Values[0].Table)
	require.Equal(t, secretbox.KeyID(keyA), refused.Values[0].KeyID)
	require.Contains(t, err.Error(), "sealed with key "+secretbox.KeyID(keyA))
	require.NotContains(t, err.Error(), "plain-bot-token")
	require.Equal(t, before, sealedValues(t, st), "a refused rotation changed something")
}

// TestRotateSecretsIsAllOrNothing: when the transaction fails after some values were rewritten
// (here a trigger makes the last table's update fail, as a crash would end it), every value is
// still the one sealed with the old key.
func TestRotateSecretsIsAllOrNothing(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	keyA := secretbox.NewKey()
	boxA, err := secretbox.New(keyA)
	require.NoError(t, err)
	st := storetest.NewStore(t).WithSecrets(boxA)
	secretsFixture(t, st)
	before := sealedValues(t, st)
	_, err = st.Pool().Exec(ctx, `
		CREATE FUNCTION crash() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'crash'; END $$;
		CREATE TRIGGER crash BEFORE UPDATE ON linked_apps FOR EACH ROW EXECUTE FUNCTION crash();`)
	require.NoError(t, err)

	boxBA, err := secretbox.New(secretbox.NewKey(), keyA)
	require.NoError(t, err)
	_, err = st.WithSecrets(boxBA).RotateSecrets(ctx, false)
	require.ErrorContains(t, err, "crash")
	require.Equal(t, before, sealedValues(t, st), "the channels' and webhook's values were rewritten without the linked app's")
}
