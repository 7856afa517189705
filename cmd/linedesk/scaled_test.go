package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/linedesk/linedesk/store/storetest"
)

// integrator is a fake API-channel integration: it takes linedesk's signed outbound calls and
// counts each message by its id, so a message sent twice shows.
type integrator struct {
	mu    sync.Mutex
	got   map[string]int
	down  atomic.Bool // answers 503 while set
	calls atomic.Int64
}

func newIntegrator(t *testing.T) (*integrator, string) {
	in := &integrator{got: map[string]int{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in.calls.Add(1)
		if in.down.Load() {
			http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
			return
		}
		var body struct {
			Event   string `json:"event"`
			Message struct {
				ID string `json:"id"`
			} `json:"message"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.Message.ID == "" {
			http.Error(w, "bad body", http.StatusBadRequest)
			return
		}
		in.mu.Lock()
		in.got[body.Message.ID]++
		in.mu.Unlock()
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(srv.Close)
	return in, srv.URL + "/hook"
}

// received returns how many distinct messages arrived and how many arrived more than once.
func (in *integrator) received() (distinct, twice int) {
	in.mu.Lock()
	defer in.mu.Unlock()
	for _, n := range in.got {
		distinct++
		if n > 1 {
			twice++
		}
	}
	return distinct, twice
}

// desk is a line with an API channel and routed operators on a stack.
type desk struct {
	s         *scaledStack
	admins    []*http.Client // the admin, signed in on each api
	lineID    int64
	channelID int64
	token     string
	operators []deskOperator
	hook      *integrator
}

type deskOperator struct {
	id     int64
	client *http.Client
	api    int // the api this operator's console talks to
}

// newDesk sets up, through different api processes, a round-robin line, its API channel
// (callbacks to a fake integrator) and operators of the given capacity, online.
func newDesk(t *testing.T, s *scaledStack, operators, capacity int) *desk {
	d := &desk{s: s}
	for i := range s.apis {
		d.admins = append(d.admins, session(t, s.url(i), "admin@example.com", "admin"))
	}
	var hookURL string
	d.hook, hookURL = newIntegrator(t)
	status, line := postJSON(t, d.admins[0], s.url(0)+"/api/v1/lines", map[string]any{"name": "Support", "auto_open": true, "routing": "round_robin"}, nil)
	require.Equal(t, http.StatusCreated, status, "%v", line)
	d.lineID = int64(line["id"].(float64))
	status, ch := postJSON(t, d.admins[1%len(d.admins)], s.url(1)+"/api/v1/channels", map[string]any{"kind": "api", "name": "Site",
		"line_id": d.lineID, "settings": map[string]string{"callback_url": hookURL}}, nil)
	require.Equal(t, http.StatusCreated, status, "%v", ch)
	d.channelID = int64(ch["channel"].(map[string]any)["id"].(float64))
	d.token = ch["inbound_token"].(string)

	var ids []int64
	for i := range operators {
		api := i % len(s.apis)
		email := fmt.Sprintf("op%d@desk.example", i)
		status, u := postJSON(t, d.admins[api], s.url(api)+"/api/v1/users", map[string]any{"email": email, "name": fmt.Sprintf("Operator %d", i),
			"role": "operator", "password": "pw-operator"}, nil)
		require.Equal(t, http.StatusCreated, status, "%v", u)
		id := int64(u["user"].(map[string]any)["id"].(float64))
		code, text := call(d.admins[api], "PATCH", fmt.Sprintf("%s/api/v1/users/%d", s.url(api), id), map[string]any{"capacity": capacity}, nil)
		require.Equal(t, http.StatusOK, code, text)
		ids = append(ids, id)
		d.operators = append(d.operators, deskOperator{id: id, api: api})
	}
	if operators == 0 {
		return d
	}
	status, g := postJSON(t, d.admins[0], s.url(0)+"/api/v1/groups", map[string]any{"name": "Desk", "kind": "operators",
		"permissions": []string{"omni", "unassigned_queue"}, "member_ids": ids, "line_ids": []int64{d.lineID}}, nil)
	require.Equal(t, http.StatusCreated, status, "%v", g)
	for i := range d.operators {
		op := &d.operators[i]
		op.client = session(t, s.url(op.api), fmt.Sprintf("op%d@desk.example", i), "pw-operator")
		code, text := call(op.client, "PUT", s.url(op.api)+"/api/v1/me/status", map[string]string{"status": "online"}, nil)
		require.Equal(t, http.StatusOK, code, text)
	}
	return d
}

// write posts a client's message through api; 202 is the only success.
func (d *desk) write(api int, contact, key, text string) (int, string) {
	return call(&http.Client{Timeout: 30 * time.Second}, "POST", fmt.Sprintf("%s/api/v1/channels/%d/inbound", d.s.url(api), d.channelID),
		map[string]any{"contact": map[string]string{"external_id": contact, "name": contact}, "text": text},
		map[string]string{"Authorization": "Bearer " + d.token, "Idempotency-Key": key})
}

// checkInboundOnce asserts that each of want inbound messages is stored once and that each
// chat's messages are all in one conversation, the one its first message opened (nobody closes
// one in these tests): a chat workflow that applied a message twice, out of turn or in two
// runs at once would open a second conversation or put a later message first.
func (d *desk) checkInboundOnce(t *testing.T, want int) {
	s := d.s
	require.Equal(t, int64(want), s.queryInt(`SELECT count(*) FROM messages WHERE direction = 'in'`), "inbound messages stored")
	require.Zero(t, s.queryInt(`SELECT count(*) FROM (SELECT chat_id, text FROM messages WHERE direction = 'in'
		GROUP BY 1, 2 HAVING count(*) > 1) x`), "a message stored twice")
	require.Zero(t, s.queryInt(`SELECT count(*) FROM (SELECT chat_id FROM messages WHERE direction = 'in'
		GROUP BY chat_id HAVING count(DISTINCT conversation_number) <> 1 OR count(*) <> count(conversation_number)) x`),
		"a chat's messages in more than one conversation, or not in one")
	require.Zero(t, s.queryInt(`SELECT count(*) FROM conversations c WHERE c.kind = 'request' AND (SELECT min(m.text) FROM messages m
		WHERE m.chat_id = c.chat_id AND m.direction = 'in') <> (SELECT m.text FROM messages m JOIN inbound_keys k ON k.message_id = m.id
		WHERE m.conversation_number = c.number AND m.direction = 'in' ORDER BY k.seq = 0, k.seq LIMIT 1)`),
		"a conversation opened by a message other than its chat's first")
}

// TestScaledOutStack runs linedesk as a scaled-out deployment — Temporal on PostgreSQL, two api
// and two worker processes of the built binary, one database — and sends all traffic through
// both apis: every client message is posted to both (an integrator retrying on another
// replica with the same key), operators work through either, the router runs on either worker.
// Every message lands once and in order, routing never gives one conversation twice nor an
// operator more than their capacity, each reply reaches the integrator once, and live events
// produced through one api reach a console connected to the other.
func TestScaledOutStack(t *testing.T) {
	if testing.Short() {
		t.Skip("builds linedesk and runs a Temporal server with four linedesk processes")
	}
	s := newScaledStack(t, storetest.NewDatabase(t), 2, 2)
	const clients, perClient, operators, capacity = 30, 3, 4, 2
	d := newDesk(t, s, operators, capacity)

	// A supervisor's console on api-2 listens to live events.
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	events := sseEvents(ctx, t, d.admins[1], s.url(1)+"/api/v1/events")
	var evMu sync.Mutex
	closedSeen := map[int64]bool{}
	go func() {
		for ev := range events {
			var e struct {
				Conversation *int64 `json:"conversation"`
			}
			if ev[0] == "conversation.closed" && json.Unmarshal([]byte(ev[1]), &e) == nil && e.Conversation != nil {
				evMu.Lock()
				closedSeen[*e.Conversation] = true
				evMu.Unlock()
			}
		}
	}()

	// Clients write, four at a time; each message goes to both apis at once with one key.
	var wg sync.WaitGroup
	errs := make(chan error, 2*clients*perClient)
	for w := range 4 {
		wg.Go(func() {
			for c := w; c < clients; c += 4 {
				for m := 1; m <= perClient; m++ {
					key, text := fmt.Sprintf("c%d-m%d", c, m), fmt.Sprintf("message %d of client %d", m, c)
					var both sync.WaitGroup
					for api := range 2 {
						both.Go(func() {
							if code, body := d.write(api, fmt.Sprintf("client-%d", c), key, text); code != http.StatusAccepted {
								errs <- fmt.Errorf("inbound %s through api-%d: %d %s", key, api+1, code, body)
							}
						})
					}
					both.Wait()
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	require.False(t, t.Failed())
	s.waitFor("every message in its conversation", 2*time.Minute, func() bool {
		return s.queryInt(`SELECT count(*) FROM messages WHERE direction = 'in' AND conversation_number IS NOT NULL`) == clients*perClient
	})
	total := s.queryInt(`SELECT count(*) FROM conversations`)

	// Operators answer and close what they hold (through alternating apis) and take from the
	// queue, racing the routers on both workers; a watcher samples everyone's load.
	work, stopWork := context.WithCancel(ctx)
	var maxActive atomic.Int64
	var replies atomic.Int64
	wg.Go(func() {
		for work.Err() == nil {
			var active int64
			if err := s.db.QueryRow(work, `SELECT coalesce(max(n), 0) FROM (SELECT count(*) n FROM conversations
				WHERE status = 'active' GROUP BY assignee_id) x`).Scan(&active); err == nil && active > maxActive.Load() {
				maxActive.Store(active)
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
	for i, op := range d.operators {
		wg.Go(func() {
			api := op.api
			for work.Err() == nil {
				api = (api + 1) % len(s.apis)
				var held int64
				if err := s.db.QueryRow(work, `SELECT coalesce(min(number), 0) FROM conversations WHERE assignee_id = $1 AND status = 'active'`,
					op.id).Scan(&held); err != nil {
					return
				}
				if held != 0 {
					base := fmt.Sprintf("%s/api/v1/conversations/%d", s.url(api), held)
					if code, _ := call(op.client, "POST", base+"/messages", map[string]string{"text": "Answer from operator " + strconv.Itoa(i)}, nil); code == http.StatusCreated {
						replies.Add(1)
					}
					call(op.client, "POST", base+"/close", map[string]any{"confirm_unread": true}, nil)
					continue
				}
				var waiting int64
				if err := s.db.QueryRow(work, `SELECT coalesce((SELECT number FROM conversations WHERE status = 'queued'
					ORDER BY random() LIMIT 1), 0)`).Scan(&waiting); err != nil {
					return
				}
				if waiting != 0 && rand.IntN(2) == 0 {
					call(op.client, "POST", fmt.Sprintf("%s/api/v1/conversations/%d/take", s.url(api), waiting), map[string]any{}, nil)
				}
				time.Sleep(time.Duration(5+rand.IntN(20)) * time.Millisecond)
			}
		})
	}
	s.waitFor("every conversation closed", 4*time.Minute, func() bool {
		return s.queryInt(`SELECT count(*) FROM conversations WHERE status <> 'closed'`) == 0
	})
	stopWork()
	wg.Wait()

	d.checkInboundOnce(t, clients*perClient)
	require.Equal(t, int64(clients), total, "one conversation per client: their messages came before any was closed")
	require.LessOrEqual(t, maxActive.Load(), int64(capacity), "an operator had more active conversations than their capacity")
	require.Zero(t, s.queryInt(`SELECT count(*) FROM conversations c WHERE (SELECT count(*) FROM conversation_events e
		WHERE e.number = c.number AND e.kind IN ('taken', 'routed', 'assigned', 'transferred')) <> 1`),
		"a conversation given to operators other than once")
	routed := s.queryInt(`SELECT count(*) FROM conversation_events WHERE kind = 'routed'`)
	require.Positive(t, routed, "the routers assigned nothing")

	// Every outbound message (replies, and whatever the desk sent itself) reached the integrator
	// once, and nothing else did.
	sent := s.queryInt(`SELECT count(*) FROM messages WHERE direction = 'out' AND kind = 'reply'`)
	require.GreaterOrEqual(t, sent, replies.Load(), "every reply the api accepted is recorded")
	outbound := func() map[string]bool {
		rows, err := s.db.Query(t.Context(), `SELECT id::text FROM messages WHERE direction = 'out'`)
		require.NoError(t, err)
		defer rows.Close()
		ids := map[string]bool{}
		for rows.Next() {
			var id string
			require.NoError(t, rows.Scan(&id))
			ids[id] = true
		}
		return ids
	}()
	s.waitFor("every outbound message delivered", time.Minute, func() bool { n, _ := d.hook.received(); return n >= len(outbound) })
	d.hook.mu.Lock()
	for id, n := range d.hook.got {
		require.True(t, outbound[id], "the integrator got a message linedesk did not send: %s", id)
		require.Equal(t, 1, n, "message %s delivered %d times", id, n)
	}
	require.Len(t, d.hook.got, len(outbound))
	d.hook.mu.Unlock()

	// Closings made through either api reached the console on api-2.
	s.waitFor("every closing seen live on api-2", 30*time.Second, func() bool {
		evMu.Lock()
		defer evMu.Unlock()
		return len(closedSeen) == int(total)
	})
	t.Logf("%d conversations over 2 apis and 2 workers: %d routed, %d taken by operators; %d replies, max load %d",
		total, routed, total-routed, sent, maxActive.Load())
}
