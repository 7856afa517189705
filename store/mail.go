package store

import (
	"context"
	"encoding/json"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// MailboxState is a mailbox intake's cursor and health.
type MailboxState struct {
	UIDValidity uint32     `json:"uid_validity"`
	LastUID     uint32     `json:"last_uid"`
	Imported    int64      `json:"imported"`
	Backlog     int        `json:"backlog"`
	SyncedAt    *time.Time `json:"last_sync_at"`
	LastError   string     `json:"last_error"`
	ErrorAt     *time.Time `json:"last_error_at"`
	Resyncs     int        `json:"resyncs"`
	// Automatic counts the auto-replies and bounces recorded (never conversations).
	Automatic int64 `json:"automatic"`
}

// MailboxState reads a mailbox's intake state (zero before its first sync).
func (s *Store) MailboxState(ctx context.Context, channelID int64) (MailboxState, error) {
	var st MailboxState
	var validity, last int64
	// Imported is counted from the inbound dedupe keys (one per mail made a message), exact
	// whatever crashes between storing a mail and moving the cursor.
	err := s.pool.QueryRow(ctx, `SELECT coalesce(b.uid_validity, 0), coalesce(b.last_uid, 0),
			(SELECT count(*) FROM inbound_keys k WHERE k.channel_id = $1),
			coalesce(b.backlog, 0), b.synced_at, coalesce(b.last_error, ''), b.error_at, coalesce(b.resyncs, 0),
			(SELECT count(*) FROM mail_automatic a WHERE a.channel_id = $1)
		FROM (SELECT 1) one LEFT JOIN mailbox_state b ON b.channel_id = $1`, channelID).Scan(&validity, &last, &st.Imported,
		&st.Backlog, &st.SyncedAt, &st.LastError, &st.ErrorAt, &st.Resyncs, &st.Automatic)
	st.UIDValidity, st.LastUID = uint32(validity), uint32(last)
	return st, translate(err, "mailbox state")
}

// ResetMailboxCursor starts a mailbox over after its UIDVALIDITY changed: every mail in it is
// read again (and known ones are dropped by their keys).
func (s *Store) ResetMailboxCursor(ctx context.Context, channelID int64, validity uint32) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO mailbox_state (channel_id, uid_validity, last_uid, resyncs) VALUES ($1, $2, 0, 0)
		ON CONFLICT (channel_id) DO UPDATE SET uid_validity = excluded.uid_validity, last_uid = 0,
			resyncs = mailbox_state.resyncs + CASE WHEN mailbox_state.uid_validity = 0 THEN 0 ELSE 1 END`, channelID, int64(validity))
	return translate(err, "reset mailbox cursor")
}

// AdvanceMailbox records that every mail up to lastUID is stored and how many are still
// waiting; it never moves the cursor back, nor across a UIDVALIDITY change.
func (s *Store) AdvanceMailbox(ctx context.Context, channelID int64, validity, lastUID uint32, backlog int) error {
	_, err := s.pool.Exec(ctx, `UPDATE mailbox_state SET last_uid = greatest(last_uid, $3),
			backlog = $4, synced_at = now(), last_error = ''
		WHERE channel_id = $1 AND uid_validity = $2`, channelID, int64(validity), int64(lastUID), backlog)
	return translate(err, "advance mailbox")
}

// MailboxFailed records why a mailbox's intake stopped (it tries again).
func (s *Store) MailboxFailed(ctx context.Context, channelID int64, reason string) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO mailbox_state (channel_id, last_error, error_at) VALUES ($1, $2, now())
		ON CONFLICT (channel_id) DO UPDATE SET last_error = excluded.last_error, error_at = now()`, channelID, reason)
	return translate(err, "mailbox failed")
}

// Mail is a message as mail.
type Mail struct {
	ChannelID int64     `json:"-"`
	ChatID    uuid.UUID `json:"-"`
	MessageID uuid.UUID `json:"-"`
	// HeaderID is its Message-ID ("" when it had none).
	HeaderID   string          `json:"message_id,omitempty"`
	Direction  string          `json:"-"`
	Subject    string          `json:"subject"`
	From       json.RawMessage `json:"from"`
	To         json.RawMessage `json:"to"`
	Cc         json.RawMessage `json:"cc"`
	FullText   string          `json:"full_text,omitempty"`
	HTML       string          `json:"html,omitempty"`
	ChatThread bool            `json:"-"`
}

// RecordMail keeps a message's mail side: its Message-ID for threading, its headers, whole text
// and HTML, and the thread's subject on its chat. Recording the same mail again changes nothing.
func (s *Store) RecordMail(ctx context.Context, m Mail) error {
	nz := func(b json.RawMessage, empty string) []byte {
		if len(b) == 0 {
			return []byte(empty)
		}
		return b
	}
	batch := &pgx.Batch{}
	if m.HeaderID != "" {
		batch.Queue(`INSERT INTO mail_ids (channel_id, header_id, chat_id, message_id, direction) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (channel_id, header_id) DO NOTHING`, m.ChannelID, m.HeaderID, m.ChatID, m.MessageID, m.Direction)
	}
	batch.Queue(`INSERT INTO mails (message_id, header_id, subject, sender, recipients, cc, full_text, html)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (message_id) DO NOTHING`,
		m.MessageID, m.HeaderID, m.Subject, nz(m.From, `{}`), nz(m.To, `[]`), nz(m.Cc, `[]`), m.FullText, m.HTML)
	if m.Subject != "" {
		batch.Queue(`UPDATE chats SET subject = $2 WHERE id = $1 AND subject = ''`, m.ChatID, m.Subject)
	}
	return translate(s.pool.SendBatch(ctx, batch).Close(), "record mail")
}

// MailOf returns the mail side of messages (those that have one).
func (s *Store) MailOf(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID]Mail, error) {
	out := map[uuid.UUID]Mail{}
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := s.pool.Query(ctx, `SELECT message_id, header_id, subject, sender, recipients, cc, full_text, html
		FROM mails WHERE message_id = ANY($1)`, ids)
	if err != nil {
		return nil, translate(err, "mail of messages")
	}
	defer rows.Close()
	for rows.Next() {
		var m Mail
		if err := rows.Scan(&m.MessageID, &m.HeaderID, &m.Subject, &m.From, &m.To, &m.Cc, &m.FullText, &m.HTML); err != nil {
			return nil, translate(err, "mail of messages")
		}
		out[m.MessageID] = m
	}
	return out, translate(rows.Err(), "mail of messages")
}

// RecordAutomaticMail keeps an auto-reply or bounce the channel received; it reports whether
// it is new.
func (s *Store) RecordAutomaticMail(ctx context.Context, channelID int64, key, reason, sender, subject, detail string) (bool, error) {
	tag, err := s.pool.Exec(ctx, `INSERT INTO mail_automatic (channel_id, key, reason, sender, subject, detail)
		VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`, channelID, key, reason, sender, subject, detail)
	return err == nil && tag.RowsAffected() > 0, translate(err, "record automatic mail")
}

// AutomaticMail is an auto-reply or bounce a channel received.
type AutomaticMail struct {
	Reason     string    `json:"reason"`
	Sender     string    `json:"sender"`
	Subject    string    `json:"subject"`
	Detail     string    `json:"detail"`
	ReceivedAt time.Time `json:"received_at"`
}

// RecentAutomaticMail lists a channel's latest automatic mail.
func (s *Store) RecentAutomaticMail(ctx context.Context, channelID int64, limit int) ([]AutomaticMail, error) {
	return queryAll(ctx, s, "automatic mail", `SELECT reason, sender, subject, detail, received_at FROM mail_automatic
		WHERE channel_id = $1 ORDER BY received_at DESC LIMIT $2`, func(r rowScanner) (AutomaticMail, error) {
		var a AutomaticMail
		err := r.Scan(&a.Reason, &a.Sender, &a.Subject, &a.Detail, &a.ReceivedAt)
		return a, err
	}, channelID, limit)
}

// BounceMail marks failed the outbound messages of a channel a bounce names (by their
// Message-IDs), with the bounce's reason; it returns how many moved.
func (s *Store) BounceMail(ctx context.Context, channelID int64, headerIDs []string, reason string) (int, error) {
	tag, err := s.pool.Exec(ctx, `WITH failed AS (UPDATE messages m SET status = 'failed' FROM mail_ids i
			WHERE i.channel_id = $1 AND i.header_id = ANY($2) AND i.direction = 'out' AND m.id = i.message_id
			AND m.status IN ('sent', 'delivered', 'read') RETURNING m.id)
		INSERT INTO delivery_attempts (message_id, attempt, error)
		SELECT f.id, (SELECT count(*) + 1 FROM delivery_attempts a WHERE a.message_id = f.id), $3 FROM failed f`,
		channelID, headerIDs, reason)
	if err != nil {
		return 0, translate(err, "bounce mail")
	}
	return int(tag.RowsAffected()), nil
}

// MailThread is what a reply in a mail chat needs: where it goes and what it answers.
type MailThread struct {
	// To is the client's address.
	To      string
	Subject string
	// References are the thread's Message-IDs, oldest first (the first and the latest few).
	References []string
}

// MailThreadOf reads a mail chat's thread for a reply.
func (s *Store) MailThreadOf(ctx context.Context, chatID uuid.UUID) (MailThread, error) {
	var t MailThread
	err := s.pool.QueryRow(ctx, `SELECT coalesce((SELECT i.external_id FROM contact_identities i
				WHERE i.channel_id = c.channel_id AND i.contact_id = c.contact_id ORDER BY i.external_id LIMIT 1), ''),
			c.subject,
			coalesce((SELECT array_agg(h.header_id ORDER BY h.created_at, h.header_id) FROM (
				(SELECT header_id, created_at FROM mail_ids WHERE chat_id = c.id ORDER BY created_at, header_id LIMIT 1)
				UNION
				(SELECT header_id, created_at FROM mail_ids WHERE chat_id = c.id ORDER BY created_at DESC, header_id DESC LIMIT 9)) h), '{}')
		FROM chats c WHERE c.id = $1`, chatID).Scan(&t.To, &t.Subject, &t.References)
	return t, translate(err, "mail thread of chat")
}

// ConversationChat returns a conversation's chat and channel.
func (s *Store) ConversationChat(ctx context.Context, number int64) (chatID uuid.UUID, channelID int64, err error) {
	err = s.pool.QueryRow(ctx, `SELECT chat_id, channel_id FROM conversations WHERE number = $1`, number).Scan(&chatID, &channelID)
	return chatID, channelID, translate(err, "conversation chat")
}

// RecordMailID keeps the Message-ID of a mail the desk sent in a chat without a message of its
// own (the solution mailed on close), so an answer to it joins the chat.
func (s *Store) RecordMailID(ctx context.Context, channelID int64, chatID uuid.UUID, headerID string) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO mail_ids (channel_id, header_id, chat_id, direction) VALUES ($1, $2, $3, 'out')
		ON CONFLICT (channel_id, header_id) DO NOTHING`, channelID, headerID, chatID)
	return translate(err, "record mail id")
}

// MailThreadChats maps each of ids the channel knows to the external id of its thread's chat.
func (s *Store) MailThreadChats(ctx context.Context, channelID int64, ids []string) (map[string]string, error) {
	out := map[string]string{}
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := s.pool.Query(ctx, `SELECT m.header_id, c.external_id FROM mail_ids m JOIN chats c ON c.id = m.chat_id
		WHERE m.channel_id = $1 AND m.header_id = ANY($2)`, channelID, ids)
	if err != nil {
		return nil, translate(err, "mail threads")
	}
	defer rows.Close()
	for rows.Next() {
		var id, chat string
		if err := rows.Scan(&id, &chat); err != nil {
			return nil, translate(err, "mail threads")
		}
		out[id] = chat
	}
	return out, translate(rows.Err(), "mail threads")
}
