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
