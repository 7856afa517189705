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

// WebhookEvents are the names integrators subscribe to. Conversation events are the timeline
// entries conversations record (conversation_events), message events come from the messages
// table; both reach webhooks through the events table (migrations 009 and 012). "*" subscribes
// to every event, including timeline kinds added later.
var WebhookEvents = []string{
	"conversation.opened", "conversation.taken", "conversation.routed", "conversation.assigned",
	"conversation.transferred", "conversation.returned", "conversation.paused", "conversation.resumed",
	"conversation.replied", "conversation.note_added", "conversation.edited", "conversation.closed",
	"conversation.auto_closed", "conversation.csat_answered", "conversation.sla_warning", "conversation.sla_breached",
	"conversation.labeled", "message.created", "message.delivery_failed",
}

// WebhookAllEvents subscribes a webhook to every event.
const WebhookAllEvents = "*"

// Webhook delivery statuses.
const (
	WebhookPending   = "pending"
	WebhookDelivered = "delivered"
	WebhookFailed    = "failed"
)

// ErrNotRetryable is returned when a delivery or message is not in a state a retry applies to.
var ErrNotRetryable = errors.New("not in a retryable state")

// Webhook is an integrator's subscription. Its secret never leaves the store in it, so the
// audit log, which records this struct, never sees the secret either.
type Webhook struct {
	ID          int64     `json:"id"`
	URL         string    `json:"url"`
	Events      []string  `json:"events"`
	LineID      *int64    `json:"line_id"`
	Description string    `json:"description"`
	Enabled     bool      `json:"enabled"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

const webhookColumns = `id, url, events, line_id, description, enabled, created_at, updated_at`

func scanWebhook(r rowScanner) (Webhook, error) {
	var w Webhook
	err := r.Scan(&w.ID, &w.URL, &w.Events, &w.LineID, &w.Description, &w.Enabled, &w.CreatedAt, &w.UpdatedAt)
	return w, err
}

// CreateWebhook stores a webhook with a fresh signing secret, returned this once.
func (s *Store) CreateWebhook(ctx context.Context, w Webhook) (Webhook, string, error) {
	secret := randomToken("ldh_")
	out, err := scanWebhook(s.pool.QueryRow(ctx, `INSERT INTO webhooks (url, secret, events, line_id, description, enabled)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING `+webhookColumns,
		w.URL, s.box.Seal(purposeWebhookSecret, []byte(secret)), w.Events, w.LineID, w.Description, w.Enabled))
	if err != nil {
		return Webhook{}, "", translate(err, "create webhook")
	}
	return out, secret, nil
}

// Webhooks lists every webhook.
func (s *Store) Webhooks(ctx context.Context) ([]Webhook, error) {
	return queryAll(ctx, s, "webhooks", `SELECT `+webhookColumns+` FROM webhooks ORDER BY id`, scanWebhook)
}

// WebhookByID returns one webhook.
func (s *Store) WebhookByID(ctx context.Context, id int64) (Webhook, error) {
	w, err := scanWebhook(s.pool.QueryRow(ctx, `SELECT `+webhookColumns+` FROM webhooks WHERE id = $1`, id))
	return w, translate(err, "webhook by id")
}

// UpdateWebhook saves a webhook's editable fields.
func (s *Store) UpdateWebhook(ctx context.Context, w Webhook) (Webhook, error) {
	out, err := scanWebhook(s.pool.QueryRow(ctx, `UPDATE webhooks SET url = $2, events = $3, line_id = $4, description = $5,
			enabled = $6, updated_at = now() WHERE id = $1 RETURNING `+webhookColumns,
		w.ID, w.URL, w.Events, w.LineID, w.Description, w.Enabled))
	return out, translate(err, "update webhook")
}

// DeleteWebhook removes a webhook with its deliveries.
func (s *Store) DeleteWebhook(ctx context.Context, id int64) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM webhooks WHERE id = $1`, id)
	if err == nil && tag.RowsAffected() == 0 {
		err = pgx.ErrNoRows
	}
	return translate(err, "delete webhook")
}

// RotateWebhookSecret gives a webhook a new signing secret, returned this once; deliveries
// sent from now on are signed with it.
func (s *Store) RotateWebhookSecret(ctx context.Context, id int64) (string, error) {
	secret := randomToken("ldh_")
	tag, err := s.pool.Exec(ctx, `UPDATE webhooks SET secret = $2, updated_at = now() WHERE id = $1`, id, s.box.Seal(purposeWebhookSecret, []byte(secret)))
	if err == nil && tag.RowsAffected() == 0 {
		err = pgx.ErrNoRows
	}
	return secret, translate(err, "rotate webhook secret")
}

// WebhookDelivery is one event for one webhook, with its attempts.
type WebhookDelivery struct {
	ID            uuid.UUID        `json:"id"`
	WebhookID     int64            `json:"webhook_id"`
	Event         string           `json:"event"`
	Payload       json.RawMessage  `json:"payload"`
	Status        string           `json:"status"`
	NextAttemptAt *time.Time       `json:"next_attempt_at"`
	CreatedAt     time.Time        `json:"created_at"`
	DeliveredAt   *time.Time       `json:"delivered_at"`
	Attempts      []WebhookAttempt `json:"attempts"`
}

// WebhookAttempt is one POST of a delivery.
type WebhookAttempt struct {
	At         time.Time `json:"at"`
	StatusCode *int      `json:"status_code"`
	Error      string    `json:"error"`
	DurationMS int       `json:"duration_ms"`
}

// WebhookDeliveries lists a webhook's deliveries, newest first, each with its attempts.
func (s *Store) WebhookDeliveries(ctx context.Context, webhookID int64, status string, limit int) ([]WebhookDelivery, error) {
	return queryAll(ctx, s, "webhook deliveries", `SELECT d.id, d.webhook_id, d.event, d.payload, d.status,
			CASE WHEN d.status = 'pending' THEN d.next_attempt_at END, d.created_at, d.delivered_at,
			coalesce((SELECT jsonb_agg(jsonb_build_object('at', a.at, 'status_code', a.status_code, 'error', a.error,
				'duration_ms', a.duration_ms) ORDER BY a.id) FROM webhook_attempts a WHERE a.delivery_id = d.id), '[]')
		FROM webhook_deliveries d WHERE d.webhook_id = $1 AND ($2 = '' OR d.status = $2)
		ORDER BY d.created_at DESC, d.event_xid DESC, d.event_id DESC LIMIT $3`, scanWebhookDelivery, webhookID, status, limit)
}

func scanWebhookDelivery(r rowScanner) (WebhookDelivery, error) {
	var d WebhookDelivery
	var attempts []byte
	err := r.Scan(&d.ID, &d.WebhookID, &d.Event, &d.Payload, &d.Status, &d.NextAttemptAt, &d.CreatedAt, &d.DeliveredAt, &attempts)
	if err == nil {
		err = json.Unmarshal(attempts, &d.Attempts)
	}
	return d, err
}

// RetryWebhookDelivery puts a failed delivery back in the queue for a new round of attempts,
// due now. A delivered or still pending one is left alone (ErrNotRetryable).
func (s *Store) RetryWebhookDelivery(ctx context.Context, webhookID int64, id uuid.UUID) error {
	tag, err := s.pool.Exec(ctx, `UPDATE webhook_deliveries SET status = 'pending', attempts = 0, next_attempt_at = now(),
			locked_until = NULL WHERE webhook_id = $1 AND id = $2 AND status = 'failed'`, webhookID, id)
	if err != nil {
		return translate(err, "retry webhook delivery")
	}
	if tag.RowsAffected() == 1 {
		return nil
	}
	var exists bool
	if err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM webhook_deliveries WHERE webhook_id = $1 AND id = $2)`,
		webhookID, id).Scan(&exists); err != nil {
		return translate(err, "retry webhook delivery")
	}
	if !exists {
		return fmt.Errorf("webhook delivery: %w", ErrNotFound)
	}
	return fmt.Errorf("webhook delivery: %w", ErrNotRetryable)
}

// ClaimedDelivery is a delivery a dispatcher holds: everything it needs to send it.
type ClaimedDelivery struct {
	ID        uuid.UUID
	WebhookID int64
	URL       string
	Secret    string
	Event     string
	Payload   json.RawMessage
	// Attempt is the number of this attempt in its round (1 for the first).
	Attempt int
}

// ClaimWebhookDeliveries takes up to limit due deliveries of enabled webhooks for one
// dispatcher, until the lease ends. FOR UPDATE SKIP LOCKED keeps two dispatchers from claiming
// the same row, and the lease keeps others off it while it is being sent; a dispatcher that dies
// holding one leaves it to another once the lease has passed.
func (s *Store) ClaimWebhookDeliveries(ctx context.Context, limit int, lease time.Duration) ([]ClaimedDelivery, error) {
	return queryAll(ctx, s, "claim webhook deliveries", `WITH due AS (
			SELECT d.id FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id AND w.enabled
			WHERE d.status = 'pending' AND d.next_attempt_at <= now() AND (d.locked_until IS NULL OR d.locked_until < now())
			ORDER BY d.next_attempt_at LIMIT $1 FOR UPDATE OF d SKIP LOCKED)
		UPDATE webhook_deliveries d SET locked_until = now() + $2::interval, attempts = d.attempts + 1
		FROM due, webhooks w WHERE d.id = due.id AND w.id = d.webhook_id
		RETURNING d.id, d.webhook_id, w.url, w.secret, d.event, d.payload, d.attempts`,
		func(r rowScanner) (ClaimedDelivery, error) {
			var c ClaimedDelivery
			var secret []byte
			if err := r.Scan(&c.ID, &c.WebhookID, &c.URL, &secret, &c.Event, &c.Payload, &c.Attempt); err != nil {
				return c, err
			}
			plain, err := s.box.Open(purposeWebhookSecret, secret)
			c.Secret = string(plain)
			return c, err
		}, limit, lease.String())
}

// WebhookOutcome is what an attempt ended in.
type WebhookOutcome struct {
	StatusCode int
	Error      string
	Duration   time.Duration
	// Delivered is true when the endpoint answered 2xx.
	Delivered bool
	// RetryAt is when to try again; zero with Delivered false: give up (failed).
	RetryAt time.Time
}

// RecordWebhookAttempt logs an attempt of a claimed delivery and settles it: delivered, due
// again at RetryAt, or failed. It releases the claim.
func (s *Store) RecordWebhookAttempt(ctx context.Context, id uuid.UUID, o WebhookOutcome) error {
	var code *int
	if o.StatusCode != 0 {
		code = &o.StatusCode
	}
	status := WebhookFailed
	var next *time.Time
	switch {
	case o.Delivered:
		status = WebhookDelivered
	case !o.RetryAt.IsZero():
		status, next = WebhookPending, &o.RetryAt
	}
	batch := &pgx.Batch{}
	batch.Queue(`INSERT INTO webhook_attempts (delivery_id, status_code, error, duration_ms) VALUES ($1, $2, $3, $4)`,
		id, code, o.Error, int(o.Duration.Milliseconds()))
	batch.Queue(`UPDATE webhook_deliveries SET status = $2, next_attempt_at = coalesce($3, next_attempt_at), locked_until = NULL,
			delivered_at = CASE WHEN $2 = 'delivered' THEN now() END WHERE id = $1`, id, status, next)
	return translate(s.pool.SendBatch(ctx, batch).Close(), "record webhook attempt")
}
