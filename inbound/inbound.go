// Package inbound is the hand-off every channel calls with a message it received (the `api`
// channel now; messengers, email, the widget and phone later).
//
// Accept makes the message durable in PostgreSQL — deduplicated by channel and the sender's id
// for it, with an outbox row in the same commit, in one round trip — and returns at once, so a
// webhook answers 2xx within its platform's budget whatever Temporal is doing. Run, the
// dispatcher, hands the outbox to the chat workflows asynchronously: ordered per chat (each chat
// numbers its messages), batched (one signal carries every waiting message of a chat), at least
// once; the chat workflow applies each sequence number once, in order. A message that arrives
// while Temporal is unreachable or its chat's workflow is down is handed over later, never lost
// and never doubled.
package inbound

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"go.temporal.io/sdk/client"

	"github.com/linedesk/linedesk/store"
	"github.com/linedesk/linedesk/telemetry"
	"github.com/linedesk/linedesk/workflows"
)

// Contact identifies the sender on its channel.
type Contact struct {
	ExternalID string            `json:"external_id"`
	Name       string            `json:"name,omitempty"`
	Email      string            `json:"email,omitempty"`
	Phone      string            `json:"phone,omitempty"`
	ProfileURL string            `json:"profile_url,omitempty"`
	Timezone   string            `json:"timezone,omitempty"`
	Fields     map[string]string `json:"fields,omitempty"`
}

// Message is one message a channel received.
type Message struct {
	ChannelID int64 `json:"-"`
	// Kind is the channel's kind (telegram, email, api…), for the metrics.
	Kind string `json:"-"`
	// Key is the sender's id for this message (Idempotency-Key, Telegram update_id, wamid…).
	Key     string          `json:"-"`
	Contact Contact         `json:"contact"`
	Text    string          `json:"text,omitempty"`
	Files   json.RawMessage `json:"attachments,omitempty"`
	// Button is the payload of a pressed button (CSAT answers).
	Button string    `json:"button,omitempty"`
	At     time.Time `json:"-"`
	// Chat names the chat apart from the sender (a mail thread); empty means the sender's chat.
	Chat string `json:"-"`
	// ByOperator: an operator writes this down (a call's log), so a block does not stop it.
	ByOperator bool `json:"-"`
}

// fingerprint identifies what a request carried, so the same key with another message is told
// apart from a redelivery.
func (m Message) fingerprint() []byte {
	b, _ := json.Marshal(m) // a struct of strings and raw JSON always marshals
	sum := sha256.Sum256(b)
	return sum[:]
}

// Accepted says what became of an accepted message.
type Accepted struct {
	ChatID    uuid.UUID
	MessageID uuid.UUID
	// Seq is the message's number within its chat.
	Seq int64
	// Duplicate: the key was seen before; nothing new was stored.
	Duplicate bool
	// Routed: the chat workflow has decided where the message goes; Conversation is where
	// (0: it stays in the chat). Before that, Conversation is 0 too.
	Routed       bool
	Conversation int64
}

// ErrKeyReused refuses a known key sent with another message: the sender reused an id.
var ErrKeyReused = errors.New("the key was already used for another message")

// ErrBlocked is a message from a blocked contact (X14): nothing of it is stored.
var ErrBlocked = errors.New("the sender is blocked")

// blockRefresh is how often the list of blocked identities is read again: a block made through
// another process stops the intake here within it (one made here, at once: ForgetBlocked).
const blockRefresh = 2 * time.Second

type blockKey struct {
	channel  int64
	external string
}

// Handoff accepts inbound messages and dispatches them to their chats.
type Handoff struct {
	store    *store.Store
	temporal client.Client
	logger   *slog.Logger
	// wake tells the dispatcher of this process that a message was just accepted.
	wake chan struct{}
	// Poll is how often the dispatcher looks for messages accepted by other processes or left
	// by a failed hand-off; an accept in this process wakes it at once.
	Poll time.Duration
	// Lease is how long a dispatcher owns the rows it claimed; a dispatcher that stopped
	// mid-way gives its rows to another after it.
	Lease time.Duration
	// Retry is how long rows whose hand-off failed (Temporal unreachable) wait before the next try.
	Retry time.Duration
	// Batch bounds the rows one dispatch round claims.
	Batch int
	// MaxStarting bounds the chats this dispatcher has handed messages to that have not routed
	// them yet. A burst of new chats (each a workflow start, a conversation to open) handed over
	// at once piles tens of thousands of tasks into Temporal's queues, where every one of them
	// then waits longer (measured: under 10 new conversations/s during such a burst); admitted a
	// few at a time, they go through at the engine's pace while the rest wait, durable, in the outbox.
	MaxStarting int
	// starting maps each chat handed messages (not yet routed) to the highest sequence number sent.
	starting map[uuid.UUID]int64
	// afterSignal, when set (tests), runs after a chat accepted its batch and before the rows
	// are deleted; an error leaves them to be handed over again.
	afterSignal func(chatID uuid.UUID) error

	// blocked is the list of blocked identities and when it was read; refreshing marks the one
	// caller reading it again (the others go on with the list they have).
	blocked    atomic.Pointer[blockList]
	refreshing atomic.Bool
}

type blockList struct {
	set map[blockKey]bool
	at  time.Time
}

// New returns a hand-off on st that dispatches through tc.
func New(st *store.Store, tc client.Client, logger *slog.Logger) *Handoff {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Handoff{store: st, temporal: tc, logger: logger, wake: make(chan struct{}, 1),
		Poll: 500 * time.Millisecond, Lease: 30 * time.Second, Retry: 2 * time.Second, Batch: 500,
		MaxStarting: 64, starting: map[uuid.UUID]int64{}}
}

// Accept stores m durably and de-duplicated and returns; the dispatcher hands it to its chat.
// A redelivery (same channel and key, same message) returns the first message's ids and, once
// decided, its conversation; the same key with another message is ErrKeyReused.
func (h *Handoff) Accept(ctx context.Context, m Message) (Accepted, error) {
	if !m.ByOperator && h.IsBlocked(ctx, m.ChannelID, m.Contact.ExternalID) {
		telemetry.InboundMessages.WithLabelValues(m.Kind, telemetry.InboundBlocked).Inc()
		return Accepted{}, ErrBlocked
	}
	ing, err := h.store.Ingest(ctx, store.InboundMessage{
		ChannelID: m.ChannelID, Key: m.Key, Fingerprint: m.fingerprint(),
		Contact: store.InboundContact{ExternalID: m.Contact.ExternalID, Name: m.Contact.Name,
			Email: m.Contact.Email, Phone: m.Contact.Phone, ProfileURL: m.Contact.ProfileURL,
			Timezone: m.Contact.Timezone, Fields: m.Contact.Fields},
		Text: m.Text, Attachments: m.Files, Button: m.Button, At: m.At, ChatExternalID: m.Chat,
	})
	if err != nil {
		return Accepted{}, err
	}
	if ing.Duplicate && !ing.SameRequest {
		return Accepted{}, ErrKeyReused
	}
	result := telemetry.InboundAccepted
	if ing.Duplicate {
		result = telemetry.InboundDuplicate
	}
	telemetry.InboundMessages.WithLabelValues(m.Kind, result).Inc()
	if !ing.Duplicate {
		select {
		case h.wake <- struct{}{}:
		default:
		}
	}
	return Accepted{ChatID: ing.ChatID, MessageID: ing.MessageID, Seq: ing.Seq, Duplicate: ing.Duplicate,
		Routed: ing.Routed, Conversation: ing.Conversation}, nil
}

// IsBlocked reports whether the identity belongs to a blocked contact, from a list read again
// every blockRefresh (a message costs no query of its own). One caller reads it while the others
// go on with the list they have; when it cannot be read, the last one stands and the next read
// waits blockRefresh: a database hiccup never blocks a client nor queues the intake.
func (h *Handoff) IsBlocked(ctx context.Context, channel int64, external string) bool {
	bl := h.blocked.Load()
	if (bl == nil || time.Since(bl.at) > blockRefresh) && h.refreshing.CompareAndSwap(false, true) {
		func() {
			defer h.refreshing.Store(false)
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
			defer cancel()
			next := &blockList{at: time.Now()}
			list, err := h.store.BlockedIdentities(rctx)
			if err != nil {
				h.logger.WarnContext(ctx, "inbound: blocked identities not read", "error", err)
				if bl != nil {
					next.set = bl.set
				}
			} else {
				next.set = make(map[blockKey]bool, len(list))
				for _, b := range list {
					next.set[blockKey{b.ChannelID, b.ExternalID}] = true
				}
			}
			h.blocked.Store(next)
		}()
		bl = h.blocked.Load()
	}
	return bl != nil && bl.set[blockKey{channel, external}]
}

// ForgetBlocked makes the next message read the list of blocked identities again (a block or
// an unblock was just made); until then the list it has stands.
func (h *Handoff) ForgetBlocked() {
	if bl := h.blocked.Load(); bl != nil {
		h.blocked.Store(&blockList{set: bl.set})
	}
}

// Wait waits until the chat workflow has routed a message, or ctx ends (then it returns what is
// known, with Routed false).
func (h *Handoff) Wait(ctx context.Context, a Accepted) (Accepted, error) {
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for !a.Routed {
		select {
		case <-ctx.Done():
			return a, nil
		case <-t.C:
		}
		st, err := h.store.InboundState(ctx, a.ChatID, a.Seq, a.MessageID)
		if err != nil {
			if ctx.Err() != nil {
				return a, nil
			}
			return a, err
		}
		a.Routed, a.Conversation = st.Routed, st.Conversation
	}
	return a, nil
}

// Run dispatches until ctx ends. Several processes may run it at once: each claims rows for a
// lease, and the chats apply each message once, in order, whoever hands it over.
func (h *Handoff) Run(ctx context.Context) {
	for ctx.Err() == nil {
		n, err := h.dispatch(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			h.logger.WarnContext(ctx, "inbound dispatch failed", "error", err)
			n = 0
		}
		if n >= h.Batch {
			continue // more are waiting
		}
		poll := h.Poll
		if len(h.starting) > 0 {
			poll = min(poll, 10*time.Millisecond) // room frees up as chats route
		}
		select {
		case <-ctx.Done():
		case <-h.wake:
		case <-time.After(poll):
		}
	}
}

// dispatch claims a round of outbox rows and signals each chat once with all of its messages,
// chats in parallel. It returns how many rows it claimed.
func (h *Handoff) dispatch(ctx context.Context) (int, error) {
	if err := h.forgetRouted(ctx); err != nil {
		return 0, err
	}
	if len(h.starting) >= h.MaxStarting {
		return 0, nil
	}
	rows, err := h.store.ClaimOutbox(ctx, h.Batch, h.Lease)
	if err != nil || len(rows) == 0 {
		return 0, err
	}
	var chats [][]store.OutboxMessage
	var excess []int64
	index := map[uuid.UUID]int{}
	room := h.MaxStarting - len(h.starting)
	for _, r := range rows {
		i, ok := index[r.ChatID]
		if !ok {
			_, busy := h.starting[r.ChatID]
			if !busy && room == 0 {
				excess = append(excess, r.ID) // waits for room, in the outbox
				continue
			}
			if !busy {
				room--
			}
			i = len(chats)
			index[r.ChatID] = i
			chats = append(chats, nil)
		}
		chats[i] = append(chats[i], r)
	}
	if len(excess) > 0 {
		if err := h.store.ReleaseOutbox(ctx, excess, 0); err != nil {
			return 0, err
		}
	}
	var (
		mu           sync.Mutex
		done, failed []int64
		firstErr     error
		wg           sync.WaitGroup
		slots        = make(chan struct{}, 16)
	)
	for _, batch := range chats {
		wg.Add(1)
		slots <- struct{}{}
		go func() {
			defer func() { <-slots; wg.Done() }()
			err := h.handOver(ctx, batch)
			ids := make([]int64, len(batch))
			for i, r := range batch {
				ids[i] = r.ID
			}
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				failed = append(failed, ids...)
				if firstErr == nil {
					firstErr = err
				}
				return
			}
			done = append(done, ids...)
			for _, r := range batch {
				telemetry.Since(telemetry.HandoffLag, r.QueuedAt)
			}
			h.starting[batch[0].ChatID] = max(h.starting[batch[0].ChatID], batch[len(batch)-1].Seq)
		}()
	}
	wg.Wait()
	if len(done) > 0 {
		if err := h.store.DeleteOutbox(ctx, done); err != nil {
			// The chats have them; redelivering is harmless.
			return len(rows), err
		}
	}
	if len(failed) > 0 {
		h.logger.WarnContext(ctx, "inbound messages not handed to their chats yet; retrying",
			"messages", len(failed), "retry_in", h.Retry.String(), "error", firstErr)
		if err := h.store.ReleaseOutbox(ctx, failed, h.Retry); err != nil {
			return len(rows), err
		}
	}
	return len(rows), nil
}

// forgetRouted drops from starting the chats that have routed everything they were handed.
func (h *Handoff) forgetRouted(ctx context.Context) error {
	if len(h.starting) == 0 {
		return nil
	}
	ids := make([]uuid.UUID, 0, len(h.starting))
	for id := range h.starting {
		ids = append(ids, id)
	}
	routed, err := h.store.RoutedSeqs(ctx, ids)
	if err != nil {
		return err
	}
	for id, seq := range h.starting {
		if routed[id] >= seq {
			delete(h.starting, id)
		}
	}
	return nil
}

// handOver signals one chat with its messages, starting its workflow if it is not running.
func (h *Handoff) handOver(ctx context.Context, batch []store.OutboxMessage) error {
	first := batch[0]
	b := workflows.InboundBatch{Messages: make([]workflows.InboundMessage, len(batch))}
	for i, r := range batch {
		b.Messages[i] = workflows.InboundMessage{MessageID: r.MessageID.String(), Seq: r.Seq, At: r.At, Button: r.Button}
	}
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	chatID := first.ChatID.String()
	_, err := h.temporal.SignalWithStartWorkflow(sctx, workflows.ChatWorkflowID(chatID), workflows.SignalInbound, b,
		client.StartWorkflowOptions{ID: workflows.ChatWorkflowID(chatID), TaskQueue: workflows.TaskQueue},
		workflows.ChatWorkflow, workflows.ChatInput{ChatID: chatID, ChannelID: first.ChannelID, LineID: first.LineID,
			ContactID: first.ContactID})
	if err != nil {
		return fmt.Errorf("signal chat %s: %w", chatID, err)
	}
	if h.afterSignal != nil {
		return h.afterSignal(first.ChatID)
	}
	return nil
}
