package store_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/linedesk/linedesk/store"
	"github.com/linedesk/linedesk/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }

// fixture makes a line and an api channel.
func fixture(t testing.TB, st *store.Store) (store.Line, store.Channel) {
	t.Helper()
	ctx := context.Background()
	line, err := st.CreateLine(ctx, store.Line{Name: "Support", LineSettings: store.LineSettings{AutoOpen: true}})
	require.NoError(t, err)
	ch, _, err := st.CreateChannel(ctx, store.Channel{Kind: "api", Name: "API", LineID: line.ID, Settings: json.RawMessage(`{}`), Enabled: true})
	require.NoError(t, err)
	return line, ch
}

func TestIngestStoresARedeliveredMessageOnce(t *testing.T) {
	t.Parallel()
	st := storetest.NewStore(t)
	_, ch := fixture(t, st)
	msg := store.InboundMessage{ChannelID: ch.ID, Key: "update-77", Text: "hello", At: time.Now(),
		Contact: store.InboundContact{ExternalID: "u-1", Name: "Ann"}}

	results := make([]store.Ingested, 20)
	var wg sync.WaitGroup
	for i := range results {
		wg.Go(func() {
			var err error
			results[i], err = st.Ingest(context.Background(), msg)
			require.NoError(t, err)
		})
	}
	wg.Wait()
	firsts := 0
	for _, r := range results {
		require.Equal(t, results[0].MessageID, r.MessageID)
		require.Equal(t, results[0].ChatID, r.ChatID)
		if !r.Duplicate {
			firsts++
		}
	}
	require.Equal(t, 1, firsts, "exactly one delivery stores the message")
	var n int
	require.NoError(t, st.Pool().QueryRow(context.Background(), `SELECT count(*) FROM messages`).Scan(&n))
	require.Equal(t, 1, n)
}

func TestIngestKeepsOneContactAndChatPerSender(t *testing.T) {
	t.Parallel()
	st := storetest.NewStore(t)
	_, ch := fixture(t, st)
	var wg sync.WaitGroup
	for i := range 10 {
		wg.Go(func() {
			_, err := st.Ingest(context.Background(), store.InboundMessage{ChannelID: ch.ID, Key: fmt.Sprint(i), Text: "x", At: time.Now(),
				Contact: store.InboundContact{ExternalID: "same-sender", Email: "ann@example.com"}})
			require.NoError(t, err)
		})
	}
	wg.Wait()
	var contacts, chats int
	require.NoError(t, st.Pool().QueryRow(context.Background(), `SELECT (SELECT count(DISTINCT contact_id) FROM contact_identities), (SELECT count(*) FROM chats)`).Scan(&contacts, &chats))
	require.Equal(t, 1, contacts)
	require.Equal(t, 1, chats)
}

// openConversations creates n conversations in their own chats; due is each one's first-response
// due time (nil: none).
func openConversations(t testing.TB, st *store.Store, line store.Line, ch store.Channel, dues []*time.Time) []int64 {
	t.Helper()
	ctx := context.Background()
	var numbers []int64
	base := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	for i, due := range dues {
		ing, err := st.Ingest(ctx, store.InboundMessage{ChannelID: ch.ID, Key: fmt.Sprint("k", i), Text: "x", At: base,
			Contact: store.InboundContact{ExternalID: fmt.Sprint("c", i)}})
		require.NoError(t, err)
		c, err := st.CreateConversation(ctx, store.NewConversation{OpeningKey: fmt.Sprint("open", i), ChatID: ing.ChatID, LineID: line.ID,
			Kind: "request", Status: "queued", OpenedAt: base.Add(time.Duration(i) * time.Minute)})
		require.NoError(t, err)
		require.NoError(t, st.LinkInbound(ctx, ing.ChatID, ing.Seq, 0, []store.InboundLink{{MessageID: ing.MessageID, Conversation: c.Number}}))
		require.NoError(t, st.ProjectConversation(ctx, store.ConversationProjection{Number: c.Number, Status: "queued",
			DueFirst: due, LastActivity: base.Add(time.Duration(i) * time.Minute), Revision: 1}))
		numbers = append(numbers, c.Number)
	}
	return numbers
}

func TestProjectionNeverGoesBack(t *testing.T) {
	t.Parallel()
	st := storetest.NewStore(t)
	line, ch := fixture(t, st)
	n := openConversations(t, st, line, ch, []*time.Time{nil})[0]
	ctx := context.Background()
	at := time.Now()
	event := store.ConversationEvent{Seq: 1, At: at, Kind: "taken", Data: json.RawMessage(`{}`)}
	require.NoError(t, st.ProjectConversation(ctx, store.ConversationProjection{Number: n, Status: "closed", LastActivity: at, Revision: 5,
		Events: []store.ConversationEvent{event}}))
	// A late retry of an older revision changes nothing; its events are written once.
	require.NoError(t, st.ProjectConversation(ctx, store.ConversationProjection{Number: n, Status: "active", LastActivity: at, Revision: 4,
		Events: []store.ConversationEvent{event}}))
	c, err := st.ConversationByNumber(ctx, n)
	require.NoError(t, err)
	require.Equal(t, "closed", c.Status)
	events, err := st.ConversationEvents(ctx, n)
	require.NoError(t, err)
	require.Len(t, events, 1)
}

func TestCreateConversationIsIdempotent(t *testing.T) {
	t.Parallel()
	st := storetest.NewStore(t)
	line, ch := fixture(t, st)
	ctx := context.Background()
	ing, err := st.Ingest(ctx, store.InboundMessage{ChannelID: ch.ID, Key: "1", Text: "x", At: time.Now(), Contact: store.InboundContact{ExternalID: "u"}})
	require.NoError(t, err)
	nc := store.NewConversation{OpeningKey: "chat/message:1", ChatID: ing.ChatID, LineID: line.ID, Kind: "request", Status: "queued",
		OpenedAt: time.Now()}
	a, err := st.CreateConversation(ctx, nc)
	require.NoError(t, err)
	b, err := st.CreateConversation(ctx, nc)
	require.NoError(t, err)
	require.Equal(t, a, b, "a retried opening returns the number it allocated")
}

func TestListPagesByDueWithUndatedLast(t *testing.T) {
	t.Parallel()
	st := storetest.NewStore(t)
	line, ch := fixture(t, st)
	at := func(h int) *time.Time { t := time.Date(2026, 11, 3, h, 0, 0, 0, time.UTC); return &t }
	dues := []*time.Time{at(15), nil, at(10), at(12), nil, at(10), at(18)}
	numbers := openConversations(t, st, line, ch, dues)

	got := listAll(t, st, store.ConversationFilter{Sort: "due", Limit: 2})
	want := slices.Clone(numbers)
	sort.SliceStable(want, func(i, j int) bool {
		di, dj := dues[slices.Index(numbers, want[i])], dues[slices.Index(numbers, want[j])]
		switch {
		case di == nil || dj == nil:
			return di != nil && dj == nil
		case !di.Equal(*dj):
			return di.Before(*dj)
		}
		return want[i] < want[j]
	})
	require.Equal(t, want, got)
}

func TestListRejectsAForeignCursor(t *testing.T) {
	t.Parallel()
	st := storetest.NewStore(t)
	_, _, err := st.ListConversations(context.Background(), store.ConversationFilter{Cursor: "not-a-cursor"})
	require.ErrorIs(t, err, store.ErrBadCursor)
}

// BenchmarkListConversations10k reads the operator's list from 10,000 conversations (each with a
// chat, a contact and SLA due times), every view and sort, first pages and pages deeper in.
// It reports p50 and p99 per request besides the mean.
func BenchmarkListConversations10k(b *testing.B) {
	st := seededStore(b)
	ctx := context.Background()
	filters := []store.ConversationFilter{
		{View: "all"}, {View: "unassigned"}, {View: "all", Sort: "activity"}, {View: "unassigned", Sort: "due"},
		{Status: "active", Sort: "due"}, {View: "all", Sort: "due"},
	}
	// Cursors one page deep, so half the requests read past the first page.
	var deep []store.ConversationFilter
	for _, f := range filters {
		f.Limit = 50
		_, next, err := st.ListConversations(ctx, f)
		require.NoError(b, err)
		f.Cursor = next
		deep = append(deep, f)
	}
	durations := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		f := filters[i%len(filters)]
		f.Limit = 50
		if i%2 == 1 {
			f = deep[i%len(deep)]
		}
		t0 := time.Now()
		items, _, err := st.ListConversations(ctx, f)
		durations = append(durations, time.Since(t0))
		if err != nil || len(items) == 0 {
			b.Fatalf("list %+v: %d items, %v", f, len(items), err)
		}
	}
	b.StopTimer()
	slices.Sort(durations)
	b.ReportMetric(float64(durations[len(durations)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(durations[len(durations)*99/100].Microseconds())/1000, "p99-ms")
}

// seededStore holds 10,000 conversations, each with its chat and contact; a quarter in each
// status, 70% with a first-response due time.
func seededStore(b *testing.B) *store.Store {
	st := storetest.NewStore(b)
	line, ch := fixture(b, st)
	ctx := context.Background()
	for _, q := range []string{
		`INSERT INTO contacts (name, email) SELECT 'Contact ' || g, 'c' || g || '@example.com' FROM generate_series(1, 10000) g`,
		`INSERT INTO chats (id, channel_id, contact_id, external_id) SELECT gen_random_uuid(), $1::bigint, c.id, 'ext-' || c.id FROM contacts c`,
		`INSERT INTO conversations (number, chat_id, line_id, channel_id, contact_id, status, created_at, last_activity_at,
				due_first_response, due_resolution, unread)
			SELECT nextval('conversation_number_seq'), x.id, $2::bigint, $1::bigint, x.contact_id, (ARRAY['queued','active','paused','closed'])[1 + x.n % 4],
				now() - x.n * interval '1 minute', now() - x.n * interval '30 seconds',
				CASE WHEN x.n % 10 < 7 THEN now() + (x.n % 480) * interval '1 minute' END, now() + interval '1 day', 1
			FROM (SELECT ch.*, row_number() OVER () AS n FROM chats ch) x`,
		`ANALYZE`,
	} {
		args := []any{ch.ID, line.ID}
		if !strings.Contains(q, "$2") {
			args = args[:1]
		}
		if !strings.Contains(q, "$1") {
			args = nil
		}
		_, err := st.Pool().Exec(ctx, q, args...)
		require.NoError(b, err)
	}
	return st
}

// TestStatementsSentCountsEveryStatement is not parallel: the counter is process-wide.
func TestStatementsSentCountsEveryStatement(t *testing.T) {
	pool := storetest.NewPool(t)
	ctx := t.Context()
	before := store.StatementsSent()
	var one int
	require.NoError(t, pool.QueryRow(ctx, `SELECT 1`).Scan(&one))
	batch := &pgx.Batch{}
	batch.Queue(`SELECT 1`)
	batch.Queue(`SELECT 2`)
	require.NoError(t, pool.SendBatch(ctx, batch).Close())
	require.NoError(t, pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `SELECT 3`)
		return err
	}))
	require.Equal(t, uint64(1+2+3), store.StatementsSent()-before, "a query, a batch of two, and BEGIN, a statement and COMMIT")
}

// The "mine" view lists the user's open conversations: assigned to them (even when a participant
// edit left them out of the participants) or taking part without being assigned; pages by
// cursor across both without repeating or skipping one.
func TestMineListsAssignedAndParticipatingOpenConversations(t *testing.T) {
	t.Parallel()
	st := storetest.NewStore(t)
	line, ch := fixture(t, st)
	ctx := context.Background()
	me, err := st.CreateUser(ctx, store.NewUser{Email: "me@example.com", Name: "Me", Password: "password1"})
	require.NoError(t, err)
	other, err := st.CreateUser(ctx, store.NewUser{Email: "other@example.com", Name: "Other", Password: "password1"})
	require.NoError(t, err)

	numbers := openConversations(t, st, line, ch, make([]*time.Time, 8))
	base := time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)
	project := func(i int, status string, assignee int64, participants ...int64) {
		require.NoError(t, st.ProjectConversation(ctx, store.ConversationProjection{Number: numbers[i], Status: status,
			AssigneeID: assignee, Participants: participants, LastActivity: base.Add(time.Duration(i) * time.Minute), Revision: 2}))
	}
	project(0, "active", me.ID, me.ID)              // assigned
	project(1, "active", other.ID, other.ID)        // someone else's
	project(2, "paused", other.ID, other.ID, me.ID) // taking part
	project(3, "closed", me.ID, me.ID)              // closed: not listed
	project(4, "active", me.ID)                     // assigned, left out of the participants
	project(5, "queued", 0)                         // in the queue
	project(6, "closed", other.ID, other.ID, me.ID) // closed: not listed
	project(7, "active", me.ID, me.ID, other.ID)

	for _, sort := range []string{"activity", "created", "due"} {
		got := listAll(t, st, store.ConversationFilter{View: "mine", UserID: me.ID, Sort: sort, Limit: 1})
		want := []int64{numbers[7], numbers[4], numbers[2], numbers[0]}
		if sort == "due" {
			want = []int64{numbers[0], numbers[2], numbers[4], numbers[7]} // no due times: by number
		}
		require.Equal(t, want, got, "sort %s", sort)
	}
	page, _, err := st.ListConversations(ctx, store.ConversationFilter{View: "mine", UserID: other.ID, Sort: "activity"})
	require.NoError(t, err)
	require.Len(t, page, 3, "the other user's: #1 and #2 (assigned), #7 (taking part)")
}

// listAll reads every page of a list, following the cursors, and returns the numbers in order.
func listAll(t *testing.T, st *store.Store, f store.ConversationFilter) []int64 {
	t.Helper()
	var got []int64
	for {
		page, next, err := st.ListConversations(context.Background(), f)
		require.NoError(t, err)
		for _, c := range page {
			got = append(got, c.Number)
		}
		if next == "" {
			return got
		}
		f.Cursor = next
	}
}

// TestProjectionReportsWhatItChanged: the projection that takes a conversation out of its queue
// tells how long it waited, and one that records an SLA breach names its clock; repeating them
// (a retried or replayed activity, even at once, concurrently) reports nothing again, so the
// metrics count each once.
func TestProjectionReportsWhatItChanged(t *testing.T) {
	t.Parallel()
	st := storetest.NewStore(t)
	line, ch := fixture(t, st)
	n := openConversations(t, st, line, ch, []*time.Time{nil})[0]
	ctx := context.Background()
	_, err := st.Pool().Exec(ctx, `UPDATE conversations SET queued_at = now() - interval '90 seconds' WHERE number = $1`, n)
	require.NoError(t, err)
	at := time.Now()
	take := store.ConversationProjection{Number: n, Status: "active", AssigneeID: 0, LastActivity: at, Revision: 2,
		Events: []store.ConversationEvent{{Seq: 1, At: at, Kind: "taken", Data: json.RawMessage(`{}`)},
			{Seq: 2, At: at, Kind: "sla_breached", Data: json.RawMessage(`{"clock":"first_response"}`)}}}
	results := make(chan store.Projected, 2)
	for range 2 {
		go func() {
			p, err := st.ProjectConversationWaited(ctx, take)
			assert.NoError(t, err)
			results <- p
		}()
	}
	a, b := <-results, <-results
	if a.Waited == 0 {
		a, b = b, a
	}
	require.InDelta(t, 90, a.Waited.Seconds(), 5, "the wait ended by the take")
	require.Equal(t, []string{"first_response"}, a.Breached)
	require.Zero(t, b.Waited, "the concurrent repeat ended no wait")
	require.Empty(t, b.Breached, "nor recorded the breach again")
}
