package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/linedesk/linedesk/store"
)

// Live events (GET /api/v1/events): Server-Sent Events carrying what changes in the desk to
// each signed-in user, filtered to what they may see.
//
// Every change writes its event in its own commit (migration 009's triggers). Each api process
// runs one poller that reads new events in batches — one query for every subscriber, however
// many messages arrive — and hands each batch to its subscribers, which filter it by the user's
// access. Several api replicas each read the same table, so an event produced through any of
// them reaches subscribers of all. An event's SSE id is its position: a client reconnecting with
// Last-Event-ID first reads what it missed from the table, then goes on live.

const (
	// eventsPollEvery is how often the poller looks for new events.
	eventsPollEvery = 25 * time.Millisecond
	eventsBatch     = 500
	// eventsRetention is how long events stay for clients that reconnect.
	eventsRetention = 24 * time.Hour
	// eventsIdleStop stops the poller this long after its last subscriber left.
	eventsIdleStop = 30 * time.Second
	// subscriberBuffer batches may wait for a slow client; past that it is disconnected and
	// resumes with Last-Event-ID.
	subscriberBuffer = 256
	heartbeatEvery   = 15 * time.Second
	accessRefresh    = 10 * time.Second
)

// eventHub is the api process's poller and its subscribers.
type eventHub struct {
	s       *Server
	mu      sync.Mutex
	subs    map[*subscriber]struct{}
	running bool
	// cursor is the position the poller has read through; subscribers get what comes after.
	cursor    store.EventCursor
	lastPrune time.Time
}

type subscriber struct {
	batches chan []store.Event
	// overflow is closed when the subscriber fell too far behind.
	overflow chan struct{}
	once     sync.Once
}

func (sub *subscriber) drop() { sub.once.Do(func() { close(sub.overflow) }) }

// subscribe registers a subscriber and returns the position live batches start after, starting
// the poller if it is not running.
func (h *eventHub) subscribe(ctx context.Context) (*subscriber, store.EventCursor, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.running {
		head, err := h.s.store.EventsHead(ctx)
		if err != nil {
			return nil, store.EventCursor{}, err
		}
		h.cursor = head
		h.running = true
		go h.run()
	}
	sub := &subscriber{batches: make(chan []store.Event, subscriberBuffer), overflow: make(chan struct{})}
	if h.subs == nil {
		h.subs = map[*subscriber]struct{}{}
	}
	h.subs[sub] = struct{}{}
	return sub, h.cursor, nil
}

func (h *eventHub) unsubscribe(sub *subscriber) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.subs, sub)
}

// run polls until nobody has been subscribed for eventsIdleStop.
func (h *eventHub) run() {
	ctx := context.Background()
	idleSince := time.Time{}
	for {
		h.mu.Lock()
		if len(h.subs) == 0 {
			if idleSince.IsZero() {
				idleSince = time.Now()
			} else if time.Since(idleSince) > eventsIdleStop {
				h.running = false
				h.mu.Unlock()
				return
			}
		} else {
			idleSince = time.Time{}
		}
		cursor := h.cursor
		h.mu.Unlock()

		events, err := h.s.store.EventsAfter(ctx, cursor, nil, eventsBatch)
		if err != nil {
			h.s.logger.Warn("events poll", "error", err)
			time.Sleep(time.Second)
			continue
		}
		if len(events) > 0 {
			h.mu.Lock()
			h.cursor = events[len(events)-1].Cursor
			for sub := range h.subs {
				select {
				case sub.batches <- events:
				default:
					sub.drop()
				}
			}
			h.mu.Unlock()
		}
		h.prune(ctx)
		if len(events) < eventsBatch {
			time.Sleep(eventsPollEvery)
		}
	}
}

// prune deletes old events now and then (every replica may; the deletes are idempotent).
func (h *eventHub) prune(ctx context.Context) {
	if time.Since(h.lastPrune) < 10*time.Minute {
		return
	}
	h.lastPrune = time.Now()
	if _, err := h.s.store.PruneEvents(ctx, time.Now().Add(-eventsRetention)); err != nil {
		h.s.logger.Warn("prune events", "error", err)
	}
}

// eventOut is an event as the stream sends it.
type eventOut struct {
	store.Event
	ID string `json:"id"`
}

type shutdownKey struct{}

// WithShutdown marks an HTTP server's base context with a channel it closes when it begins to
// shut down. The event stream, which otherwise lasts as long as the browser stays, ends then, so
// a graceful shutdown does not wait out its deadline for consoles to hang up.
func WithShutdown(ctx context.Context, closing <-chan struct{}) context.Context {
	return context.WithValue(ctx, shutdownKey{}, closing)
}

// shutdownOf is the channel WithShutdown set, or nil (never ready) without one.
func shutdownOf(ctx context.Context) <-chan struct{} {
	ch, _ := ctx.Value(shutdownKey{}).(<-chan struct{})
	return ch
}

// streamEvents serves GET /api/v1/events.
func (s *Server) streamEvents(c echo.Context) error {
	ctx := c.Request().Context()
	var resume *store.EventCursor
	last := c.Request().Header.Get("Last-Event-ID")
	if last == "" {
		last = c.QueryParam("last_event_id")
	}
	if last != "" {
		cur, err := store.ParseEventCursor(last)
		if err != nil {
			return newError(http.StatusBadRequest, "invalid_fields", "Last-Event-ID: %s", err.Error())
		}
		resume = &cur
	}
	u := currentUser(c)
	view, err := s.eventView(ctx, u)
	if err != nil {
		return err
	}
	sub, live, err := s.events.subscribe(ctx)
	if err != nil {
		return err
	}
	defer s.events.unsubscribe(sub)

	w := c.Response()
	startEventStream(w)
	send := func(events []store.Event) error {
		for _, e := range events {
			if !view.sees(e) || (resume != nil && !resume.Less(e.Cursor)) {
				continue // not theirs, or sent before they reconnected (to another replica, ahead of this one)
			}
			data, err := json.Marshal(eventOut{Event: e, ID: e.Cursor.String()})
			if err != nil {
				return err
			}
			if _, err := fmt.Fprintf(w, "id: %s\nevent: %s\ndata: %s\n\n", e.Cursor, e.Kind, data); err != nil {
				return err
			}
		}
		w.Flush()
		return nil
	}
	// The retry hint, then what the client missed since Last-Event-ID, up to where live starts.
	if _, err := fmt.Fprintf(w, "retry: 2000\n: linedesk events\n\n"); err != nil {
		return nil
	}
	w.Flush()
	if resume != nil && resume.Less(live) {
		pruned, err := s.store.EventsPrunedThrough(ctx)
		if err != nil {
			return nil
		}
		if resume.Less(pruned) {
			// Events it missed are gone: the client reloads what it shows.
			fmt.Fprintf(w, "event: reset\ndata: {\"reason\":\"events before your last id were pruned\"}\n\n")
		}
		for from := *resume; from.Less(live); {
			batch, err := s.store.EventsAfter(ctx, from, &live, eventsBatch)
			if err != nil || len(batch) == 0 {
				break
			}
			if send(batch) != nil {
				return nil
			}
			from = batch[len(batch)-1].Cursor
		}
	}
	beat := time.NewTicker(heartbeatEvery)
	defer beat.Stop()
	refresh := time.NewTicker(accessRefresh)
	defer refresh.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-shutdownOf(ctx):
			return nil // the server is stopping: the browser reconnects, to another replica or later
		case <-sub.overflow:
			return nil // too far behind: the client reconnects with Last-Event-ID
		case batch := <-sub.batches:
			if send(batch) != nil {
				return nil
			}
		case <-beat.C:
			if _, err := fmt.Fprint(w, ": ping\n\n"); err != nil {
				return nil
			}
			w.Flush()
		case <-refresh.C:
			// Group and line changes apply to open streams; a disabled user's stream ends.
			v, err := s.eventView(ctx, u)
			if errors.Is(err, errStreamEnded) {
				return nil
			}
			if err == nil {
				view = v
			}
		}
	}
}

var errStreamEnded = errors.New("the user may no longer sign in")

// eventView is what decides which events a user sees.
type eventView struct {
	user   store.User
	access store.Access
}

func (s *Server) eventView(ctx context.Context, u store.User) (eventView, error) {
	info, err := s.store.UserInfoByID(ctx, u.ID)
	if err != nil {
		return eventView{}, err
	}
	if info.Disabled {
		return eventView{}, errStreamEnded
	}
	a, err := s.store.AccessOf(ctx, u.ID)
	if err != nil {
		return eventView{}, err
	}
	return eventView{user: u, access: a}, nil
}

// sees applies the conversations' visibility rule (store.ConversationAccess) to an event, as
// the conversation was when the event happened.
func (v eventView) sees(e store.Event) bool {
	if e.UserIDs != nil {
		return slices.Contains(e.UserIDs, v.user.ID)
	}
	admin := v.user.Role == store.RoleAdmin
	if e.Kind == "presence" {
		return admin || len(v.access.SupervisorLines) > 0
	}
	if e.LineID == nil {
		return admin
	}
	line := *e.LineID
	if e.Conversation != nil {
		var assignee int64
		if e.AssigneeID != nil {
			assignee = *e.AssigneeID
		}
		a := store.ConversationAccess{LineID: line, Status: e.Status, Assignee: assignee,
			Involved:  assignee == v.user.ID || slices.Contains(e.Participants, v.user.ID),
			Supervise: slices.Contains(v.access.SupervisorLines, line),
			Operate:   slices.Contains(v.access.OperatorLines, line),
			Queue:     slices.Contains(v.access.QueueLines, line)}
		return a.Role(v.user.Role) != store.LineRoleNone
	}
	return admin || slices.Contains(v.access.SupervisorLines, line) || slices.Contains(v.access.OperatorLines, line)
}

// startEventStream answers with a server-sent event stream that caches keep no copy of and
// proxies pass on at once.
func startEventStream(w *echo.Response) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no") // nginx: pass events on at once
	w.WriteHeader(http.StatusOK)
}
