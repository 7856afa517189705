package store

import (
	"context"

	"github.com/google/uuid"
)

// Line roles: what a user is on one line (seed 004: a line has operator groups and supervisor
// groups; admins are everything everywhere).
const (
	LineRoleNone       = ""
	LineRoleOperator   = "operator"
	LineRoleSupervisor = "supervisor"
	LineRoleAdmin      = "admin"
)

// ConversationAccess is what decides whether a user reaches a conversation and with which role.
type ConversationAccess struct {
	LineID    int64
	Status    string
	Assignee  int64
	Involved  bool // the user is the assignee or a participant
	Supervise bool // the user is in a supervisor group of the line
	Operate   bool // the user is in an operator group of the line
	Queue     bool // an operator group of the user opens the line's unassigned queue
}

// Role is the user's role on the conversation, or LineRoleNone when they may not see it.
func (a ConversationAccess) Role(userRole string) string {
	return lineRole(userRole, a.Supervise, a.Involved, a.Operate && (a.Assignee != 0 || a.Status != "queued" || a.Queue))
}

// lineRole is the one rule of who sees a conversation or chat, and as what: admins see
// everything; a line's supervisors all of its conversations; anyone the ones they handle or
// take part in; a line's operators the rest of it, except an unassigned queue they may not see
// (the caller tells whether that exception applies).
func lineRole(userRole string, supervise, involved, operatorSees bool) string {
	switch {
	case userRole == RoleAdmin:
		return LineRoleAdmin
	case supervise:
		return LineRoleSupervisor
	case involved, operatorSees:
		return LineRoleOperator
	}
	return LineRoleNone
}

// mineCTE is the user's ($2) groups with the lines they serve, for the access queries.
const mineCTE = `WITH mine AS (
	SELECT g.kind, g.permissions, lg.line_id FROM group_members m JOIN groups g ON g.id = m.group_id
	LEFT JOIN line_groups lg ON lg.group_id = g.id WHERE m.user_id = $2 AND ` + workingGroup + `)`

// workingGroup is the condition on a group g for its members to work on its lines: a supervisor
// group always; an operator group only with the "omni" permission (seed 002: access to the
// omnichannel module at all).
const workingGroup = `(g.kind = 'supervisors' OR 'omni' = ANY(g.permissions))`

// operatorGroup is the condition on a group g for its members to be operators of its lines.
const operatorGroup = `(g.kind = 'operators' AND 'omni' = ANY(g.permissions))`

// lineOperators selects the enabled operators (id, name, presence, capacity) of the lines $1
// (NULL: every line).
const lineOperators = `SELECT DISTINCT u.id, u.name, u.presence, u.capacity FROM users u
	JOIN group_members m ON m.user_id = u.id JOIN groups g ON g.id = m.group_id AND ` + operatorGroup + `
	JOIN line_groups lg ON lg.group_id = g.id
	WHERE u.disabled_at IS NULL AND ($1::bigint[] IS NULL OR lg.line_id = ANY($1))`

// ConversationAccessOf reads a conversation's access facts for a user in one statement.
func (s *Store) ConversationAccessOf(ctx context.Context, number, userID int64) (ConversationAccess, error) {
	var a ConversationAccess
	err := s.pool.QueryRow(ctx, mineCTE+`
		SELECT c.line_id, c.status, coalesce(c.assignee_id, 0),
			c.assignee_id IS NOT DISTINCT FROM $2 OR $2 = ANY(c.participants),
			EXISTS (SELECT 1 FROM mine WHERE mine.line_id = c.line_id AND mine.kind = 'supervisors'),
			EXISTS (SELECT 1 FROM mine WHERE mine.line_id = c.line_id AND mine.kind = 'operators'),
			EXISTS (SELECT 1 FROM mine WHERE mine.line_id = c.line_id AND mine.kind = 'operators'
				AND 'unassigned_queue' = ANY(mine.permissions))
		FROM conversations c WHERE c.number = $1`, number, userID).
		Scan(&a.LineID, &a.Status, &a.Assignee, &a.Involved, &a.Supervise, &a.Operate, &a.Queue)
	return a, translate(err, "conversation access")
}

// ChatLineRole is the user's role on a chat (LineRoleNone: they may not see it), with the chat's
// route; ErrNotFound for an unknown chat. It is the conversations' rule, read in one statement:
// a line's operators see its chats except one waiting in an unassigned queue they may not see,
// and anyone sees the chat of a conversation they handle or take part in.
func (s *Store) ChatLineRole(ctx context.Context, chatID uuid.UUID, user User) (ChatRoute, string, error) {
	var r ChatRoute
	var supervise, involved, operate, waiting, queue bool
	err := s.pool.QueryRow(ctx, mineCTE+`
		SELECT c.id, c.channel_id, cl.line_id, c.contact_id,
			EXISTS (SELECT 1 FROM mine WHERE mine.line_id = cl.line_id AND mine.kind = 'supervisors'),
			EXISTS (SELECT 1 FROM conversations v WHERE v.chat_id = c.id AND (v.assignee_id = $2 OR $2 = ANY(v.participants))),
			EXISTS (SELECT 1 FROM mine WHERE mine.line_id = cl.line_id AND mine.kind = 'operators'),
			EXISTS (SELECT 1 FROM conversations v WHERE v.chat_id = c.id AND v.status = 'queued' AND v.assignee_id IS NULL),
			EXISTS (SELECT 1 FROM mine WHERE mine.line_id = cl.line_id AND mine.kind = 'operators'
				AND 'unassigned_queue' = ANY(mine.permissions))
		FROM chats c JOIN channels ch ON ch.id = c.channel_id
		CROSS JOIN LATERAL (SELECT coalesce((SELECT l.line_id FROM chat_lines l WHERE l.channel_id = c.channel_id
			AND l.external_id = c.external_id), ch.line_id) AS line_id) cl
		WHERE c.id = $1`, chatID, user.ID).
		Scan(&r.ChatID, &r.ChannelID, &r.LineID, &r.ContactID, &supervise, &involved, &operate, &waiting, &queue)
	if err != nil {
		return r, LineRoleNone, translate(err, "chat access")
	}
	return r, lineRole(user.Role, supervise, involved, operate && (!waiting || queue)), nil
}

// ListScope limits a conversation list to what a user may see; nil sees everything (admins).
type ListScope struct {
	UserID int64
	// Lines are the lines whose conversations the user sees; UnassignedLines those whose
	// unassigned queue they see.
	Lines, UnassignedLines []int64
}

// ListScopeOf is the scope of a non-admin user's conversation lists.
func (s *Store) ListScopeOf(ctx context.Context, userID int64) (*ListScope, error) {
	a, err := s.AccessOf(ctx, userID)
	if err != nil {
		return nil, err
	}
	return &ListScope{UserID: userID, Lines: append(append([]int64{}, a.OperatorLines...), a.SupervisorLines...),
		UnassignedLines: append(append([]int64{}, a.SupervisorLines...), a.QueueLines...)}, nil
}

// WorksOnLine reports whether a user is an admin or in an operator or supervisor group of the line.
func (s *Store) WorksOnLine(ctx context.Context, userID, lineID int64) (bool, error) {
	var ok bool
	err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM users WHERE id = $1 AND role = 'admin' AND disabled_at IS NULL)
		OR EXISTS (SELECT 1 FROM group_members m JOIN line_groups lg ON lg.group_id = m.group_id
			JOIN groups g ON g.id = m.group_id AND `+workingGroup+`
			JOIN users u ON u.id = m.user_id AND u.disabled_at IS NULL WHERE m.user_id = $1 AND lg.line_id = $2)`, userID, lineID).Scan(&ok)
	return ok, translate(err, "works on line")
}
