package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strconv"
	"time"
)

// Q1Result is search over the large seeded read model.
type Q1Result struct {
	Messages int           `json:"seeded_messages"`
	Overall  Throughput    `json:"overall"`
	Queries  []SearchQuery `json:"queries"`
}

// SearchQuery is one kind of search request, with how many hits its first page had.
type SearchQuery struct {
	Name    string  `json:"name"`
	Query   string  `json:"query"`
	Hits    int     `json:"first_page_hits"`
	Latency Latency `json:"latency"`
}

// runQ1 searches the seeded read model as operators do: words found in most messages, in a few
// percent and in one, English and Russian, with filters, conversations and contacts, as the
// admin and as an operator of the line (whose searches carry the lists' scope).
func (b *bench) runQ1(ctx context.Context) error {
	o := b.o
	if _, err := b.seedOnce(ctx); err != nil {
		return err
	}
	operator, err := b.lineOperator(ctx)
	if err != nil {
		return fmt.Errorf("operator: %w", err)
	}
	since := time.Now().UTC().AddDate(0, 0, -30).Format(time.DateOnly)
	line := strconv.FormatInt(b.lineID, 10)
	type query struct {
		name, q string
		rare    bool // the words change with each request (order numbers)
		c       *http.Client
	}
	queries := []query{
		{name: "frequent word (most messages)", q: "q=заказ"},
		{name: "word in a few % of messages", q: "q=промокод"},
		{name: "order number (one message)", rare: true},
		{name: "English word, stemmed", q: "q=refunds"},
		{name: "two words", q: "q=" + url.QueryEscape("курьер адрес")},
		{name: "phrase", q: "q=" + url.QueryEscape(`"заказ доставка"`)},
		{name: "frequent word, closed, last 30 days, line", q: "q=заказ&status=closed&from=" + since + "&line=" + line},
		{name: "rare word, active", q: "q=" + url.QueryEscape("претензия компенсация") + "&status=active"},
		{name: "no such word", q: "q=xyzzy"},
		{name: "frequent word as an operator", q: "q=оплата", c: operator},
		{name: "conversations by title", q: "q=" + url.QueryEscape("возврат") + "&kind=conversations"},
		{name: "contacts by name prefix", q: "q=" + url.QueryEscape("иван") + "&kind=contacts"},
	}
	search := func(ctx context.Context, i, k int) (int, error) {
		q := queries[i]
		qs := q.q
		if q.rare {
			qs = "q=" + strconv.Itoa(100_000+(k*7919)%orderNumbers)
		}
		c := q.c
		if c == nil {
			c = b.api.session
		}
		var page struct {
			Items []struct{} `json:"items"`
		}
		err := b.api.do(ctx, c, http.MethodGet, "/api/v1/search?"+qs, nil, nil, http.StatusOK, &page)
		return len(page.Items), err
	}
	res := &Q1Result{Messages: o.SeedMessages}
	out := make([]SearchQuery, len(queries))
	for i, q := range queries {
		out[i] = SearchQuery{Name: q.name, Query: q.q}
		if q.rare {
			out[i].Query = "q=<one of the order numbers>"
		}
		n, err := search(ctx, i, 1)
		if err != nil {
			return fmt.Errorf("%s: %w", q.name, err)
		}
		out[i].Hits = n
	}
	b.progress("Q1: %d searches, %d at a time", o.ListRequests, o.ListConcurrency)
	recs := make([]*recorder, len(queries))
	for i := range recs {
		recs[i] = &recorder{}
	}
	overall := &recorder{}
	start := time.Now()
	forEach(ctx, o.ListConcurrency, o.ListRequests, 10*time.Minute, func(ctx context.Context, k int) error {
		i := k % len(queries)
		t := time.Now()
		_, err := search(ctx, i, k)
		recs[i].add(time.Since(t), err)
		overall.add(time.Since(t), err)
		return err
	})
	res.Overall = overall.result(time.Since(start))
	for i := range out {
		out[i].Latency = recs[i].result(0).Latency
	}
	res.Queries = out
	b.rep.Q1 = res
	return nil
}

// lineOperator creates an operator of the bench's line (an operator group with the queue) and
// answers a client signed in as them.
func (b *bench) lineOperator(ctx context.Context) (*http.Client, error) {
	email := b.run + "-operator@bench.example"
	password := "bench-" + randomHex(8)
	var u struct {
		User struct {
			ID int64 `json:"id"`
		} `json:"user"`
	}
	if err := b.api.do(ctx, b.api.session, http.MethodPost, "/api/v1/users", map[string]any{"email": email, "name": "Bench operator",
		"role": "operator", "password": password}, nil, http.StatusCreated, &u); err != nil {
		return nil, err
	}
	if err := b.api.do(ctx, b.api.session, http.MethodPost, "/api/v1/groups", map[string]any{"name": "Bench operators " + b.run,
		"kind": "operators", "permissions": []string{"omni", "unassigned_queue"}, "member_ids": []int64{u.User.ID},
		"line_ids": []int64{b.lineID}}, nil, http.StatusCreated, nil); err != nil {
		return nil, err
	}
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Transport: b.api.session.Transport, Timeout: 60 * time.Second}
	if err := b.api.do(ctx, c, http.MethodPost, "/api/v1/auth/login", map[string]string{"email": email, "password": password},
		nil, http.StatusOK, nil); err != nil {
		return nil, err
	}
	return c, nil
}
