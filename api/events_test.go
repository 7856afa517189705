package api_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/linedesk/linedesk/api"
	"github.com/linedesk/linedesk/store"
)

// liveEvent is one event as the stream delivers it.
type liveEvent struct {
	ID           string          `json:"id"`
	Kind         string          `json:"kind"`
	Conversation int64           `json:"conversation"`
	LineID       int64           `json:"line_id"`
	Data         json.RawMessage `json:"data"`
}

// stream is a connected GET /api/v1/events.
type stream struct {
	t      *testing.T
	cancel context.CancelFunc
	done   chan struct{}
	mu     sync.Mutex
	events []liveEvent
	resets int
}

// openStream connects to baseURL's event stream as the client's user, resuming after lastID.
func openStream(t *testing.T, baseURL string, c *http.Client, lastID string) *stream {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	req, err := http.NewRequestWithContext(ctx, "GET", baseURL+"/api/v1/events", nil)
	require.NoError(t, err)
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	res, err := c.Do(req)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Equal(t, "text/event-stream", res.Header.Get("Content-Type"))
	s := &stream{t: t, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		defer res.Body.Close()
		sc := bufio.NewScanner(res.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		var kind, data string
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "event: "):
				kind = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				data = strings.TrimPrefix(line, "data: ")
			case line == "" && data != "":
				s.mu.Lock()
				if kind == "reset" {
					s.resets++
				} else {
					var e liveEvent
					if json.Unmarshal([]byte(data), &e) == nil {
						s.events = append(s.events, e)
					}
				}
				s.mu.Unlock()
				kind, data = "", ""
			}
		}
	}()
	t.Cleanup(s.close)
	return s
}

func (s *stream) close() {
	s.cancel()
	<-s.done
}

func (s *stream) got() []liveEvent {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.events)
}

// waitFor waits until an event matches.
func (s *stream) waitFor(what string, match func(liveEvent) bool) liveEvent {
	s.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		for _, e := range s.got() {
			if match(e) {
				return e
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.t.Fatalf("no %s on the stream; got %v", what, s.got())
	return liveEvent{}
}

func conversationsIn(events []liveEvent) []int64 {
	var out []int64
	for _, e := range events {
		if e.Conversation != 0 && !slices.Contains(out, e.Conversation) {
			out = append(out, e.Conversation)
		}
	}
	slices.Sort(out)
	return out
}

func kindsFor(events []liveEvent, n int64) []string {
	var out []string
	for _, e := range events {
		if e.Conversation == n {
			out = append(out, e.Kind)
		}
	}
	return out
}

// TestEventsStreamOnlyWhatEachUserMaySee: operators hear of their own line's conversations only,
// an operator without the unassigned queue hears of a conversation once it is hers (with a
// notification), supervisors see presence, and the admin sees everything.
func TestEventsStreamOnlyWhatEachUserMaySee(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{})
	sales := a.setupChannel(map[string]any{"name": "Sales", "auto_open": true})
	support := a.setupChannel(map[string]any{"name": "Support", "auto_open": true})
	ctx := t.Context()
	group := func(name, kind string, perms []string, line int64, members ...int64) {
		_, err := a.store.SaveGroup(ctx, store.Group{Name: name, Kind: kind, Permissions: perms, LineIDs: []int64{line}, MemberIDs: members})
		require.NoError(t, err)
	}
	olga := a.newUser("olga@desk.example", "Olga", store.RoleOperator)
	pavel := a.newUser("pavel@desk.example", "Pavel", store.RoleOperator)
	nina := a.newUser("nina@desk.example", "Nina", store.RoleOperator)
	sam := a.newUser("sam@desk.example", "Sam", store.RoleSupervisor)
	group("Sales operators", store.GroupOperators, []string{store.PermOmni, store.PermUnassignedQueue}, sales.lineID, olga.ID)
	group("Sales juniors", store.GroupOperators, []string{store.PermOmni}, sales.lineID, nina.ID)
	group("Support operators", store.GroupOperators, []string{store.PermOmni, store.PermUnassignedQueue}, support.lineID, pavel.ID)
	group("Sales supervisors", store.GroupSupervisors, nil, sales.lineID, sam.ID)
	olgaC, pavelC := a.login("olga@desk.example", "pw-Olga"), a.login("pavel@desk.example", "pw-Pavel")
	ninaC, samC := a.login("nina@desk.example", "pw-Nina"), a.login("sam@desk.example", "pw-Sam")

	olgaS, pavelS, ninaS := openStream(t, a.url, olgaC, ""), openStream(t, a.url, pavelC, ""), openStream(t, a.url, ninaC, "")
	samS, adminS := openStream(t, a.url, samC, ""), openStream(t, a.url, a.http, "")

	_, inSales := a.inbound(sales, "s1", clientText("u-s1", "price?"))
	_, inSupport := a.inbound(support, "p1", clientText("u-p1", "broken"))
	s1, p1 := *inSales.Conversation, *inSupport.Conversation
	olgaS.waitFor("the Sales client's message", func(e liveEvent) bool { return e.Conversation == s1 && e.Kind == "message" })
	pavelS.waitFor("the Support conversation", func(e liveEvent) bool { return e.Conversation == p1 && e.Kind == "conversation.opened" })

	// Sam assigns the Sales conversation to Nina: now she hears of it, with a notification.
	res := a.do(samC, "POST", fmt.Sprintf("/api/v1/conversations/%d/assign", s1), map[string]any{"assignee_id": nina.ID}, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)
	ninaS.waitFor("her assignment", func(e liveEvent) bool { return e.Conversation == s1 && e.Kind == "conversation.assigned" })
	note := ninaS.waitFor("a notification", func(e liveEvent) bool { return e.Kind == "notification" })
	require.Contains(t, string(note.Data), `"kind":"assigned"`)
	// Nina replies; Olga (Sales) sees the reply, Pavel does not.
	res = a.do(ninaC, "POST", fmt.Sprintf("/api/v1/conversations/%d/messages", s1), map[string]any{"text": "It costs 10"}, nil)
	require.Equal(t, http.StatusCreated, res.status, res.text)
	olgaS.waitFor("Nina's reply", func(e liveEvent) bool {
		return e.Conversation == s1 && e.Kind == "message" && strings.Contains(string(e.Data), "It costs 10")
	})
	// Olga goes online: supervisors see it, operators do not.
	require.Equal(t, http.StatusOK, a.do(olgaC, "PUT", "/api/v1/me/status", map[string]string{"status": "online"}, nil).status)
	samS.waitFor("Olga's presence", func(e liveEvent) bool { return e.Kind == "presence" })
	adminS.waitFor("the Support conversation", func(e liveEvent) bool { return e.Conversation == p1 })
	adminS.waitFor("Nina's reply", func(e liveEvent) bool {
		return e.Conversation == s1 && e.Kind == "message" && strings.Contains(string(e.Data), "It costs 10")
	})
	time.Sleep(300 * time.Millisecond) // anything else on its way arrives

	require.Equal(t, []int64{s1}, conversationsIn(olgaS.got()))
	require.Equal(t, []int64{p1}, conversationsIn(pavelS.got()))
	require.Equal(t, []int64{s1}, conversationsIn(samS.got()))
	require.Equal(t, []int64{s1, p1}, conversationsIn(adminS.got()))
	ninaKinds := kindsFor(ninaS.got(), s1)
	require.NotContains(t, ninaKinds, "conversation.opened", "a queued conversation is hidden without the unassigned queue")
	require.Contains(t, ninaKinds, "conversation.assigned")
	for _, s := range []*stream{olgaS, pavelS, ninaS} {
		for _, e := range s.got() {
			require.NotEqual(t, "presence", e.Kind, "operators do not watch presence")
			if e.Kind == "notification" {
				require.Same(t, ninaS, s, "only Nina was notified")
			}
		}
	}
}

// TestEventsResumeWithoutGapsAcrossReplicas: a stream that drops and reconnects with
// Last-Event-ID — to another api replica — ends up with exactly the events of a stream that
// stayed connected, in the same order.
func TestEventsResumeWithoutGapsAcrossReplicas(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{})
	cs := a.setupChannel(map[string]any{"name": "Support", "auto_open": true})
	_, ann := a.newOperator("ann@desk.example", "Ann")
	// A second api process on the same database and Temporal.
	replica := httptest.NewServer(api.New(api.Deps{Store: a.store, Temporal: a.temporal, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}))
	t.Cleanup(replica.Close)

	steady := openStream(t, a.url, ann, "")
	flaky := openStream(t, a.url, ann, "")
	var numbers []int64
	for i := range 3 {
		_, in := a.inbound(cs, fmt.Sprintf("k%d", i), clientText(fmt.Sprintf("u%d", i), "hello"))
		numbers = append(numbers, *in.Conversation)
	}
	flaky.waitFor("the third conversation", func(e liveEvent) bool { return e.Conversation == numbers[2] })
	before := flaky.got()
	flaky.close()

	// While it is away: takes, replies, new conversations.
	for i, n := range numbers {
		require.Equal(t, http.StatusOK, a.do(ann, "POST", fmt.Sprintf("/api/v1/conversations/%d/take", n), nil, nil).status)
		res := a.do(ann, "POST", fmt.Sprintf("/api/v1/conversations/%d/messages", n), map[string]any{"text": fmt.Sprintf("answer %d", i)}, nil)
		require.Equal(t, http.StatusCreated, res.status, res.text)
	}
	_, in := a.inbound(cs, "k9", clientText("u9", "one more"))
	last := *in.Conversation

	resumed := openStream(t, replica.URL, ann, before[len(before)-1].ID)
	// Events produced through the first process reach the replica's stream live too.
	_, in = a.inbound(cs, "k10", clientText("u10", "and another"))
	final := *in.Conversation
	resumed.waitFor("the conversation opened after the reconnect", func(e liveEvent) bool { return e.Conversation == final && e.Kind == "message" })
	steady.waitFor("the conversation opened after the reconnect", func(e liveEvent) bool { return e.Conversation == final && e.Kind == "message" })
	time.Sleep(300 * time.Millisecond)

	ids := func(events []liveEvent) []string {
		var out []string
		for _, e := range events {
			out = append(out, e.ID)
		}
		return out
	}
	require.Equal(t, ids(steady.got()), append(ids(before), ids(resumed.got())...), "the resumed stream lost or repeated events")
	require.Contains(t, kindsFor(resumed.got(), last), "conversation.opened")
	require.Contains(t, kindsFor(resumed.got(), numbers[0]), "conversation.taken")
	require.Zero(t, resumed.resets)
}

// TestEventsRefuseABadLastEventID: a malformed id is a client mistake.
func TestEventsRefuseABadLastEventID(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{noTemporal: true})
	res := a.do(a.http, "GET", "/api/v1/events", nil, map[string]string{"Last-Event-ID": "yesterday"})
	require.Equal(t, http.StatusBadRequest, res.status, res.text)
}
