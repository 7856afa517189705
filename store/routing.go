package store

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
)

// Routing rules and away policies of a line (LineSettings.Routing, LineSettings.AwayPolicy).
const (
	RoutingManual     = "manual"
	RoutingRoundRobin = "round_robin"
	RoutingLeastBusy  = "least_busy"
	// RoutingResponsible offers the line's conversations to its responsible employee only (seed
	// 000: "укажите ответственного сотрудника или отдел"), when online and with room; the line's
	// other operators may still take them by hand.
	RoutingResponsible = "responsible"

	AwayKeep   = "keep"
	AwayReturn = "return"
)

// SlotClaim is the answer to ClaimSlot.
type SlotClaim struct {
	Claimed  bool
	Active   int
	Capacity int
}

// ClaimSlot reserves one of the operator's slots for the conversation, unless the operator
// already has capacity active conversations (capacity 0: no limit). The operator's row lock
// serialises every claim for them, so concurrent takes and routing decisions never exceed it.
// Claiming a conversation the operator already holds succeeds and changes nothing.
func (s *Store) ClaimSlot(ctx context.Context, number, operator int64) (SlotClaim, error) {
	var out SlotClaim
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `SELECT capacity FROM users WHERE id = $1 FOR UPDATE`, operator).Scan(&out.Capacity); err != nil {
			return err
		}
		var holds bool
		if err := tx.QueryRow(ctx, `SELECT count(*), coalesce(bool_or(number = $2), false) FROM operator_claims WHERE user_id = $1`,
			operator, number).Scan(&out.Active, &holds); err != nil {
			return err
		}
		if holds {
			out.Claimed = true
			return nil
		}
		if out.Capacity > 0 && out.Active >= out.Capacity {
			return nil
		}
		_, err := tx.Exec(ctx, `INSERT INTO operator_claims (number, user_id) VALUES ($1, $2)
			ON CONFLICT (number) DO UPDATE SET user_id = excluded.user_id, claimed_at = now()`, number, operator)
		out.Claimed = err == nil
		return err
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return out, nil // no such user: nothing to claim (the update's validation names the problem)
	}
	return out, translate(err, "claim slot")
}

// QueueHead is the conversation that has waited longest in a line's queue.
type QueueHead struct {
	Number   int64
	QueuedAt time.Time
	// Previous is the operator of the client's latest earlier conversation in the same chat.
	Previous int64
}

// RouteCandidate is an online operator of a line with their load.
type RouteCandidate struct {
	ID       int64
	Active   int
	Capacity int
}

// RouteSnapshot reads what a line's router decides on: the line's rule, the oldest waiting
// conversation (skipping the given numbers) and the line's online operators, by id.
func (s *Store) RouteSnapshot(ctx context.Context, lineID int64, skip []int64) (string, *QueueHead, []RouteCandidate, error) {
	l, err := s.LineByID(ctx, lineID)
	if err != nil {
		return "", nil, nil, err
	}
	mode := l.Routing
	if mode == "" || mode == RoutingManual {
		return RoutingManual, nil, nil, nil
	}
	// The oldest waiting requests, with their client's custom fields and their attributes (the
	// routing rules read them).
	type head struct {
		QueueHead
		data map[string]string
	}
	heads, err := queryAll(ctx, s, "route snapshot", `SELECT c.number, c.queued_at,
			coalesce((SELECT p.assignee_id FROM conversations p WHERE p.chat_id = c.chat_id AND p.number <> c.number
				AND p.assignee_id IS NOT NULL ORDER BY p.created_at DESC LIMIT 1), 0),
			coalesce((SELECT k.fields FROM contacts k WHERE k.id = c.contact_id), '{}') || c.attributes
		FROM conversations c
		WHERE c.line_id = $1 AND c.status = 'queued' AND c.assignee_id IS NULL AND c.number <> ALL($2)
		ORDER BY c.queued_at, c.number LIMIT `+strconv.Itoa(routeLookahead), func(r rowScanner) (head, error) {
		var h head
		err := r.Scan(&h.Number, &h.QueuedAt, &h.Previous, &h.data)
		return h, err
	}, lineID, nonNilInts(skip))
	if err != nil || len(heads) == 0 {
		return mode, nil, nil, err
	}
	only := int64(0)
	if mode == RoutingResponsible {
		// One candidate: the router's round robin over them is "to the responsible employee".
		mode, only = RoutingRoundRobin, l.ResponsibleUserID
	}
	type candidate struct {
		RouteCandidate
		groups []int64
	}
	all, err := queryAll(ctx, s, "route candidates", `SELECT u.id, (SELECT count(*) FROM operator_claims oc WHERE oc.user_id = u.id), u.capacity,
			array(SELECT gm.group_id FROM group_members gm WHERE gm.user_id = u.id)
		FROM users u
		WHERE u.disabled_at IS NULL AND u.presence = 'online' AND ($2::bigint = 0 OR u.id = $2) AND EXISTS (
			SELECT 1 FROM group_members m JOIN groups g ON g.id = m.group_id AND `+operatorGroup+`
			JOIN line_groups lg ON lg.group_id = g.id WHERE m.user_id = u.id AND lg.line_id = $1)
		ORDER BY u.id`, func(r rowScanner) (candidate, error) {
		var c candidate
		err := r.Scan(&c.ID, &c.Active, &c.Capacity, &c.groups)
		return c, err
	}, lineID, only)
	if err != nil {
		return "", nil, nil, err
	}
	// Each request's candidates: the first routing rule its custom data matches narrows them to
	// a group. The oldest request someone with room may take goes first; one whose group has
	// nobody free waits without holding up the requests behind it.
	candidatesOf := func(h head) []RouteCandidate {
		group := int64(0)
		for _, r := range l.RoutingRules {
			if v, ok := h.data[r.Key]; ok && v == r.Value {
				group = r.GroupID
				break
			}
		}
		out := []RouteCandidate{}
		for _, c := range all {
			if group == 0 || slices.Contains(c.groups, group) {
				out = append(out, c.RouteCandidate)
			}
		}
		return out
	}
	for _, h := range heads {
		cands := candidatesOf(h)
		if slices.ContainsFunc(cands, func(c RouteCandidate) bool { return c.Capacity == 0 || c.Active < c.Capacity }) {
			return mode, &h.QueueHead, cands, nil
		}
	}
	return mode, &heads[0].QueueHead, candidatesOf(heads[0]), nil
}

// routeLookahead is how many waiting requests the router looks at for one someone may take.
const routeLookahead = 20

// RoutedLinesWaiting lists the lines that route automatically and have conversations waiting,
// limited to the given lines when any are given.
func (s *Store) RoutedLinesWaiting(ctx context.Context, lines []int64) ([]int64, error) {
	return queryAll(ctx, s, "routed lines waiting", `SELECT l.id FROM lines l
		WHERE coalesce(l.settings->>'routing', 'manual') <> 'manual' AND (cardinality($1::bigint[]) = 0 OR l.id = ANY($1))
			AND EXISTS (SELECT 1 FROM conversations c WHERE c.line_id = l.id AND c.status = 'queued' AND c.assignee_id IS NULL)
		ORDER BY l.id`, func(r rowScanner) (int64, error) {
		var id int64
		err := r.Scan(&id)
		return id, err
	}, nonNilInts(lines))
}

// RoutedLineWaitingFor is RoutedLinesWaiting for the line of one conversation: a conversation
// that entered the queue wakes its own line's router only.
func (s *Store) RoutedLineWaitingFor(ctx context.Context, number int64) ([]int64, error) {
	return queryAll(ctx, s, "routed line waiting", `SELECT l.id FROM conversations q JOIN lines l ON l.id = q.line_id
		WHERE q.number = $1 AND coalesce(l.settings->>'routing', 'manual') <> 'manual'
			AND EXISTS (SELECT 1 FROM conversations c WHERE c.line_id = l.id AND c.status = 'queued' AND c.assignee_id IS NULL)`,
		func(r rowScanner) (int64, error) {
			var id int64
			err := r.Scan(&id)
			return id, err
		}, number)
}

// ActiveOnReturnLines lists an operator's active conversations on lines whose away policy
// returns them to the queue.
func (s *Store) ActiveOnReturnLines(ctx context.Context, operator int64) ([]int64, error) {
	return queryAll(ctx, s, "active on return lines", `SELECT c.number FROM conversations c JOIN lines l ON l.id = c.line_id
		WHERE c.assignee_id = $1 AND c.status = 'active' AND l.settings->>'away_policy' = 'return'
		ORDER BY c.number`, func(r rowScanner) (int64, error) {
		var n int64
		err := r.Scan(&n)
		return n, err
	}, operator)
}
