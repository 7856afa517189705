package store

import (
	"context"
	"time"

	"github.com/google/uuid"
)

// InternalDesk is a line employees may write to from inside linedesk (an "internal" channel).
type InternalDesk struct {
	ChannelID int64  `json:"channel_id"`
	Name      string `json:"name"`
	LineID    int64  `json:"line_id"`
	LineName  string `json:"line_name"`
}

// InternalDesks are the enabled internal channels the user may write to: those naming no group,
// and those naming a group of theirs (settings.group_ids).
func (s *Store) InternalDesks(ctx context.Context, userID int64) ([]InternalDesk, error) {
	return queryAll(ctx, s, "internal desks", `SELECT ch.id, ch.name, l.id, l.name FROM channels ch JOIN lines l ON l.id = ch.line_id
		WHERE ch.kind = 'internal' AND ch.enabled AND (
			coalesce(jsonb_array_length(ch.settings->'group_ids'), 0) = 0
			OR EXISTS (SELECT 1 FROM group_members m WHERE m.user_id = $1
				AND m.group_id IN (SELECT jsonb_array_elements_text(ch.settings->'group_ids')::bigint)))
		ORDER BY l.name, ch.id`, func(r rowScanner) (InternalDesk, error) {
		var d InternalDesk
		err := r.Scan(&d.ChannelID, &d.Name, &d.LineID, &d.LineName)
		return d, err
	}, userID)
}

// InternalRequest is one of an employee's chats with an internal desk.
type InternalRequest struct {
	ChatID       uuid.UUID  `json:"chat_id"`
	ChannelID    int64      `json:"channel_id"`
	Desk         string     `json:"desk"`
	LastText     string     `json:"last_text"`
	LastAt       *time.Time `json:"last_at"`
	Conversation *int64     `json:"conversation"`
	Status       string     `json:"status"`
	OperatorName string     `json:"operator_name"`
}

// InternalRequests lists an employee's chats with internal desks (external is their identity
// there, "user:<id>"), the latest first.
func (s *Store) InternalRequests(ctx context.Context, external string) ([]InternalRequest, error) {
	return queryAll(ctx, s, "internal requests", `SELECT c.id, ch.id, l.name,
			coalesce((SELECT left(m.text, 200) FROM messages m WHERE m.chat_id = c.id AND m.direction IN ('in', 'out')
				ORDER BY m.created_at DESC, m.id DESC LIMIT 1), ''),
			c.last_message_at, v.number, coalesce(v.status, ''), coalesce(u.name, '')
		FROM channels ch JOIN lines l ON l.id = ch.line_id
		JOIN chats c ON c.channel_id = ch.id AND c.external_id = $1
		LEFT JOIN LATERAL (SELECT number, status, assignee_id FROM conversations WHERE chat_id = c.id ORDER BY created_at DESC LIMIT 1) v ON true
		LEFT JOIN users u ON u.id = v.assignee_id
		WHERE ch.kind = 'internal' ORDER BY c.last_message_at DESC NULLS LAST LIMIT 100`, func(r rowScanner) (InternalRequest, error) {
		var q InternalRequest
		err := r.Scan(&q.ChatID, &q.ChannelID, &q.Desk, &q.LastText, &q.LastAt, &q.Conversation, &q.Status, &q.OperatorName)
		return q, err
	}, external)
}

// InternalChatOf is the internal channel of the employee's chat; ErrNotFound when the chat is
// not theirs on an internal channel.
func (s *Store) InternalChatOf(ctx context.Context, chatID uuid.UUID, external string) (int64, error) {
	var channel int64
	err := s.pool.QueryRow(ctx, `SELECT c.channel_id FROM chats c JOIN channels ch ON ch.id = c.channel_id AND ch.kind = 'internal'
		WHERE c.id = $1 AND c.external_id = $2`, chatID, external).Scan(&channel)
	return channel, translate(err, "internal chat")
}

// InternalMessage is a message of an employee's request as they see it: theirs and the desk's
// replies (never notes).
type InternalMessage struct {
	ID        uuid.UUID `json:"id"`
	Direction string    `json:"direction"`
	Text      string    `json:"text"`
	Author    string    `json:"author"`
	CreatedAt time.Time `json:"created_at"`
}

// InternalMessages lists the chat's messages the employee sees, oldest first (the latest 500).
func (s *Store) InternalMessages(ctx context.Context, chatID uuid.UUID) ([]InternalMessage, error) {
	return queryAll(ctx, s, "internal messages", `SELECT * FROM (SELECT m.id, m.direction, m.text, coalesce(u.name, ''), m.created_at
		FROM messages m LEFT JOIN users u ON u.id = m.author_id
		WHERE m.chat_id = $1 AND (m.direction = 'in' OR (m.direction = 'out' AND m.status IN ('sent', 'delivered', 'read')))
		ORDER BY m.created_at DESC, m.id DESC LIMIT 500) x ORDER BY created_at, id`, func(r rowScanner) (InternalMessage, error) {
		var m InternalMessage
		err := r.Scan(&m.ID, &m.Direction, &m.Text, &m.Author, &m.CreatedAt)
		return m, err
	}, chatID)
}
