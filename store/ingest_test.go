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
	require.NoError(t, st.LinkInbound(ctx, chat, 2, 0, links))
	require.NoError(t, st.LinkInbound(ctx, chat, 2, 0, links), "a redelivered batch")
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
	require.NoError(t, st.LinkInbound(ctx, chat, 3, 0, []store.InboundLink{{MessageID: ings[2].MessageID, Conversation: c.Number}}))
	conv, err = st.ConversationByNumber(ctx, c.Number)
	require.NoError(t, err)
	require.Equal(t, 1, conv.Unread, "only the message after the answer is unread")
	seq, err := st.RoutedSeq(ctx, chat)
	require.NoError(t, err)
	require.Equal(t, int64(3), seq)
}

// TestIngestFastPathWithinAClientTurn: once the chat's workflow has routed every numbered message
// and published an open client turn, a text message joins that conversation in the ingest itself
// (routed at once, unread counted, no sequence number, no outbox row); a button press and any
// message after the turn ends go to the workflow again, and EndTurn finds the first message after
// the answer.
func TestIngestFastPathWithinAClientTurn(t *testing.T) {
	t.Parallel()
	st := storetest.NewStore(t)
	line, ch := fixture(t, st)
	ctx := context.Background()
	base := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	msg := func(key string, at time.Duration) store.InboundMessage {
		return store.InboundMessage{ChannelID: ch.ID, Key: key, Text: key, At: base.Add(at), Contact: store.InboundContact{ExternalID: "u-1"}}
	}
	outbox := func() int {
		var n int
		require.NoError(t, st.Pool().QueryRow(ctx, `SELECT count(*) FROM inbound_outbox`).Scan(&n))
		return n
	}
	first, err := st.Ingest(ctx, msg("m1", 0))
	require.NoError(t, err)
	require.False(t, first.Routed)
	c, err := st.CreateConversation(ctx, store.NewConversation{OpeningKey: "o", ChatID: first.ChatID, LineID: line.ID,
		Kind: "request", Status: "queued", OpenedAt: base})
	require.NoError(t, err)

	// Published but a numbered message is still pending: no fast path yet.
	require.NoError(t, st.LinkInbound(ctx, first.ChatID, 0, c.Number, nil))
	second, err := st.Ingest(ctx, msg("m2", time.Minute))
	require.NoError(t, err)
	require.False(t, second.Routed)
	require.Equal(t, int64(2), second.Seq)
	require.NoError(t, st.LinkInbound(ctx, first.ChatID, 2, c.Number, []store.InboundLink{
		{MessageID: first.MessageID, Conversation: c.Number}, {MessageID: second.MessageID, Conversation: c.Number}}))

	third, err := st.Ingest(ctx, msg("m3", 2*time.Minute))
	require.NoError(t, err)
	require.True(t, third.Routed)
	require.Equal(t, c.Number, third.Conversation)
	require.Zero(t, third.Seq)
	require.Equal(t, 2, outbox(), "the fast path writes no outbox row")
	again, err := st.Ingest(ctx, msg("m3", 2*time.Minute))
	require.NoError(t, err)
	require.True(t, again.Duplicate && again.Routed)
	require.Equal(t, c.Number, again.Conversation)
	conv, err := st.ConversationByNumber(ctx, c.Number)
	require.NoError(t, err)
	require.Equal(t, 3, conv.Unread)
	require.True(t, base.Add(2*time.Minute).Equal(conv.LastActivityAt))

	button := msg("b1", 3*time.Minute)
	button.Button = "csat:1:3"
	pressed, err := st.Ingest(ctx, button)
	require.NoError(t, err)
	require.False(t, pressed.Routed, "a button press always goes to the workflow")
	require.Equal(t, int64(3), pressed.Seq)
	require.NoError(t, st.LinkInbound(ctx, first.ChatID, 3, c.Number, []store.InboundLink{{MessageID: pressed.MessageID}}))

	// The operator answered at +90s: m3 (at +2m) starts the next turn; the fast path stops.
	next, err := st.EndTurn(ctx, first.ChatID, c.Number, base.Add(90*time.Second))
	require.NoError(t, err)
	require.NotNil(t, next)
	require.Equal(t, third.MessageID, next.ID)
	after, err := st.Ingest(ctx, msg("m4", 4*time.Minute))
	require.NoError(t, err)
	require.False(t, after.Routed)
	require.Equal(t, int64(4), after.Seq)
	none, err := st.EndTurn(ctx, first.ChatID, c.Number, base.Add(5*time.Minute))
	require.NoError(t, err)
	require.Nil(t, none)

	// The next turn is published, then the conversation is paused: its projection stops the fast
	// path at once.
	require.NoError(t, st.LinkInbound(ctx, first.ChatID, 4, c.Number, []store.InboundLink{{MessageID: after.MessageID, Conversation: c.Number}}))
	fast, err := st.Ingest(ctx, msg("m5", 6*time.Minute))
	require.NoError(t, err)
	require.True(t, fast.Routed)
	require.NoError(t, st.ProjectConversation(ctx, store.ConversationProjection{Number: c.Number, Status: "paused",
		LastActivity: base.Add(6 * time.Minute), Revision: 3}))
	paused, err := st.Ingest(ctx, msg("m6", 7*time.Minute))
	require.NoError(t, err)
	require.False(t, paused.Routed, "a paused conversation's chat decides where the message goes")
}
