package api_test

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/xuri/excelize/v2"

	"github.com/linedesk/linedesk/store"
)

type reportRowView struct {
	Key           string `json:"key"`
	Label         string `json:"label"`
	Opened        int    `json:"opened"`
	Closed        int    `json:"closed"`
	FirstResponse struct {
		Count  int      `json:"count"`
		Median *float64 `json:"median_seconds"`
		P90    *float64 `json:"p90_seconds"`
	} `json:"first_response"`
	Resolution struct {
		Count  int      `json:"count"`
		Median *float64 `json:"median_seconds"`
		P90    *float64 `json:"p90_seconds"`
	} `json:"resolution"`
	SLAMet      int `json:"sla_met"`
	SLABreached int `json:"sla_breached"`
	CSAT        struct {
		Bad, Normal, Excellent int
		Score                  *float64 `json:"score"`
	} `json:"csat"`
	ClientRatings struct {
		Normal int `json:"normal"`
	} `json:"client_ratings"`
}

// TestReportsCountInTheLinesBusinessHours: the conversations report counts each day, line and
// operator of a period — response and resolution times in the line's business hours, SLA, both
// ratings, the backlog at each day's end — for the lines the supervisor sees, and exports as CSV
// and XLSX; the dialog report lists each conversation with both ratings.
func TestReportsCountInTheLinesBusinessHours(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{})
	res := a.do(a.http, "POST", "/api/v1/regulations", map[string]any{"name": "Office", "first_response_minutes": 60,
		"calendar": map[string]any{"time_zone": "Europe/Moscow", "week": map[string]any{
			"mon": []map[string]string{{"start": "09:00", "end": "18:00"}}, "tue": []map[string]string{{"start": "09:00", "end": "18:00"}},
			"wed": []map[string]string{{"start": "09:00", "end": "18:00"}}}}}, nil)
	require.Equal(t, http.StatusCreated, res.status, res.text)
	var reg struct {
		ID int64 `json:"id"`
	}
	res.json(t, &reg)
	support := a.setupChannel(map[string]any{"name": "Support", "auto_open": true, "regulation_id": reg.ID})
	sales := a.setupChannel(map[string]any{"name": "Sales", "auto_open": true})

	msk, err := time.LoadLocation("Europe/Moscow")
	require.NoError(t, err)
	at := func(day, clock string) time.Time {
		t.Helper()
		v, err := time.ParseInLocation("2006-01-02 15:04", day+" "+clock, msk)
		require.NoError(t, err)
		return v
	}
	pool := a.store.Pool()
	// conversation opens a conversation, answers it (when replied is set) and gives it the times
	// and ratings of the scenario, as the read model would hold them.
	conversation := func(cs channelSetup, who string, opened time.Time, replied, closed *time.Time, csat, rating *int, overdue bool) int64 {
		t.Helper()
		r, in := a.inbound(cs, who, clientText(who, "hello"))
		require.Equal(t, http.StatusAccepted, r.status, r.text)
		n := *in.Conversation
		if replied != nil {
			require.Equal(t, http.StatusOK, a.do(a.http, "POST", fmt.Sprintf("/api/v1/conversations/%d/take", n), nil, nil).status)
			res := a.do(a.http, "POST", fmt.Sprintf("/api/v1/conversations/%d/messages", n), map[string]any{"text": "Looking into it"}, nil)
			require.Equal(t, http.StatusCreated, res.status, res.text)
			_, err := pool.Exec(t.Context(), `UPDATE messages SET created_at = $2 WHERE conversation_number = $1 AND direction = 'out'`, n, *replied)
			require.NoError(t, err)
		}
		status := "queued"
		if replied != nil {
			status = "active"
		}
		if closed != nil {
			status = "closed"
		}
		_, err := pool.Exec(t.Context(), `UPDATE conversations SET created_at = $2, closed_at = $3, status = $4, csat = $5,
			client_rating = $6, overdue = $7 WHERE number = $1`, n, opened, closed, status, csat, rating, overdue)
		require.NoError(t, err)
		return n
	}
	ptr := func(v time.Time) *time.Time { return &v }
	num := func(v int) *int { return &v }
	// Monday 17:00 → first reply Tuesday 10:00 (2 business hours) → closed Tuesday 12:00 (4).
	n1 := conversation(support, "ann", at("2026-11-30", "17:00"), ptr(at("2026-12-01", "10:00")), ptr(at("2026-12-01", "12:00")), num(3), num(2), false)
	// Tuesday 09:30 → reply 09:40 (10 minutes) → closed Wednesday 09:30 (9 hours), SLA breached.
	n2 := conversation(support, "bob", at("2026-12-01", "09:30"), ptr(at("2026-12-01", "09:40")), ptr(at("2026-12-02", "09:30")), num(1), nil, true)
	// Tuesday 20:00 on Sales, still waiting.
	n3 := conversation(sales, "cid", at("2026-12-01", "20:00"), nil, nil, nil, nil, false)

	report := func(c *http.Client, query string) (rows []reportRowView, total reportRowView, backlog []int) {
		t.Helper()
		res := a.do(c, "GET", "/api/v1/reports/conversations?from=2026-11-30&to=2026-12-02&tz=Europe/Moscow"+query, nil, nil)
		require.Equal(t, http.StatusOK, res.status, res.text)
		var rep struct {
			Rows    []reportRowView `json:"rows"`
			Total   reportRowView   `json:"total"`
			Backlog []struct {
				Open int `json:"open"`
			} `json:"backlog"`
		}
		res.json(t, &rep)
		for _, b := range rep.Backlog {
			backlog = append(backlog, b.Open)
		}
		return rep.Rows, rep.Total, backlog
	}

	rows, total, backlog := report(a.http, "")
	require.Len(t, rows, 3, "every day of the period")
	require.Equal(t, []string{"2026-11-30", "2026-12-01", "2026-12-02"}, []string{rows[0].Key, rows[1].Key, rows[2].Key})
	require.Equal(t, []int{1, 2, 0}, []int{rows[0].Opened, rows[1].Opened, rows[2].Opened})
	require.Equal(t, []int{1, 2, 1}, backlog, "open at each day's end")
	require.Equal(t, 3, total.Opened)
	require.Equal(t, 2, total.Closed)
	require.Equal(t, 2, total.FirstResponse.Count)
	require.Equal(t, 600.0, *total.FirstResponse.Median, "10 minutes")
	require.Equal(t, 7200.0, *total.FirstResponse.P90, "Monday 17:00 to Tuesday 10:00 is 2 business hours")
	require.Equal(t, 14400.0, *total.Resolution.Median)
	require.Equal(t, 32400.0, *total.Resolution.P90, "Tuesday 09:30 to Wednesday 09:30 is 9 business hours")
	require.Equal(t, 1, total.SLAMet)
	require.Equal(t, 1, total.SLABreached)
	require.Equal(t, 1, total.CSAT.Bad)
	require.Equal(t, 1, total.CSAT.Excellent)
	require.Equal(t, 50.0, *total.CSAT.Score)
	require.Equal(t, 1, total.ClientRatings.Normal)

	rows, _, _ = report(a.http, "&group=line")
	require.Equal(t, "Support", rows[0].Label)
	require.Equal(t, 2, rows[0].Opened)
	require.Equal(t, "Sales", rows[1].Label)
	rows, _, _ = report(a.http, "&group=operator")
	require.Equal(t, fmt.Sprint(a.admin.ID), rows[0].Key)
	require.Equal(t, "none", rows[1].Key, "nobody has the Sales conversation")
	_, total, _ = report(a.http, fmt.Sprintf("&line=%d", sales.lineID))
	require.Equal(t, 1, total.Opened)

	// A supervisor of Sales sees Sales only; an operator sees no report.
	sup := a.newUser("sup@desk.example", "Sup", store.RoleSupervisor)
	_, err = a.store.SaveGroup(t.Context(), store.Group{Name: "Sales supervisors", Kind: store.GroupSupervisors,
		MemberIDs: []int64{sup.ID}, LineIDs: []int64{sales.lineID}})
	require.NoError(t, err)
	_, total, _ = report(a.login("sup@desk.example", "pw-Sup"), "")
	require.Equal(t, 1, total.Opened)
	_, olga := a.newOperator("olga@desk.example", "Olga")
	require.Equal(t, http.StatusForbidden, a.do(olga, "GET", "/api/v1/reports/conversations", nil, nil).status)

	// CSV and XLSX: the same table, a file to download.
	res = a.do(a.http, "GET", "/api/v1/reports/conversations?from=2026-11-30&to=2026-12-02&tz=Europe/Moscow&format=csv", nil, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)
	require.Equal(t, `attachment; filename="report-day-2026-11-30-2026-12-02.csv"`, res.header.Get("Content-Disposition"))
	require.True(t, strings.HasPrefix(res.text, "\ufeff"))
	table, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(res.text, "\ufeff"))).ReadAll()
	require.NoError(t, err)
	require.Len(t, table, 5, "header, three days, total")
	require.Equal(t, []string{"total", "3", "2", "600", "7200"}, table[4][:5])
	require.Equal(t, "2", table[2][len(table[2])-1], "open at the end of December 1")
	res = a.do(a.http, "GET", "/api/v1/reports/conversations?from=2026-11-30&to=2026-12-02&tz=Europe/Moscow&group=line&format=xlsx", nil, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)
	x, err := excelize.OpenReader(bytes.NewReader([]byte(res.text)))
	require.NoError(t, err)
	defer x.Close()
	xrows, err := x.GetRows(x.GetSheetName(0))
	require.NoError(t, err)
	require.Equal(t, []string{"line", "opened", "closed"}, xrows[0][:3])
	require.Equal(t, []string{"Support", "2", "2"}, xrows[1][:3])

	// The dialog report: each conversation with both ratings.
	res = a.do(a.http, "GET", "/api/v1/reports/dialogs?from=2026-11-30&to=2026-12-02&tz=Europe/Moscow", nil, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)
	var dialogs struct {
		Items []struct {
			Number               int64    `json:"number"`
			CSAT                 *int     `json:"csat"`
			ClientRating         *int     `json:"client_rating"`
			FirstResponseSeconds *float64 `json:"first_response_seconds"`
		} `json:"items"`
	}
	res.json(t, &dialogs)
	require.Len(t, dialogs.Items, 3)
	require.Equal(t, []int64{n1, n2, n3}, []int64{dialogs.Items[0].Number, dialogs.Items[1].Number, dialogs.Items[2].Number})
	require.Equal(t, 3, *dialogs.Items[0].CSAT)
	require.Equal(t, 2, *dialogs.Items[0].ClientRating)
	require.Equal(t, 7200.0, *dialogs.Items[0].FirstResponseSeconds)
	res = a.do(a.http, "GET", "/api/v1/reports/dialogs?from=2026-11-30&to=2026-12-02&tz=Europe/Moscow&format=csv", nil, nil)
	require.Equal(t, http.StatusOK, res.status)
	require.Contains(t, res.text, ",excellent,normal\n")

	// Bad input: a clear 400.
	for _, q := range []string{"tz=Mars/Olympus", "tz=Local", "from=2026-12-05&to=2026-12-01", "from=2025-01-01&to=2026-12-01",
		"group=week", "format=pdf", "from=yesterday", "line=x"} {
		res := a.do(a.http, "GET", "/api/v1/reports/conversations?"+q, nil, nil)
		require.Equal(t, http.StatusBadRequest, res.status, q+": "+res.text)
	}
}
