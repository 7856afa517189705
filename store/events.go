package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// EventCursor is a position in the events table: events come in (xid, id) order, and an event
// is after a cursor when its (xid, id) is greater.
type EventCursor struct {
	XID uint64
	ID  int64
}

// String is the cursor as clients see it (the SSE event id).
func (c EventCursor) String() string {
	return strconv.FormatUint(c.XID, 10) + "." + strconv.FormatInt(c.ID, 10)
}

// Less orders cursors.
func (c EventCursor) Less(o EventCursor) bool {
	return c.XID < o.XID || (c.XID == o.XID && c.ID < o.ID)
}

// ParseEventCursor reads a cursor a client sent back (Last-Event-ID).
func ParseEventCursor(s string) (EventCursor, error) {
	x, i, ok := strings.Cut(s, ".")
	xid, err1 := strconv.ParseUint(x, 10, 64)
	id, err2 := strconv.ParseInt(i, 10, 64)
	if !ok || err1 != nil || err2 != nil || id < 0 {
		return EventCursor{}, fmt.Errorf("%q is not an event id", s)
	}
	return EventCursor{XID: xid, ID: id}, nil
}

// Event is one row of the events table (written by the triggers of migration 009).
type Event struct {
	Cursor       EventCursor     `json:"-"`
	At           time.Time       `json:"at"`
	Kind         string          `json:"kind"`
	LineID       *int64          `json:"line_id,omitempty"`
	Conversation *int64          `json:"conversation,omitempty"`
	Status       string          `json:"status,omitempty"`
	AssigneeID   *int64          `json:"assignee_id,omitempty"`
	Participants []int64         `json:"-"`
	UserIDs      []int64         `json:"-"`
	Data         json.RawMessage `json:"data"`
}

// EventsHead is the position everything before which is final: no running transaction can still
// add an event before it.
func (s *Store) EventsHead(ctx context.Context) (EventCursor, error) {
	var xid string
	err := s.pool.QueryRow(ctx, `SELECT pg_snapshot_xmin(pg_current_snapshot())::text`).Scan(&xid)
	if err != nil {
		return EventCursor{}, translate(err, "events head")
	}
	x, err := strconv.ParseUint(xid, 10, 64)
	// Events of the oldest running transaction have this xid and ids above 0: they come after.
	return EventCursor{XID: x}, err
}

// EventsAfter returns up to limit events after the cursor and not after upTo (nil: no bound),
// oldest first, only from finished transactions: a transaction still running when this reads
// is read next time, after the cursor, never skipped.
func (s *Store) EventsAfter(ctx context.Context, after EventCursor, upTo *EventCursor, limit int) ([]Event, error) {
	bound := EventCursor{XID: ^uint64(0) >> 1, ID: 1<<63 - 1}
	if upTo != nil {
		bound = *upTo
	}
	return queryAll(ctx, s, "events", `SELECT xid::text, id, at, kind, line_id, conversation_number, coalesce(status, ''),
			assignee_id, participants, user_ids, data
		FROM events
		WHERE (xid, id) > ($1::text::xid8, $2) AND (xid, id) <= ($3::text::xid8, $4)
			AND xid < pg_snapshot_xmin(pg_current_snapshot())
		ORDER BY xid, id LIMIT $5`, func(r rowScanner) (Event, error) {
		var e Event
		var xid string
		err := r.Scan(&xid, &e.Cursor.ID, &e.At, &e.Kind, &e.LineID, &e.Conversation, &e.Status, &e.AssigneeID,
			&e.Participants, &e.UserIDs, &e.Data)
		if err == nil {
			e.Cursor.XID, err = strconv.ParseUint(xid, 10, 64)
		}
		return e, err
	}, strconv.FormatUint(after.XID, 10), after.ID, strconv.FormatUint(bound.XID, 10), bound.ID, limit)
}

const eventsPrunedKey = "events_pruned_through"

// PruneEvents deletes events older than the cutoff, a batch at a time, and remembers the newest
// position deleted so that a client resuming from before it learns it missed events.
func (s *Store) PruneEvents(ctx context.Context, before time.Time) (int64, error) {
	var xid *string
	var id *int64
	var n int64
	err := s.pool.QueryRow(ctx, `WITH gone AS (
			DELETE FROM events WHERE (xid, id) IN (SELECT xid, id FROM events WHERE at < $1 ORDER BY xid, id LIMIT 10000)
			RETURNING xid, id)
		SELECT (SELECT xid::text FROM gone ORDER BY xid DESC, id DESC LIMIT 1),
			(SELECT id FROM gone ORDER BY xid DESC, id DESC LIMIT 1), (SELECT count(*) FROM gone)`, before).Scan(&xid, &id, &n)
	if err != nil || xid == nil {
		return 0, translate(err, "prune events")
	}
	x, err := strconv.ParseUint(*xid, 10, 64)
	if err != nil {
		return 0, err
	}
	last := EventCursor{XID: x, ID: *id}
	prev, err := s.EventsPrunedThrough(ctx)
	if err != nil {
		return n, err
	}
	if prev.Less(last) {
		err = s.PutSetting(ctx, eventsPrunedKey, last.String())
	}
	return n, err
}

// EventsPrunedThrough is the newest event position pruned so far (zero: none).
func (s *Store) EventsPrunedThrough(ctx context.Context) (EventCursor, error) {
	var v string
	found, err := s.Setting(ctx, eventsPrunedKey, &v)
	if err != nil || !found {
		return EventCursor{}, err
	}
	return ParseEventCursor(v)
}
