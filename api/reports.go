package api

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/xuri/excelize/v2"

	"github.com/linedesk/linedesk/store"
	"github.com/linedesk/linedesk/workflows"
)

// Reports (issue 12, F047, F100, X03): what the conversations of a period came to, per day,
// line, channel or operator, with response and resolution times in each line's business hours;
// and the dialog report, each conversation with both ratings. Supervisors see their lines,
// admins every line. Computed from the read model: one statement reads the period's
// conversations (with each one's first reply), and the times are measured here against the
// line's calendar, as the SLA clocks measure them.

// reportLimit bounds how many conversations one report reads; dialogFileLimit how many rows a
// dialog report's file holds (it is built in memory: about 1 KB a row).
const (
	reportLimit     = 1_000_000
	dialogFileLimit = 200_000
)

type reportQuery struct {
	filter store.ReportFilter
	loc    *time.Location
	group  string
	format string
}

func (s *Server) readReportQuery(c echo.Context, groups []string) (reportQuery, error) {
	q := c.QueryParams()
	var problems fieldErrors
	r := reportQuery{group: q.Get("group"), format: q.Get("format")}
	tz := q.Get("tz")
	if tz == "" {
		tz = "UTC"
	}
	loc, err := time.LoadLocation(tz)
	if err != nil || tz == "Local" {
		problems.add("tz must be an IANA time zone such as Europe/Moscow")
		loc = time.UTC
	}
	r.loc = loc
	today := time.Now().In(loc)
	day := func(name string, def time.Time) time.Time {
		v := q.Get(name)
		if v == "" {
			return def
		}
		d, err := time.ParseInLocation(time.DateOnly, v, loc)
		if err != nil {
			problems.add("%s must be a date such as 2026-12-31", name)
		}
		return d
	}
	midnight := time.Date(today.Year(), today.Month(), today.Day(), 0, 0, 0, 0, loc)
	r.filter.From = day("from", midnight.AddDate(0, 0, -6))
	r.filter.To = day("to", midnight).AddDate(0, 0, 1) // the last day counts whole
	if !r.filter.From.Before(r.filter.To) {
		problems.add("from must not be after to")
	} else if r.filter.To.Sub(r.filter.From) > 367*24*time.Hour {
		problems.add("a report covers at most a year")
	}
	r.filter.LineID = queryInt(q.Get("line"), "line", &problems)
	r.filter.ChannelID = queryInt(q.Get("channel"), "channel", &problems)
	r.filter.OperatorID = queryInt(q.Get("operator"), "operator", &problems)
	if groups != nil {
		if r.group == "" {
			r.group = groups[0]
		}
		if !slices.Contains(groups, r.group) {
			problems.add("group must be day, line, channel or operator")
		}
	}
	if r.format == "" {
		r.format = "json"
	}
	if r.format != "json" && r.format != "csv" && r.format != "xlsx" {
		problems.add("format must be json, csv or xlsx")
	}
	if err := problems.err(); err != nil {
		return r, err
	}
	lines, err := s.supervisedLines(c)
	if err != nil {
		return r, err
	}
	r.filter.Lines = lines
	return r, nil
}

// durations are measured times; the report gives their count, median and 90th percentile,
// each by the nearest rank: a time some conversation really took (of two, the median is the
// shorter).
type durations []float64

type durationStats struct {
	Count  int      `json:"count"`
	Median *float64 `json:"median_seconds"`
	P90    *float64 `json:"p90_seconds"`
}

func (d durations) stats() durationStats {
	out := durationStats{Count: len(d)}
	if len(d) == 0 {
		return out
	}
	slices.Sort(d)
	at := func(p float64) *float64 {
		v := math.Round(d[int(math.Ceil(p*float64(len(d))))-1])
		return &v
	}
	out.Median, out.P90 = at(0.5), at(0.9)
	return out
}

type reportRow struct {
	Key           string        `json:"key"`
	Label         string        `json:"label"`
	Opened        int           `json:"opened"`
	Closed        int           `json:"closed"`
	FirstResponse durationStats `json:"first_response"`
	Resolution    durationStats `json:"resolution"`
	SLAMet        int           `json:"sla_met"`
	SLABreached   int           `json:"sla_breached"`
	CSAT          csatCounts    `json:"csat"`
	ClientRatings csatCounts    `json:"client_ratings"`

	first, resolve durations
}

// csatCounts are ratings 1 (bad), 2 (normal), 3 (excellent); Score is the share of excellent
// among the rated, in percent.
type csatCounts struct {
	Bad       int      `json:"bad"`
	Normal    int      `json:"normal"`
	Excellent int      `json:"excellent"`
	Score     *float64 `json:"score"`
}

func (c *csatCounts) add(v *int) {
	if v == nil {
		return
	}
	switch *v {
	case 1:
		c.Bad++
	case 2:
		c.Normal++
	case 3:
		c.Excellent++
	}
}

func (c *csatCounts) finish() {
	if n := c.Bad + c.Normal + c.Excellent; n > 0 {
		v := math.Round(float64(c.Excellent)*1000/float64(n)) / 10
		c.Score = &v
	}
}

// calendars compiles each line's calendar once per report.
type calendars map[int64]workflows.Calendar

func (cs calendars) of(f store.ReportFact) workflows.Calendar {
	cal, ok := cs[f.LineID]
	if !ok {
		_ = json.Unmarshal(f.Calendar, &cal) // a calendar that does not read is open around the clock
		cs[f.LineID] = cal
	}
	return cal
}

// times are a conversation's first response and resolution in its line's business hours.
func (cs calendars) times(f store.ReportFact) (first, resolve *float64) {
	cal := cs.of(f)
	// An operator opens a dialog with their own message: it has no first response to measure.
	if f.FirstReplyAt != nil && f.Kind != "dialog" {
		v := cal.BusinessBetween(f.OpenedAt, *f.FirstReplyAt).Seconds()
		first = &v
	}
	if f.ClosedAt != nil {
		v := cal.BusinessBetween(f.OpenedAt, *f.ClosedAt).Seconds()
		resolve = &v
	}
	return first, resolve
}

type conversationReport struct {
	From    time.Time            `json:"from"`
	To      time.Time            `json:"to"`
	Group   string               `json:"group"`
	Rows    []*reportRow         `json:"rows"`
	Total   *reportRow           `json:"total"`
	Backlog []store.BacklogPoint `json:"backlog"`
}

// conversationsReport answers the conversations of a period grouped by day, line, channel or
// operator, with a total and the backlog at each day's end.
func (s *Server) conversationsReport(c echo.Context) error {
	q, err := s.readReportQuery(c, []string{"day", "line", "channel", "operator"})
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	rep := conversationReport{From: q.filter.From, To: q.filter.To, Group: q.group, Rows: []*reportRow{}, Total: &reportRow{Key: "total"}}
	rows := map[string]*reportRow{}
	if q.group == "day" {
		// Every day of the period has its row, even a quiet one.
		for d := q.filter.From; d.Before(q.filter.To); d = d.AddDate(0, 0, 1) {
			key := d.Format(time.DateOnly)
			rows[key] = &reportRow{Key: key, Label: key}
			rep.Rows = append(rep.Rows, rows[key])
		}
	}
	cals := calendars{}
	n := 0
	err = s.store.ReportFacts(ctx, q.filter, func(f store.ReportFact) error {
		if n++; n > reportLimit {
			return newError(http.StatusUnprocessableEntity, "report_too_large", "the period holds more than %d conversations; choose a shorter one", reportLimit)
		}
		var key, label string
		switch q.group {
		case "day":
			key = f.OpenedAt.In(q.loc).Format(time.DateOnly)
			label = key
		case "line":
			key, label = strconv.FormatInt(f.LineID, 10), f.LineName
		case "channel":
			key, label = strconv.FormatInt(f.ChannelID, 10), f.ChannelName+" ("+f.ChannelKind+")"
		case "operator":
			key, label = "none", ""
			if f.AssigneeID != nil {
				key, label = strconv.FormatInt(*f.AssigneeID, 10), f.AssigneeName
			}
		}
		row := rows[key]
		if row == nil {
			row = &reportRow{Key: key, Label: label}
			rows[key] = row
			rep.Rows = append(rep.Rows, row)
		}
		first, resolve := cals.times(f)
		for _, r := range []*reportRow{row, rep.Total} {
			r.Opened++
			if f.ClosedAt != nil {
				r.Closed++
				if !f.Overdue {
					r.SLAMet++
				}
			}
			if f.Overdue {
				r.SLABreached++
			}
			if first != nil {
				r.first = append(r.first, *first)
			}
			if resolve != nil {
				r.resolve = append(r.resolve, *resolve)
			}
			r.CSAT.add(f.CSAT)
			r.ClientRatings.add(f.ClientRating)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, r := range append(rep.Rows, rep.Total) {
		r.FirstResponse, r.Resolution = r.first.stats(), r.resolve.stats()
		r.CSAT.finish()
		r.ClientRatings.finish()
	}
	if q.group != "day" {
		slices.SortFunc(rep.Rows, func(a, b *reportRow) int { return b.Opened - a.Opened })
	}
	if q.group == "day" {
		var at []time.Time
		for d := q.filter.From.AddDate(0, 0, 1); !d.After(q.filter.To); d = d.AddDate(0, 0, 1) {
			at = append(at, d)
		}
		if rep.Backlog, err = s.store.Backlog(ctx, q.filter, at); err != nil {
			return err
		}
	}
	if q.format == "json" {
		return c.JSON(http.StatusOK, rep)
	}
	head := []string{q.group, "opened", "closed", "first response median, s", "first response p90, s", "resolution median, s",
		"resolution p90, s", "SLA met", "SLA breached", "CSAT bad", "CSAT normal", "CSAT excellent", "CSAT score, %",
		"client rated bad", "client rated normal", "client rated excellent"}
	if q.group == "day" {
		head = append(head, "open at the day's end")
	}
	table := [][]string{head}
	for i, r := range append(rep.Rows, rep.Total) {
		label := r.Label
		if r == rep.Total {
			label = "total"
		}
		line := cells(label, strconv.Itoa(r.Opened), strconv.Itoa(r.Closed), num(r.FirstResponse.Median), num(r.FirstResponse.P90),
			num(r.Resolution.Median), num(r.Resolution.P90), strconv.Itoa(r.SLAMet), strconv.Itoa(r.SLABreached),
			strconv.Itoa(r.CSAT.Bad), strconv.Itoa(r.CSAT.Normal), strconv.Itoa(r.CSAT.Excellent), num(r.CSAT.Score),
			strconv.Itoa(r.ClientRatings.Bad), strconv.Itoa(r.ClientRatings.Normal), strconv.Itoa(r.ClientRatings.Excellent))
		if q.group == "day" {
			open := ""
			if i < len(rep.Backlog) && r != rep.Total {
				open = strconv.FormatInt(rep.Backlog[i].Open, 10)
			}
			line = append(line, open)
		}
		table = append(table, line)
	}
	return writeTable(c, q, "report-"+q.group, table, func(col int) bool { return col > 0 })
}

// dialogsReport is the dialog report (seed 003, F100): each conversation of the period with
// both ratings — the client's CSAT and the operator's rating of the client — and its times.
func (s *Server) dialogsReport(c echo.Context) error {
	q, err := s.readReportQuery(c, nil)
	if err != nil {
		return err
	}
	type dialog struct {
		store.ReportFact
		FirstResponseSeconds *float64 `json:"first_response_seconds"`
		ResolutionSeconds    *float64 `json:"resolution_seconds"`
	}
	const jsonLimit = 5000
	out := []dialog{}
	truncated := false
	table := [][]string{{"number", "title", "line", "channel", "operator", "client", "opened", "closed", "status",
		"first response, s", "resolution, s", "SLA breached", "client's rating (CSAT)", "operator's rating of the client"}}
	cals := calendars{}
	n := 0
	err = s.store.ReportFacts(c.Request().Context(), q.filter, func(f store.ReportFact) error {
		if n++; n > dialogFileLimit {
			return newError(http.StatusUnprocessableEntity, "report_too_large", "the period holds more than %d conversations; choose a shorter one", dialogFileLimit)
		}
		first, resolve := cals.times(f)
		if q.format == "json" {
			if len(out) == jsonLimit {
				truncated = true
				return nil
			}
			out = append(out, dialog{ReportFact: f, FirstResponseSeconds: round(first), ResolutionSeconds: round(resolve)})
			return nil
		}
		closed := ""
		if f.ClosedAt != nil {
			closed = f.ClosedAt.In(q.loc).Format("2006-01-02 15:04")
		}
		table = append(table, cells(strconv.FormatInt(f.Number, 10), f.Title, f.LineName, f.ChannelName, f.AssigneeName, f.ContactName,
			f.OpenedAt.In(q.loc).Format("2006-01-02 15:04"), closed, f.Status, num(round(first)), num(round(resolve)),
			strconv.FormatBool(f.Overdue), rating(f.CSAT), rating(f.ClientRating)))
		return nil
	})
	if err != nil {
		return err
	}
	if q.format == "json" {
		return c.JSON(http.StatusOK, map[string]any{"from": q.filter.From, "to": q.filter.To, "items": out, "truncated": truncated})
	}
	// number, first response, resolution
	return writeTable(c, q, "dialogs", table, func(col int) bool { return col == 0 || col == 9 || col == 10 })
}

func round(v *float64) *float64 {
	if v == nil {
		return nil
	}
	r := math.Round(*v)
	return &r
}

func num(v *float64) string {
	if v == nil {
		return ""
	}
	return strconv.FormatFloat(*v, 'f', -1, 64)
}

func rating(v *int) string {
	switch {
	case v == nil:
		return ""
	case *v == 1:
		return "bad"
	case *v == 2:
		return "normal"
	}
	return "excellent"
}

// writeTable sends a report as CSV (UTF-8 with a byte-order mark) or as an XLSX workbook.
func writeTable(c echo.Context, q reportQuery, name string, table [][]string, numeric func(col int) bool) error {
	file := fmt.Sprintf("%s-%s-%s.%s", name, q.filter.From.Format(time.DateOnly), q.filter.To.AddDate(0, 0, -1).Format(time.DateOnly), q.format)
	res := c.Response()
	res.Header().Set("Content-Disposition", `attachment; filename="`+file+`"`)
	if q.format == "csv" {
		res.Header().Set(echo.HeaderContentType, "text/csv; charset=utf-8")
		res.WriteHeader(http.StatusOK)
		_, _ = res.Write([]byte("\ufeff"))
		w := csv.NewWriter(res)
		_ = w.WriteAll(table)
		return nil
	}
	x := excelize.NewFile()
	defer x.Close()
	sheet := x.GetSheetName(0)
	for i, row := range table {
		values := make([]any, len(row))
		for j, v := range row {
			values[j] = v
			if i > 0 && numeric(j) && v != "" {
				// The counts and times as numbers, so a spreadsheet sums them; every other
				// column (a title like "007" too) stays text.
				if f, err := strconv.ParseFloat(v, 64); err == nil && !math.IsNaN(f) && !math.IsInf(f, 0) {
					values[j] = f
				}
			}
		}
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := x.SetSheetRow(sheet, cell, &values); err != nil {
			return err
		}
	}
	res.Header().Set(echo.HeaderContentType, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	res.WriteHeader(http.StatusOK)
	return x.Write(res)
}
