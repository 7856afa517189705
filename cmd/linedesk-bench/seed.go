package main

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// S9Result is the conversation list over a large seeded read model.
type S9Result struct {
	Conversations int         `json:"seeded_conversations"`
	Messages      int         `json:"seeded_messages"`
	SeedSeconds   float64     `json:"seed_seconds"`
	Overall       Throughput  `json:"overall"`
	Queries       []ListQuery `json:"queries"`
}

// ListQuery is one kind of list request.
type ListQuery struct {
	Name  string `json:"name"`
	Query string `json:"query"`
	// StatementsPerRequest is the rise of linedesk_sql_statements_total per request, measured
	// over sequential requests (authentication included).
	StatementsPerRequest float64 `json:"statements_per_request"`
	Latency              Latency `json:"latency"`
}

// runS9 seeds conversations and messages with COPY straight into the read model, then reads
// the conversation list as operators do.
func (b *bench) runS9(ctx context.Context) error {
	o := b.o
	seconds, err := b.seedOnce(ctx)
	if err != nil {
		return err
	}
	res := &S9Result{Conversations: o.SeedConversations, Messages: o.SeedMessages, SeedSeconds: seconds}

	queries := []ListQuery{
		{Name: "default", Query: ""},
		{Name: "unassigned", Query: "view=unassigned"},
		{Name: "unassigned by due", Query: "view=unassigned&sort=due"},
		{Name: "mine by activity", Query: "view=mine&sort=activity"},
		{Name: "active by due", Query: "status=active&sort=due"},
		{Name: "line by activity", Query: "line=" + strconv.FormatInt(b.lineID, 10) + "&sort=activity"},
	}
	deep, pages, err := b.deepCursor(ctx, 100)
	if err != nil {
		return err
	}
	if deep != "" {
		queries = append(queries, ListQuery{Name: fmt.Sprintf("default, page %d", pages+1), Query: "cursor=" + url.QueryEscape(deep)})
	}
	get := func(ctx context.Context, q string) error {
		path := "/api/v1/conversations"
		if q != "" {
			path += "?" + q
		}
		return b.api.do(ctx, b.api.session, http.MethodGet, path, nil, nil, http.StatusOK, nil)
	}

	// Statements per request: sequential requests of one kind between two readings of the counter.
	perKind := max(3, min(20, o.ListRequests/len(queries)))
	for i := range queries {
		before, err := b.api.metric(ctx, "linedesk_sql_statements_total")
		if err != nil {
			b.rep.Notes = append(b.rep.Notes, "S9: statements per request not measured: "+err.Error())
			break
		}
		for range perKind {
			if err := get(ctx, queries[i].Query); err != nil {
				return err
			}
		}
		after, err := b.api.metric(ctx, "linedesk_sql_statements_total")
		if err != nil {
			return err
		}
		queries[i].StatementsPerRequest = math.Round((after-before)/float64(perKind)*10) / 10
	}

	b.progress("S9: %d list requests, %d at a time", o.ListRequests, o.ListConcurrency)
	recs := make([]*recorder, len(queries))
	for i := range recs {
		recs[i] = &recorder{}
	}
	overall := &recorder{}
	start := time.Now()
	forEach(ctx, o.ListConcurrency, o.ListRequests, 10*time.Minute, func(ctx context.Context, k int) error {
		i := k % len(queries)
		t := time.Now()
		err := get(ctx, queries[i].Query)
		recs[i].add(time.Since(t), err)
		overall.add(time.Since(t), err)
		return err
	})
	res.Overall = overall.result(time.Since(start))
	for i := range queries {
		queries[i].Latency = recs[i].result(0).Latency
	}
	res.Queries = queries
	b.rep.S9 = res
	return nil
}

// seedOnce seeds the large read model S9 and Q1 share, once a run; it answers how long seeding
// took (0 when it was already there).
func (b *bench) seedOnce(ctx context.Context) (float64, error) {
	if b.seeded != 0 {
		return 0, nil
	}
	ch, err := b.channel(ctx, "Seeded")
	if err != nil {
		return 0, err
	}
	o := b.o
	b.progress("seeding %d conversations and %d messages with COPY", o.SeedConversations, o.SeedMessages)
	t0 := time.Now()
	if err := b.seed(ctx, ch.ID, o.SeedConversations, o.SeedMessages); err != nil {
		return 0, fmt.Errorf("seed: %w", err)
	}
	b.seeded = ch.ID
	return time.Since(t0).Seconds(), nil
}

// deepCursor walks the default list up to pages pages and returns the cursor of the next one.
func (b *bench) deepCursor(ctx context.Context, pages int) (string, int, error) {
	cursor := ""
	walked := 0
	for walked < pages {
		var page struct {
			NextCursor *string `json:"next_cursor"`
		}
		path := "/api/v1/conversations"
		if cursor != "" {
			path += "?cursor=" + url.QueryEscape(cursor)
		}
		if err := b.api.do(ctx, b.api.session, http.MethodGet, path, nil, nil, http.StatusOK, &page); err != nil {
			return "", 0, err
		}
		if page.NextCursor == nil {
			break
		}
		cursor = *page.NextCursor
		walked++
	}
	return cursor, walked, nil
}

// seed writes n conversations with their contacts, identities and chats, and m messages spread
// over them, consistently, with COPY; names, titles and texts come from the corpus. Ids come from the tables' own sequences, so linedesk's
// later inserts never collide with them. Statuses cycle: 30 % queued, 30 % active (assigned to
// the admin), 10 % paused, 30 % closed; creation times spread over the last 90 days.
func (b *bench) seed(ctx context.Context, channelID int64, n, m int) error {
	conn, err := b.st.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	reserve := func(seq string) ([]int64, error) {
		rows, err := conn.Query(ctx, `SELECT nextval(`+seq+`) FROM generate_series(1, $1)`, n)
		if err != nil {
			return nil, err
		}
		return pgx.CollectRows(rows, pgx.RowTo[int64])
	}
	contactIDs, err := reserve(`pg_get_serial_sequence('contacts', 'id')`)
	if err != nil {
		return fmt.Errorf("reserve contact ids: %w", err)
	}
	numbers, err := reserve(`'conversation_number_seq'`)
	if err != nil {
		return fmt.Errorf("reserve conversation numbers: %w", err)
	}
	chatIDs := make([]uuid.UUID, n)
	for i := range chatIDs {
		chatIDs[i] = uuid.Must(uuid.NewV7())
	}
	now := time.Now().UTC()
	span := 90 * 24 * time.Hour
	created := func(i int) time.Time { return now.Add(-span + time.Duration(float64(span)*float64(i)/float64(n))) }
	perConv := func(i int) int { return m/n + btoi(i < m%n) }
	lastActivity := func(i int) time.Time { return created(i).Add(time.Duration(perConv(i)) * time.Minute) }
	ext := func(i int) string { return fmt.Sprintf("%s-s9-%d", b.run, i) }
	text := newCorpus(uint64(n)*31 + uint64(m))

	copyRows := func(table string, cols []string, count int, row func(i int) []any) error {
		i := 0
		_, err := conn.CopyFrom(ctx, pgx.Identifier{table}, cols, pgx.CopyFromFunc(func() ([]any, error) {
			if i == count {
				return nil, nil
			}
			i++
			return row(i - 1), nil
		}))
		if err != nil {
			return fmt.Errorf("copy %s: %w", table, err)
		}
		return nil
	}
	if err := copyRows("contacts", []string{"id", "name", "email", "created_at", "updated_at"}, n, func(i int) []any {
		return []any{contactIDs[i], text.name(), fmt.Sprintf("client%d@example.com", i), created(i), created(i)}
	}); err != nil {
		return err
	}
	if err := copyRows("contact_identities", []string{"channel_id", "external_id", "contact_id"}, n, func(i int) []any {
		return []any{channelID, ext(i), contactIDs[i]}
	}); err != nil {
		return err
	}
	if err := copyRows("chats", []string{"id", "channel_id", "contact_id", "external_id", "created_at", "last_message_at"}, n, func(i int) []any {
		return []any{chatIDs[i], channelID, contactIDs[i], ext(i), created(i), lastActivity(i)}
	}); err != nil {
		return err
	}
	statuses := []string{"queued", "queued", "queued", "active", "active", "active", "paused", "closed", "closed", "closed"}
	if err := copyRows("conversations", []string{"number", "chat_id", "line_id", "channel_id", "contact_id", "status", "assignee_id",
		"participants", "title", "unread", "due_first_response", "due_resolution", "created_at", "last_activity_at", "closed_at"}, n, func(i int) []any {
		status := statuses[i%len(statuses)]
		var assignee *int64
		participants := []int64{}
		var dueFirst, dueResolve, closedAt *time.Time
		unread := 0
		c := created(i)
		switch status {
		case "queued":
			unread = perConv(i)/2 + 1
			d := c.Add(time.Hour)
			dueFirst = &d
		case "active", "paused":
			assignee, participants = &b.adminID, []int64{b.adminID}
		case "closed":
			assignee, participants = &b.adminID, []int64{b.adminID}
			t := lastActivity(i)
			closedAt = &t
		}
		if status != "closed" && i%3 != 0 {
			d := c.Add(24 * time.Hour)
			dueResolve = &d
		}
		return []any{numbers[i], chatIDs[i], b.lineID, channelID, contactIDs[i], status, assignee, participants,
			text.title(), unread, dueFirst, dueResolve, c, lastActivity(i), closedAt}
	}); err != nil {
		return err
	}
	// Messages: each conversation's in turn, alternating client and operator.
	conv, k := 0, 0
	if err := copyRows("messages", []string{"id", "chat_id", "conversation_number", "direction", "author_id", "text", "status", "created_at"}, m, func(int) []any {
		for k >= perConv(conv) {
			conv, k = conv+1, 0
		}
		dir, status := "in", "received"
		var author *int64
		if k%2 == 1 {
			dir, status, author = "out", "delivered", &b.adminID
		}
		at := created(conv).Add(time.Duration(k) * time.Minute)
		row := []any{uuid.Must(uuid.NewV7()), chatIDs[conv], numbers[conv], dir, author,
			text.message(), status, at}
		k++
		return row
	}); err != nil {
		return err
	}
	// What autovacuum does on a live desk after such a load: statistics for the planner and the
	// visibility map for index-only scans, so the list is measured in its steady state.
	if _, err := conn.Exec(ctx, `VACUUM (ANALYZE) contacts, contact_identities, chats, conversations, messages`); err != nil {
		return fmt.Errorf("vacuum: %w", err)
	}
	return nil
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
