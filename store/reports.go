package store

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"time"
)

// ReportFilter chooses the conversations a report counts: those opened in [From, To), of a
// line, a channel, an operator (their assignee), within Lines (nil: every line).
type ReportFilter struct {
	From, To                      time.Time
	LineID, ChannelID, OperatorID int64
	Lines                         []int64
}

// ReportFact is one conversation as reports count it (issue 12, F047, F100).
type ReportFact struct {
	Number       int64      `json:"number"`
	Title        string     `json:"title"`
	Kind         string     `json:"kind"`
	Status       string     `json:"status"`
	LineID       int64      `json:"line_id"`
	LineName     string     `json:"line_name"`
	ChannelID    int64      `json:"channel_id"`
	ChannelName  string     `json:"channel_name"`
	ChannelKind  string     `json:"channel_kind"`
	AssigneeID   *int64     `json:"assignee_id"`
	AssigneeName string     `json:"assignee_name"`
	ContactName  string     `json:"contact_name"`
	OpenedAt     time.Time  `json:"opened_at"`
	FirstReplyAt *time.Time `json:"first_reply_at"`
	ClosedAt     *time.Time `json:"closed_at"`
	Overdue      bool       `json:"overdue"`
	CSAT         *int       `json:"csat"`
	ClientRating *int       `json:"client_rating"`
	// Calendar is the line's regulation calendar (JSON; {} when it has none).
	Calendar json.RawMessage `json:"-"`
}

// scope is the condition on a conversation c of the filter's line, channel, operator and lines.
func (f ReportFilter) scope(arg func(any) string) string {
	w := []string{"true"}
	if f.LineID != 0 {
		w = append(w, "c.line_id = "+arg(f.LineID))
	}
	if f.ChannelID != 0 {
		w = append(w, "c.channel_id = "+arg(f.ChannelID))
	}
	if f.OperatorID != 0 {
		w = append(w, "c.assignee_id = "+arg(f.OperatorID))
	}
	if f.Lines != nil {
		w = append(w, "c.line_id = ANY("+arg(f.Lines)+"::bigint[])")
	}
	return strings.Join(w, " AND ")
}

func (f ReportFilter) where(arg func(any) string) string {
	return "c.created_at >= " + arg(f.From) + " AND c.created_at < " + arg(f.To) + " AND " + f.scope(arg)
}

// ReportFacts calls fn for each conversation the filter chooses, oldest first, with its first
// operator reply (one index probe per conversation), in one statement: a report over a period
// reads the conversations of that period only, however many messages the desk holds.
func (s *Store) ReportFacts(ctx context.Context, f ReportFilter, fn func(ReportFact) error) error {
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	rows, err := s.pool.Query(ctx, `SELECT c.number, c.title, c.kind, c.status, c.line_id, l.name, c.channel_id, ch.name, ch.kind,
			c.assignee_id, coalesce(u.name, ''), coalesce(k.name, ''), c.created_at,
			(SELECT m.created_at FROM messages m WHERE m.conversation_number = c.number AND m.direction = 'out'
				AND m.author_id IS NOT NULL ORDER BY m.created_at, m.id LIMIT 1),
			c.closed_at, c.overdue, c.csat, c.client_rating, coalesce(r.settings->'calendar', '{}')
		FROM conversations c JOIN lines l ON l.id = c.line_id JOIN channels ch ON ch.id = c.channel_id
			LEFT JOIN users u ON u.id = c.assignee_id LEFT JOIN contacts k ON k.id = c.contact_id
			LEFT JOIN regulations r ON r.id = l.regulation_id
		WHERE `+f.where(arg)+` ORDER BY c.created_at, c.number`, args...)
	if err != nil {
		return translate(err, "report")
	}
	defer rows.Close()
	for rows.Next() {
		var x ReportFact
		var csat, rating *int16
		if err := rows.Scan(&x.Number, &x.Title, &x.Kind, &x.Status, &x.LineID, &x.LineName, &x.ChannelID, &x.ChannelName, &x.ChannelKind,
			&x.AssigneeID, &x.AssigneeName, &x.ContactName, &x.OpenedAt, &x.FirstReplyAt, &x.ClosedAt, &x.Overdue, &csat, &rating, &x.Calendar); err != nil {
			return translate(err, "scan report")
		}
		if csat != nil {
			v := int(*csat)
			x.CSAT = &v
		}
		if rating != nil {
			v := int(*rating)
			x.ClientRating = &v
		}
		if err := fn(x); err != nil {
			return err
		}
	}
	return translate(rows.Err(), "report")
}

// BacklogPoint is how many conversations were open (not closed) at an instant.
type BacklogPoint struct {
	At   time.Time `json:"at"`
	Open int64     `json:"open"`
}

// Backlog counts the open conversations (of the filter's line, channel, operator and lines, any
// opening time) at each of the instants, ascending, in one pass: every opening adds one and every
// closing takes one away, summed per interval between the instants.
func (s *Store) Backlog(ctx context.Context, f ReportFilter, at []time.Time) ([]BacklogPoint, error) {
	if len(at) == 0 {
		return []BacklogPoint{}, nil
	}
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	last, ts, sc := arg(at[len(at)-1]), arg(at), f.scope(arg)
	// width_bucket gives 0 before the first instant, i from the i-th on.
	deltas, err := queryAll(ctx, s, "backlog", `WITH ev AS (
			SELECT c.created_at AS at, 1 AS d FROM conversations c WHERE `+sc+` AND c.created_at < `+last+`
			UNION ALL
			SELECT c.closed_at, -1 FROM conversations c WHERE `+sc+` AND c.closed_at < `+last+`)
		SELECT width_bucket(at, `+ts+`::timestamptz[]), sum(d)::bigint FROM ev GROUP BY 1`, func(r rowScanner) ([2]int64, error) {
		var kd [2]int64
		err := r.Scan(&kd[0], &kd[1])
		return kd, err
	}, args...)
	if err != nil {
		return nil, err
	}
	per := make([]int64, len(at)+1)
	for _, kd := range deltas {
		per[kd[0]] += kd[1]
	}
	out := make([]BacklogPoint, len(at))
	open := int64(0)
	for i, t := range at {
		open += per[i] // what happened before the i-th instant (bucket i holds [at[i-1], at[i]))
		out[i] = BacklogPoint{At: t, Open: open}
	}
	return out, nil
}
