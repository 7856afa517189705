package main

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

// seedConversations writes n queued conversations, each with a contact, a chat and one client
// message, straight into the read model of the channel's line (no workflows: the list is what
// is measured).
func seedConversations(t *testing.T, dbURL string, channel int64, n int) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dbURL)
	require.NoError(t, err)
	defer conn.Close(ctx)
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO contacts (name, email, created_at, updated_at)
		 SELECT 'Клиент ' || g, 'seed' || g || '@example.com', now() - (g || ' minutes')::interval, now()
		 FROM generate_series(1, $1::int) g`, []any{n}},
		{`INSERT INTO chats (id, channel_id, contact_id, external_id, created_at, last_message_at)
		 SELECT gen_random_uuid(), $1, c.id, 'seed-' || c.id, c.created_at, c.created_at
		 FROM contacts c WHERE c.email LIKE 'seed%@example.com'`, []any{channel}},
		{`INSERT INTO conversations (number, chat_id, line_id, channel_id, contact_id, status, participants, title, unread,
		     due_first_response, created_at, last_activity_at)
		 SELECT nextval('conversation_number_seq'), ch.id, l.line_id, $1, ch.contact_id, 'queued', '{}', 'Вопрос', 1,
		     ch.created_at + interval '1 hour', ch.created_at, ch.created_at
		 FROM chats ch, (SELECT line_id FROM channels WHERE id = $1) l WHERE ch.external_id LIKE 'seed-%'`, []any{channel}},
		{`INSERT INTO messages (id, chat_id, conversation_number, direction, text, status, created_at)
		 SELECT gen_random_uuid(), c.chat_id, c.number, 'in', 'Где мой заказ № ' || c.number || '?', 'received', c.created_at
		 FROM conversations c WHERE c.title = 'Вопрос'`, nil},
		{`VACUUM (ANALYZE) contacts, chats, conversations, messages`, nil},
	} {
		_, err := conn.Exec(ctx, q.sql, q.args...)
		require.NoError(t, err, q.sql)
	}
}

// TestConsoleInboxOf10000Conversations measures the inbox over 10,000 open conversations in the
// browser: how long the first page takes, each further page while scrolling down 2,000 rows,
// switching the view (a filter), and the longest main-thread task meanwhile (what a person sees
// as a stall). The figures are logged for docs/benchmarks.md; the test itself only asserts that
// every step completes and the page keeps a bounded number of rows.
func TestConsoleInboxOf10000Conversations(t *testing.T) {
	ctx := browser(t)
	dev, dbURL := devForConsoleOn(t)
	ch := setUpAPIChannel(t, dev.url)
	seedConversations(t, dbURL, ch.id, 10000)

	u := ui{t, ctx}
	u.open(dev.url + "/")
	_, err := chromedp.Run(ctx, chromedp.Evaluate[any](`localStorage.setItem("linedesk.lang", "ru")`))
	require.NoError(t, err)
	signIn(t, ctx, dev.url, "admin@example.com", "admin")
	u.do("inbox", `document.querySelector(".inbox-views") ? "" : "no inbox"`)
	_, err = chromedp.Run(ctx, chromedp.Evaluate[any](`window.__long = []; new PerformanceObserver(l => l.getEntries().forEach(e => __long.push(e.duration))).observe({ type: "longtask", buffered: false }); true`))
	require.NoError(t, err)

	start := time.Now()
	u.open(dev.url + "/inbox?view=all")
	u.do("first page", `document.querySelectorAll(".inbox-table tbody tr[data-number]").length > 0 ? "" : "empty"`)
	firstPage := time.Since(start)
	_, err = chromedp.Run(ctx, chromedp.Evaluate[any](`window.__long = []; new PerformanceObserver(l => l.getEntries().forEach(e => __long.push(e.duration))).observe({ type: "longtask", buffered: false }); true`))
	require.NoError(t, err)

	var pages []time.Duration
	for rows := 100; rows < 2000; rows += 100 {
		t0 := time.Now()
		u.do(fmt.Sprintf("scroll past %d rows", rows), fmt.Sprintf(`(() => {
			const s = document.querySelector(".inbox-scroll"); s.scrollTop = s.scrollHeight;
			const n = +document.querySelector(".inbox-table").getAttribute("aria-rowcount");
			return n > %d ? "" : "rows " + n; })()`, rows))
		pages = append(pages, time.Since(t0))
	}
	drawn, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll(".inbox-table tbody tr[data-number]").length`))
	require.NoError(t, err)
	require.Less(t, drawn, 500, "the page draws only the rows in view, not all 2,000 loaded")

	t0 := time.Now()
	u.do("open the unassigned view", `(() => { const a = document.querySelector('.inbox-views a[href*="view=unassigned"]'); if (!a) return "no link"; a.click(); return ""; })()`)
	u.do("the unassigned view", `location.search.includes("unassigned") && document.querySelectorAll(".inbox-table tbody tr[data-number]").length > 0 ? "" : "not yet"`)
	filter := time.Since(t0)
	longest, err := chromedp.Run(ctx, chromedp.Evaluate[float64](`Math.max(0, ...__long)`))
	require.NoError(t, err)
	slowest := time.Duration(0)
	for _, p := range pages {
		slowest = max(slowest, p)
	}
	t.Logf("inbox over 10,000 conversations: first page %v; %d more pages while scrolling to 2,000 rows, slowest %v; switching view %v; longest main-thread task %.0f ms; rows drawn %d",
		firstPage.Round(time.Millisecond), len(pages), slowest.Round(time.Millisecond), filter.Round(time.Millisecond), longest, drawn)
}
