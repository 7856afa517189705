package inbound

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"github.com/linedesk/linedesk/store"
	"github.com/linedesk/linedesk/store/storetest"
	"github.com/linedesk/linedesk/worker/workertest"
)

func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }

// flakyTemporal refuses the first failures hand-overs, as an unreachable server would.
type flakyTemporal struct {
	client.Client
	failures atomic.Int32
}

func (f *flakyTemporal) SignalWithStartWorkflow(ctx context.Context, id, signal string, arg any, opts client.StartWorkflowOptions,
	wf any, args ...any) (client.WorkflowRun, error) {
	if f.failures.Add(-1) >= 0 {
		return nil, errors.New("connection refused")
	}
	return f.Client.SignalWithStartWorkflow(ctx, id, signal, arg, opts, wf, args...)
}

func setup(t *testing.T) (*store.Store, client.Client, int64) {
	t.Helper()
	st := storetest.NewStore(t)
	tc := workertest.Start(t, st, workertest.Options{})
	ctx := t.Context()
	line, err := st.CreateLine(ctx, store.Line{Name: "Support", LineSettings: store.LineSettings{AutoOpen: true}})
	require.NoError(t, err)
	ch, _, err := st.CreateChannel(ctx, store.Channel{Kind: "api", Name: "API", LineID: line.ID,
		Settings: json.RawMessage(`{"callback_url":"http://127.0.0.1:1/"}`), Enabled: true})
	require.NoError(t, err)
	return st, tc, ch.ID
}

func run(t *testing.T, h *Handoff) {
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { defer close(done); h.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
}

// requireAllOnceInOrder waits until every message is in one conversation, in order, and checks
// nothing was doubled: the conversation counts each as unread once.
func requireAllOnceInOrder(t *testing.T, st *store.Store, ids []uuid.UUID) {
	t.Helper()
	var number int64
	require.Eventually(t, func() bool {
		err := st.Pool().QueryRow(t.Context(), `SELECT coalesce(conversation_number, 0) FROM messages WHERE id = $1`,
			ids[len(ids)-1]).Scan(&number)
		return err == nil && number != 0
	}, 30*time.Second, 20*time.Millisecond)
	require.NotZero(t, number)
	msgs, err := st.ConversationMessages(t.Context(), number)
	require.NoError(t, err)
	require.Len(t, msgs, len(ids))
	for i, m := range msgs {
		require.Equal(t, ids[i], m.ID, "message %d", i)
	}
	c, err := st.ConversationByNumber(t.Context(), number)
	require.NoError(t, err)
	require.Equal(t, len(ids), c.Unread)
	var conversations int
	require.NoError(t, st.Pool().QueryRow(t.Context(), `SELECT count(*) FROM conversations`).Scan(&conversations))
	require.Equal(t, 1, conversations)
}

func accept(t *testing.T, h *Handoff, channelID int64, n int, at time.Time) []uuid.UUID {
	t.Helper()
	var ids []uuid.UUID
	for i := range n {
		a, err := h.Accept(t.Context(), Message{ChannelID: channelID, Key: fmt.Sprint("k-", i), Text: fmt.Sprint("message ", i),
			Contact: Contact{ExternalID: "u-1", Name: "Ann"}, At: at.Add(time.Duration(i) * time.Millisecond)})
		require.NoError(t, err)
		require.False(t, a.Duplicate)
		ids = append(ids, a.MessageID)
	}
	return ids
}

// TestHandOffCrashBetweenSignalAndDelete: the dispatcher dies after the chat accepted a batch but
// before the outbox rows were deleted (here: the first two hand-overs report a failure after
// signalling). The rows are handed over again; the chat applies each message once, in order.
func TestHandOffCrashBetweenSignalAndDelete(t *testing.T) {
	t.Parallel()
	st, tc, channelID := setup(t)
	h := New(st, tc, nil)
	h.Retry, h.Poll = 50*time.Millisecond, 50*time.Millisecond
	var crashes atomic.Int32
	crashes.Store(2)
	h.afterSignal = func(uuid.UUID) error {
		if crashes.Add(-1) >= 0 {
			return errors.New("process killed")
		}
		return nil
	}
	ids := accept(t, h, channelID, 4, time.Now())
	run(t, h)
	var more []uuid.UUID
	for i := range 4 {
		a, err := h.Accept(t.Context(), Message{ChannelID: channelID, Key: fmt.Sprint("later-", i), Text: "later",
			Contact: Contact{ExternalID: "u-1"}, At: time.Now()})
		require.NoError(t, err)
		more = append(more, a.MessageID)
	}
	requireAllOnceInOrder(t, st, append(ids, more...))
	require.Less(t, crashes.Load(), int32(2), "at least one hand-over crashed after signalling")
}

// TestHandOffWhileTemporalIsDown: messages keep being accepted while every hand-over fails; once
// Temporal answers again they all reach their conversation once, in order.
func TestHandOffWhileTemporalIsDown(t *testing.T) {
	t.Parallel()
	st, tc, channelID := setup(t)
	flaky := &flakyTemporal{Client: tc}
	flaky.failures.Store(5)
	h := New(st, flaky, nil)
	h.Retry, h.Poll = 50*time.Millisecond, 50*time.Millisecond
	run(t, h)
	var ids []uuid.UUID
	for i := range 8 {
		a, err := h.Accept(t.Context(), Message{ChannelID: channelID, Key: fmt.Sprint("k-", i), Text: fmt.Sprint(i),
			Contact: Contact{ExternalID: "u-1"}, At: time.Now()})
		require.NoError(t, err)
		ids = append(ids, a.MessageID)
		time.Sleep(20 * time.Millisecond)
	}
	requireAllOnceInOrder(t, st, ids)
	require.Negative(t, flaky.failures.Load(), "hand-overs failed meanwhile")
}

// TestHandOffTwoDispatchers: two processes dispatch the same outbox; each message still reaches
// its conversation once, in order.
func TestHandOffTwoDispatchers(t *testing.T) {
	t.Parallel()
	st, tc, channelID := setup(t)
	a, b := New(st, tc, nil), New(st, tc, nil)
	a.Batch, b.Batch = 2, 3
	a.Poll, b.Poll = 10*time.Millisecond, 10*time.Millisecond
	run(t, a)
	run(t, b)
	var ids []uuid.UUID
	for i := range 20 {
		h := a
		if i%2 == 1 {
			h = b
		}
		acc, err := h.Accept(t.Context(), Message{ChannelID: channelID, Key: fmt.Sprint("k-", i), Text: fmt.Sprint(i),
			Contact: Contact{ExternalID: "u-1"}, At: time.Now()})
		require.NoError(t, err)
		ids = append(ids, acc.MessageID)
	}
	requireAllOnceInOrder(t, st, ids)
}

// TestAcceptRefusesAReusedKey: the same key with another text or another sender is refused.
func TestAcceptRefusesAReusedKey(t *testing.T) {
	t.Parallel()
	st := storetest.NewStore(t)
	ctx := t.Context()
	line, err := st.CreateLine(ctx, store.Line{Name: "Support"})
	require.NoError(t, err)
	ch, _, err := st.CreateChannel(ctx, store.Channel{Kind: "api", Name: "API", LineID: line.ID, Settings: json.RawMessage(`{}`), Enabled: true})
	require.NoError(t, err)
	h := New(st, nil, nil)
	m := Message{ChannelID: ch.ID, Key: "k", Text: "hi", Contact: Contact{ExternalID: "u-1"}, At: time.Now()}
	first, err := h.Accept(ctx, m)
	require.NoError(t, err)
	again, err := h.Accept(ctx, m)
	require.NoError(t, err)
	require.True(t, again.Duplicate)
	require.Equal(t, first.MessageID, again.MessageID)
	other := m
	other.Text = "bye"
	_, err = h.Accept(ctx, other)
	require.ErrorIs(t, err, ErrKeyReused)
	other = m
	other.Contact.ExternalID = "u-2"
	_, err = h.Accept(ctx, other)
	require.ErrorIs(t, err, ErrKeyReused)
}

// TestHandOffAdmitsNewChatsAFewAtATime: with room for two chats whose messages are not routed
// yet, a burst of new chats goes over in turns; every message still reaches its conversation once.
func TestHandOffAdmitsNewChatsAFewAtATime(t *testing.T) {
	t.Parallel()
	st, tc, channelID := setup(t)
	h := New(st, tc, nil)
	h.MaxStarting, h.Poll = 2, 10*time.Millisecond
	var ids []uuid.UUID
	for i := range 8 {
		a, err := h.Accept(t.Context(), Message{ChannelID: channelID, Key: fmt.Sprint("k-", i), Text: "hi",
			Contact: Contact{ExternalID: fmt.Sprint("u-", i)}, At: time.Now()})
		require.NoError(t, err)
		ids = append(ids, a.MessageID)
	}
	n, err := h.dispatch(t.Context())
	require.NoError(t, err)
	require.Equal(t, 8, n)
	require.Len(t, h.starting, 2, "two chats admitted")
	var waiting int
	require.NoError(t, st.Pool().QueryRow(t.Context(), `SELECT count(*) FROM inbound_outbox`).Scan(&waiting))
	require.Equal(t, 6, waiting, "the others wait in the outbox")
	run(t, h)
	require.Eventually(t, func() bool {
		var linked int
		err := st.Pool().QueryRow(t.Context(), `SELECT count(*) FROM messages WHERE id = ANY($1) AND conversation_number IS NOT NULL`, ids).Scan(&linked)
		return err == nil && linked == len(ids)
	}, 30*time.Second, 20*time.Millisecond)
	var conversations int
	require.NoError(t, st.Pool().QueryRow(t.Context(), `SELECT count(*) FROM conversations`).Scan(&conversations))
	require.Equal(t, 8, conversations)
}
