package store_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

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
