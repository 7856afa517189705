// Package webhooks sends outbound webhook deliveries: it claims due deliveries from PostgreSQL,
// POSTs each one signed with its webhook's secret, and records every attempt, retrying with
// backoff. Several dispatchers (one per worker process) share the queue without sending a
// delivery twice at once.
package webhooks

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/linedesk/linedesk/store"
)

// Headers every delivery carries.
const (
	// HeaderSignature is "sha256=" + hex(HMAC-SHA256(secret, timestamp + "." + body)).
	HeaderSignature = "X-Linedesk-Webhook-Signature"
	// HeaderTimestamp is the Unix time (seconds) the attempt was signed at; receivers should
	// refuse old ones so a captured request cannot be replayed later.
	HeaderTimestamp = "X-Linedesk-Webhook-Timestamp"
	// HeaderDelivery is the delivery's id, the same on every attempt: receivers dedupe by it.
	HeaderDelivery = "X-Linedesk-Webhook-Delivery"
	// HeaderEvent is the event name.
	HeaderEvent = "X-Linedesk-Webhook-Event"
)

// Retry schedule: 5 s, doubling, at most an hour apart; a delivery that failed MaxAttempts
// times is failed (an admin may retry it).
const (
	FirstBackoff = 5 * time.Second
	MaxBackoff   = time.Hour
	MaxAttempts  = 10
)

// Backoff is the wait after the attempt-th failed attempt (1-based).
func Backoff(attempt int) time.Duration {
	d := FirstBackoff
	for i := 1; i < attempt && d < MaxBackoff; i++ {
		d *= 2
	}
	return min(d, MaxBackoff)
}

// Sign is the signature header's value for a body sent at timestamp.
func Sign(secret string, timestamp int64, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(strconv.FormatInt(timestamp, 10)))
	mac.Write([]byte("."))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// Dispatcher claims and sends deliveries.
type Dispatcher struct {
	store  *store.Store
	client *http.Client
	logger *slog.Logger
	// Poll is how often the queue is read when it was empty.
	Poll time.Duration
	// Batch is how many deliveries one claim takes.
	Batch int
	// now is the clock (tests replace it); nil: time.Now.
	now func() time.Time
}

// New returns a dispatcher sending with client (netguard's, so deliveries reach only the
// addresses the desk allows).
func New(st *store.Store, client *http.Client, logger *slog.Logger) *Dispatcher {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Dispatcher{store: st, client: client, logger: logger, Poll: time.Second, Batch: 20, now: time.Now}
}

// lease is how long a claim keeps other dispatchers off a delivery: longer than one attempt
// can take (the client's timeout).
func (d *Dispatcher) lease() time.Duration {
	if d.client.Timeout > 0 {
		return 2*d.client.Timeout + 30*time.Second
	}
	return 2 * time.Minute
}

// Run sends due deliveries until ctx ends.
func (d *Dispatcher) Run(ctx context.Context) {
	for {
		n, err := d.RunOnce(ctx)
		if err != nil && ctx.Err() == nil {
			d.logger.WarnContext(ctx, "webhook dispatch", "error", err)
		}
		if n > 0 && err == nil {
			continue // more may be due
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(d.Poll):
		}
	}
}

// RunOnce claims one batch of due deliveries, sends them concurrently and records the
// outcomes; it returns how many it sent.
func (d *Dispatcher) RunOnce(ctx context.Context) (int, error) {
	claimed, err := d.store.ClaimWebhookDeliveries(ctx, d.Batch, d.lease())
	if err != nil {
		return 0, err
	}
	errs := make(chan error, len(claimed))
	for _, c := range claimed {
		go func() { errs <- d.deliver(ctx, c) }()
	}
	var first error
	for range claimed {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return len(claimed), first
}

// maxAnswer is how much of an endpoint's answer is kept in an attempt's error.
const maxAnswer = 256

// deliver makes one attempt and records it.
func (d *Dispatcher) deliver(ctx context.Context, c store.ClaimedDelivery) error {
	body, err := deliveryBody(c)
	if err != nil {
		return fmt.Errorf("delivery %s body: %w", c.ID, err)
	}
	start := d.now()
	code, sendErr := d.send(ctx, c, body, start.Unix())
	o := store.WebhookOutcome{StatusCode: code, Duration: d.now().Sub(start)}
	switch {
	case sendErr == nil:
		o.Delivered = true
	case c.Attempt < MaxAttempts:
		o.Error = sendErr.Error()
		o.RetryAt = d.now().Add(Backoff(c.Attempt))
	default:
		o.Error = sendErr.Error()
	}
	if sendErr != nil {
		d.logger.InfoContext(ctx, "webhook attempt failed", "delivery_id", c.ID, "webhook_id", c.WebhookID,
			"attempt", c.Attempt, "status_code", code, "error", sendErr)
	}
	// The attempt happened: record it even if the dispatcher is stopping.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	return d.store.RecordWebhookAttempt(rctx, c.ID, o)
}

// deliveryBody is what the endpoint receives: the stored payload with the delivery's id. It is
// the same bytes on every attempt.
func deliveryBody(c store.ClaimedDelivery) ([]byte, error) {
	var m map[string]any
	if err := json.Unmarshal(c.Payload, &m); err != nil {
		return nil, err
	}
	m["id"] = c.ID.String()
	return json.Marshal(m)
}

func (d *Dispatcher) send(ctx context.Context, c store.ClaimedDelivery, body []byte, ts int64) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.URL, bytes.NewReader(body))
	if err != nil {
		return 0, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "linedesk-webhooks")
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	req.Header.Set(HeaderSignature, Sign(c.Secret, ts, body))
	req.Header.Set(HeaderDelivery, c.ID.String())
	req.Header.Set(HeaderEvent, c.Event)
	res, err := d.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(res.Body, maxAnswer))
	if res.StatusCode >= 200 && res.StatusCode <= 299 {
		return res.StatusCode, nil
	}
	msg := fmt.Sprintf("endpoint answered %d", res.StatusCode)
	if s := strings.Join(strings.Fields(strings.ToValidUTF8(string(answer), "?")), " "); s != "" {
		msg += ": " + s
	}
	return res.StatusCode, fmt.Errorf("%s", msg)
}
