package store_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/linedesk/linedesk/store"
	"github.com/linedesk/linedesk/store/storetest"
)

// TestDeletingAWebhookDoesNotFailAnEventBeingWritten: an event written while its webhook is
// being deleted commits, without a delivery for the deleted webhook. Before, the event's
// transaction (a conversation's projection, a message) failed on the delivery's foreign key.
func TestDeletingAWebhookDoesNotFailAnEventBeingWritten(t *testing.T) {
	t.Parallel()
	st := storetest.NewStore(t)
	ctx := t.Context()
	w, _, err := st.CreateWebhook(ctx, store.Webhook{URL: "https://hooks.example.com/in", Events: []string{store.WebhookAllEvents}, Enabled: true})
	require.NoError(t, err)

	del, err := st.Pool().Begin(ctx)
	require.NoError(t, err)
	defer del.Rollback(ctx) //nolint:errcheck // a no-op after Commit
	_, err = del.Exec(ctx, `DELETE FROM webhooks WHERE id = $1`, w.ID)
	require.NoError(t, err)

	// The event's trigger reads the webhook from its snapshot while the delete is uncommitted.
	written := make(chan error, 1)
	go func() {
		_, err := st.Pool().Exec(ctx, `INSERT INTO events (kind, line_id, conversation_number) VALUES ('conversation.opened', 1, 1000)`)
		written <- err
	}()
	select {
	case err := <-written:
		t.Fatalf("the event did not wait for the webhook's delete: %v", err)
	case <-time.After(300 * time.Millisecond):
	}
	require.NoError(t, del.Commit(ctx))
	require.NoError(t, <-written, "the event commits once the webhook is gone")

	var events, deliveries int
	require.NoError(t, st.Pool().QueryRow(ctx, `SELECT (SELECT count(*) FROM events WHERE kind = 'conversation.opened'),
		(SELECT count(*) FROM webhook_deliveries)`).Scan(&events, &deliveries))
	require.Equal(t, 1, events)
	require.Zero(t, deliveries)
}
