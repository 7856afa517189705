// Command record writes workflow histories for the replay test (workflows/replay_test.go) as
// protojson files in workflows/testdata. It lives under testdata so that ./... patterns, go vet
// and go test never build it.
//
// From a running server, keep the histories of some workflows:
//
//	go run ./workflows/testdata/record -address 127.0.0.1:7233 -namespace default -ids chat:<id>,conversation:<n>
//
// Without -address it starts an in-process Temporal server, runs linedesk's workflows there with
// in-memory activities through a few scripted scenarios, and writes their histories:
//
//	go run ./workflows/testdata/record
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"go.temporal.io/server/temporaltest"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/linedesk/linedesk/workflows"
)

func main() {
	address := flag.String("address", "", "Temporal frontend host:port; empty runs the built-in scenarios on an in-process server")
	namespace := flag.String("namespace", "default", "namespace of -ids")
	ids := flag.String("ids", "", "comma-separated workflow ids to record from -address")
	out := flag.String("out", defaultOut(), "directory the histories are written to")
	flag.Parse()

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var err error
	if *address != "" {
		err = fromServer(ctx, *address, *namespace, *ids, *out)
	} else {
		err = scenarios(ctx, *out)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "record:", err)
		os.Exit(1)
	}
}

// defaultOut is workflows/testdata, next to this program's directory.
func defaultOut() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "."
	}
	return filepath.Dir(filepath.Dir(file))
}

func fromServer(ctx context.Context, address, namespace, ids, out string) error {
	if ids == "" {
		return errors.New("-ids is required with -address")
	}
	c, err := client.Dial(client.Options{HostPort: address, Namespace: namespace, Logger: quiet()})
	if err != nil {
		return err
	}
	defer c.Close()
	for _, id := range strings.Split(ids, ",") {
		name := strings.NewReplacer(":", "_", "/", "_").Replace(strings.TrimSpace(id))
		if err := save(ctx, c, strings.TrimSpace(id), filepath.Join(out, name+".json")); err != nil {
			return err
		}
	}
	return nil
}

// save writes the whole history of the latest run of workflow id.
func save(ctx context.Context, c client.Client, id, file string) error {
	iter := c.GetWorkflowHistory(ctx, id, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	var h historypb.History
	for iter.HasNext() {
		e, err := iter.Next()
		if err != nil {
			return fmt.Errorf("history of %s: %w", id, err)
		}
		h.Events = append(h.Events, e)
	}
	b, err := protojson.MarshalOptions{Indent: "  "}.Marshal(&h)
	if err != nil {
		return err
	}
	fmt.Printf("%s: %d events -> %s\n", id, len(h.Events), file)
	return os.WriteFile(file, append(b, '\n'), 0o644)
}

func quiet() sdklog.Logger {
	return sdklog.NewStructuredLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})))
}

// --- scenarios on an in-process server -----------------------------------------------------------

func scenarios(ctx context.Context, out string) error {
	srv := temporaltest.NewServer(temporaltest.WithBaseClientOptions(client.Options{Logger: quiet()}))
	defer srv.Stop()
	acts := &memActivities{numbers: map[string]int64{}, links: map[string]int64{}, routed: map[string]int64{}}
	srv.NewWorkerWithOptions(workflows.TaskQueue, func(r sdkworker.Registry) {
		r.RegisterWorkflowWithOptions(workflows.ChatWorkflow, workflow.RegisterOptions{Name: "ChatWorkflow"})
		r.RegisterWorkflowWithOptions(workflows.ConversationWorkflow, workflow.RegisterOptions{Name: "ConversationWorkflow"})
		for name, fn := range acts.byName() {
			r.RegisterActivityWithOptions(fn, activity.RegisterOptions{Name: name})
		}
	}, sdkworker.Options{})
	c := srv.GetDefaultClient()
	s := &script{c: c, acts: acts}

	if err := s.lifecycle(ctx); err != nil {
		return fmt.Errorf("lifecycle: %w", err)
	}
	if err := s.timers(ctx); err != nil {
		return fmt.Errorf("timers: %w", err)
	}
	if err := s.plain(ctx); err != nil {
		return fmt.Errorf("plain: %w", err)
	}
	for _, r := range s.record {
		name := r.scenario + "-" + strings.NewReplacer(":", "_", "/", "_").Replace(r.id)
		if err := save(ctx, c, r.id, filepath.Join(out, name+".json")); err != nil {
			return err
		}
	}
	return nil
}

type script struct {
	c        client.Client
	acts     *memActivities
	scenario string
	record   []recorded
	// seq numbers each chat's inbound messages, as the inbound hand-off does.
	seq map[string]int64
}

type recorded struct{ scenario, id string }

const (
	anna  = 11
	boris = 12
)

// alwaysOpen is a regulation measured around the clock (a calendar with no periods).
func alwaysOpen(first, warn time.Duration) *workflows.Regulation {
	return &workflows.Regulation{ID: 1, FirstResponse: first, NextResponse: first, Resolution: 8 * time.Hour, WarnBefore: warn}
}

// lifecycle: a request opened by a client message, taken, answered, more client messages (one
// within the turn, one after the answer), paused and resumed with an automated message held back,
// participants added, regulation changed, closed with the full wrap-up (CSAT, solution, follow-up
// ticket), the CSAT answered, the follow-up closed. SLA and auto-close timers are armed throughout.
func (s *script) lifecycle(ctx context.Context) error {
	chat := "rec-lifecycle"
	s.scenario = "lifecycle"
	s.acts.setLine(workflows.LineConfig{ID: 1, AutoOpen: true, DefaultType: "question", MergeRepliesAfterClose: true,
		AutoCloseAfter: time.Hour, Regulation: alwaysOpen(time.Hour, 10*time.Minute)})
	n, err := s.inbound(ctx, chat, "m1")
	if err != nil {
		return err
	}
	steps := []func() error{
		func() error {
			return s.conv(ctx, n, workflows.UpdateTake, workflows.TakeRequest{ActionRequest: act(anna)})
		},
		func() error { _, err := s.inbound(ctx, chat, "m2"); return err }, // within the turn: not forwarded
		func() error {
			return s.conv(ctx, n, workflows.UpdateReply, workflows.ReplyRequest{ActionRequest: act(anna), MessageID: "out-1", Text: "Hello"})
		},
		func() error { _, err := s.inbound(ctx, chat, "m3", "m4"); return err }, // a new turn, one batch
		func() error {
			return s.chatUpdate(ctx, chat, workflows.UpdateAutomated, workflows.AutomatedRequest{MessageID: "a1", Kind: workflows.AutomatedTunnel, Text: "funnel"}, nil)
		},
		func() error {
			return s.chatUpdate(ctx, chat, workflows.UpdateAutomated, workflows.AutomatedRequest{MessageID: "a2", Kind: workflows.AutomatedAI, Text: "ai"}, nil)
		},
		func() error {
			return s.conv(ctx, n, workflows.UpdateReply, workflows.ReplyRequest{ActionRequest: act(anna), MessageID: "out-2", Text: "One moment"})
		},
		func() error { return s.conv(ctx, n, workflows.UpdatePause, act(anna)) },
		func() error { return s.conv(ctx, n, workflows.UpdateResume, act(anna)) },
		func() error {
			return s.conv(ctx, n, workflows.UpdateEdit, workflows.EditRequest{ActionRequest: act(anna), Participants: &[]int64{anna, boris}})
		},
		func() error {
			return s.c.SignalWorkflow(ctx, workflows.ConversationWorkflowID(n), "", workflows.SignalRegulationChanged,
				workflows.RegulationChanged{Regulation: alwaysOpen(2*time.Hour, 10*time.Minute)})
		},
		func() error { _, err := s.inbound(ctx, chat, "m5"); return err },
		// The operator answers once m5 is in the conversation (a close in the same workflow task
		// as the client's message would judge the state without it).
		func() error {
			return s.waitConv(ctx, n, func(st workflows.ConversationState) bool { return st.ClientWaiting })
		},
		func() error {
			return s.conv(ctx, n, workflows.UpdateNote, workflows.ReplyRequest{ActionRequest: act(boris), MessageID: "note-1", Text: "VIP"})
		},
		func() error {
			return s.conv(ctx, n, workflows.UpdateReply, workflows.ReplyRequest{ActionRequest: act(anna), MessageID: "out-3", Text: "Fixed"})
		},
		func() error {
			return s.conv(ctx, n, workflows.UpdateClose, workflows.CloseRequest{ActionRequest: act(anna), Type: "incident",
				Solution: "Restart the router.", ClientRating: 3, SendCSAT: true, OpenTicket: true})
		},
	}
	for i, step := range steps {
		if err := step(); err != nil {
			return fmt.Errorf("step %d: %w", i+1, err)
		}
	}
	// The chat opens the follow-up when it learns of the close.
	followUp, err := s.waitOpen(ctx, chat, n)
	if err != nil {
		return err
	}
	if err := s.send(ctx, chat, workflows.InboundMessage{MessageID: "m-csat", At: time.Now(),
		Button: workflows.CSATPayload(n, workflows.CSATExcellent)}); err != nil {
		return err
	}
	if err := s.waitLinked(ctx, "m-csat"); err != nil {
		return err
	}
	if err := s.conv(ctx, followUp, workflows.UpdateClose, workflows.CloseRequest{ActionRequest: act(anna)}); err != nil {
		return err
	}
	return s.finish(ctx, chat, n, followUp)
}

// timers: the first-response warning and breach fire, then the conversation closes itself after
// inactivity.
func (s *script) timers(ctx context.Context) error {
	chat := "rec-timers"
	s.scenario = "timers"
	s.acts.setLine(workflows.LineConfig{ID: 1, AutoOpen: true, AutoCloseAfter: 4 * time.Second, AutoCloseText: "Bye",
		Regulation: alwaysOpen(2*time.Second, time.Second)})
	n, err := s.inbound(ctx, chat, "t1")
	if err != nil {
		return err
	}
	if err := s.conv(ctx, n, workflows.UpdateTake, workflows.TakeRequest{ActionRequest: act(anna)}); err != nil {
		return err
	}
	return s.finish(ctx, chat, n)
}

// plain: taken and closed with nothing else to do, so the conversation ends right after the
// close; the chat must still learn of it (finish waits until it has).
func (s *script) plain(ctx context.Context) error {
	chat := "rec-plain"
	s.scenario = "plain"
	s.acts.setLine(workflows.LineConfig{ID: 1, AutoOpen: true})
	n, err := s.inbound(ctx, chat, "p1")
	if err != nil {
		return err
	}
	if err := s.conv(ctx, n, workflows.UpdateTake, workflows.TakeRequest{ActionRequest: act(anna)}); err != nil {
		return err
	}
	if err := s.conv(ctx, n, workflows.UpdateClose, workflows.CloseRequest{ActionRequest: act(anna), ConfirmUnread: true}); err != nil {
		return err
	}
	return s.finish(ctx, chat, n)
}

// finish waits for the conversations to end, then terminates the idle chat (it would wait 30
// days) and remembers all their ids.
func (s *script) finish(ctx context.Context, chat string, numbers ...int64) error {
	for _, n := range numbers {
		id := workflows.ConversationWorkflowID(n)
		var st workflows.ConversationState
		if err := s.c.GetWorkflow(ctx, id, "").Get(ctx, &st); err != nil {
			return fmt.Errorf("%s: %w", id, err)
		}
		if st.Status != workflows.StatusClosed {
			return fmt.Errorf("%s ended %s", id, st.Status)
		}
		s.record = append(s.record, recorded{s.scenario, id})
	}
	id := workflows.ChatWorkflowID(chat)
	if err := s.waitQuietChat(ctx, chat); err != nil {
		return err
	}
	// Terminated rather than cancelled: termination runs no workflow code, so the history ends
	// with the chat's last workflow task.
	if err := s.c.TerminateWorkflow(ctx, id, "", "recorded"); err != nil {
		return err
	}
	if err := s.c.GetWorkflow(ctx, id, "").Get(ctx, nil); err == nil {
		return fmt.Errorf("%s was not terminated", id)
	}
	s.record = append(s.record, recorded{s.scenario, id})
	return nil
}

func (s *script) waitOpen(ctx context.Context, chat string, not int64) (int64, error) {
	for ctx.Err() == nil {
		st, err := s.chatState(ctx, chat)
		if err != nil {
			return 0, err
		}
		for _, c := range st.Conversations {
			if c.Number != not && c.Status != workflows.StatusPaused {
				return c.Number, nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return 0, ctx.Err()
}

func (s *script) waitQuietChat(ctx context.Context, chat string) error {
	for ctx.Err() == nil {
		st, err := s.chatState(ctx, chat)
		if err != nil {
			return err
		}
		if len(st.Conversations) == 0 && len(st.Queue) == 0 {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return ctx.Err()
}

// waitConv waits until the conversation's state satisfies ok.
func (s *script) waitConv(ctx context.Context, n int64, ok func(workflows.ConversationState) bool) error {
	for ctx.Err() == nil {
		var st workflows.ConversationState
		v, err := s.c.QueryWorkflow(ctx, workflows.ConversationWorkflowID(n), "", workflows.QueryState)
		if err == nil {
			err = v.Get(&st)
		}
		if err != nil {
			return err
		}
		if ok(st) {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return ctx.Err()
}

func (s *script) chatState(ctx context.Context, chat string) (workflows.ChatState, error) {
	var st workflows.ChatState
	v, err := s.c.QueryWorkflow(ctx, workflows.ChatWorkflowID(chat), "", workflows.QueryState)
	if err == nil {
		err = v.Get(&st)
	}
	return st, err
}

func act(id int64) workflows.ActionRequest { return workflows.ActionRequest{ActorID: id} }

var updateSeq int

// inbound is what the inbound hand-off does once the messages are stored: one SignalWithStart of
// the chat's workflow with the batch, numbered per chat. It returns the conversation the first
// message joined, once the chat has linked it.
func (s *script) inbound(ctx context.Context, chat string, ids ...string) (int64, error) {
	ms := make([]workflows.InboundMessage, len(ids))
	for i, id := range ids {
		ms[i] = workflows.InboundMessage{MessageID: id, At: time.Now()}
	}
	if err := s.send(ctx, chat, ms...); err != nil {
		return 0, err
	}
	for _, id := range ids {
		if err := s.waitLinked(ctx, id); err != nil {
			return 0, err
		}
	}
	return s.acts.linkedTo(ids[0]), nil
}

// send numbers the messages after the chat's previous ones and signals them in one batch.
func (s *script) send(ctx context.Context, chat string, ms ...workflows.InboundMessage) error {
	if s.seq == nil {
		s.seq = map[string]int64{}
	}
	for i := range ms {
		s.seq[chat]++
		ms[i].Seq = s.seq[chat]
	}
	_, err := s.c.SignalWithStartWorkflow(ctx, workflows.ChatWorkflowID(chat), workflows.SignalInbound,
		workflows.InboundBatch{Messages: ms},
		client.StartWorkflowOptions{ID: workflows.ChatWorkflowID(chat), TaskQueue: workflows.TaskQueue},
		"ChatWorkflow", workflows.ChatInput{ChatID: chat, ChannelID: 3, LineID: 1, ContactID: 77})
	return err
}

// waitLinked waits until the chat has routed the message.
func (s *script) waitLinked(ctx context.Context, id string) error {
	for ctx.Err() == nil {
		if s.acts.isLinked(id) {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("message %s never linked: %w", id, ctx.Err())
}

// chatUpdate is what the API does for automated messages: update-with-start on the chat's workflow.
func (s *script) chatUpdate(ctx context.Context, chat, name string, arg, out any) error {
	updateSeq++
	start := s.c.NewWithStartWorkflowOperation(client.StartWorkflowOptions{
		ID:                       workflows.ChatWorkflowID(chat),
		TaskQueue:                workflows.TaskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
	}, "ChatWorkflow", workflows.ChatInput{ChatID: chat, ChannelID: 3, LineID: 1, ContactID: 77})
	h, err := s.c.UpdateWithStartWorkflow(ctx, client.UpdateWithStartWorkflowOptions{
		StartWorkflowOperation: start,
		UpdateOptions: client.UpdateWorkflowOptions{
			UpdateID: fmt.Sprintf("%s-%d", name, updateSeq), UpdateName: name, Args: []any{arg},
			WaitForStage: client.WorkflowUpdateStageCompleted,
		},
	})
	if err != nil {
		return err
	}
	return h.Get(ctx, out)
}

func (s *script) conv(ctx context.Context, n int64, name string, arg any) error {
	h, err := s.c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID: workflows.ConversationWorkflowID(n), UpdateName: name, Args: []any{arg},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err != nil {
		return err
	}
	return h.Get(ctx, nil)
}

// --- in-memory activities ------------------------------------------------------------------------

type memActivities struct {
	mu      sync.Mutex
	line    workflows.LineConfig
	next    int64
	numbers map[string]int64
	// links is where each inbound message went (the latest link); routed is each chat's routed seq.
	links  map[string]int64
	routed map[string]int64
}

func (a *memActivities) isLinked(id string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	_, ok := a.links[id]
	return ok
}

func (a *memActivities) linkedTo(id string) int64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.links[id]
}

func (a *memActivities) setLine(l workflows.LineConfig) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.line = l
}

func (a *memActivities) byName() map[string]any {
	return map[string]any{
		workflows.ActivityLoadLine: func(context.Context, workflows.LoadLineInput) (workflows.LineConfig, error) {
			a.mu.Lock()
			defer a.mu.Unlock()
			return a.line, nil
		},
		workflows.ActivityCreateConversation: func(_ context.Context, in workflows.CreateConversationInput) (workflows.CreateConversationResult, error) {
			a.mu.Lock()
			defer a.mu.Unlock()
			n, ok := a.numbers[in.OpeningKey]
			if !ok {
				a.next++
				n = a.next
				a.numbers[in.OpeningKey] = n
			}
			return workflows.CreateConversationResult{Number: n, ChannelID: 3, ContactID: 77}, nil
		},
		workflows.ActivityProjectConversation: func(context.Context, workflows.ProjectConversationInput) error { return nil },
		workflows.ActivityRecordMessage:       func(context.Context, workflows.RecordMessageInput) error { return nil },
		workflows.ActivityDeliverMessage:      func(context.Context, workflows.DeliverMessageInput) error { return nil },
		workflows.ActivityLoadStandardMessages: func(context.Context) (workflows.StandardMessages, error) {
			return workflows.DefaultStandardMessages(), nil
		},
		workflows.ActivityEmailSolution: func(context.Context, workflows.EmailSolutionInput) (workflows.EmailSolutionResult, error) {
			return workflows.EmailSolutionResult{Outcome: "sent", To: "client@example.org"}, nil
		},
		workflows.ActivityAddParticipants: func(context.Context, workflows.AddParticipantsInput) (map[string]any, error) {
			return map[string]any{"notified": 1}, nil
		},
		workflows.ActivityMergeReplies: func(context.Context, workflows.MergeRepliesInput) (map[string]any, error) {
			return map[string]any{"merged": 2}, nil
		},
		// The read model knows no later activity than the workflow in these scenarios.
		workflows.ActivityLastActivity: func(context.Context, workflows.LastActivityInput) (workflows.LastActivityResult, error) {
			return workflows.LastActivityResult{}, nil
		},
		workflows.ActivityRoutedSeq: func(_ context.Context, in workflows.RoutedSeqInput) (workflows.RoutedSeqResult, error) {
			a.mu.Lock()
			defer a.mu.Unlock()
			return workflows.RoutedSeqResult{Seq: a.routed[in.ChatID]}, nil
		},
		workflows.ActivityLinkInbound: func(_ context.Context, in workflows.LinkInboundInput) error {
			a.mu.Lock()
			defer a.mu.Unlock()
			for _, l := range in.Links {
				a.links[l.MessageID] = l.Conversation
			}
			a.routed[in.ChatID] = max(a.routed[in.ChatID], in.Seq)
			return nil
		},
		// No message of these scenarios crosses an answer.
		workflows.ActivityEndTurn: func(context.Context, workflows.EndTurnInput) (workflows.EndTurnResult, error) {
			return workflows.EndTurnResult{}, nil
		},
	}
}
