package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// CallEvent is one PBX event for a call (newCall, answer, hangup, recording).
type CallEvent struct {
	Event     string
	CallID    string
	Direction string
	From, To  string
	// ClientDigits is the other party's number as digits (cti.Digits), matched against contacts.
	ClientDigits    string
	Queue           string
	Users           []string
	AnsweringNumber string
	Cause           string
	RecordingURL    string
	At              time.Time
}

// Call is a phone call as the console shows it.
type Call struct {
	ID              int64       `json:"id"`
	ChannelID       int64       `json:"channel_id"`
	LineID          int64       `json:"line_id"`
	CallID          string      `json:"call_id"`
	Direction       string      `json:"direction"`
	From            string      `json:"from"`
	To              string      `json:"to"`
	Queue           string      `json:"queue"`
	Users           []string    `json:"users"`
	State           string      `json:"state"`
	AnsweringNumber string      `json:"answering_number"`
	AnsweredBy      *UserRef    `json:"answered_by"`
	Cause           string      `json:"cause"`
	Contact         *ContactRef `json:"contact"`
	Conversation    *int64      `json:"conversation"`
	StartedAt       time.Time   `json:"started_at"`
	AnsweredAt      *time.Time  `json:"answered_at"`
	EndedAt         *time.Time  `json:"ended_at"`
	// RecordingURL is where the PBX offered the recording; RecordingFile the desk's copy.
	RecordingURL   string     `json:"-"`
	RecordingFile  *uuid.UUID `json:"-"`
	RecordingError string     `json:"recording_error,omitempty"`
	// ClientDigits is the other party's number as digits.
	ClientDigits string `json:"client_number"`
}

// Missed reports a call that ended without being answered.
func (c Call) Missed() bool { return c.State == "ended" && c.AnsweredAt == nil }

// ApplyCallEvent records one event of a call on a phone channel and returns the call. Events may
// come in any order and more than once: each fills in what the call does not know yet, the state
// only moves forward (ringing → answered → ended), and a repeated event changes nothing. A new
// call gets the contact whose phone is the client's number.
func (s *Store) ApplyCallEvent(ctx context.Context, channelID int64, e CallEvent) (Call, error) {
	state := map[string]string{"answer": "answered", "hangup": "ended"}[e.Event]
	if state == "" {
		state = "ringing"
	}
	var answeredAt, endedAt *time.Time
	if e.Event == "answer" {
		answeredAt = &e.At
	}
	if e.Event == "hangup" {
		endedAt = &e.At
	}
	if e.Users == nil {
		e.Users = []string{}
	}
	var id int64
	err := s.pool.QueryRow(ctx, `INSERT INTO calls AS c (channel_id, call_id, direction, from_number, to_number, client_digits, queue,
			users, state, answering_number, answered_by, cause, started_at, answered_at, ended_at, recording_url, contact_id)
		VALUES ($1, $2, coalesce(nullif($3, ''), 'in'), $4, $5, $6, $7, $8, $9, $10,
			(SELECT u.id FROM users u WHERE $10 <> '' AND lower(u.email) = lower($10) AND u.disabled_at IS NULL LIMIT 1),
			$11, $12, $13, $14, $15,
			(SELECT k.id FROM contacts k WHERE $6 <> '' AND k.phone <> '' AND phone_digits(k.phone) = $6 AND k.merged_into IS NULL ORDER BY k.id LIMIT 1))
		ON CONFLICT (channel_id, call_id) DO UPDATE SET
			direction = CASE WHEN c.client_digits = '' AND $3 <> '' THEN EXCLUDED.direction ELSE c.direction END,
			from_number = coalesce(nullif(c.from_number, ''), EXCLUDED.from_number),
			to_number = coalesce(nullif(c.to_number, ''), EXCLUDED.to_number),
			client_digits = coalesce(nullif(c.client_digits, ''), EXCLUDED.client_digits),
			queue = coalesce(nullif(c.queue, ''), EXCLUDED.queue),
			users = CASE WHEN cardinality(c.users) = 0 THEN EXCLUDED.users ELSE c.users END,
			state = CASE WHEN 'ended' IN (c.state, EXCLUDED.state) THEN 'ended'
				WHEN 'answered' IN (c.state, EXCLUDED.state) THEN 'answered' ELSE 'ringing' END,
			answering_number = coalesce(nullif(c.answering_number, ''), EXCLUDED.answering_number),
			answered_by = coalesce(c.answered_by, EXCLUDED.answered_by),
			cause = coalesce(nullif(c.cause, ''), EXCLUDED.cause),
			started_at = least(c.started_at, EXCLUDED.started_at),
			answered_at = coalesce(c.answered_at, EXCLUDED.answered_at),
			ended_at = coalesce(c.ended_at, EXCLUDED.ended_at),
			recording_url = coalesce(nullif(c.recording_url, ''), EXCLUDED.recording_url),
			contact_id = coalesce(c.contact_id, EXCLUDED.contact_id)
		RETURNING id`,
		channelID, e.CallID, e.Direction, e.From, e.To, e.ClientDigits, e.Queue, e.Users, state, e.AnsweringNumber,
		e.Cause, e.At, answeredAt, endedAt, e.RecordingURL).Scan(&id)
	if err != nil {
		return Call{}, translate(err, "apply call event")
	}
	return s.CallByID(ctx, id)
}

const callSelect = `SELECT c.id, c.channel_id, ch.line_id, c.call_id, c.direction, c.from_number, c.to_number, c.queue, c.users,
	c.state, c.answering_number, c.answered_by, coalesce(u.name, ''), c.cause, c.contact_id, coalesce(k.name, ''),
	coalesce(k.email, ''), coalesce(k.phone, ''), c.conversation_number, c.started_at, c.answered_at, c.ended_at,
	c.recording_url, c.recording_file_id, c.recording_error, c.client_digits
FROM calls c JOIN channels ch ON ch.id = c.channel_id
LEFT JOIN users u ON u.id = c.answered_by LEFT JOIN contacts k ON k.id = c.contact_id`

func scanCall(r rowScanner) (Call, error) {
	var c Call
	var answeredBy, contactID *int64
	var answeredName, cname, cemail, cphone string
	err := r.Scan(&c.ID, &c.ChannelID, &c.LineID, &c.CallID, &c.Direction, &c.From, &c.To, &c.Queue, &c.Users,
		&c.State, &c.AnsweringNumber, &answeredBy, &answeredName, &c.Cause, &contactID, &cname, &cemail, &cphone,
		&c.Conversation, &c.StartedAt, &c.AnsweredAt, &c.EndedAt, &c.RecordingURL, &c.RecordingFile, &c.RecordingError, &c.ClientDigits)
	if answeredBy != nil {
		c.AnsweredBy = &UserRef{ID: *answeredBy, Name: answeredName}
	}
	if contactID != nil {
		c.Contact = &ContactRef{ID: *contactID, Name: cname, Email: cemail, Phone: cphone}
	}
	return c, err
}

// CallByID reads a call; ErrNotFound for an unknown id.
func (s *Store) CallByID(ctx context.Context, id int64) (Call, error) {
	c, err := scanCall(s.pool.QueryRow(ctx, callSelect+` WHERE c.id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return Call{}, ErrNotFound
	}
	return c, translate(err, "call")
}

// CallFilter narrows a call list.
type CallFilter struct {
	// Lines limits the list to calls of these lines' channels; nil: every line (admins).
	Lines []int64
	// ContactID: the contact's calls, and calls from their number not linked to anyone yet.
	ContactID int64
	// Conversation: the calls linked to the conversation.
	Conversation int64
	// Missed: only calls that ended unanswered.
	Missed bool
	// Before: calls with a smaller id (the next page).
	Before int64
	Limit  int
}

// ListCalls lists calls, newest first.
func (s *Store) ListCalls(ctx context.Context, f CallFilter) ([]Call, error) {
	var where []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	if f.Lines != nil {
		where = append(where, "ch.line_id = ANY("+arg(f.Lines)+")")
	}
	if f.ContactID != 0 {
		p := arg(f.ContactID)
		where = append(where, "(c.contact_id = "+p+" OR (c.contact_id IS NULL AND c.client_digits <> '' AND c.client_digits IN "+
			"(SELECT phone_digits(phone) FROM contacts WHERE id = "+p+" AND phone <> '')))")
	}
	if f.Conversation != 0 {
		where = append(where, "c.conversation_number = "+arg(f.Conversation))
	}
	if f.Missed {
		where = append(where, "c.state = 'ended' AND c.answered_at IS NULL")
	}
	if f.Before > 0 {
		where = append(where, "c.id < "+arg(f.Before))
	}
	if f.Limit <= 0 || f.Limit > 200 {
		f.Limit = 50
	}
	q := callSelect
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY c.id DESC LIMIT " + arg(f.Limit)
	return queryAll(ctx, s, "calls", q, scanCall, args...)
}

// SetCallRecording keeps the desk's copy of a call's recording, or why it could not be fetched.
// The recording joins the chat of the call's conversation, if it has one.
func (s *Store) SetCallRecording(ctx context.Context, id int64, file *uuid.UUID, reason string) error {
	_, err := s.pool.Exec(ctx, `WITH c AS (UPDATE calls SET recording_file_id = coalesce($2, recording_file_id), recording_error = $3
			WHERE id = $1 RETURNING conversation_number)
		UPDATE files f SET chat_id = v.chat_id FROM c JOIN conversations v ON v.number = c.conversation_number
		WHERE f.id = $2 AND f.chat_id IS NULL`, id, file, reason)
	return translate(err, "set call recording")
}

// CreateCallContact makes a contact card for a call's unknown number (name, email; the phone is
// the call's number) and links the call and the number's other calls without one to it. It
// answers ErrConflict when the call has a contact already.
func (s *Store) CreateCallContact(ctx context.Context, callID int64, name, email string) (Call, error) {
	err := s.InTx(ctx, func(tx *Store) error {
		var digits, number, direction string
		var contact *int64
		if err := tx.pool.QueryRow(ctx, `SELECT client_digits, CASE direction WHEN 'out' THEN to_number ELSE from_number END,
				direction, contact_id FROM calls WHERE id = $1 FOR UPDATE`, callID).Scan(&digits, &number, &direction, &contact); err != nil {
			return translate(err, "call")
		}
		if contact != nil {
			return fmt.Errorf("call %d has a contact already: %w", callID, ErrConflict)
		}
		if digits == "" {
			return fmt.Errorf("the call came from a hidden number: %w", ErrInvalid)
		}
		phone := "+" + digits
		var id int64
		// A contact the number already has without a name (a channel made it) is this card.
		err := tx.pool.QueryRow(ctx, `UPDATE contacts SET name = $2, email = CASE WHEN email = '' THEN $3 ELSE email END, updated_at = now()
			WHERE id = (SELECT id FROM contacts WHERE phone <> '' AND phone_digits(phone) = $1 AND name = '' AND merged_into IS NULL ORDER BY id LIMIT 1)
			RETURNING id`, digits, name, email).Scan(&id)
		if errors.Is(err, pgx.ErrNoRows) {
			err = tx.pool.QueryRow(ctx, `INSERT INTO contacts (name, email, phone) VALUES ($1, $2, $3) RETURNING id`,
				name, email, phone).Scan(&id)
		}
		if err != nil {
			return translate(err, "create contact")
		}
		_, err = tx.pool.Exec(ctx, `UPDATE calls SET contact_id = $2 WHERE contact_id IS NULL AND client_digits = $1`, digits, id)
		return translate(err, "link calls")
	})
	if err != nil {
		return Call{}, err
	}
	return s.CallByID(ctx, callID)
}

// SetCallContactFromChat gives a call without a contact the contact of the chat its
// conversation was made in (the hand-off made one for a new number), with the number's other
// calls without one.
func (s *Store) SetCallContactFromChat(ctx context.Context, callID int64, chatID uuid.UUID) error {
	_, err := s.pool.Exec(ctx, `UPDATE calls c SET contact_id = ch.contact_id FROM chats ch, calls me
		WHERE ch.id = $2 AND me.id = $1 AND c.contact_id IS NULL
			AND (c.id = $1 OR (me.client_digits <> '' AND c.client_digits = me.client_digits))`, callID, chatID)
	return translate(err, "set call contact")
}

// LinkCallIdentity makes the phone channel's identity for the call's number (its digits) point
// at the call's contact, so the conversation made from the call is that contact's.
func (s *Store) LinkCallIdentity(ctx context.Context, c Call) error {
	if c.Contact == nil || c.ClientDigits == "" {
		return nil
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO contact_identities (channel_id, external_id, contact_id) VALUES ($1, $2, $3)
		ON CONFLICT (channel_id, external_id) DO NOTHING`, c.ChannelID, c.ClientDigits, c.Contact.ID)
	return translate(err, "link call identity")
}

// SetCallConversation links a call to the conversation made from it; ErrConflict when it has
// another already.
func (s *Store) SetCallConversation(ctx context.Context, id, number int64) error {
	_, err := s.pool.Exec(ctx, `WITH c AS (UPDATE calls SET conversation_number = $2
			WHERE id = $1 AND (conversation_number IS NULL OR conversation_number = $2) RETURNING recording_file_id)
		UPDATE files f SET chat_id = v.chat_id FROM c, conversations v
		WHERE v.number = $2 AND f.id = c.recording_file_id AND f.chat_id IS NULL`, id, number)
	if err != nil {
		return translate(err, "set call conversation")
	}
	var linked *int64
	if err := s.pool.QueryRow(ctx, `SELECT conversation_number FROM calls WHERE id = $1`, id).Scan(&linked); err != nil {
		return translate(err, "call")
	}
	if linked == nil || *linked != number {
		return fmt.Errorf("call %d belongs to another conversation: %w", id, ErrConflict)
	}
	return nil
}

// CallOfFile returns the call a recording belongs to; ErrNotFound when the file is no recording.
func (s *Store) CallOfFile(ctx context.Context, file uuid.UUID) (Call, error) {
	c, err := scanCall(s.pool.QueryRow(ctx, callSelect+` WHERE c.recording_file_id = $1`, file))
	if errors.Is(err, pgx.ErrNoRows) {
		return Call{}, ErrNotFound
	}
	return c, translate(err, "call of file")
}
