package main

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// R1Result is reports over the large seeded read model.
type R1Result struct {
	Conversations int           `json:"seeded_conversations"`
	Messages      int           `json:"seeded_messages"`
	Overall       Throughput    `json:"overall"`
	Queries       []ReportQuery `json:"queries"`
}

// ReportQuery is one kind of report request.
type ReportQuery struct {
	Name    string  `json:"name"`
	Query   string  `json:"query"`
	Bytes   int     `json:"answer_bytes"`
	Latency Latency `json:"latency"`
}

// runR1 asks for the reports a supervisor reads over the seeded read model: the whole 90 days
// (every seeded conversation and the messages behind each one's first reply) by day, by line
// and by operator, the last 30 days, and the dialog report of a week as CSV; one at a time, as
// a supervisor opens them.
func (b *bench) runR1(ctx context.Context) error {
	o := b.o
	if _, err := b.seedOnce(ctx); err != nil {
		return err
	}
	day := func(d int) string { return time.Now().UTC().AddDate(0, 0, d).Format(time.DateOnly) }
	all := "from=" + day(-91) + "&to=" + day(0)
	queries := []ReportQuery{
		{Name: "90 days by day (with backlog)", Query: "/api/v1/reports/conversations?" + all},
		{Name: "90 days by line", Query: "/api/v1/reports/conversations?group=line&" + all},
		{Name: "90 days by operator", Query: "/api/v1/reports/conversations?group=operator&" + all},
		{Name: "30 days of one line by day", Query: "/api/v1/reports/conversations?from=" + day(-30) + "&to=" + day(0) + "&line=" + strconv.FormatInt(b.lineID, 10)},
		{Name: "dialog report of 7 days, CSV", Query: "/api/v1/reports/dialogs?format=csv&from=" + day(-7) + "&to=" + day(0)},
	}
	n := max(2, o.ReportRequests/len(queries))
	b.progress("R1: %d reports of each of %d kinds, one at a time", n, len(queries))
	overall := &recorder{}
	start := time.Now()
	for i := range queries {
		rec := &recorder{}
		for range n {
			var size int
			t := time.Now()
			err := b.api.doRaw(ctx, b.api.session, http.MethodGet, queries[i].Query, http.StatusOK, &size)
			rec.add(time.Since(t), err)
			overall.add(time.Since(t), err)
			if err != nil {
				return fmt.Errorf("%s: %w", queries[i].Name, err)
			}
			queries[i].Bytes = size
		}
		queries[i].Latency = rec.result(0).Latency
	}
	b.rep.R1 = &R1Result{Conversations: o.SeedConversations, Messages: o.SeedMessages, Overall: overall.result(time.Since(start)), Queries: queries}
	return nil
}
