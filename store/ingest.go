package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// InboundContact identifies the sender on a channel.
type InboundContact struct {
	ExternalID string
	Name       string
	Email      string
	Phone      string
}

// InboundMessage is one message a channel received.
type InboundMessage struct {
	ChannelID int64
	// Key is the sender's id for this message (Idempotency-Key, platform update id…).
	Key         string
	Contact     InboundContact
	Text        string
	Attachments json.RawMessage
	// Button is a pressed button's payload; it is stored as the message's text for the record.
	Button string
	At     time.Time
}

// Ingested says where an inbound message went.
type Ingested struct {
	ChatID    uuid.UUID
	MessageID uuid.UUID
	ContactID int64
	// Duplicate is true when the key was seen before; Response then holds the first answer
	// when it was already delivered.
	Duplicate bool
	Delivered bool
	Response  json.RawMessage
}

// Ingest stores an inbound message durably and de-duplicated, in one transaction: the contact
// and its identity, the chat, the dedupe key and the message. A repeated key stores nothing and
// returns the first message's ids.
func (s *Store) Ingest(ctx context.Context, m InboundMessage) (Ingested, error) {
	var out Ingested
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var delivered *time.Time
		err := tx.QueryRow(ctx, `SELECT message_id, chat_id, delivered_at, response FROM inbound_keys
			WHERE channel_id = $1 AND key = $2`, m.ChannelID, m.Key).Scan(&out.MessageID, &out.ChatID, &delivered, &out.Response)
		if err == nil {
			out.Duplicate, out.Delivered = true, delivered != nil
			return nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("look up inbound key: %w", err)
		}
		contactID, err := upsertContact(ctx, tx, m.ChannelID, m.Contact)
		if err != nil {
			return err
		}
		out.ContactID = contactID
		newChat := uuid.Must(uuid.NewV7())
		err = tx.QueryRow(ctx, `INSERT INTO chats (id, channel_id, contact_id, external_id, last_message_at)
			VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (channel_id, external_id) DO UPDATE SET last_message_at = greatest(chats.last_message_at, excluded.last_message_at)
			RETURNING id`, newChat, m.ChannelID, contactID, m.Contact.ExternalID, m.At).Scan(&out.ChatID)
		if err != nil {
			return fmt.Errorf("upsert chat: %w", err)
		}
		out.MessageID = uuid.Must(uuid.NewV7())
		tag, err := tx.Exec(ctx, `INSERT INTO inbound_keys (channel_id, key, message_id, chat_id) VALUES ($1, $2, $3, $4)
			ON CONFLICT DO NOTHING`, m.ChannelID, m.Key, out.MessageID, out.ChatID)
		if err != nil {
			return fmt.Errorf("insert inbound key: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return errRetryIngest // a concurrent request with the same key won the race
		}
		attachments := m.Attachments
		if len(attachments) == 0 {
			attachments = json.RawMessage(`[]`)
		}
		kind := ""
		text := m.Text
		if m.Button != "" {
			kind, text = "button", m.Button
		}
		_, err = tx.Exec(ctx, `INSERT INTO messages (id, chat_id, direction, text, attachments, status, kind, created_at)
			VALUES ($1, $2, 'in', $3, $4, 'received', $5, $6)`, out.MessageID, out.ChatID, text, []byte(attachments), kind, m.At)
		if err != nil {
			return fmt.Errorf("insert message: %w", err)
		}
		return nil
	})
	if errors.Is(err, errRetryIngest) {
		return s.Ingest(ctx, m)
	}
	return out, translate(err, "ingest")
}

var errRetryIngest = errors.New("inbound key taken concurrently")

func upsertContact(ctx context.Context, tx pgx.Tx, channelID int64, c InboundContact) (int64, error) {
	var id int64
	err := tx.QueryRow(ctx, `SELECT contact_id FROM contact_identities WHERE channel_id = $1 AND external_id = $2`,
		channelID, c.ExternalID).Scan(&id)
	switch {
	case err == nil:
		_, err = tx.Exec(ctx, `UPDATE contacts SET
			name = CASE WHEN $2 <> '' THEN $2 ELSE name END,
			email = CASE WHEN $3 <> '' THEN $3 ELSE email END,
			phone = CASE WHEN $4 <> '' THEN $4 ELSE phone END,
			updated_at = now()
			WHERE id = $1 AND (($2 <> '' AND name <> $2) OR ($3 <> '' AND email <> $3) OR ($4 <> '' AND phone <> $4))`,
			id, c.Name, c.Email, c.Phone)
		if err != nil {
			return 0, fmt.Errorf("update contact: %w", err)
		}
		return id, nil
	case !errors.Is(err, pgx.ErrNoRows):
		return 0, fmt.Errorf("look up contact identity: %w", err)
	}
	if err := tx.QueryRow(ctx, `INSERT INTO contacts (name, email, phone) VALUES ($1, $2, $3) RETURNING id`,
		c.Name, c.Email, c.Phone).Scan(&id); err != nil {
		return 0, fmt.Errorf("insert contact: %w", err)
	}
	// A concurrent first message from the same sender may have created the identity: keep theirs.
	if err := tx.QueryRow(ctx, `INSERT INTO contact_identities (channel_id, external_id, contact_id) VALUES ($1, $2, $3)
		ON CONFLICT (channel_id, external_id) DO UPDATE SET contact_id = contact_identities.contact_id
		RETURNING contact_id`, channelID, c.ExternalID, id).Scan(&id); err != nil {
		return 0, fmt.Errorf("insert contact identity: %w", err)
	}
	return id, nil
}

// CompleteInbound records where a message went once the chat workflow has it: the message joins
// its conversation (counting as unread there), and the dedupe key stores the answer so a
// redelivery gets the same one.
func (s *Store) CompleteInbound(ctx context.Context, channelID int64, key string, messageID uuid.UUID, conversation int64, response json.RawMessage) error {
	batch := &pgx.Batch{}
	if conversation != 0 {
		batch.Queue(`WITH linked AS (
				UPDATE messages SET conversation_number = $2 WHERE id = $1 AND conversation_number IS NULL RETURNING created_at)
			UPDATE conversations c SET unread = c.unread + 1, last_activity_at = greatest(c.last_activity_at, linked.created_at)
			FROM linked WHERE c.number = $2`, messageID, conversation)
	}
	batch.Queue(`UPDATE inbound_keys SET delivered_at = now(), response = $3 WHERE channel_id = $1 AND key = $2`, channelID, key, []byte(response))
	return translate(s.pool.SendBatch(ctx, batch).Close(), "complete inbound")
}

// UndeliveredInbound is a stored message whose chat workflow was not told yet.
type UndeliveredInbound struct {
	ChannelID int64
	Key       string
	MessageID uuid.UUID
	ChatID    uuid.UUID
	At        time.Time
	// Button is the payload when the message was a button press.
	Button string
}

// UndeliveredInbound lists messages stored more than olderThan ago but never delivered to their
// chat workflow (the process stopped between the two steps), oldest first.
func (s *Store) UndeliveredInbound(ctx context.Context, olderThan time.Duration, limit int) ([]UndeliveredInbound, error) {
	rows, err := s.pool.Query(ctx, `SELECT k.channel_id, k.key, k.message_id, k.chat_id, m.created_at,
			CASE WHEN m.kind = 'button' THEN m.text ELSE '' END
		FROM inbound_keys k JOIN messages m ON m.id = k.message_id
		WHERE k.delivered_at IS NULL AND k.created_at < now() - make_interval(secs => $1)
		ORDER BY k.created_at LIMIT $2`, olderThan.Seconds(), limit)
	if err != nil {
		return nil, translate(err, "list undelivered inbound")
	}
	defer rows.Close()
	var out []UndeliveredInbound
	for rows.Next() {
		var u UndeliveredInbound
		if err := rows.Scan(&u.ChannelID, &u.Key, &u.MessageID, &u.ChatID, &u.At, &u.Button); err != nil {
			return nil, translate(err, "scan undelivered inbound")
		}
		out = append(out, u)
	}
	return out, translate(rows.Err(), "list undelivered inbound")
}

// ChatRoute is what the ingest path needs to start a chat workflow.
type ChatRoute struct {
	ChatID    uuid.UUID `json:"chat_id"`
	ChannelID int64     `json:"channel_id"`
	LineID    int64     `json:"line_id"`
	ContactID int64     `json:"contact_id"`
}

// ChatRoute returns a chat with its channel's line.
func (s *Store) ChatRoute(ctx context.Context, chatID uuid.UUID) (ChatRoute, error) {
	var r ChatRoute
	err := s.pool.QueryRow(ctx, `SELECT c.id, c.channel_id, ch.line_id, c.contact_id FROM chats c
		JOIN channels ch ON ch.id = c.channel_id WHERE c.id = $1`, chatID).Scan(&r.ChatID, &r.ChannelID, &r.LineID, &r.ContactID)
	return r, translate(err, "chat route")
}
