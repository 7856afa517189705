package store

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
)

// Lead is a sales lead made from conversations (seed 001): one per contact and line.
type Lead struct {
	ID            int64     `json:"id"`
	ContactID     int64     `json:"contact_id"`
	ContactName   string    `json:"contact_name"`
	LineID        int64     `json:"line_id"`
	Topic         string    `json:"topic"`
	Conversations []int64   `json:"conversations"`
	CreatedBy     *int64    `json:"created_by"`
	CreatedAt     time.Time `json:"created_at"`
}

// LeadConversion is what converting conversations did: the leads made and, for conversations
// that had become leads before, the lead each one is in.
type LeadConversion struct {
	Leads []Lead
	// Before maps a conversation converted earlier to its lead.
	Before map[int64]int64
	// Made maps each newly converted conversation to its new lead.
	Made map[int64]int64
	// Missing lists numbers that name no conversation.
	Missing []int64
}

// ConvertToLeads makes one lead per contact and line of the given conversations, each with its
// source conversations, in one transaction. A conversation already in a lead is left where it is.
// ErrConflict: another conversion took one of them at the same moment (nothing was made).
func (s *Store) ConvertToLeads(ctx context.Context, numbers []int64, topic string, by int64) (LeadConversion, error) {
	out := LeadConversion{Before: map[int64]int64{}, Made: map[int64]int64{}}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT c.number, c.contact_id, c.line_id, ls.lead_id
			FROM conversations c LEFT JOIN lead_sources ls ON ls.conversation_number = c.number
			WHERE c.number = ANY($1) ORDER BY c.number`, numbers)
		if err != nil {
			return err
		}
		type key struct{ contact, line int64 }
		groups := map[key][]int64{}
		var order []key
		found := map[int64]bool{}
		for rows.Next() {
			var n, contact, line int64
			var lead *int64
			if err := rows.Scan(&n, &contact, &line, &lead); err != nil {
				rows.Close()
				return err
			}
			found[n] = true
			if lead != nil {
				out.Before[n] = *lead
				continue
			}
			k := key{contact, line}
			if _, ok := groups[k]; !ok {
				order = append(order, k)
			}
			groups[k] = append(groups[k], n)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, n := range numbers {
			if !found[n] && !slices.Contains(out.Missing, n) {
				out.Missing = append(out.Missing, n)
			}
		}
		for _, k := range order {
			var l Lead
			err := tx.QueryRow(ctx, `INSERT INTO leads (contact_id, line_id, topic, created_by) VALUES ($1, $2, $3, nullif($4::bigint, 0))
				RETURNING id, contact_id, (SELECT name FROM contacts WHERE id = $1), line_id, topic, created_by, created_at`,
				k.contact, k.line, topic, by).Scan(&l.ID, &l.ContactID, &l.ContactName, &l.LineID, &l.Topic, &l.CreatedBy, &l.CreatedAt)
			if err != nil {
				return err
			}
			l.Conversations = groups[k]
			if _, err := tx.Exec(ctx, `INSERT INTO lead_sources (lead_id, conversation_number) SELECT $1, unnest($2::bigint[])`,
				l.ID, l.Conversations); err != nil {
				return err
			}
			for _, n := range l.Conversations {
				out.Made[n] = l.ID
			}
			out.Leads = append(out.Leads, l)
		}
		return nil
	})
	if out.Leads == nil {
		out.Leads = []Lead{}
	}
	return out, translate(err, "convert to leads")
}

// LeadFilter pages the lead list; Scope limits it to what a user may see (nil: everything).
type LeadFilter struct {
	Cursor string
	Limit  int
	LineID int64
	Scope  *ListScope
}

// ListLeads returns one page of leads, newest first, and the cursor of the next page ("" at the
// end). A user sees the leads of the lines they work on and the ones they made.
func (s *Store) ListLeads(ctx context.Context, f LeadFilter) ([]Lead, string, error) {
	if f.Limit <= 0 || f.Limit > 200 {
		f.Limit = 50
	}
	var cur cursor
	hasCur := f.Cursor != ""
	if hasCur {
		raw, err := base64.RawURLEncoding.DecodeString(f.Cursor)
		if err != nil || json.Unmarshal(raw, &cur) != nil {
			return nil, "", ErrBadCursor
		}
	}
	var scoped bool
	var user int64
	var lines []int64
	if f.Scope != nil {
		scoped, user, lines = true, f.Scope.UserID, f.Scope.Lines
	}
	items, err := queryAll(ctx, s, "list leads", `SELECT l.id, l.contact_id, coalesce(ct.name, ''), l.line_id, l.topic,
			coalesce((SELECT array_agg(ls.conversation_number ORDER BY ls.conversation_number) FROM lead_sources ls WHERE ls.lead_id = l.id), '{}'),
			l.created_by, l.created_at
		FROM leads l LEFT JOIN contacts ct ON ct.id = l.contact_id
		WHERE (NOT $1 OR l.line_id = ANY($3) OR l.created_by = $2)
			AND ($4::bigint = 0 OR l.line_id = $4)
			AND (NOT $5 OR (l.created_at, l.id) < ($6, $7))
		ORDER BY l.created_at DESC, l.id DESC LIMIT $8`, func(r rowScanner) (Lead, error) {
		var l Lead
		err := r.Scan(&l.ID, &l.ContactID, &l.ContactName, &l.LineID, &l.Topic, &l.Conversations, &l.CreatedBy, &l.CreatedAt)
		return l, err
	}, scoped, user, lines, f.LineID, hasCur, cur.T, cur.N, f.Limit+1)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(items) > f.Limit {
		items = items[:f.Limit]
		last := items[len(items)-1]
		raw, _ := json.Marshal(cursor{T: last.CreatedAt, N: last.ID})
		next = base64.RawURLEncoding.EncodeToString(raw)
	}
	return items, next, nil
}
