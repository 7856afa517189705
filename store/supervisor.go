package store

import (
	"context"
	"time"
)

// SupervisedConversation is a row of the supervisor's conversations view (seed 002).
type SupervisedConversation struct {
	Number         int64     `json:"number"`
	Title          string    `json:"title"`
	Status         string    `json:"status"`
	Line           Ref       `json:"line"`
	Channel        Ref       `json:"channel"`
	ChannelKind    string    `json:"channel_kind"`
	Operator       *Ref      `json:"operator"`
	Contact        string    `json:"contact"`
	Unread         int       `json:"unread"`
	Overdue        bool      `json:"overdue"`
	CreatedAt      time.Time `json:"created_at"`
	LastActivityAt time.Time `json:"last_activity_at"`
	// DurationSeconds is how long the conversation has been open.
	DurationSeconds int64 `json:"duration_seconds"`
}

// Ref names a line, channel or person.
type Ref struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// SupervisorFilter narrows the supervisor's conversations view. Lines nil means every line.
type SupervisorFilter struct {
	Lines    []int64
	Line     int64
	Channel  int64
	Operator int64
	// Statuses are the open statuses listed (one or more of queued, active, paused).
	Statuses []string
	// Sort is "duration" (longest open first), "activity" (latest first) or "created" (newest first).
	Sort  string
	Limit int
}

// SupervisedConversations lists open conversations for the supervisor's view.
func (s *Store) SupervisedConversations(ctx context.Context, f SupervisorFilter) ([]SupervisedConversation, error) {
	order := "c.created_at ASC, c.number ASC" // duration: the longest open first
	switch f.Sort {
	case "activity":
		order = "c.last_activity_at DESC, c.number DESC"
	case "created":
		order = "c.created_at DESC, c.number DESC"
	}
	return queryAll(ctx, s, "supervised conversations", `SELECT c.number, `+titleColumn+`, c.status, l.id, l.name, ch.id, ch.name, ch.kind,
			u.id, coalesce(u.name, ''), coalesce(nullif(ct.name, ''), ct.email, ''), c.unread, c.overdue, c.created_at, c.last_activity_at,
			extract(epoch FROM now() - c.created_at)::bigint
		FROM conversations c JOIN lines l ON l.id = c.line_id JOIN channels ch ON ch.id = c.channel_id
			JOIN contacts ct ON ct.id = c.contact_id LEFT JOIN users u ON u.id = c.assignee_id
		WHERE c.status = ANY($1) AND ($2::bigint[] IS NULL OR c.line_id = ANY($2))
			AND ($3 = 0 OR c.line_id = $3) AND ($4 = 0 OR c.channel_id = $4) AND ($5 = 0 OR c.assignee_id = $5)
		ORDER BY `+order+` LIMIT $6`, func(r rowScanner) (SupervisedConversation, error) {
		var v SupervisedConversation
		var opID *int64
		var opName string
		err := r.Scan(&v.Number, &v.Title, &v.Status, &v.Line.ID, &v.Line.Name, &v.Channel.ID, &v.Channel.Name, &v.ChannelKind,
			&opID, &opName, &v.Contact, &v.Unread, &v.Overdue, &v.CreatedAt, &v.LastActivityAt, &v.DurationSeconds)
		if opID != nil {
			v.Operator = &Ref{ID: *opID, Name: opName}
		}
		return v, err
	}, f.Statuses, f.Lines, f.Line, f.Channel, f.Operator, f.Limit)
}

// OperatorStats is a row of the supervisor's operators view (seed 002).
type OperatorStats struct {
	ID       int64  `json:"id"`
	Name     string `json:"name"`
	Presence string `json:"presence"`
	Capacity int    `json:"capacity"`
	Active   int    `json:"active"`
	// LastReplyAt is the operator's latest answer to a client; SinceLastReplySeconds counts from it.
	LastReplyAt           *time.Time `json:"last_reply_at"`
	SinceLastReplySeconds *int64     `json:"since_last_reply_seconds"`
	// Today's figures, "today" in each conversation's line time zone (its regulation's calendar).
	RepliesToday            int      `json:"replies_today"`
	AvgFirstResponseSeconds *float64 `json:"avg_first_response_seconds"`
	AvgResponseSeconds      *float64 `json:"avg_response_seconds"`
	FirstResponsesMeasured  int      `json:"first_responses_measured"`
	ResponsesMeasured       int      `json:"responses_measured"`
}

// SupervisedOperators lists the operators of the given lines (nil: every line) with their load
// and today's response times: the first response is an operator's first answer in a conversation
// counted from its opening; a response is an answer counted from the first client message of the
// turn it answers.
func (s *Store) SupervisedOperators(ctx context.Context, lines []int64) ([]OperatorStats, error) {
	return queryAll(ctx, s, "supervised operators", `WITH ops AS (`+lineOperators+`),
		replies AS (
			SELECT m.author_id, m.created_at, c.created_at AS opened,
				NOT EXISTS (SELECT 1 FROM messages o WHERE o.conversation_number = m.conversation_number AND o.direction = 'out'
					AND o.author_id IS NOT NULL AND (o.created_at, o.id) < (m.created_at, m.id)) AS first,
				(SELECT min(i.created_at) FROM messages i WHERE i.conversation_number = m.conversation_number AND i.direction = 'in'
					AND i.created_at <= m.created_at
					AND i.created_at > coalesce((SELECT max(o.created_at) FROM messages o WHERE o.conversation_number = m.conversation_number
						AND o.direction = 'out' AND o.author_id IS NOT NULL AND o.created_at < m.created_at), '-infinity')) AS turn_start
			FROM messages m JOIN conversations c ON c.number = m.conversation_number JOIN lines l ON l.id = c.line_id
				LEFT JOIN regulations r ON r.id = l.regulation_id,
				LATERAL (SELECT coalesce(nullif(r.settings->'calendar'->>'time_zone', ''), 'UTC') AS tz) z
			WHERE m.author_id IN (SELECT id FROM ops) AND m.direction = 'out'
				AND m.created_at >= date_trunc('day', now() AT TIME ZONE z.tz) AT TIME ZONE z.tz)
		SELECT ops.id, ops.name, ops.presence, ops.capacity,
			(SELECT count(*) FROM operator_claims oc WHERE oc.user_id = ops.id),
			(SELECT max(lr.created_at) FROM messages lr WHERE lr.author_id = ops.id AND lr.direction = 'out'),
			count(r.author_id),
			avg(extract(epoch FROM r.created_at - r.opened)) FILTER (WHERE r.first),
			avg(extract(epoch FROM r.created_at - r.turn_start)) FILTER (WHERE r.turn_start IS NOT NULL),
			count(*) FILTER (WHERE r.first), count(*) FILTER (WHERE r.turn_start IS NOT NULL)
		FROM ops LEFT JOIN replies r ON r.author_id = ops.id
		GROUP BY ops.id, ops.name, ops.presence, ops.capacity ORDER BY ops.name, ops.id`, func(r rowScanner) (OperatorStats, error) {
		var o OperatorStats
		err := r.Scan(&o.ID, &o.Name, &o.Presence, &o.Capacity, &o.Active, &o.LastReplyAt, &o.RepliesToday,
			&o.AvgFirstResponseSeconds, &o.AvgResponseSeconds, &o.FirstResponsesMeasured, &o.ResponsesMeasured)
		if o.LastReplyAt != nil {
			since := int64(time.Since(*o.LastReplyAt).Seconds())
			o.SinceLastReplySeconds = &since
		}
		return o, err
	}, lines)
}

// Colleague is an operator of a line as the transfer picker shows them: who, whether online and
// how loaded.
type Colleague struct {
	ID       int64  `json:"id"`
	Name     string `json:"name"`
	Presence string `json:"presence"`
	Capacity int    `json:"capacity"`
	Active   int    `json:"active"`
}

// LineColleagues lists a line's operators with their load, by name — SupervisedOperators
// without today's figures, which the picker does not show.
func (s *Store) LineColleagues(ctx context.Context, line int64) ([]Colleague, error) {
	return queryAll(ctx, s, "line colleagues", `SELECT o.id, o.name, o.presence, o.capacity,
			(SELECT count(*) FROM operator_claims oc WHERE oc.user_id = o.id)
		FROM (`+lineOperators+`) o ORDER BY o.name, o.id`, func(r rowScanner) (Colleague, error) {
		var c Colleague
		err := r.Scan(&c.ID, &c.Name, &c.Presence, &c.Capacity, &c.Active)
		return c, err
	}, []int64{line})
}
