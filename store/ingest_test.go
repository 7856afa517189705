package store_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/linedesk/linedesk/store"
	"github.com/linedesk/linedesk/store/storetest"
)

// TestIngestNumbersAChatsMessagesInCommitOrder: concurrent messages of one chat get sequence
// numbers 1…n without gaps, each with one outbox row, and the outbox hands them out in that order.
func TestIngestNumbersAChatsMessagesInCommitOrder(t *testing.T) {
	t.Parallel()
	st := storetest.NewStore(t)
	_, ch := fixture(t, st)
	ctx := context.Background()
	const n = 30
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			_, err := st.Ingest(ctx, store.InboundMessage{ChannelID: ch.ID, Key: fmt.Sprint("m", i), Text: fmt.Sprint(i), At: time.Now(),
				Contact: store.InboundContact{ExternalID: "u-1"}})
			require.NoError(t, err)
		})
	}
	wg.Wait()
	rows, err := st.ClaimOutbox(ctx, 100, time.Minute)
	require.NoError(t, err)
	require.Len(t, rows, n)
	for i, r := range rows {
		require.Equal(t, int64(i+1), r.Seq, "sequence numbers follow the outbox order")
		require.Equal(t, ch.ID, r.ChannelID)
	}
	again, err := st.ClaimOutbox(ctx, 100, time.Minute)
	require.NoError(t, err)
	require.Empty(t, again, "claimed rows are not handed out twice during their lease")

	ids := []int64{rows[0].ID, rows[1].ID}
	require.NoError(t, st.ReleaseOutbox(ctx, ids, 0))
	released, err := st.ClaimOutbox(ctx, 100, time.Minute)
	require.NoError(t, err)
	require.Len(t, released, 2, "released rows are handed out again")
	require.NoError(t, st.DeleteOutbox(ctx, ids))
	require.NoError(t, st.ReleaseOutbox(ctx, ids, 0))
	gone, err := st.ClaimOutbox(ctx, 100, time.Minute)
	require.NoError(t, err)
	require.Empty(t, gone)
}

// TestIngestTellsAReusedKeyFromARedelivery: the same key with the same request is a duplicate of
// the first message; with another one it is reported, and neither stores anything.
func TestIngestTellsAReusedKeyFromARedelivery(t *testing.T) {
	t.Parallel()
	st := storetest.NewStore(t)
	_, ch := fixture(t, st)
	ctx := context.Background()
	msg := store.InboundMessage{ChannelID: ch.ID, Key: "k", Fingerprint: []byte("one"), Text: "hello", At: time.Now(),
		Contact: store.InboundContact{ExternalID: "u-1"}}
	first, err := st.Ingest(ctx, msg)
	require.NoError(t, err)
	require.False(t, first.Duplicate)
	same, err := st.Ingest(ctx, msg)
	require.NoError(t, err)
	require.True(t, same.Duplicate)
	require.True(t, same.SameRequest)
	require.Equal(t, first.MessageID, same.MessageID)
	require.Equal(t, first.Seq, same.Seq)
	msg.Fingerprint, msg.Text = []byte("two"), "another"
	other, err := st.Ingest(ctx, msg)
	require.NoError(t, err)
	require.True(t, other.Duplicate)
	require.False(t, other.SameRequest)
	var messages, outbox int
	require.NoError(t, st.Pool().QueryRow(ctx, `SELECT (SELECT count(*) FROM messages), (SELECT count(*) FROM inbound_outbox)`).Scan(&messages, &outbox))
	require.Equal(t, 1, messages)
	require.Equal(t, 1, outbox)
}

// TestLinkInboundCountsUnreadOnce: linking is the one place that counts client messages as
// unread; a re-applied batch counts nothing again, a message older than the operator's last
// answer is not unread, and an answer resets the count to the messages after it.
func TestLinkInboundCountsUnreadOnce(t *testing.T) {
	t.Parallel()
	st := storetest.NewStore(t)
	line, ch := fixture(t, st)
	ctx := context.Background()
	base := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	var ings []store.Ingested
	for i := range 3 {
		ing, err := st.Ingest(ctx, store.InboundMessage{ChannelID: ch.ID, Key: fmt.Sprint(i), Text: "x", At: base.Add(time.Duration(i) * time.Minute),
			Contact: store.InboundContact{ExternalID: "u-1"}})
		require.NoError(t, err)
		ings = append(ings, ing)
	}
	chat := ings[0].ChatID
	c, err := st.CreateConversation(ctx, store.NewConversation{OpeningKey: "o", ChatID: chat, LineID: line.ID, Kind: "request",
		Status: "queued", OpenedAt: base})
	require.NoError(t, err)
	links := []store.InboundLink{{MessageID: ings[0].MessageID, Conversation: c.Number}, {MessageID: ings[1].MessageID, Conversation: c.Number}}
	require.NoError(t, st.LinkInbound(ctx, chat, 2, links))
	require.NoError(t, st.LinkInbound(ctx, chat, 2, links), "a redelivered batch")
	conv, err := st.ConversationByNumber(ctx, c.Number)
	require.NoError(t, err)
	require.Equal(t, 2, conv.Unread)
	require.True(t, base.Add(time.Minute).Equal(conv.LastActivityAt))
	state, err := st.InboundState(ctx, chat, ings[1].Seq, ings[1].MessageID)
	require.NoError(t, err)
	require.Equal(t, store.InboundState{Routed: true, Conversation: c.Number}, state)
	state, err = st.InboundState(ctx, chat, ings[2].Seq, ings[2].MessageID)
	require.NoError(t, err)
	require.False(t, state.Routed)

	// The operator answers after the second message; the third (older than the answer's commit
	// but newer than the answer) is linked afterwards.
	replied := base.Add(90 * time.Second)
	require.NoError(t, st.ProjectConversation(ctx, store.ConversationProjection{Number: c.Number, Status: "active",
		LastActivity: replied, Revision: 2, RepliedAt: &replied}))
	require.NoError(t, st.LinkInbound(ctx, chat, 3, []store.InboundLink{{MessageID: ings[2].MessageID, Conversation: c.Number}}))
	conv, err = st.ConversationByNumber(ctx, c.Number)
	require.NoError(t, err)
	require.Equal(t, 1, conv.Unread, "only the message after the answer is unread")
	seq, err := st.RoutedSeq(ctx, chat)
	require.NoError(t, err)
	require.Equal(t, int64(3), seq)
}
