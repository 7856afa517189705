package store

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// NewConversation is the row a chat workflow creates when it opens a conversation.
type NewConversation struct {
	// OpeningKey makes creation idempotent: a retry returns the number allocated first.
	OpeningKey string
	ChatID     uuid.UUID
	LineID     int64
	Kind       string
	Status     string
	AssigneeID int64
	Title      string
	Type       string
	OpenedAt   time.Time
}

// CreatedConversation names the new conversation and the chat's channel and contact.
type CreatedConversation struct {
	Number      int64
	ChannelID   int64
	ChannelKind string
	ContactID   int64
}

// CreateConversation allocates a number and inserts the conversation, idempotently by OpeningKey.
func (s *Store) CreateConversation(ctx context.Context, n NewConversation) (CreatedConversation, error) {
	var out CreatedConversation
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var assignee *int64
		if n.AssigneeID != 0 {
			assignee = &n.AssigneeID
		}
		var participants []int64
		if n.AssigneeID != 0 {
			participants = []int64{n.AssigneeID}
		}
		err := tx.QueryRow(ctx, `INSERT INTO conversations (number, chat_id, line_id, channel_id, contact_id, kind, status,
				assignee_id, participants, title, type, opening_key, created_at, last_activity_at)
			SELECT nextval('conversation_number_seq'), c.id, $2, c.channel_id, c.contact_id, $3, $4, $5, coalesce($6, '{}'::bigint[]),
				$7, $8, $9, $10, $10
			FROM chats c WHERE c.id = $1
			ON CONFLICT (opening_key) DO NOTHING
			RETURNING number, channel_id, (SELECT kind FROM channels WHERE id = channel_id), contact_id`,
			n.ChatID, n.LineID, n.Kind, n.Status, assignee, participants, n.Title, n.Type, n.OpeningKey, n.OpenedAt,
		).Scan(&out.Number, &out.ChannelID, &out.ChannelKind, &out.ContactID)
		if errors.Is(err, pgx.ErrNoRows) {
			err = tx.QueryRow(ctx, `SELECT v.number, v.channel_id, ch.kind, v.contact_id FROM conversations v
				JOIN channels ch ON ch.id = v.channel_id WHERE v.opening_key = $1`,
				n.OpeningKey).Scan(&out.Number, &out.ChannelID, &out.ChannelKind, &out.ContactID)
		}
		return err
	})
	return out, translate(err, "create conversation")
}

// ConversationProjection is a conversation's state as its workflow last reported it.
type ConversationProjection struct {
	Number       int64
	Status       string
	AssigneeID   int64
	Participants []int64
	Title        string
	Type         string
	Reasons      []string
	Components   []string
	Solution     string
	CloseReason  string
	ClientRating int
	CSAT         int
	DueFirst     *time.Time
	DueNext      *time.Time
	DueResolve   *time.Time
	Overdue      bool
	LastActivity time.Time
	ClosedAt     *time.Time
	Revision     int64
	// RepliedAt, when set, is an operator's answer to the client: client messages up to it are
	// read, so the unread count restarts from the messages after it (see LinkInbound).
	RepliedAt *time.Time
	Events    []ConversationEvent
}

// ConversationEvent is one timeline entry.
type ConversationEvent struct {
	Seq     int64           `json:"seq"`
	At      time.Time       `json:"at"`
	ActorID *int64          `json:"actor_id"`
	Kind    string          `json:"kind"`
	Data    json.RawMessage `json:"data"`
}

// ProjectConversation writes a workflow's state unless a newer revision is already there, and
// its timeline events once each.
func (s *Store) ProjectConversation(ctx context.Context, p ConversationProjection) error {
	_, err := s.ProjectConversationWaited(ctx, p)
	return err
}

// Projected is what a projection changed that the metrics count.
type Projected struct {
	// Waited is how long the conversation waited in its queue, when this projection took it
	// out to an operator (else 0).
	Waited time.Duration
	// Breached names the SLA clocks whose breach this projection recorded (a repeated
	// projection records nothing again).
	Breached []string
}

// ProjectConversationWaited is ProjectConversation that also tells what it changed for the
// metrics: the queue wait it ended and the SLA breaches it recorded.
func (s *Store) ProjectConversationWaited(ctx context.Context, p ConversationProjection) (Projected, error) {
	batch := &pgx.Batch{}
	var assignee, rating, csat *int64
	if p.AssigneeID != 0 {
		assignee = &p.AssigneeID
	}
	if p.ClientRating != 0 {
		v := int64(p.ClientRating)
		rating = &v
	}
	if p.CSAT != 0 {
		v := int64(p.CSAT)
		csat = &v
	}
	// The row is locked before its old status is read: a concurrent projection of the same
	// conversation (a retried activity) then sees this one's status, not the one before both.
	batch.Queue(`WITH old AS (SELECT status, queued_at FROM conversations WHERE number = $1 FOR UPDATE)
		UPDATE conversations c SET status = $2, assignee_id = $3, participants = $4, title = $5, type = $6,
			reasons = $7, components = $8, solution = $9, close_reason = $10, client_rating = $11, csat = $12,
			due_first_response = $13, due_next_response = $14, due_resolution = $15, overdue = $16,
			last_activity_at = greatest(last_activity_at, $17), closed_at = $18, revision = $19,
			replied_at = coalesce($20, replied_at),
			unread = CASE WHEN $20::timestamptz IS NULL THEN unread ELSE (SELECT count(*) FROM messages m
				WHERE m.conversation_number = $1 AND m.direction = 'in' AND m.created_at > $20) END
		FROM old
		WHERE c.number = $1 AND c.revision < $19
		RETURNING CASE WHEN old.status = 'queued' AND c.status = 'active' THEN now() - old.queued_at END`,
		p.Number, p.Status, assignee, nonNilInts(p.Participants), p.Title, p.Type, nonNilStrings(p.Reasons),
		nonNilStrings(p.Components), p.Solution, p.CloseReason, rating, csat, p.DueFirst, p.DueNext, p.DueResolve,
		p.Overdue, p.LastActivity, p.ClosedAt, p.Revision, p.RepliedAt)
	clearTurn := p.Status != "queued" && p.Status != "active"
	if clearTurn {
		// A paused or closed conversation takes no client message by the ingest's fast path: it
		// stops before the operator's action returns, not once the chat hears of it.
		batch.Queue(`UPDATE chats ch SET turn_conversation = NULL FROM conversations c
			WHERE c.number = $1 AND ch.id = c.chat_id AND ch.turn_conversation = $1`, p.Number)
	}
	for _, e := range p.Events {
		data := e.Data
		if len(data) == 0 {
			data = json.RawMessage(`{}`)
		}
		batch.Queue(`INSERT INTO conversation_events (number, seq, at, actor_id, kind, data) VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT DO NOTHING RETURNING kind, data->>'clock'`, p.Number, e.Seq, e.At, e.ActorID, e.Kind, []byte(data))
	}
	br := s.pool.SendBatch(ctx, batch)
	var out Projected
	var waited *time.Duration
	err := br.QueryRow().Scan(&waited)
	if errors.Is(err, pgx.ErrNoRows) { // an older revision: nothing changed
		err = nil
	}
	if err == nil && waited != nil && *waited > 0 {
		out.Waited = *waited
	}
	if err == nil && clearTurn {
		_, err = br.Exec()
	}
	for range p.Events {
		if err != nil {
			break
		}
		var kind string
		var clock *string
		switch err = br.QueryRow().Scan(&kind, &clock); {
		case errors.Is(err, pgx.ErrNoRows): // recorded before
			err = nil
		case err == nil && kind == "sla_breached" && clock != nil:
			out.Breached = append(out.Breached, *clock)
		}
	}
	if err = errors.Join(err, br.Close()); err != nil {
		return Projected{}, translate(err, "project conversation")
	}
	return out, nil
}

// Conversation is the read model's view of one conversation, as the API returns it.
type Conversation struct {
	Number         int64      `json:"number"`
	Kind           string     `json:"kind"`
	Status         string     `json:"status"`
	ChatID         uuid.UUID  `json:"chat_id"`
	LineID         int64      `json:"line_id"`
	Channel        ChannelRef `json:"channel"`
	Contact        ContactRef `json:"contact"`
	Assignee       *UserRef   `json:"assignee"`
	Participants   []UserRef  `json:"participants"`
	Title          string     `json:"title"`
	Type           string     `json:"type"`
	Reasons        []string   `json:"reasons"`
	Components     []string   `json:"components"`
	Solution       string     `json:"solution,omitempty"`
	CloseReason    string     `json:"close_reason,omitempty"`
	CreatedAt      time.Time  `json:"created_at"`
	LastActivityAt time.Time  `json:"last_activity_at"`
	ClosedAt       *time.Time `json:"closed_at"`
	Due            DueTimes   `json:"due"`
	Overdue        bool       `json:"overdue"`
	Unread         int        `json:"unread"`
	ClientRating   *int       `json:"client_rating"`
	CSAT           *int       `json:"csat"`
	MergedReply    *string    `json:"merged_reply,omitempty"`
	// LastMessage is the latest client or operator message (notes and system lines left out).
	LastMessage *LastMessage `json:"last_message"`
	// WaitingSince is when the oldest client message no operator has answered arrived (nil: none,
	// or the conversation is closed).
	WaitingSince *time.Time `json:"waiting_since"`
	// Tags and Priority are the desk's labels (migration 026).
	Tags     []string `json:"tags"`
	Priority string   `json:"priority"`
	// Attributes are the desk's custom keys and values (migration 031).
	Attributes map[string]string `json:"attributes"`
}

// LastMessage is the list's preview of a conversation's latest message.
type LastMessage struct {
	Text      string    `json:"text"`
	Direction string    `json:"direction"`
	CreatedAt time.Time `json:"created_at"`
}

// ChannelRef, ContactRef and UserRef are the embedded summaries in a conversation.
type ChannelRef struct {
	ID   int64  `json:"id"`
	Kind string `json:"kind"`
	Name string `json:"name"`
}

type ContactRef struct {
	ID    int64  `json:"id"`
	Name  string `json:"name"`
	Email string `json:"email"`
	Phone string `json:"phone"`
}

type UserRef struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// DueTimes are the SLA due times.
type DueTimes struct {
	FirstResponse *time.Time `json:"first_response"`
	NextResponse  *time.Time `json:"next_response"`
	Resolution    *time.Time `json:"resolution"`
}

const conversationSelect = `SELECT c.number, c.kind, c.status, c.chat_id, c.line_id,
	ch.id, ch.kind, ch.name, ct.id, ct.name, ct.email, ct.phone,
	c.assignee_id, coalesce(u.name, ''),
	coalesce((SELECT json_agg(json_build_object('id', p.id, 'name', p.name) ORDER BY array_position(c.participants, p.id))
		FROM users p WHERE p.id = ANY(c.participants)), '[]'),
	` + titleColumn + `, c.type, c.reasons, c.components, c.solution, c.close_reason, c.created_at, c.last_activity_at, c.closed_at,
	c.due_first_response, c.due_next_response, c.due_resolution, c.overdue, c.unread, c.client_rating, c.csat, c.merged_reply,
	least(c.due_first_response, c.due_next_response, c.due_resolution),
	` + lastMessageColumns + `, c.tags, c.priority, c.attributes
FROM conversations c
JOIN channels ch ON ch.id = c.channel_id
JOIN contacts ct ON ct.id = c.contact_id
LEFT JOIN users u ON u.id = c.assignee_id`

// titleColumn is a conversation's title: its own, or its chat's subject while it has none (a mail
// thread's, a site's request form or call-back request).
const titleColumn = `CASE WHEN c.title = '' AND ch.kind IN ('email', 'webchat') THEN (SELECT t.subject FROM chats t WHERE t.id = c.chat_id) ELSE c.title END`

// lastMessageColumns are the list's preview and waiting time: scalar subqueries, so PostgreSQL
// evaluates them only for the rows a page returns (after the ORDER BY ... LIMIT), each one short
// walk of messages_conversation_idx (conversation_number, created_at, id). waiting_since needs a
// walk only when the conversation has unread client messages (unread counts exactly the client
// messages after the last answer, replied_at).
const lastMessageColumns = `(SELECT json_build_object('text', left(m.text, 200), 'direction', m.direction, 'created_at', m.created_at)
		FROM messages m WHERE m.conversation_number = c.number AND m.direction IN ('in', 'out')
		ORDER BY m.created_at DESC, m.id DESC LIMIT 1),
	CASE WHEN c.status <> 'closed' AND c.unread > 0 THEN (SELECT m.created_at FROM messages m
		WHERE m.conversation_number = c.number AND m.direction = 'in' AND m.created_at > coalesce(c.replied_at, '-infinity')
		ORDER BY m.created_at, m.id LIMIT 1) END`

func scanConversation(row rowScanner) (Conversation, *time.Time, error) {
	var c Conversation
	var assigneeID *int64
	var assigneeName string
	var participants []byte
	var rating, csat *int16
	var nextDue *time.Time
	var last []byte
	err := row.Scan(&c.Number, &c.Kind, &c.Status, &c.ChatID, &c.LineID,
		&c.Channel.ID, &c.Channel.Kind, &c.Channel.Name, &c.Contact.ID, &c.Contact.Name, &c.Contact.Email, &c.Contact.Phone,
		&assigneeID, &assigneeName, &participants,
		&c.Title, &c.Type, &c.Reasons, &c.Components, &c.Solution, &c.CloseReason, &c.CreatedAt, &c.LastActivityAt, &c.ClosedAt,
		&c.Due.FirstResponse, &c.Due.NextResponse, &c.Due.Resolution, &c.Overdue, &c.Unread, &rating, &csat, &c.MergedReply,
		&nextDue, &last, &c.WaitingSince, &c.Tags, &c.Priority, &c.Attributes)
	if err != nil {
		return c, nil, err
	}
	if len(last) > 0 {
		c.LastMessage = &LastMessage{}
		if err := json.Unmarshal(last, c.LastMessage); err != nil {
			return c, nil, fmt.Errorf("last message: %w", err)
		}
	}
	if assigneeID != nil {
		c.Assignee = &UserRef{ID: *assigneeID, Name: assigneeName}
	}
	if err := json.Unmarshal(participants, &c.Participants); err != nil {
		return c, nil, fmt.Errorf("participants: %w", err)
	}
	if rating != nil {
		v := int(*rating)
		c.ClientRating = &v
	}
	if csat != nil {
		v := int(*csat)
		c.CSAT = &v
	}
	return c, nextDue, nil
}

// ConversationByNumber returns one conversation.
func (s *Store) ConversationByNumber(ctx context.Context, number int64) (Conversation, error) {
	c, _, err := scanConversation(s.pool.QueryRow(ctx, conversationSelect+` WHERE c.number = $1`, number))
	return c, translate(err, "conversation by number")
}

// ConversationFilter selects and orders a conversation list.
type ConversationFilter struct {
	// View: "unassigned" (queued, nobody has it), "mine" (open, assigned to UserID),
	// "dialogs" (open dialogs), "all".
	View   string
	UserID int64
	Status string
	// Statuses, when set, lists the statuses to show (any of them).
	Statuses []string
	// ChannelKind keeps the conversations of channels of that kind (the inbox's folders).
	ChannelKind string
	ChannelID   int64
	LineID      int64
	ChatID      *uuid.UUID
	// ContactID: only the conversations of this contact, across their chats.
	ContactID int64
	// Tag: only those with this tag; Priority: only those of this priority.
	Tag, Priority string
	// Attributes: only those with these attribute values; ContactFields: only those whose
	// contact has these custom field values.
	Attributes, ContactFields map[string]string
	// Sort: "created" (newest first), "activity" (latest activity first), "due" (earliest due first).
	Sort   string
	Cursor string
	Limit  int
	// Scope limits the list to what a user may see; nil: everything.
	Scope *ListScope
}

// ErrBadCursor is returned for a cursor this store did not produce.
var ErrBadCursor = errors.New("invalid cursor")

type cursor struct {
	T time.Time `json:"t"`
	N int64     `json:"n"`
	// Null marks a row without a due time (they sort last in the "due" order).
	Null bool `json:"z,omitempty"`
}

// ListConversations returns one page of conversations and the cursor of the next page ("" at
// the end). Paging is by keyset, so a page costs the same however deep it is.
func (s *Store) ListConversations(ctx context.Context, f ConversationFilter) ([]Conversation, string, error) {
	if f.Limit <= 0 || f.Limit > 200 {
		f.Limit = 50
	}
	var where []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	switch f.View {
	case "unassigned":
		where = append(where, "c.status = 'queued'", "c.assignee_id IS NULL")
	case "mine":
		// Assigned to the user, or taking part without being assigned: two branches of one
		// UNION below, each walking its own index (migration 005).
		where = append(where, "c.status <> 'closed'")
	case "dialogs":
		where = append(where, "c.kind = 'dialog'", "c.status <> 'closed'")
	case "all", "":
	default:
		return nil, "", fmt.Errorf("view %q: %w", f.View, ErrInvalid)
	}
	if f.Status != "" {
		where = append(where, "c.status = "+arg(f.Status))
	}
	if len(f.Statuses) > 0 {
		where = append(where, "c.status = ANY("+arg(f.Statuses)+"::text[])")
	}
	if f.ChannelKind != "" {
		where = append(where, "c.channel_id IN (SELECT id FROM channels WHERE kind = "+arg(f.ChannelKind)+")")
	}
	if f.ChannelID != 0 {
		where = append(where, "c.channel_id = "+arg(f.ChannelID))
	}
	if f.LineID != 0 {
		where = append(where, "c.line_id = "+arg(f.LineID))
	}
	if f.ChatID != nil {
		where = append(where, "c.chat_id = "+arg(*f.ChatID))
	}
	if f.ContactID != 0 {
		// Through the contact's chats: both lookups have an index (chats.contact_id, conversations.chat_id).
		where = append(where, "c.chat_id IN (SELECT id FROM chats WHERE contact_id = "+arg(f.ContactID)+")")
	}
	if f.Tag != "" {
		where = append(where, "c.tags @> ARRAY["+arg(f.Tag)+"::text]")
	}
	if f.Priority != "" {
		where = append(where, "c.priority = "+arg(f.Priority))
	}
	if len(f.Attributes) > 0 {
		where = append(where, "c.attributes @> "+arg(f.Attributes)+"::jsonb")
	}
	if len(f.ContactFields) > 0 {
		where = append(where, "c.contact_id IN (SELECT id FROM contacts WHERE fields @> "+arg(f.ContactFields)+"::jsonb)")
	}
	if sc := f.Scope; sc != nil && f.View != "mine" {
		where = append(where, sc.clause(arg))
	}
	var cur *cursor
	if f.Cursor != "" {
		raw, err := base64.RawURLEncoding.DecodeString(f.Cursor)
		cur = &cursor{}
		if err != nil || json.Unmarshal(raw, cur) != nil {
			return nil, "", ErrBadCursor
		}
	}
	var order string
	dueExpr := "least(c.due_first_response, c.due_next_response, c.due_resolution)"
	switch f.Sort {
	case "", "created":
		order = "c.created_at DESC, c.number DESC"
		if cur != nil {
			where = append(where, "(c.created_at, c.number) < ("+arg(cur.T)+", "+arg(cur.N)+")")
		}
	case "activity":
		order = "c.last_activity_at DESC, c.number DESC"
		if cur != nil {
			where = append(where, "(c.last_activity_at, c.number) < ("+arg(cur.T)+", "+arg(cur.N)+")")
		}
	case "due":
		order = dueExpr + " ASC NULLS LAST, c.number ASC"
		if cur != nil {
			if cur.Null {
				where = append(where, dueExpr+" IS NULL AND c.number > "+arg(cur.N))
			} else {
				t, n := arg(cur.T), arg(cur.N)
				where = append(where, "("+dueExpr+" IS NULL OR ("+dueExpr+", c.number) > ("+t+", "+n+"))")
			}
		}
	default:
		return nil, "", fmt.Errorf("sort %q: %w", f.Sort, ErrInvalid)
	}
	limit := arg(f.Limit + 1)
	q := conversationSelect
	if f.View == "mine" {
		user := arg(f.UserID)
		branch := func(who string) string {
			return "(SELECT c.number FROM conversations c WHERE " + strings.Join(append([]string{who}, where...), " AND ") +
				" ORDER BY " + order + " LIMIT " + limit + ")"
		}
		// The second branch reads all of the user's participations first (OFFSET 0 keeps the
		// planner from walking the activity index in the hope of meeting one soon).
		q += " WHERE c.number IN (" + branch("c.assignee_id = "+user) + " UNION ALL " +
			branch("c.number IN (SELECT number FROM conversations WHERE status <> 'closed' AND "+
				"array_remove(participants, assignee_id) @> ARRAY["+user+"::bigint] OFFSET 0)") + ")"
	} else if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY " + order + " LIMIT " + limit
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, "", translate(err, "list conversations")
	}
	defer rows.Close()
	items := []Conversation{}
	var dues []*time.Time
	for rows.Next() {
		c, due, err := scanConversation(rows)
		if err != nil {
			return nil, "", translate(err, "scan conversation")
		}
		items = append(items, c)
		dues = append(dues, due)
	}
	if err := rows.Err(); err != nil {
		return nil, "", translate(err, "list conversations")
	}
	next := ""
	if len(items) > f.Limit {
		items, dues = items[:f.Limit], dues[:f.Limit]
		last := items[len(items)-1]
		c := cursor{N: last.Number}
		switch f.Sort {
		case "activity":
			c.T = last.LastActivityAt
		case "due":
			if d := dues[len(dues)-1]; d != nil {
				c.T = *d
			} else {
				c.Null = true
			}
		default:
			c.T = last.CreatedAt
		}
		raw, _ := json.Marshal(c)
		next = base64.RawURLEncoding.EncodeToString(raw)
	}
	return items, next, nil
}

// clause is the condition that limits a list to the scope: what the user handles or takes part
// in, and their lines' conversations except an unassigned queue they may not see. The list and
// its counters share it, so a counter never counts a row the list would not show.
func (sc *ListScope) clause(arg func(any) string) string {
	u := arg(sc.UserID)
	return "(c.assignee_id = " + u + " OR " + u + " = ANY(c.participants) OR (c.line_id = ANY(" + arg(sc.Lines) +
		") AND (c.assignee_id IS NOT NULL OR c.status <> 'queued' OR c.line_id = ANY(" + arg(sc.UnassignedLines) + "))))"
}

// ConversationCounts are the inbox's live counters over open (not closed) conversations.
type ConversationCounts struct {
	Views        map[string]int64 `json:"views"`
	ChannelKinds map[string]int64 `json:"channel_kinds"`
	Lines        map[string]int64 `json:"lines"`
}

// CountConversations counts the open conversations a user sees, per view, channel kind and line,
// in one statement (grouping sets over the open rows). scope nil: everything (admins).
func (s *Store) CountConversations(ctx context.Context, userID int64, scope *ListScope) (ConversationCounts, error) {
	out := ConversationCounts{Views: map[string]int64{"unassigned": 0, "mine": 0, "all": 0, "dialogs": 0},
		ChannelKinds: map[string]int64{}, Lines: map[string]int64{}}
	args := []any{userID}
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	where := "c.status <> 'closed'"
	if scope != nil {
		where += " AND " + scope.clause(arg)
	}
	rows, err := s.pool.Query(ctx, `SELECT ch.kind, c.line_id, GROUPING(ch.kind), GROUPING(c.line_id),
			count(*) FILTER (WHERE c.status = 'queued' AND c.assignee_id IS NULL),
			count(*) FILTER (WHERE c.assignee_id = $1 OR $1 = ANY(c.participants)),
			count(*),
			count(*) FILTER (WHERE c.kind = 'dialog')
		FROM conversations c JOIN channels ch ON ch.id = c.channel_id
		WHERE `+where+`
		GROUP BY GROUPING SETS ((ch.kind), (c.line_id), ())`, args...)
	if err != nil {
		return out, translate(err, "count conversations")
	}
	defer rows.Close()
	for rows.Next() {
		var kind *string
		var line *int64
		var gKind, gLine int32
		var unassigned, mine, all, dialogs int64
		if err := rows.Scan(&kind, &line, &gKind, &gLine, &unassigned, &mine, &all, &dialogs); err != nil {
			return out, translate(err, "scan counts")
		}
		switch {
		case gKind == 0 && kind != nil:
			out.ChannelKinds[*kind] = all
		case gLine == 0 && line != nil:
			out.Lines[strconv.FormatInt(*line, 10)] = all
		case gKind == 1 && gLine == 1:
			out.Views = map[string]int64{"unassigned": unassigned, "mine": mine, "all": all, "dialogs": dialogs}
		}
	}
	return out, translate(rows.Err(), "count conversations")
}

// ConversationLastActivity returns when a conversation last had a message.
func (s *Store) ConversationLastActivity(ctx context.Context, number int64) (time.Time, error) {
	var at time.Time
	err := s.pool.QueryRow(ctx, `SELECT last_activity_at FROM conversations WHERE number = $1`, number).Scan(&at)
	return at, translate(err, "conversation last activity")
}

// ConversationEvents returns a conversation's timeline in order, with the actors' names.
func (s *Store) ConversationEvents(ctx context.Context, number int64) ([]TimelineEntry, error) {
	rows, err := s.pool.Query(ctx, `SELECT e.seq, e.at, e.actor_id, coalesce(u.name, ''), e.kind, e.data
		FROM conversation_events e LEFT JOIN users u ON u.id = e.actor_id
		WHERE e.number = $1 ORDER BY e.seq`, number)
	if err != nil {
		return nil, translate(err, "conversation events")
	}
	defer rows.Close()
	out := []TimelineEntry{}
	for rows.Next() {
		var t TimelineEntry
		var actorID *int64
		var actorName string
		if err := rows.Scan(&t.Seq, &t.At, &actorID, &actorName, &t.Kind, &t.Data); err != nil {
			return nil, translate(err, "scan conversation event")
		}
		if actorID != nil {
			t.Actor = &UserRef{ID: *actorID, Name: actorName}
		}
		out = append(out, t)
	}
	return out, translate(rows.Err(), "conversation events")
}

// TimelineEntry is one event of a conversation's history.
type TimelineEntry struct {
	Seq   int64           `json:"seq"`
	At    time.Time       `json:"at"`
	Actor *UserRef        `json:"actor"`
	Kind  string          `json:"kind"`
	Data  json.RawMessage `json:"data"`
}

func nonNilInts(v []int64) []int64 {
	if v == nil {
		return []int64{}
	}
	return v
}

func nonNilStrings(v []string) []string {
	if v == nil {
		return []string{}
	}
	return v
}

// CurrentSibling returns the queued or active conversation of the same chat as conversation
// number, other than it (0: none). A chat has at most one (seed 003).
func (s *Store) CurrentSibling(ctx context.Context, number int64) (int64, error) {
	var sibling int64
	err := s.pool.QueryRow(ctx, `SELECT coalesce((SELECT o.number FROM conversations c JOIN conversations o ON o.chat_id = c.chat_id
		WHERE c.number = $1 AND o.number <> c.number AND o.status IN ('queued', 'active') LIMIT 1), 0)`, number).Scan(&sibling)
	return sibling, translate(err, "current sibling")
}

// ContactExists tells whether a contact with this id exists.
func (s *Store) ContactExists(ctx context.Context, id int64) (bool, error) {
	var ok bool
	err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM contacts WHERE id = $1)`, id).Scan(&ok)
	if err != nil {
		return false, translate(err, "contact exists")
	}
	return ok, nil
}

// LabelChange changes a conversation's labels (nil or empty: unchanged). Attributes merge into
// the conversation's: a key with "" is removed.
type LabelChange struct {
	Tags       []string
	Priority   *string
	Attributes map[string]string
	ActorID    int64
}

// SetConversationLabels changes a conversation's tags, priority and attributes, and tells the
// consoles (and webhooks) in the same commit: a conversation.labeled event with the new labels.
func (s *Store) SetConversationLabels(ctx context.Context, number int64, ch LabelChange) error {
	set, drop := map[string]string{}, []string{}
	for k, v := range ch.Attributes {
		if v == "" {
			drop = append(drop, k)
		} else {
			set[k] = v
		}
	}
	return s.InTx(ctx, func(tx *Store) error {
		var exists, changed bool
		err := tx.pool.QueryRow(ctx, `WITH u AS (UPDATE conversations SET tags = coalesce($2, tags), priority = coalesce($3, priority),
				attributes = (attributes - $5::text[]) || $4::jsonb
			WHERE number = $1 AND (tags IS DISTINCT FROM coalesce($2, tags) OR priority IS DISTINCT FROM coalesce($3, priority)
				OR attributes IS DISTINCT FROM (attributes - $5::text[]) || $4::jsonb) RETURNING 1)
			SELECT EXISTS (SELECT 1 FROM conversations WHERE number = $1), EXISTS (SELECT 1 FROM u)`,
			number, ch.Tags, ch.Priority, set, drop).Scan(&exists, &changed)
		if err != nil {
			return translate(err, "set conversation labels")
		}
		if !exists {
			return ErrNotFound
		}
		if !changed {
			return nil // nothing to tell (a retried macro step)
		}
		_, err = tx.pool.Exec(ctx, `SELECT emit_conversation_event('conversation.labeled', c.number, jsonb_build_object(
				'tags', c.tags, 'priority', c.priority, 'attributes', c.attributes, 'actor_id', $2::bigint))
			FROM conversations c WHERE c.number = $1`, number, ch.ActorID)
		return translate(err, "set conversation labels")
	})
}
