package store

import (
	"context"
	"encoding/json"
	"slices"
	"time"

	"github.com/google/uuid"
)

// Visitor is one browser's token on a site's widget (migration 022).
type Visitor struct {
	ID        uuid.UUID `json:"id"`
	ChannelID int64     `json:"channel_id"`
	// ContactKey is the contact's external id on the channel: "v:<id>" for an anonymous visitor,
	// "u:<user id>" for a user the site signed.
	ContactKey string    `json:"-"`
	Name       string    `json:"name"`
	Email      string    `json:"email"`
	Phone      string    `json:"phone"`
	Language   string    `json:"language"`
	PageURL    string    `json:"page_url"`
	PageTitle  string    `json:"page_title"`
	Referrer   string    `json:"referrer"`
	IP         string    `json:"ip"`
	UserAgent  string    `json:"user_agent"`
	CreatedAt  time.Time `json:"created_at"`
	SeenAt     time.Time `json:"seen_at"`
}

const visitorColumns = `id, channel_id, contact_key, name, email, phone, language, page_url, page_title, referrer, ip,
	user_agent, created_at, seen_at`

func scanVisitor(r rowScanner) (Visitor, error) {
	var v Visitor
	err := r.Scan(&v.ID, &v.ChannelID, &v.ContactKey, &v.Name, &v.Email, &v.Phone, &v.Language, &v.PageURL, &v.PageTitle,
		&v.Referrer, &v.IP, &v.UserAgent, &v.CreatedAt, &v.SeenAt)
	return v, err
}

// CreateVisitor records a visitor holding token (only its hash is kept).
func (s *Store) CreateVisitor(ctx context.Context, v Visitor, token string) (Visitor, error) {
	out, err := scanVisitor(s.pool.QueryRow(ctx, `INSERT INTO widget_visitors (id, channel_id, token_hash, contact_key, name,
			email, phone, language, page_url, page_title, referrer, ip, user_agent)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING `+visitorColumns,
		v.ID, v.ChannelID, tokenHash(token), v.ContactKey, v.Name, v.Email, v.Phone, v.Language, v.PageURL, v.PageTitle,
		v.Referrer, v.IP, v.UserAgent))
	return out, translate(err, "create visitor")
}

// VisitorByToken finds the visitor holding token on a site; ErrNotFound for an unknown token or
// another site's.
func (s *Store) VisitorByToken(ctx context.Context, channelID int64, token string) (Visitor, error) {
	v, err := scanVisitor(s.pool.QueryRow(ctx, `SELECT `+visitorColumns+` FROM widget_visitors
		WHERE token_hash = $1 AND channel_id = $2`, tokenHash(token), channelID))
	return v, translate(err, "visitor by token")
}

// VisitorPage is where a visitor is now.
type VisitorPage struct {
	URL, Title, Referrer, IP, UserAgent string
}

// TouchVisitor records that a visitor is on a page now (the live visitor list); an empty field
// keeps what was there.
func (s *Store) TouchVisitor(ctx context.Context, id uuid.UUID, p VisitorPage) error {
	_, err := s.pool.Exec(ctx, `UPDATE widget_visitors SET seen_at = now(),
			page_url = CASE WHEN $2 <> '' THEN $2 ELSE page_url END,
			page_title = CASE WHEN $2 <> '' THEN $3 ELSE page_title END,
			referrer = CASE WHEN $4 <> '' THEN $4 ELSE referrer END,
			ip = CASE WHEN $5 <> '' THEN $5 ELSE ip END,
			user_agent = CASE WHEN $6 <> '' THEN $6 ELSE user_agent END
		WHERE id = $1`, id, p.URL, p.Title, p.Referrer, p.IP, p.UserAgent)
	return translate(err, "touch visitor")
}

// SetVisitorContact keeps what the visitor wrote in the pre-chat form; an empty field keeps what
// was there.
func (s *Store) SetVisitorContact(ctx context.Context, id uuid.UUID, name, email, phone string) error {
	_, err := s.pool.Exec(ctx, `UPDATE widget_visitors SET
			name = CASE WHEN $2 <> '' THEN $2 ELSE name END,
			email = CASE WHEN $3 <> '' THEN $3 ELSE email END,
			phone = CASE WHEN $4 <> '' THEN $4 ELSE phone END
		WHERE id = $1`, id, name, email, phone)
	return translate(err, "set visitor contact")
}

// FixChatLine gives the chat (channel, externalID) its line before its first message, unless it
// has one already; it returns the chat's line. Concurrent first messages agree on one line.
func (s *Store) FixChatLine(ctx context.Context, channelID int64, externalID string, lineID int64) (int64, error) {
	var line int64
	err := s.pool.QueryRow(ctx, `INSERT INTO chat_lines (channel_id, external_id, line_id) VALUES ($1, $2, $3)
		ON CONFLICT (channel_id, external_id) DO UPDATE SET line_id = chat_lines.line_id RETURNING line_id`,
		channelID, externalID, lineID).Scan(&line)
	return line, translate(err, "fix chat line")
}

// WidgetMessage is a message as the visitor's widget shows it: their own and what the desk
// sent them; never a note, a system line or a message held back or not sent.
type WidgetMessage struct {
	ID          uuid.UUID       `json:"id"`
	Direction   string          `json:"direction"`
	Text        string          `json:"text"`
	Kind        string          `json:"kind,omitempty"`
	Attachments json.RawMessage `json:"attachments"`
	Buttons     json.RawMessage `json:"buttons"`
	// Author is who the visitor sees as the sender: the operator, or the line when the line
	// hides operators' names; empty for the visitor's own and automated messages.
	Author       string    `json:"author,omitempty"`
	Conversation *int64    `json:"conversation,omitempty"`
	CreatedAt    time.Time `json:"created_at"`
}

// VisitorMessages lists the messages of every chat of a visitor's contact on the site, oldest
// first: after the message after (uuid.Nil: from the start), or, with latest, the last limit of
// them. A desk message becomes visible when it is sent, which can be long after it was written
// (an automated message held back while an operator answered): a reader that keeps up by
// position may pass it by, so the widget reads the latest page and merges by id.
func (s *Store) VisitorMessages(ctx context.Context, channelID int64, contactKey string, after uuid.UUID, latest bool, limit int) ([]WidgetMessage, error) {
	order := "ASC"
	if latest {
		order = "DESC"
	}
	list, err := queryAll(ctx, s, "visitor messages", `WITH chats_of AS (
			SELECT c.id, coalesce(cl.line_id, ch.line_id) AS line_id FROM contact_identities i
			JOIN chats c ON c.channel_id = i.channel_id AND c.contact_id = i.contact_id
			JOIN channels ch ON ch.id = c.channel_id
			LEFT JOIN chat_lines cl ON cl.channel_id = c.channel_id AND cl.external_id = c.external_id
			WHERE i.channel_id = $1 AND i.external_id = $2),
		pos AS (SELECT created_at, id FROM messages WHERE id = $3 AND chat_id IN (SELECT id FROM chats_of))
		SELECT m.id, m.direction, m.text, m.kind, m.attachments, m.buttons,
			CASE WHEN m.direction = 'out' AND u.id IS NOT NULL THEN
				CASE WHEN coalesce((l.settings->>'hide_operator_name')::boolean, false) THEN l.name ELSE u.name END
			ELSE '' END,
			m.conversation_number, m.created_at
		FROM chats_of co JOIN messages m ON m.chat_id = co.id
		LEFT JOIN conversations cv ON cv.number = m.conversation_number
		JOIN lines l ON l.id = coalesce(cv.line_id, co.line_id)
		LEFT JOIN users u ON u.id = m.author_id
		WHERE (m.direction = 'in' OR (m.direction = 'out' AND m.status IN ('sent', 'delivered', 'read')))
			AND ($3 = '00000000-0000-0000-0000-000000000000'::uuid
				OR (m.created_at, m.id) > (SELECT created_at, id FROM pos))
		ORDER BY m.created_at `+order+`, m.id `+order+` LIMIT $4`,
		func(r rowScanner) (WidgetMessage, error) {
			var m WidgetMessage
			var att, btn []byte
			err := r.Scan(&m.ID, &m.Direction, &m.Text, &m.Kind, &att, &btn, &m.Author, &m.Conversation, &m.CreatedAt)
			m.Attachments, m.Buttons = json.RawMessage(att), json.RawMessage(btn)
			return m, err
		}, channelID, contactKey, after, limit)
	if latest {
		slices.Reverse(list)
	}
	return list, err
}

// VisitorChats are the ids of every chat of a visitor's contact on the site (its live stream
// passes on their events only).
func (s *Store) VisitorChats(ctx context.Context, channelID int64, contactKey string) ([]uuid.UUID, error) {
	return queryAll(ctx, s, "visitor chats", `SELECT c.id FROM contact_identities i
		JOIN chats c ON c.channel_id = i.channel_id AND c.contact_id = i.contact_id
		WHERE i.channel_id = $1 AND i.external_id = $2`,
		func(r rowScanner) (uuid.UUID, error) {
			var id uuid.UUID
			return id, r.Scan(&id)
		}, channelID, contactKey)
}

// LiveVisitor is a visitor seen on a site lately, for the supervisors' live list (seed 002).
type LiveVisitor struct {
	Visitor
	SiteName string `json:"site"`
	// Conversation is the visitor's open conversation, if any.
	Conversation *int64 `json:"conversation"`
}

// LiveVisitors lists the visitors of the given sites seen since since, most recent first.
func (s *Store) LiveVisitors(ctx context.Context, channelIDs []int64, since time.Time, limit int) ([]LiveVisitor, error) {
	return queryAll(ctx, s, "live visitors", `SELECT v.id, v.channel_id, v.contact_key, v.name, v.email, v.phone, v.language,
			v.page_url, v.page_title, v.referrer, v.ip, v.user_agent, v.created_at, v.seen_at, ch.name,
			(SELECT cv.number FROM contact_identities i JOIN conversations cv ON cv.contact_id = i.contact_id
				AND cv.channel_id = i.channel_id AND cv.status <> 'closed'
				WHERE i.channel_id = v.channel_id AND i.external_id = v.contact_key ORDER BY cv.number DESC LIMIT 1)
		FROM widget_visitors v JOIN channels ch ON ch.id = v.channel_id
		WHERE v.channel_id = ANY($1) AND v.seen_at >= $2 ORDER BY v.seen_at DESC, v.id LIMIT $3`,
		func(r rowScanner) (LiveVisitor, error) {
			var v LiveVisitor
			err := r.Scan(&v.ID, &v.ChannelID, &v.ContactKey, &v.Name, &v.Email, &v.Phone, &v.Language, &v.PageURL,
				&v.PageTitle, &v.Referrer, &v.IP, &v.UserAgent, &v.CreatedAt, &v.SeenAt, &v.SiteName, &v.Conversation)
			return v, err
		}, channelIDs, since, limit)
}

// GroupOnline says whether anyone who takes a line's chats is online: of the group when given
// (and still there), else of the line's operator groups.
func (s *Store) GroupOnline(ctx context.Context, lineID, groupID int64) (bool, error) {
	var online bool
	err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM group_members gm JOIN users u ON u.id = gm.user_id
		WHERE u.presence = 'online' AND u.disabled_at IS NULL AND CASE WHEN EXISTS (SELECT 1 FROM groups g WHERE g.id = $2) THEN gm.group_id = $2
			ELSE gm.group_id IN (SELECT lg.group_id FROM line_groups lg JOIN groups g ON g.id = lg.group_id
				WHERE lg.line_id = $1 AND g.kind = 'operators') END)`, lineID, groupID).Scan(&online)
	return online, translate(err, "group online")
}

// VisitorTyping tells the operators of a visitor's open conversation on the site that the
// visitor is typing (an event; nothing is stored for long). It is a no-op without one.
func (s *Store) VisitorTyping(ctx context.Context, channelID int64, contactKey string) error {
	_, err := s.pool.Exec(ctx, `SELECT emit_conversation_event('typing', cv.number,
			jsonb_build_object('chat_id', cv.chat_id, 'who', 'client'))
		FROM contact_identities i JOIN conversations cv ON cv.contact_id = i.contact_id AND cv.channel_id = i.channel_id
		WHERE i.channel_id = $1 AND i.external_id = $2 AND cv.status <> 'closed'`, channelID, contactKey)
	return translate(err, "visitor typing")
}

// OperatorTyping tells the client's widget that someone answers in a conversation: name is who
// they see (the operator, or the line when it hides operators' names).
func (s *Store) OperatorTyping(ctx context.Context, number, userID int64) error {
	_, err := s.pool.Exec(ctx, `SELECT emit_conversation_event('typing', cv.number,
			jsonb_build_object('chat_id', cv.chat_id, 'who', 'operator', 'user_id', u.id, 'name',
				CASE WHEN coalesce((l.settings->>'hide_operator_name')::boolean, false) THEN l.name ELSE u.name END))
		FROM conversations cv JOIN lines l ON l.id = cv.line_id JOIN users u ON u.id = $2
		WHERE cv.number = $1 AND cv.status <> 'closed'`, number, userID)
	return translate(err, "operator typing")
}

// SetChatSubject titles a chat's conversations while they have no title of their own (a site's
// request form or call-back request).
func (s *Store) SetChatSubject(ctx context.Context, chatID uuid.UUID, subject string) error {
	_, err := s.pool.Exec(ctx, `UPDATE chats SET subject = $2 WHERE id = $1 AND subject <> $2`, chatID, subject)
	return translate(err, "set chat subject")
}

// CompleteVisitorContact fills in a visitor's contact where it has no name or email yet (seed 002:
// an unnamed visitor is "Посетитель" to operators; a site that asks for no address gets a made-up
// one), and keeps the page, referrer, address and browser with it. What the contact already has
// is never replaced by a placeholder.
func (s *Store) CompleteVisitorContact(ctx context.Context, channelID int64, contactKey, name, email string, fields map[string]string) error {
	raw, _ := json.Marshal(fields) // a map of strings always marshals
	_, err := s.pool.Exec(ctx, `UPDATE contacts c SET
			name = CASE WHEN c.name = '' THEN $3 ELSE c.name END,
			email = CASE WHEN c.email = '' THEN $4 ELSE c.email END,
			fields = c.fields || $5::jsonb, updated_at = now()
		FROM contact_identities i
		WHERE i.channel_id = $1 AND i.external_id = $2 AND c.id = i.contact_id
			AND (c.name = '' OR c.email = '' OR NOT c.fields @> $5::jsonb)`, channelID, contactKey, name, email, raw)
	return translate(err, "complete visitor contact")
}

// PruneVisitors forgets visitors not seen since before and who never wrote (their token leads
// to nothing worth keeping).
func (s *Store) PruneVisitors(ctx context.Context, before time.Time) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM widget_visitors v WHERE v.seen_at < $1
		AND NOT EXISTS (SELECT 1 FROM contact_identities i WHERE i.channel_id = v.channel_id AND i.external_id = v.contact_key)`, before)
	return tag.RowsAffected(), translate(err, "prune visitors")
}

// OperatorViewing tells the consoles that a user has a conversation open (X08: who else is
// looking at it); the consoles forget a viewer who stops saying so.
func (s *Store) OperatorViewing(ctx context.Context, number, userID int64) error {
	_, err := s.pool.Exec(ctx, `SELECT emit_conversation_event('viewing', cv.number, jsonb_build_object('user_id', u.id, 'name', u.name))
		FROM conversations cv JOIN users u ON u.id = $2 WHERE cv.number = $1`, number, userID)
	return translate(err, "operator viewing")
}
