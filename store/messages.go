package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// MessageDelivery is how sending an outbound message went: its attempts and the last one's
// outcome. Messages that were never sent through a channel have none.
type MessageDelivery struct {
	Attempts       int        `json:"attempts"`
	LastAttemptAt  *time.Time `json:"last_attempt_at"`
	LastError      string     `json:"last_error"`
	LastStatusCode *int       `json:"last_status_code"`
}

// Message is one message of a chat as the API returns it.
type Message struct {
	ID                 uuid.UUID       `json:"id"`
	ChatID             uuid.UUID       `json:"chat_id"`
	ConversationNumber *int64          `json:"conversation"`
	Direction          string          `json:"direction"`
	Author             *UserRef        `json:"author"`
	Text               string          `json:"text"`
	Attachments        json.RawMessage `json:"attachments"`
	Buttons            json.RawMessage `json:"buttons"`
	Kind               string          `json:"kind,omitempty"`
	Status             string          `json:"status"`
	CreatedAt          time.Time       `json:"created_at"`
	// Delivery is set for messages with delivery attempts.
	Delivery *MessageDelivery `json:"delivery,omitempty"`
	// Mail is set for messages that came or went as mail: subject, addresses, the whole text
	// with its quoted history, the sanitised HTML.
	Mail *Mail `json:"mail,omitempty"`
}

// NewMessage is a message a workflow produced.
type NewMessage struct {
	ID                 uuid.UUID
	ChatID             uuid.UUID
	ConversationNumber int64
	Direction          string
	AuthorID           int64
	Text               string
	Attachments        json.RawMessage
	Buttons            json.RawMessage
	Status             string
	Kind               string
	At                 time.Time
}

// RecordMessage stores a message once; recording the same id again changes nothing.
func (s *Store) RecordMessage(ctx context.Context, m NewMessage) error {
	var conv, author *int64
	if m.ConversationNumber != 0 {
		conv = &m.ConversationNumber
	}
	if m.AuthorID != 0 {
		author = &m.AuthorID
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO messages (id, chat_id, conversation_number, direction, author_id, text,
			attachments, buttons, status, kind, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (id) DO NOTHING`,
		m.ID, m.ChatID, conv, m.Direction, author, m.Text, jsonOr(m.Attachments, `[]`), jsonOr(m.Buttons, `[]`),
		m.Status, m.Kind, m.At)
	return translate(err, "record message")
}

func jsonOr(v json.RawMessage, def string) []byte {
	if len(v) == 0 || string(v) == "null" {
		return []byte(def)
	}
	return v
}

const messageSelect = `SELECT m.id, m.chat_id, m.conversation_number, m.direction, m.author_id, coalesce(u.name, ''),
	m.text, m.attachments, m.buttons, m.kind, m.status, m.created_at,
	da.n AS delivery_attempts, da.at AS delivery_at, da.error AS delivery_error, da.status_code AS delivery_status_code,
	ml.message_id IS NOT NULL AS is_mail, ml.header_id AS mail_id, ml.subject AS mail_subject, ml.sender AS mail_from,
	ml.recipients AS mail_to, ml.cc AS mail_cc, ml.full_text AS mail_full_text, ml.html AS mail_html
FROM messages m LEFT JOIN users u ON u.id = m.author_id
LEFT JOIN mails ml ON ml.message_id = m.id
LEFT JOIN LATERAL (SELECT count(*) OVER () AS n, a.at, a.error, a.status_code FROM delivery_attempts a
	WHERE m.direction = 'out' AND a.message_id = m.id ORDER BY a.id DESC LIMIT 1) da ON true`

func scanMessages(rows pgx.Rows) ([]Message, error) {
	defer rows.Close()
	out := []Message{}
	for rows.Next() {
		var m Message
		var authorID *int64
		var authorName string
		var att, btn []byte
		var d MessageDelivery
		var attempts *int
		var lastError *string
		var isMail bool
		var ml struct {
			id, subject, full, html *string
			from, to, cc            []byte
		}
		if err := rows.Scan(&m.ID, &m.ChatID, &m.ConversationNumber, &m.Direction, &authorID, &authorName,
			&m.Text, &att, &btn, &m.Kind, &m.Status, &m.CreatedAt,
			&attempts, &d.LastAttemptAt, &lastError, &d.LastStatusCode,
			&isMail, &ml.id, &ml.subject, &ml.from, &ml.to, &ml.cc, &ml.full, &ml.html); err != nil {
			return nil, translate(err, "scan message")
		}
		if isMail {
			m.Mail = &Mail{HeaderID: *ml.id, Subject: *ml.subject, From: ml.from, To: ml.to, Cc: ml.cc, FullText: *ml.full, HTML: *ml.html}
		}
		if attempts != nil {
			d.Attempts = *attempts
			if lastError != nil {
				d.LastError = *lastError
			}
			m.Delivery = &d
		}
		m.Attachments, m.Buttons = att, btn
		if authorID != nil {
			m.Author = &UserRef{ID: *authorID, Name: authorName}
		}
		out = append(out, m)
	}
	return out, translate(rows.Err(), "list messages")
}

// ConversationMessages lists a conversation's messages in order (a dialog shows only its own).
func (s *Store) ConversationMessages(ctx context.Context, number int64) ([]Message, error) {
	rows, err := s.pool.Query(ctx, messageSelect+` WHERE m.conversation_number = $1 ORDER BY m.created_at, m.id`, number)
	if err != nil {
		return nil, translate(err, "conversation messages")
	}
	return scanMessages(rows)
}

// MessageByID returns one message.
func (s *Store) MessageByID(ctx context.Context, id uuid.UUID) (Message, error) {
	rows, err := s.pool.Query(ctx, messageSelect+` WHERE m.id = $1`, id)
	if err != nil {
		return Message{}, translate(err, "message by id")
	}
	msgs, err := scanMessages(rows)
	if err != nil {
		return Message{}, err
	}
	if len(msgs) == 0 {
		return Message{}, fmt.Errorf("message by id: %w", ErrNotFound)
	}
	return msgs[0], nil
}

// ChatMessages lists a chat's messages in order, the last limit of them.
func (s *Store) ChatMessages(ctx context.Context, chatID uuid.UUID, limit int) ([]Message, error) {
	rows, err := s.pool.Query(ctx, `SELECT * FROM (`+messageSelect+` WHERE m.chat_id = $1 ORDER BY m.created_at DESC, m.id DESC LIMIT $2) x
		ORDER BY created_at, id`, chatID, limit)
	if err != nil {
		return nil, translate(err, "chat messages")
	}
	return scanMessages(rows)
}

// Delivery is everything needed to send one outbound message.
type Delivery struct {
	MessageID          uuid.UUID
	ChatID             uuid.UUID
	ConversationNumber int64
	Text               string
	Attachments        json.RawMessage
	Buttons            json.RawMessage
	Status             string
	CreatedAt          time.Time
	ChannelID          int64
	ChannelKind        string
	ChannelSettings    json.RawMessage
	ChannelSecret      string
	// ChannelCredentials are the platform's secrets, opened (messenger channels).
	ChannelCredentials Credentials
	ContactExternalID  string
	// AuthorName is the operator who wrote the reply ("" for automated messages).
	AuthorName string
	// LineName and HideOperatorName decide the name the client sees.
	LineName         string
	HideOperatorName bool
	// LastInboundAt is the client's last message in the chat (zero: none).
	LastInboundAt time.Time
}

// DeliveryOf loads a message with its channel and recipient.
func (s *Store) DeliveryOf(ctx context.Context, id uuid.UUID) (Delivery, error) {
	var d Delivery
	var conv *int64
	var secret, creds []byte
	var lastIn *time.Time
	err := s.pool.QueryRow(ctx, `SELECT m.id, m.chat_id, m.conversation_number, m.text, m.attachments, m.buttons, m.status,
			m.created_at, ch.id, ch.kind, ch.settings, coalesce(ch.secret, ''), coalesce(ch.credentials, ''), c.external_id, coalesce(u.name, ''),
			l.name, coalesce((l.settings->>'hide_operator_name')::boolean, false),
			(SELECT max(i.created_at) FROM messages i WHERE i.chat_id = m.chat_id AND i.direction = 'in')
		FROM messages m JOIN chats c ON c.id = m.chat_id JOIN channels ch ON ch.id = c.channel_id
		LEFT JOIN chat_lines cl ON cl.channel_id = c.channel_id AND cl.external_id = c.external_id
		JOIN lines l ON l.id = coalesce(cl.line_id, ch.line_id) LEFT JOIN users u ON u.id = m.author_id
		WHERE m.id = $1`, id).Scan(&d.MessageID, &d.ChatID, &conv, &d.Text, &d.Attachments, &d.Buttons, &d.Status,
		&d.CreatedAt, &d.ChannelID, &d.ChannelKind, &d.ChannelSettings, &secret, &creds, &d.ContactExternalID, &d.AuthorName,
		&d.LineName, &d.HideOperatorName, &lastIn)
	if conv != nil {
		d.ConversationNumber = *conv
	}
	if lastIn != nil {
		d.LastInboundAt = *lastIn
	}
	if err != nil {
		return d, translate(err, "delivery of message")
	}
	plain, err := s.box.Open(purposeChannelSecret, secret)
	if err != nil {
		return d, err
	}
	d.ChannelSecret = string(plain)
	d.ChannelCredentials, err = s.openCredentials(creds)
	return d, err
}

// RecordDeliveryAttempt logs one attempt and sets the message's status.
func (s *Store) RecordDeliveryAttempt(ctx context.Context, id uuid.UUID, attempt int, statusCode int, errText, status string) error {
	var code *int
	if statusCode != 0 {
		code = &statusCode
	}
	batch := &pgx.Batch{}
	batch.Queue(`INSERT INTO delivery_attempts (message_id, attempt, status_code, error) VALUES ($1, $2, $3, $4)`,
		id, attempt, code, errText)
	if status != "" {
		batch.Queue(`UPDATE messages SET status = $2 WHERE id = $1`, id, status)
	}
	return translate(s.pool.SendBatch(ctx, batch).Close(), "record delivery attempt")
}

// RetryFailedMessage moves a failed outbound message of a conversation back to pending, for
// one redelivery; it returns how many attempts the message has had. A message that is not
// failed is left alone (ErrNotRetryable), one not in the conversation is ErrNotFound.
func (s *Store) RetryFailedMessage(ctx context.Context, number int64, id uuid.UUID) (int, error) {
	var attempts int
	err := s.pool.QueryRow(ctx, `UPDATE messages m SET status = 'pending'
		WHERE m.id = $1 AND m.conversation_number = $2 AND m.direction = 'out' AND m.status = 'failed'
		RETURNING (SELECT count(*) FROM delivery_attempts a WHERE a.message_id = m.id)`, id, number).Scan(&attempts)
	if err == nil {
		return attempts, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return 0, translate(err, "retry failed message")
	}
	var direction string
	err = s.pool.QueryRow(ctx, `SELECT direction FROM messages WHERE id = $1 AND conversation_number = $2`, id, number).Scan(&direction)
	if err != nil {
		return 0, translate(err, "retry failed message")
	}
	return 0, fmt.Errorf("message %s: %w", id, ErrNotRetryable)
}

// MarkSent records that a message reached the platform, with the platform's id for it (the
// receipts that follow name it).
func (s *Store) MarkSent(ctx context.Context, id uuid.UUID, attempt, statusCode int, externalID string) error {
	var code *int
	if statusCode != 0 {
		code = &statusCode
	}
	batch := &pgx.Batch{}
	batch.Queue(`INSERT INTO delivery_attempts (message_id, attempt, status_code, error) VALUES ($1, $2, $3, '')`, id, attempt, code)
	batch.Queue(`UPDATE messages SET status = 'sent', external_id = nullif($2, '') WHERE id = $1`, id, externalID)
	return translate(s.pool.SendBatch(ctx, batch).Close(), "mark message sent")
}

// statusRank orders the statuses a receipt may move a sent message through: a late
// "delivered" never undoes "read".
const statusRank = `CASE $4 WHEN 'delivered' THEN 1 WHEN 'read' THEN 2 ELSE 0 END >
	CASE m.status WHEN 'delivered' THEN 1 WHEN 'read' THEN 2 ELSE 0 END`

// ApplyReceipt moves an outbound message of a channel's chat (the client's id on the channel)
// named by the platform's id to delivered, read or failed. It reports whether a message moved;
// a receipt for an unknown message, or one older than the message's status, changes nothing. A
// failure's reason (the platform's error) is kept as the message's last delivery attempt, where
// the console shows why it failed.
func (s *Store) ApplyReceipt(ctx context.Context, channelID int64, chatExternalID, externalID, status, reason string) (bool, error) {
	var tag pgconn.CommandTag
	var err error
	switch status {
	case "delivered", "read":
		tag, err = s.pool.Exec(ctx, `UPDATE messages m SET status = $4 FROM chats c
			WHERE c.channel_id = $1 AND c.external_id = $2 AND m.chat_id = c.id AND m.external_id = $3 AND m.direction = 'out'
			AND m.status IN ('sent', 'delivered', 'read') AND `+statusRank, channelID, chatExternalID, externalID, status)
	case "failed":
		if reason == "" {
			reason = "the platform reported the message failed"
		}
		tag, err = s.pool.Exec(ctx, `WITH failed AS (UPDATE messages m SET status = 'failed' FROM chats c
			WHERE c.channel_id = $1 AND c.external_id = $2 AND m.chat_id = c.id AND m.external_id = $3 AND m.direction = 'out'
			AND m.status IN ('sent', 'delivered') RETURNING m.id)
		INSERT INTO delivery_attempts (message_id, attempt, error)
		SELECT f.id, (SELECT count(*) + 1 FROM delivery_attempts a WHERE a.message_id = f.id), $4 FROM failed f`,
			channelID, chatExternalID, externalID, reason)
	default:
		return false, fmt.Errorf("receipt status %q: %w", status, ErrInvalid)
	}
	if err != nil {
		return false, translate(err, "apply receipt")
	}
	return tag.RowsAffected() > 0, nil
}

// ApplyReadWatermark marks read every outbound message of a channel's chat sent up to upTo
// (Meta's read receipt names a time, not messages) and returns how many moved.
func (s *Store) ApplyReadWatermark(ctx context.Context, channelID int64, chatExternalID string, upTo time.Time) (int, error) {
	tag, err := s.pool.Exec(ctx, `UPDATE messages m SET status = 'read' FROM chats c
		WHERE c.channel_id = $1 AND c.external_id = $2 AND m.chat_id = c.id AND m.direction = 'out'
		AND m.status IN ('sent', 'delivered') AND m.created_at <= $3`, channelID, chatExternalID, upTo)
	if err != nil {
		return 0, translate(err, "apply read watermark")
	}
	return int(tag.RowsAffected()), nil
}

// SetMessageStatusIf changes a message's status only from the given one.
func (s *Store) SetMessageStatusIf(ctx context.Context, id uuid.UUID, from, to string) error {
	_, err := s.pool.Exec(ctx, `UPDATE messages SET status = $3 WHERE id = $1 AND status = $2`, id, from, to)
	return translate(err, "set message status")
}

// MergeReplies stores one combined record of a conversation's operator replies (line setting
// "merge replies after close") and returns how many replies it holds.
func (s *Store) MergeReplies(ctx context.Context, number int64) (int, error) {
	rows, err := s.pool.Query(ctx, `SELECT text FROM messages WHERE conversation_number = $1 AND direction = 'out'
		AND kind = 'reply' AND text <> '' ORDER BY created_at, id`, number)
	if err != nil {
		return 0, translate(err, "merge replies")
	}
	texts, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return 0, translate(err, "merge replies")
	}
	_, err = s.pool.Exec(ctx, `UPDATE conversations SET merged_reply = $2 WHERE number = $1`, number, strings.Join(texts, "\n\n"))
	return len(texts), translate(err, "merge replies")
}

// ConversationChannelKind returns the kind of a conversation's channel and when the client last
// wrote in its chat (zero: never).
func (s *Store) ConversationChannelKind(ctx context.Context, number int64) (string, time.Time, error) {
	var kind string
	var last *time.Time
	err := s.pool.QueryRow(ctx, `SELECT ch.kind, (SELECT max(m.created_at) FROM messages m WHERE m.chat_id = cv.chat_id AND m.direction = 'in')
		FROM conversations cv JOIN chats c ON c.id = cv.chat_id JOIN channels ch ON ch.id = c.channel_id WHERE cv.number = $1`, number).Scan(&kind, &last)
	if err != nil {
		return "", time.Time{}, translate(err, "conversation channel")
	}
	if last == nil {
		return kind, time.Time{}, nil
	}
	return kind, *last, nil
}

// ContactOfConversation returns the contact a conversation is with.
func (s *Store) ContactOfConversation(ctx context.Context, number int64) (ContactRef, error) {
	var c ContactRef
	err := s.pool.QueryRow(ctx, `SELECT ct.id, ct.name, ct.email, ct.phone FROM conversations cv
		JOIN contacts ct ON ct.id = cv.contact_id WHERE cv.number = $1`, number).Scan(&c.ID, &c.Name, &c.Email, &c.Phone)
	return c, translate(err, "contact of conversation")
}

// ChatByID returns a chat summary.
func (s *Store) ChatByID(ctx context.Context, id uuid.UUID) (Chat, error) {
	var c Chat
	err := s.pool.QueryRow(ctx, `SELECT c.id, ch.id, ch.kind, ch.name, coalesce(cl.line_id, ch.line_id), ct.id, ct.name, ct.email, ct.phone, c.created_at, c.last_message_at
		FROM chats c JOIN channels ch ON ch.id = c.channel_id JOIN contacts ct ON ct.id = c.contact_id
		LEFT JOIN chat_lines cl ON cl.channel_id = c.channel_id AND cl.external_id = c.external_id WHERE c.id = $1`, id).
		Scan(&c.ID, &c.Channel.ID, &c.Channel.Kind, &c.Channel.Name, &c.LineID, &c.Contact.ID, &c.Contact.Name, &c.Contact.Email,
			&c.Contact.Phone, &c.CreatedAt, &c.LastMessageAt)
	return c, translate(err, "chat by id")
}

// Chat is the persistent thread between a contact and a channel.
type Chat struct {
	ID            uuid.UUID  `json:"id"`
	Channel       ChannelRef `json:"channel"`
	LineID        int64      `json:"line_id"`
	Contact       ContactRef `json:"contact"`
	CreatedAt     time.Time  `json:"created_at"`
	LastMessageAt *time.Time `json:"last_message_at"`
}
