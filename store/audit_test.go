package store_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/linedesk/linedesk/store"
	"github.com/linedesk/linedesk/store/storetest"
)

// TestAuditLogIsAppendOnly: once written, a record can be neither changed nor removed, even by
// the application's own database user.
func TestAuditLogIsAppendOnly(t *testing.T) {
	t.Parallel()
	st := storetest.NewStore(t)
	ctx := t.Context()
	require.NoError(t, st.Audit(ctx, store.Actor{RemoteAddr: "192.0.2.1"}, store.AuditChange{Entity: store.AuditLine, ID: "1",
		Action: store.AuditCreate, After: map[string]any{"name": "Support"}}))
	for _, sql := range []string{
		`UPDATE audit_log SET action = 'nothing'`,
		`DELETE FROM audit_log`,
		`TRUNCATE audit_log`,
	} {
		_, err := st.Pool().Exec(ctx, sql)
		require.Error(t, err, sql)
		require.Contains(t, err.Error(), "append-only", sql)
	}
	records, err := st.AuditLog(ctx, store.AuditFilter{Limit: 10})
	require.NoError(t, err)
	require.Len(t, records, 1)
	require.Equal(t, store.AuditCreate, records[0].Action)
}

// TestAuditKeepsOnlyChangedFieldsAndHidesSecrets: an update records the changed fields only,
// nested ones field by field; a credential's value never reaches the log; an update that
// changed nothing is not recorded.
func TestAuditKeepsOnlyChangedFieldsAndHidesSecrets(t *testing.T) {
	t.Parallel()
	st := storetest.NewStore(t)
	ctx := t.Context()
	before := map[string]any{"name": "Site", "enabled": true, "updated_at": "2026-12-01T00:00:00Z",
		"settings": map[string]any{"callback_url": "https://a.example/hook", "bot_token": "123:old-secret-value"}}
	after := map[string]any{"name": "Site", "enabled": false, "updated_at": "2026-12-05T00:00:00Z",
		"settings": map[string]any{"callback_url": "https://a.example/hook", "bot_token": "123:new-secret-value"}}
	require.NoError(t, st.Audit(ctx, store.Actor{UserID: 7}, store.AuditChange{Entity: store.AuditChannel, ID: "3",
		Action: store.AuditUpdate, Before: before, After: after}))
	require.NoError(t, st.Audit(ctx, store.Actor{UserID: 7}, store.AuditChange{Entity: store.AuditChannel, ID: "3",
		Action: store.AuditUpdate, Before: after, After: after}))
	require.NoError(t, st.Audit(ctx, store.Actor{UserID: 7}, store.AuditChange{Entity: store.AuditUser, ID: "7",
		Action: store.AuditCreate, After: map[string]any{"email": "a@example.com", "password": "hunter2hunter2"}}))

	records, err := st.AuditLog(ctx, store.AuditFilter{EntityKind: "channel", Limit: 10})
	require.NoError(t, err)
	require.Len(t, records, 1, "the update that changed nothing is not recorded")
	require.JSONEq(t, `{"enabled": true, "settings": {"bot_token": "[hidden]"}}`, string(records[0].Before))
	require.JSONEq(t, `{"enabled": false, "settings": {"bot_token": "changed"}}`, string(records[0].After))

	users, err := st.AuditLog(ctx, store.AuditFilter{EntityKind: "user", EntityID: "7", Limit: 10})
	require.NoError(t, err)
	require.Len(t, users, 1)
	require.Nil(t, users[0].Before)
	require.JSONEq(t, `{"email": "a@example.com", "password": "[hidden]"}`, string(users[0].After))
}

// TestInTxRollsBackEverythingAndNests: a failed transaction leaves nothing behind, a failed
// nested one only undoes itself.
func TestInTxRollsBackEverythingAndNests(t *testing.T) {
	t.Parallel()
	st := storetest.NewStore(t)
	ctx := t.Context()
	boom := errors.New("boom")
	err := st.InTx(ctx, func(tx *store.Store) error {
		if _, err := tx.CreateLine(ctx, store.Line{Name: "Gone"}); err != nil {
			return err
		}
		return boom
	})
	require.ErrorIs(t, err, boom)
	require.NoError(t, st.InTx(ctx, func(tx *store.Store) error {
		if _, err := tx.CreateLine(ctx, store.Line{Name: "Kept"}); err != nil {
			return err
		}
		inner := tx.InTx(ctx, func(tx *store.Store) error {
			if _, err := tx.CreateRegulation(ctx, store.Regulation{Name: "Gone too", Calendar: json.RawMessage(`{}`)}); err != nil {
				return err
			}
			return boom
		})
		require.ErrorIs(t, inner, boom)
		return nil
	}))
	lines, err := st.Lines(ctx)
	require.NoError(t, err)
	require.Len(t, lines, 1)
	require.Equal(t, "Kept", lines[0].Name)
	regs, err := st.Regulations(ctx)
	require.NoError(t, err)
	require.Empty(t, regs)
}
