package store

import (
	"context"
	"encoding/json"
	"errors"
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
	// ProfileURL, Timezone and Fields fill in the contact's profile; empty ones change nothing.
	ProfileURL string
	Timezone   string
	Fields     map[string]string
}

func (c InboundContact) hasProfile() bool {
	return c.ProfileURL != "" || c.Timezone != "" || len(c.Fields) > 0
}

// InboundMessage is one message a channel received.
type InboundMessage struct {
	ChannelID int64
	// Key is the sender's id for this message (Idempotency-Key, platform update id…).
	Key string
	// Fingerprint identifies the request that used Key; a later request with the same key and
	// another fingerprint is not the same message.
	Fingerprint []byte
	Contact     InboundContact
	Text        string
	Attachments json.RawMessage
	// Button is a pressed button's payload; it is stored as the message's text for the record.
	Button string
	At     time.Time
	// ChatExternalID names the chat apart from the sender (a mail thread); empty means the
	// sender's chat on the channel. A contact profile (ProfileURL…) goes with the sender's chat
	// only: mail carries none.
	ChatExternalID string
}

// Ingested says where an inbound message went.
type Ingested struct {
	ChatID    uuid.UUID
	MessageID uuid.UUID
	ContactID int64
	// Seq is the message's number within its chat: the order the chat workflow applies it in.
	Seq int64
	// Duplicate is true when the key was seen before; nothing was stored. SameRequest then
	// tells whether the request carried the same message as the first.
	Duplicate   bool
	SameRequest bool
	// Routed is true once the chat workflow has decided where the message goes; Conversation
	// is that conversation (0: the message stays in the chat).
	Routed       bool
	Conversation int64
}

// Ingest stores an inbound message durably and de-duplicated in one round trip and one commit:
// the dedupe key, the contact and its identity, the chat, the message and its outbox row (see
// ingest_inbound in the migrations). A repeated key stores nothing and returns the first message.
func (s *Store) Ingest(ctx context.Context, m InboundMessage) (Ingested, error) {
	attachments := m.Attachments
	if len(attachments) == 0 {
		attachments = json.RawMessage(`[]`)
	}
	kind, text := "", m.Text
	if m.Button != "" {
		kind, text = "button", m.Button
	}
	out := Ingested{}
	var conversation *int64
	var routed *bool
	chat := m.ChatExternalID
	if chat == "" {
		chat = m.Contact.ExternalID
	}
	args := []any{m.ChannelID, m.Key, m.Fingerprint, uuid.Must(uuid.NewV7()), uuid.Must(uuid.NewV7()),
		m.Contact.ExternalID, m.Contact.Name, m.Contact.Email, m.Contact.Phone,
		text, []byte(attachments), kind, m.Button, m.At, chat}
	query := `SELECT message_id, chat_id, contact_id, seq, duplicate, same_request, conversation_number, routed
		FROM ingest_inbound($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`
	switch {
	case m.Contact.hasProfile() && m.ChatExternalID != "":
		// With a chat apart from the sender too (migration 022: a site's visitor).
		fields, _ := json.Marshal(m.Contact.Fields) // a map of strings always marshals
		args = append(args, m.Contact.ProfileURL, m.Contact.Timezone, fields)
		query = `SELECT message_id, chat_id, contact_id, seq, duplicate, same_request, conversation_number, routed
		FROM ingest_inbound($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)`
	case m.Contact.hasProfile():
		args = args[:14]
		// The same function with the contact's profile (migration 015); most messages carry none.
		fields, _ := json.Marshal(m.Contact.Fields) // a map of strings always marshals
		args = append(args, m.Contact.ProfileURL, m.Contact.Timezone, fields)
		query = `SELECT message_id, chat_id, contact_id, seq, duplicate, same_request, conversation_number, routed
		FROM ingest_inbound($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)`
	}
	err := s.pool.QueryRow(ctx, query, args...).Scan(&out.MessageID, &out.ChatID, &out.ContactID, &out.Seq, &out.Duplicate, &out.SameRequest, &conversation, &routed)
	if conversation != nil {
		out.Conversation = *conversation
	}
	out.Routed = routed != nil && *routed
	return out, translate(err, "ingest")
}

// InboundState is what the chat workflow decided about one inbound message so far.
type InboundState struct {
	Routed       bool
	Conversation int64
}

// InboundState reads whether the message with sequence number seq in its chat is routed yet,
// and to which conversation (two primary-key reads: it is polled while a sender waits).
func (s *Store) InboundState(ctx context.Context, chatID uuid.UUID, seq int64, messageID uuid.UUID) (InboundState, error) {
	var st InboundState
	var conversation *int64
	err := s.pool.QueryRow(ctx, `SELECT (SELECT routed_seq >= $2 FROM chats WHERE id = $1),
			(SELECT conversation_number FROM messages WHERE id = $3)`, chatID, seq, messageID).Scan(&st.Routed, &conversation)
	if conversation != nil {
		st.Conversation = *conversation
	}
	return st, translate(err, "inbound state")
}

// OutboxMessage is a stored inbound message waiting to be handed to its chat workflow, with
// what starting that workflow needs.
type OutboxMessage struct {
	ID        int64
	ChatID    uuid.UUID
	Seq       int64
	MessageID uuid.UUID
	At        time.Time
	Button    string
	ChannelID int64
	LineID    int64
	ContactID int64
	// QueuedAt is when the message entered the outbox (its commit).
	QueuedAt time.Time
}

// ClaimOutbox takes up to limit unclaimed (or long-claimed) outbox rows, oldest first, and
// claims them for lease: another dispatcher skips them until then. Rows come in id order, which
// within a chat is sequence order.
func (s *Store) ClaimOutbox(ctx context.Context, limit int, lease time.Duration) ([]OutboxMessage, error) {
	return queryAll(ctx, s, "claim inbound outbox", `WITH claimed AS (
			UPDATE inbound_outbox o SET claimed_until = now() + make_interval(secs => $2)
			WHERE o.id IN (SELECT id FROM inbound_outbox WHERE claimed_until IS NULL OR claimed_until < now()
				ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED)
			RETURNING o.id, o.chat_id, o.seq, o.message_id, o.at, o.button, o.queued_at)
		SELECT c.id, c.chat_id, c.seq, c.message_id, c.at, c.button, ch.channel_id, coalesce(cl.line_id, chn.line_id), ch.contact_id,
			c.queued_at
		FROM claimed c JOIN chats ch ON ch.id = c.chat_id JOIN channels chn ON chn.id = ch.channel_id
		LEFT JOIN chat_lines cl ON cl.channel_id = ch.channel_id AND cl.external_id = ch.external_id
		ORDER BY c.id`,
		func(r rowScanner) (OutboxMessage, error) {
			var m OutboxMessage
			err := r.Scan(&m.ID, &m.ChatID, &m.Seq, &m.MessageID, &m.At, &m.Button, &m.ChannelID, &m.LineID, &m.ContactID,
				&m.QueuedAt)
			return m, err
		}, limit, lease.Seconds())
}

// DeleteOutbox removes rows their chat workflow has accepted.
func (s *Store) DeleteOutbox(ctx context.Context, ids []int64) error {
	_, err := s.pool.Exec(ctx, `DELETE FROM inbound_outbox WHERE id = ANY($1)`, ids)
	return translate(err, "delete inbound outbox")
}

// ReleaseOutbox gives claimed rows back to be retried after the given delay.
func (s *Store) ReleaseOutbox(ctx context.Context, ids []int64, after time.Duration) error {
	_, err := s.pool.Exec(ctx, `UPDATE inbound_outbox SET claimed_until = now() + make_interval(secs => $2) WHERE id = ANY($1)`,
		ids, after.Seconds())
	return translate(err, "release inbound outbox")
}

// InboundLink is where the chat workflow routed one inbound message.
type InboundLink struct {
	MessageID uuid.UUID
	// Conversation is the message's conversation (0: it stays in the chat).
	Conversation int64
	// Moved re-links a message a closed conversation handed back.
	Moved bool
}

// LinkInbound records the chat workflow's routing of a batch of its inbound messages, up to seq,
// and publishes the conversation whose client turn is open (0: none): until the workflow changes
// it, the ingest links the chat's text messages to that conversation itself (the fast path in
// ingest_inbound).
//
// It is the one place that counts a client message in a conversation's unread count and last
// activity (the conversation's own projection only resets unread when an operator answers):
// a message counts as unread when it came after the last answer (replied_at), so the count is
// right whichever of the two commits first. Re-applying a batch changes nothing.
func (s *Store) LinkInbound(ctx context.Context, chatID uuid.UUID, seq, turn int64, links []InboundLink) error {
	batch := &pgx.Batch{}
	for _, l := range links {
		if l.Conversation == 0 {
			continue
		}
		batch.Queue(`WITH linked AS (
				UPDATE messages SET conversation_number = $2
				WHERE id = $1 AND chat_id = $4 AND direction = 'in' AND (conversation_number IS NULL OR ($3 AND conversation_number <> $2))
				RETURNING created_at)
			UPDATE conversations c SET
				unread = c.unread + CASE WHEN c.replied_at IS NULL OR linked.created_at > c.replied_at THEN 1 ELSE 0 END,
				last_activity_at = greatest(c.last_activity_at, linked.created_at)
			FROM linked WHERE c.number = $2`, l.MessageID, l.Conversation, l.Moved, chatID)
	}
	batch.Queue(`UPDATE chats SET routed_seq = greatest(routed_seq, $2), turn_conversation = nullif($3, 0) WHERE id = $1`,
		chatID, seq, turn)
	return translate(s.pool.SendBatch(ctx, batch).Close(), "link inbound")
}

// TurnMessage is a client message of a conversation.
type TurnMessage struct {
	ID uuid.UUID
	At time.Time
}

// EndTurn closes a conversation's client turn in the read model (the fast path stops linking
// messages to it) and returns the conversation's first client message after the operator's answer
// at after, if any: it starts the next turn.
func (s *Store) EndTurn(ctx context.Context, chatID uuid.UUID, conversation int64, after time.Time) (*TurnMessage, error) {
	batch := &pgx.Batch{}
	batch.Queue(`UPDATE chats SET turn_conversation = NULL WHERE id = $1 AND turn_conversation = $2`, chatID, conversation)
	var next *TurnMessage
	batch.Queue(`SELECT id, created_at FROM messages WHERE conversation_number = $1 AND direction = 'in' AND created_at > $2
		ORDER BY created_at, id LIMIT 1`, conversation, after).QueryRow(func(row pgx.Row) error {
		var m TurnMessage
		err := row.Scan(&m.ID, &m.At)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		next = &m
		return err
	})
	err := s.pool.SendBatch(ctx, batch).Close()
	return next, translate(err, "end turn")
}

// RoutedSeq is the highest inbound sequence number a chat's workflow has routed.
func (s *Store) RoutedSeq(ctx context.Context, chatID uuid.UUID) (int64, error) {
	var seq int64
	err := s.pool.QueryRow(ctx, `SELECT routed_seq FROM chats WHERE id = $1`, chatID).Scan(&seq)
	return seq, translate(err, "routed seq")
}

// RoutedSeqs returns the routed sequence number of each chat (chats not found are left out).
func (s *Store) RoutedSeqs(ctx context.Context, chatIDs []uuid.UUID) (map[uuid.UUID]int64, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, routed_seq FROM chats WHERE id = ANY($1)`, chatIDs)
	if err != nil {
		return nil, translate(err, "routed seqs")
	}
	defer rows.Close()
	out := make(map[uuid.UUID]int64, len(chatIDs))
	for rows.Next() {
		var id uuid.UUID
		var seq int64
		if err := rows.Scan(&id, &seq); err != nil {
			return nil, translate(err, "routed seqs")
		}
		out[id] = seq
	}
	return out, translate(rows.Err(), "routed seqs")
}

// ChatRoute is what starting a chat workflow needs.
type ChatRoute struct {
	ChatID    uuid.UUID `json:"chat_id"`
	ChannelID int64     `json:"channel_id"`
	LineID    int64     `json:"line_id"`
	ContactID int64     `json:"contact_id"`
}
