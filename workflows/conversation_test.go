package workflows_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/linedesk/linedesk/workflows"
)

// People and ids the tests use.
const (
	opAnna     = 11
	opBoris    = 12
	opVera     = 13
	opGleb     = 14
	supervisor = 99
	testChatID = "tg-100"
	testNumber = 1042
	contactID  = 77
)

// --- fake activities ---------------------------------------------------------------------------

// fakeActivities stands in for the activities package: each activity records its call in memory.
// Activities run on their own goroutines, hence the mutex.
type fakeActivities struct {
	mu  sync.Mutex
	std workflows.StandardMessages
	// line is what LoadLine answers.
	line workflows.LineConfig
	// nextNumber is the number CreateConversation allocates next; numbers remembers it per opening key.
	nextNumber int64
	numbers    map[string]int64

	creates      []workflows.CreateConversationInput
	projections  []workflows.ProjectConversationInput
	messages     []workflows.RecordMessageInput
	delivered    []string
	participants []workflows.AddParticipantsInput
	emails       []workflows.EmailSolutionInput
	merges       []workflows.MergeRepliesInput
	// chatSignals are the ConversationChanged signals a conversation without a real parent sent.
	chatSignals []workflows.ConversationChanged
	// readModelActivity plays the read model's last_activity_at where it knows more than the
	// projections (client messages the chat did not forward).
	readModelActivity map[int64]time.Time
	// routedSeq is what RoutedSeq answers per chat (0: a new chat); LinkInbound moves it on.
	routedSeq map[string]int64
	// routedSeqCalls counts RoutedSeq calls.
	routedSeqCalls int
	// links are the LinkInbound calls, in order.
	links []workflows.LinkInboundInput
	// messageAt is when each inbound message a test handed over was stored (EndTurn reads it).
	messageAt map[string]time.Time
	// endTurns are the EndTurn calls, in order.
	endTurns []workflows.EndTurnInput
	// deliverErr, when set, fails every delivery (the channel's endpoint is down).
	deliverErr error
	// deliveryAttempts counts DeliverMessage calls per message, failed ones included.
	deliveryAttempts map[string]int
	// capacity limits operators' active conversations (absent: no limit), counted like the read
	// model's claims: from each conversation's latest projection.
	capacity map[int64]int
}

func newFakeActivities() *fakeActivities {
	return &fakeActivities{
		std: workflows.StandardMessages{
			CSATQuestion: "How did we do?", CSATBad: "Bad", CSATNormal: "OK", CSATExcellent: "Great",
			CSATThanks: "Thank you!", AutoClose: "Closed for inactivity (standard text).",
		},
		line:       workflows.LineConfig{ID: 1, AutoOpen: true, DefaultType: "question"},
		nextNumber: 101,
		numbers:    map[string]int64{},
		routedSeq:  map[string]int64{},
		messageAt:  map[string]time.Time{},

		deliveryAttempts: map[string]int{},
	}
}

func (f *fakeActivities) register(env *testsuite.TestWorkflowEnvironment) {
	for name, fn := range map[string]any{
		workflows.ActivityLoadLine:             f.LoadLine,
		workflows.ActivityCreateConversation:   f.CreateConversation,
		workflows.ActivityProjectConversation:  f.ProjectConversation,
		workflows.ActivityRecordMessage:        f.RecordMessage,
		workflows.ActivityDeliverMessage:       f.DeliverMessage,
		workflows.ActivityLoadStandardMessages: f.LoadStandardMessages,
		workflows.ActivityEndTurn:              f.EndTurn,
		workflows.ActivityEmailSolution:        f.EmailSolution,
		workflows.ActivityAddParticipants:      f.AddParticipants,
		workflows.ActivityMergeReplies:         f.MergeReplies,
		workflows.ActivityLastActivity:         f.LastActivity,
		workflows.ActivityRoutedSeq:            f.RoutedSeq,
		workflows.ActivityLinkInbound:          f.LinkInbound,
		workflows.ActivityClaimSlot:            f.ClaimSlot,
	} {
		env.RegisterActivityWithOptions(fn, activity.RegisterOptions{Name: name})
	}
}

func (f *fakeActivities) LoadLine(_ context.Context, in workflows.LoadLineInput) (workflows.LineConfig, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if in.LineID != f.line.ID {
		return workflows.LineConfig{}, temporal.NewNonRetryableApplicationError("no such line", "not_found", nil)
	}
	return f.line, nil
}

func (f *fakeActivities) CreateConversation(_ context.Context, in workflows.CreateConversationInput) (workflows.CreateConversationResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.creates = append(f.creates, in)
	n, ok := f.numbers[in.OpeningKey]
	if !ok {
		n = f.nextNumber
		f.nextNumber++
		f.numbers[in.OpeningKey] = n
	}
	return workflows.CreateConversationResult{Number: n, ChannelID: 3, ContactID: contactID}, nil
}

func (f *fakeActivities) ProjectConversation(_ context.Context, in workflows.ProjectConversationInput) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.projections = append(f.projections, in)
	return nil
}

// ClaimSlot answers like store.ClaimSlot, counting the operator's active conversations in the
// latest projection of each conversation.
func (f *fakeActivities) ClaimSlot(_ context.Context, in workflows.ClaimSlotInput) (workflows.ClaimSlotResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	latest := map[int64]workflows.ConversationState{}
	for _, p := range f.projections {
		if p.State.Revision >= latest[p.State.Number].Revision {
			latest[p.State.Number] = p.State
		}
	}
	active := 0
	for n, st := range latest {
		if st.Status == workflows.StatusActive && st.AssigneeID == in.OperatorID {
			if n == in.Number {
				return workflows.ClaimSlotResult{Claimed: true}, nil
			}
			active++
		}
	}
	limit, ok := f.capacity[in.OperatorID]
	if ok && active >= limit {
		return workflows.ClaimSlotResult{Active: active, Capacity: limit}, nil
	}
	return workflows.ClaimSlotResult{Claimed: true, Active: active + 1, Capacity: limit}, nil
}

// LastActivity answers like the read model: the latest activity projected or recorded there.
func (f *fakeActivities) LastActivity(_ context.Context, in workflows.LastActivityInput) (workflows.LastActivityResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var at time.Time
	for _, p := range f.projections {
		if p.State.Number == in.Number && p.State.LastActivity.After(at) {
			at = p.State.LastActivity
		}
	}
	if extra := f.readModelActivity[in.Number]; extra.After(at) {
		at = extra
	}
	return workflows.LastActivityResult{At: at}, nil
}

// RoutedSeq answers like the read model: the highest inbound sequence number routed so far.
func (f *fakeActivities) RoutedSeq(_ context.Context, in workflows.RoutedSeqInput) (workflows.RoutedSeqResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.routedSeqCalls++
	return workflows.RoutedSeqResult{Seq: f.routedSeq[in.ChatID]}, nil
}

// EndTurn answers as the read model would: the conversation's first linked client message after
// the answer.
func (f *fakeActivities) EndTurn(_ context.Context, in workflows.EndTurnInput) (workflows.EndTurnResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.endTurns = append(f.endTurns, in)
	var next *workflows.ClientMessage
	for _, l := range f.links {
		for _, m := range l.Links {
			at, ok := f.messageAt[m.MessageID]
			if m.Conversation != in.Conversation || !ok || !at.After(in.After) {
				continue
			}
			if next == nil || at.Before(next.At) {
				next = &workflows.ClientMessage{MessageID: m.MessageID, At: at}
			}
		}
	}
	return workflows.EndTurnResult{Next: next}, nil
}

// LinkInbound records where the chat routed its inbound messages.
func (f *fakeActivities) LinkInbound(_ context.Context, in workflows.LinkInboundInput) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.links = append(f.links, in)
	if in.Seq > f.routedSeq[in.ChatID] {
		f.routedSeq[in.ChatID] = in.Seq
	}
	return nil
}

// linked lists, in order, every link recorded for the message: the conversation it joined (0:
// the chat), and whether a closed conversation handed it back (moved).
func (f *fakeActivities) linked(messageID string) []workflows.InboundLink {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []workflows.InboundLink
	for _, in := range f.links {
		for _, l := range in.Links {
			if l.MessageID == messageID {
				out = append(out, l)
			}
		}
	}
	return out
}

// linkOrder lists the message ids in the order the chat linked them (moved links left out).
func (f *fakeActivities) linkOrder() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, in := range f.links {
		for _, l := range in.Links {
			if !l.Moved {
				out = append(out, l.MessageID)
			}
		}
	}
	return out
}

func (f *fakeActivities) RecordMessage(_ context.Context, in workflows.RecordMessageInput) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.messages = append(f.messages, in)
	return nil
}

func (f *fakeActivities) DeliverMessage(_ context.Context, in workflows.DeliverMessageInput) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.deliveryAttempts[in.MessageID]++
	if f.deliverErr != nil {
		return f.deliverErr
	}
	f.delivered = append(f.delivered, in.MessageID)
	return nil
}

func (f *fakeActivities) LoadStandardMessages(context.Context) (workflows.StandardMessages, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.std, nil
}

func (f *fakeActivities) EmailSolution(_ context.Context, in workflows.EmailSolutionInput) (workflows.EmailSolutionResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.emails = append(f.emails, in)
	return workflows.EmailSolutionResult{Outcome: "sent", To: "client@example.org"}, nil
}

func (f *fakeActivities) AddParticipants(_ context.Context, in workflows.AddParticipantsInput) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.participants = append(f.participants, in)
	return nil
}

func (f *fakeActivities) MergeReplies(_ context.Context, in workflows.MergeRepliesInput) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.merges = append(f.merges, in)
	return nil
}

func (f *fakeActivities) chatSignal(m workflows.ConversationChanged) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.chatSignals = append(f.chatSignals, m)
}

// events returns every timeline event projected so far, by sequence number; each must have been
// written exactly once and the sequence must have no gaps.
func (f *fakeActivities) events(t *testing.T) []workflows.Event {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []workflows.Event
	for _, p := range f.projections {
		out = append(out, p.Events...)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Seq < out[j].Seq })
	for i, e := range out {
		require.Equal(t, int64(i+1), e.Seq, "event %d (%s) written twice or out of sequence", e.Seq, e.Kind)
	}
	return out
}

func (f *fakeActivities) eventKinds(t *testing.T) []string {
	var kinds []string
	for _, e := range f.events(t) {
		kinds = append(kinds, e.Kind)
	}
	return kinds
}

// lastProjection is the projection of the conversation under test with the highest revision.
func (f *fakeActivities) lastProjection(t *testing.T) workflows.ConversationState {
	t.Helper()
	return f.projected(t, testNumber)
}

// projected is the projection of conversation number with the highest revision; revisions
// never repeat.
func (f *fakeActivities) projected(t *testing.T, number int64) workflows.ConversationState {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	seen := map[int64]bool{}
	var last workflows.ConversationState
	for _, p := range f.projections {
		if p.State.Number != number {
			continue
		}
		require.False(t, seen[p.State.Revision], "revision %d of #%d projected twice", p.State.Revision, number)
		seen[p.State.Revision] = true
		if p.State.Revision > last.Revision {
			last = p.State
		}
	}
	require.NotEmpty(t, seen, "#%d never projected", number)
	return last
}

func (f *fakeActivities) messagesOfKind(kind string) []workflows.RecordMessageInput {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []workflows.RecordMessageInput
	for _, m := range f.messages {
		if m.Kind == kind {
			out = append(out, m)
		}
	}
	return out
}

func (f *fakeActivities) deliveredIDs() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.delivered)
}

func (f *fakeActivities) signalsToChat() []workflows.ConversationChanged {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.chatSignals)
}

// --- update outcomes ---------------------------------------------------------------------------

// outcome records what became of one update sent through TestUpdateCallback.
type outcome struct {
	name      string
	accepted  bool
	completed bool
	rejected  error
	err       error
	result    any
}

func (o *outcome) callbacks() *testsuite.TestUpdateCallback {
	return &testsuite.TestUpdateCallback{
		OnAccept: func() { o.accepted = true },
		OnReject: func(err error) { o.rejected = err },
		OnComplete: func(r any, err error) {
			o.completed, o.result, o.err = true, r, err
		},
	}
}

// refusal is the ApplicationError behind a rejection or a failed handler (nil if it succeeded).
func (o *outcome) refusal() *temporal.ApplicationError {
	err := o.rejected
	if err == nil {
		err = o.err
	}
	var app *temporal.ApplicationError
	if errors.As(err, &app) {
		return app
	}
	return nil
}

func (o *outcome) code() string {
	if app := o.refusal(); app != nil {
		return app.Type()
	}
	if o.rejected != nil || o.err != nil {
		return fmt.Sprintf("untyped error: %v %v", o.rejected, o.err)
	}
	return ""
}

func requireDone(t *testing.T, o *outcome) {
	t.Helper()
	require.Nil(t, o.rejected, "%s rejected", o.name)
	require.True(t, o.accepted, "%s not accepted", o.name)
	require.True(t, o.completed, "%s not completed", o.name)
	require.NoError(t, o.err, "%s failed", o.name)
}

func requireRefused(t *testing.T, o *outcome, code string) {
	t.Helper()
	require.Equal(t, code, o.code(), "%s", o.name)
	require.NotNil(t, o.rejected, "%s: a refusal comes from the validator, before the update is accepted", o.name)
	require.False(t, o.accepted, "%s", o.name)
}

func actionState(t *testing.T, o *outcome) workflows.ConversationState {
	t.Helper()
	requireDone(t, o)
	res, ok := o.result.(workflows.ActionResult)
	require.True(t, ok, "%s returned %T", o.name, o.result)
	return res.State
}

// --- harness -----------------------------------------------------------------------------------

// quietLogger shows the SDK's warnings with the failing test's output; LINEDESK_TEST_LOG=debug shows
// everything.
func quietLogger(t *testing.T) log.Logger {
	level := slog.LevelWarn
	if os.Getenv("LINEDESK_TEST_LOG") == "debug" {
		level = slog.LevelDebug
	}
	return log.NewStructuredLogger(slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: level})))
}

// convTest runs one ConversationWorkflow on virtual time. Actions are scheduled before run at
// offsets from the start; their outcomes are checked after the workflow completed.
type convTest struct {
	t     *testing.T
	env   *testsuite.TestWorkflowEnvironment
	acts  *fakeActivities
	start time.Time
}

func newConvTest(t *testing.T, start time.Time) *convTest {
	return newConvTestSlowChat(t, start, 0)
}

// newConvTestSlowChat is newConvTest with signals to the chat taking signalDelay of wall time.
func newConvTestSlowChat(t *testing.T, start time.Time, signalDelay time.Duration) *convTest {
	var suite testsuite.WorkflowTestSuite
	suite.SetLogger(quietLogger(t))
	env := suite.NewTestWorkflowEnvironment()
	env.SetStartTime(start)
	env.SetStartWorkflowOptions(client.StartWorkflowOptions{
		ID: workflows.ConversationWorkflowID(testNumber), TaskQueue: workflows.TaskQueue,
	})
	acts := newFakeActivities()
	acts.register(env)
	// No chat runs beside the conversation: record what it would have been told.
	env.OnSignalExternalWorkflow(mock.Anything, workflows.ChatWorkflowID(testChatID), "", workflows.SignalConversationChanged, mock.Anything).
		Run(func(args mock.Arguments) { acts.chatSignal(args.Get(4).(workflows.ConversationChanged)) }).
		After(signalDelay).
		Return(nil)
	return &convTest{t: t, env: env, acts: acts, start: start}
}

// request is a client's request that opened with the client's message at the start.
func (c *convTest) request(line workflows.LineConfig) workflows.ConversationInput {
	return workflows.ConversationInput{
		Number: testNumber, ChatID: testChatID, ChannelID: 3, ContactID: contactID, Kind: workflows.KindRequest,
		Line: line, OpenedAt: c.start, FirstMessage: &workflows.ClientMessage{MessageID: "in-1", At: c.start},
	}
}

// dialog is a dialog an operator opened, with no client message yet.
func (c *convTest) dialog(line workflows.LineConfig, by int64, participants ...int64) workflows.ConversationInput {
	return workflows.ConversationInput{
		Number: testNumber, ChatID: testChatID, ChannelID: 3, ContactID: contactID, Kind: workflows.KindDialog,
		Line: line, OpenedAt: c.start, OpenedBy: by, Title: "Delivery question", Participants: participants,
	}
}

func (c *convTest) at(d time.Duration, fn func()) { c.env.RegisterDelayedCallback(fn, d) }

func (c *convTest) update(d time.Duration, name string, arg any) *outcome {
	o := &outcome{name: fmt.Sprintf("%s at +%s", name, d)}
	c.at(d, func() { c.env.UpdateWorkflow(name, "", o.callbacks(), arg) })
	return o
}

func (c *convTest) signal(d time.Duration, name string, arg any) {
	c.at(d, func() { c.env.SignalWorkflow(name, arg) })
}

// clientWrites sends the client's message at d.
func (c *convTest) clientWrites(d time.Duration, id string) {
	c.signal(d, workflows.SignalClientMessage, workflows.ClientMessage{MessageID: id, At: c.start.Add(d)})
}

// query captures the conversation's state at d.
func (c *convTest) query(d time.Duration) *workflows.ConversationState {
	var st workflows.ConversationState
	c.at(d, func() {
		v, err := c.env.QueryWorkflow(workflows.QueryState)
		if err == nil {
			err = v.Get(&st)
		}
		if err != nil {
			st.Status = "query failed: " + err.Error()
		}
	})
	return &st
}

// run executes the workflow to its end and returns its result.
func (c *convTest) run(in workflows.ConversationInput) workflows.ConversationState {
	c.t.Helper()
	c.env.ExecuteWorkflow(workflows.ConversationWorkflow, in)
	require.True(c.t, c.env.IsWorkflowCompleted())
	require.NoError(c.t, c.env.GetWorkflowError())
	var st workflows.ConversationState
	require.NoError(c.t, c.env.GetWorkflowResult(&st))
	return st
}

func take(id int64) workflows.TakeRequest {
	return workflows.TakeRequest{ActionRequest: workflows.ActionRequest{ActorID: id}}
}

func act(id int64) workflows.ActionRequest { return workflows.ActionRequest{ActorID: id} }

func asSupervisor() workflows.ActionRequest {
	return workflows.ActionRequest{ActorID: supervisor, ActorRole: "supervisor"}
}

func closeBy(id int64) workflows.CloseRequest {
	return workflows.CloseRequest{ActionRequest: act(id), ConfirmUnread: true}
}

func reply(id int64, msgID, text string) workflows.ReplyRequest {
	return workflows.ReplyRequest{ActionRequest: act(id), MessageID: msgID, Text: text}
}

func statuses(signals []workflows.ConversationChanged) []string {
	var out []string
	for _, s := range signals {
		out = append(out, s.Status)
	}
	return out
}

// wed10 is Wednesday 2026-03-11 10:00 in Moscow.
func wed10(t *testing.T) time.Time { return mskTime(t, "2026-03-11 10:00") }

func mskTime(t testing.TB, s string) time.Time {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Moscow")
	require.NoError(t, err)
	v, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
	require.NoError(t, err)
	return v
}

func requireSameInstant(t *testing.T, want time.Time, got *time.Time, msgAndArgs ...any) {
	t.Helper()
	require.NotNil(t, got, msgAndArgs...)
	require.True(t, want.Equal(*got), "want %s, got %s %v", want, got.In(want.Location()), fmt.Sprint(msgAndArgs...))
}

// --- transitions -------------------------------------------------------------------------------

// step is one operator action of a script: it succeeds with wantStatus and wantAssignee, or is
// refused with wantCode.
type step struct {
	at           time.Duration
	update       string
	arg          any
	wantStatus   string
	wantAssignee int64
	wantCode     string
}

func runScript(t *testing.T, c *convTest, in workflows.ConversationInput, steps []step) (workflows.ConversationState, []*outcome) {
	t.Helper()
	outs := make([]*outcome, len(steps))
	for i, s := range steps {
		outs[i] = c.update(s.at, s.update, s.arg)
	}
	final := c.run(in)
	for i, s := range steps {
		o := outs[i]
		if s.wantCode != "" {
			requireRefused(t, o, s.wantCode)
			continue
		}
		st := actionState(t, o)
		require.Equal(t, s.wantStatus, st.Status, o.name)
		require.Equal(t, s.wantAssignee, st.AssigneeID, o.name)
	}
	return final, outs
}

func TestConversationTransitions(t *testing.T) {
	line := workflows.LineConfig{ID: 1, DefaultType: "question"}
	min := time.Minute
	tests := []struct {
		name        string
		dialog      bool
		steps       []step
		wantEvents  []string
		wantSignals []string
	}{
		{
			name: "take, pause, resume, close from active",
			steps: []step{
				{at: 1 * min, update: workflows.UpdateTake, arg: take(opAnna), wantStatus: workflows.StatusActive, wantAssignee: opAnna},
				{at: 2 * min, update: workflows.UpdatePause, arg: act(opAnna), wantStatus: workflows.StatusPaused, wantAssignee: opAnna},
				{at: 3 * min, update: workflows.UpdateResume, arg: act(opAnna), wantStatus: workflows.StatusActive, wantAssignee: opAnna},
				{at: 4 * min, update: workflows.UpdateClose, arg: closeBy(opAnna), wantStatus: workflows.StatusClosed, wantAssignee: opAnna},
			},
			wantEvents:  []string{"opened", "taken", "paused", "resumed", "closed"},
			wantSignals: []string{workflows.StatusActive, workflows.StatusPaused, workflows.StatusActive, workflows.StatusClosed},
		},
		{
			name: "assign, transfer, return to queue, take, close from paused",
			steps: []step{
				{at: 1 * min, update: workflows.UpdateAssign, arg: workflows.AssignRequest{ActionRequest: asSupervisor(), AssigneeID: opAnna},
					wantStatus: workflows.StatusActive, wantAssignee: opAnna},
				{at: 2 * min, update: workflows.UpdateTransfer, arg: workflows.TransferRequest{ActionRequest: act(opAnna), AssigneeID: opBoris, Comment: "billing"},
					wantStatus: workflows.StatusActive, wantAssignee: opBoris},
				{at: 3 * min, update: workflows.UpdateReturn, arg: act(opBoris), wantStatus: workflows.StatusQueued},
				{at: 4 * min, update: workflows.UpdateTake, arg: take(opVera), wantStatus: workflows.StatusActive, wantAssignee: opVera},
				{at: 5 * min, update: workflows.UpdatePause, arg: act(opVera), wantStatus: workflows.StatusPaused, wantAssignee: opVera},
				{at: 6 * min, update: workflows.UpdateClose, arg: closeBy(opVera), wantStatus: workflows.StatusClosed, wantAssignee: opVera},
			},
			wantEvents: []string{"opened", "assigned", "transferred", "returned", "taken", "paused", "closed"},
			wantSignals: []string{workflows.StatusActive, workflows.StatusQueued, workflows.StatusActive, workflows.StatusPaused,
				workflows.StatusClosed},
		},
		{
			name: "return to queue from paused, close from queued",
			steps: []step{
				{at: 1 * min, update: workflows.UpdateTake, arg: take(opAnna), wantStatus: workflows.StatusActive, wantAssignee: opAnna},
				{at: 2 * min, update: workflows.UpdatePause, arg: act(opAnna), wantStatus: workflows.StatusPaused, wantAssignee: opAnna},
				{at: 3 * min, update: workflows.UpdateReturn, arg: act(opAnna), wantStatus: workflows.StatusQueued},
				{at: 4 * min, update: workflows.UpdateClose, arg: workflows.CloseRequest{ActionRequest: asSupervisor(), ConfirmUnread: true},
					wantStatus: workflows.StatusClosed},
			},
			wantEvents: []string{"opened", "taken", "paused", "returned", "closed"},
			wantSignals: []string{workflows.StatusActive, workflows.StatusPaused, workflows.StatusQueued,
				workflows.StatusClosed},
		},
		{
			name: "transfer out of the queue, taking what one holds is a no-op",
			steps: []step{
				{at: 1 * min, update: workflows.UpdateTransfer, arg: workflows.TransferRequest{ActionRequest: asSupervisor(), AssigneeID: opAnna},
					wantStatus: workflows.StatusActive, wantAssignee: opAnna},
				{at: 2 * min, update: workflows.UpdateTake, arg: take(opAnna), wantStatus: workflows.StatusActive, wantAssignee: opAnna},
				{at: 3 * min, update: workflows.UpdateClose, arg: closeBy(opAnna), wantStatus: workflows.StatusClosed, wantAssignee: opAnna},
			},
			wantEvents:  []string{"opened", "transferred", "closed"},
			wantSignals: []string{workflows.StatusActive, workflows.StatusClosed},
		},
		{
			name:   "a dialog opened by an operator starts active and closes without confirmation",
			dialog: true,
			steps: []step{
				{at: 1 * min, update: workflows.UpdateClose, arg: workflows.CloseRequest{ActionRequest: act(opAnna)},
					wantStatus: workflows.StatusClosed, wantAssignee: opAnna},
			},
			wantEvents:  []string{"opened", "closed"},
			wantSignals: []string{workflows.StatusClosed},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newConvTest(t, wed10(t))
			in := c.request(line)
			if tt.dialog {
				in = c.dialog(line, opAnna)
			}
			final, _ := runScript(t, c, in, tt.steps)
			last := tt.steps[len(tt.steps)-1]
			require.Equal(t, workflows.StatusClosed, final.Status)
			require.Equal(t, workflows.CloseByOperator, final.CloseReason)
			requireSameInstant(t, c.start.Add(last.at), final.ClosedAt)
			require.Equal(t, tt.wantEvents, c.acts.eventKinds(t))
			require.Equal(t, tt.wantSignals, statuses(c.acts.signalsToChat()))
			proj := c.acts.lastProjection(t)
			require.Equal(t, workflows.StatusClosed, proj.Status)
			require.Equal(t, final.Revision, proj.Revision, "the final state was projected")
		})
	}
}

func TestConversationClosedIsTerminal(t *testing.T) {
	c := newConvTest(t, wed10(t))
	take := c.update(time.Minute, workflows.UpdateTake, take(opAnna))
	// Asking for CSAT keeps the closed workflow running while it waits for the answer.
	closing := c.update(2*time.Minute, workflows.UpdateClose, workflows.CloseRequest{ActionRequest: act(opAnna), ConfirmUnread: true, SendCSAT: true})
	title := "late edit"
	after := []struct {
		name string
		arg  any
	}{
		{workflows.UpdateTake, workflows.TakeRequest{ActionRequest: act(opBoris)}},
		{workflows.UpdateAssign, workflows.AssignRequest{ActionRequest: asSupervisor(), AssigneeID: opBoris}},
		{workflows.UpdateTransfer, workflows.TransferRequest{ActionRequest: act(opAnna), AssigneeID: opBoris}},
		{workflows.UpdateReturn, act(opAnna)},
		{workflows.UpdatePause, act(opAnna)},
		{workflows.UpdateResume, act(opAnna)},
		{workflows.UpdateReply, reply(opAnna, "out-late", "one more thing")},
		{workflows.UpdateNote, reply(opAnna, "note-late", "internal")},
		{workflows.UpdateEdit, workflows.EditRequest{ActionRequest: act(opAnna), Title: &title}},
		{workflows.UpdateClose, closeBy(opAnna)},
	}
	var refused []*outcome
	for i, a := range after {
		refused = append(refused, c.update(3*time.Minute+time.Duration(i)*time.Second, a.name, a.arg))
	}
	// A client message that reached the closed conversation goes back to the chat.
	c.clientWrites(4*time.Minute, "in-late")
	c.signal(5*time.Minute, workflows.SignalRegulationChanged, workflows.RegulationChanged{Regulation: &workflows.Regulation{ID: 9, Resolution: time.Hour}})
	c.signal(6*time.Minute, workflows.SignalCSATAnswer, workflows.CSATAnswer{Score: workflows.CSATNormal, MessageID: "in-csat", At: c.start.Add(6 * time.Minute)})

	final := c.run(c.request(workflows.LineConfig{ID: 1}))

	actionState(t, take)
	require.Equal(t, workflows.StatusClosed, actionState(t, closing).Status)
	for _, o := range refused {
		requireRefused(t, o, workflows.CodeConversationClosed)
	}
	require.Equal(t, workflows.StatusClosed, final.Status)
	require.Equal(t, int64(opAnna), final.AssigneeID)
	require.Equal(t, "", final.Title)
	require.Equal(t, workflows.CSATNormal, final.CSAT)
	require.Empty(t, c.acts.messagesOfKind("reply"))
	require.Equal(t, []string{"opened", "taken", "closed", "csat_answered"}, c.acts.eventKinds(t))

	signals := c.acts.signalsToChat()
	require.Equal(t, []string{workflows.StatusActive, workflows.StatusClosed, workflows.StatusClosed}, statuses(signals))
	require.Equal(t, []workflows.ClientMessage{{MessageID: "in-late", At: c.start.Add(4 * time.Minute).UTC()}},
		normalizeMessages(signals[2].LateMessages))
}

func normalizeMessages(ms []workflows.ClientMessage) []workflows.ClientMessage {
	out := slices.Clone(ms)
	for i := range out {
		out[i].At = out[i].At.UTC()
	}
	return out
}

// --- refusals ----------------------------------------------------------------------------------

func TestConversationRefusals(t *testing.T) {
	c := newConvTest(t, wed10(t))
	min := time.Minute
	steps := []step{
		{at: 1 * min, update: workflows.UpdateReply, arg: reply(opAnna, "out-1", "hi"), wantCode: workflows.CodeNotTaken},
		{at: 2 * min, update: workflows.UpdatePause, arg: act(opAnna), wantCode: workflows.CodeNotActive},
		{at: 3 * min, update: workflows.UpdateReturn, arg: act(opAnna), wantCode: workflows.CodeAlreadyQueued},
		{at: 4 * min, update: workflows.UpdateResume, arg: act(opAnna), wantCode: workflows.CodeNotPaused},
		{at: 5 * min, update: workflows.UpdateAssign, arg: workflows.AssignRequest{ActionRequest: asSupervisor()}, wantCode: workflows.CodeInvalid},
		{at: 6 * min, update: workflows.UpdateTake, arg: take(opAnna), wantStatus: workflows.StatusActive, wantAssignee: opAnna},
		{at: 7 * min, update: workflows.UpdateTake, arg: take(opBoris), wantCode: workflows.CodeAlreadyTaken},
		{at: 8 * min, update: workflows.UpdateTransfer, arg: workflows.TransferRequest{ActionRequest: act(opAnna), AssigneeID: opAnna}, wantCode: workflows.CodeSameAssignee},
		{at: 9 * min, update: workflows.UpdatePause, arg: act(opBoris), wantCode: workflows.CodeNotAssignee},
		{at: 10 * min, update: workflows.UpdateResume, arg: act(opAnna), wantCode: workflows.CodeNotPaused},
		{at: 11 * min, update: workflows.UpdatePause, arg: act(opAnna), wantStatus: workflows.StatusPaused, wantAssignee: opAnna},
		{at: 12 * min, update: workflows.UpdatePause, arg: act(opAnna), wantCode: workflows.CodeAlreadyPaused},
		{at: 13 * min, update: workflows.UpdateReply, arg: reply(opAnna, "out-2", "hi"), wantCode: workflows.CodeConversationPaused},
		{at: 14 * min, update: workflows.UpdateResume, arg: act(opAnna), wantStatus: workflows.StatusActive, wantAssignee: opAnna},
		{at: 15 * min, update: workflows.UpdateReply, arg: reply(opAnna, "out-3", ""), wantCode: workflows.CodeInvalid},
		{at: 16 * min, update: workflows.UpdateClose, arg: workflows.CloseRequest{ActionRequest: act(opAnna), ClientRating: 5, ConfirmUnread: true}, wantCode: workflows.CodeInvalid},
		{at: 17 * min, update: workflows.UpdateClose, arg: workflows.CloseRequest{ActionRequest: act(opAnna)}, wantCode: workflows.CodeUnreadMessages},
		{at: 18 * min, update: workflows.UpdateClose, arg: workflows.CloseRequest{ActionRequest: act(opAnna), ConfirmUnread: true, ClientRating: 2},
			wantStatus: workflows.StatusClosed, wantAssignee: opAnna},
	}
	final, outs := runScript(t, c, c.request(workflows.LineConfig{ID: 1}), steps)

	// already_taken and not_assignee name the holder in the error details.
	for _, i := range []int{6, 8} {
		app := outs[i].refusal()
		require.NotNil(t, app)
		var holder int64
		require.NoError(t, app.Details(&holder), outs[i].name)
		require.Equal(t, int64(opAnna), holder, outs[i].name)
		require.Contains(t, app.Message(), "11")
	}
	require.Equal(t, workflows.StatusClosed, final.Status)
	require.Equal(t, 2, final.ClientRating)
	require.Empty(t, c.acts.messagesOfKind("reply"), "refused replies send nothing")
	// The confirmed close records that it closed over unread client messages.
	events := c.acts.events(t)
	closed := events[len(events)-1]
	require.Equal(t, "closed", closed.Kind)
	require.Equal(t, true, closed.Data["unread_confirmed"])
}

// TestConversationReplyEndsTheClientTurn: the client waits until an operator answers; the reply
// tells the chat the turn is answered and the read model when (it restarts the unread count).
func TestConversationReplyEndsTheClientTurn(t *testing.T) {
	c := newConvTest(t, wed10(t))
	c.update(time.Minute, workflows.UpdateTake, take(opAnna))
	c.clientWrites(2*time.Minute, "in-2")
	before := c.query(3 * time.Minute)
	replied := c.update(4*time.Minute, workflows.UpdateReply, reply(opAnna, "out-1", "Hello, how can I help?"))
	// After the reply nothing is unread: closing needs no confirmation.
	closing := c.update(5*time.Minute, workflows.UpdateClose, workflows.CloseRequest{ActionRequest: act(opAnna)})
	c.run(c.request(workflows.LineConfig{ID: 1}))

	require.True(t, before.ClientWaiting)
	require.False(t, before.Responded)
	st := actionState(t, replied)
	require.Equal(t, "out-1", replied.result.(workflows.ActionResult).MessageID)
	require.True(t, st.Responded)
	require.False(t, st.ClientWaiting)
	actionState(t, closing)

	replies := c.acts.messagesOfKind("reply")
	require.Len(t, replies, 1)
	require.Equal(t, workflows.RecordMessageInput{
		ID: "out-1", ChatID: testChatID, ConversationNumber: testNumber, Direction: workflows.DirectionOut,
		AuthorID: opAnna, Text: "Hello, how can I help?", Status: workflows.MessagePending, Kind: "reply",
		At: replies[0].At,
	}, replies[0])
	require.True(t, c.start.Add(4*time.Minute).Equal(replies[0].At))
	require.Equal(t, []string{"out-1"}, c.acts.deliveredIDs())
	var repliedAt []time.Time
	for _, p := range c.acts.projections {
		if p.RepliedAt != nil {
			require.False(t, p.State.ClientWaiting, "projected with the answer")
			repliedAt = append(repliedAt, *p.RepliedAt)
		}
	}
	require.Len(t, repliedAt, 1, "the reply tells the read model once, so it restarts the unread count")
	require.True(t, c.start.Add(4*time.Minute).Equal(repliedAt[0]))
	// The chat learns the turn is answered, so it forwards the client's next message.
	var told []time.Time
	for _, s := range c.acts.signalsToChat() {
		if s.RepliedAt != nil {
			told = append(told, *s.RepliedAt)
		}
	}
	require.Len(t, told, 1)
	require.True(t, c.start.Add(4*time.Minute).Equal(told[0]))
}

// --- auto-close --------------------------------------------------------------------------------

func TestConversationAutoClose(t *testing.T) {
	line := workflows.LineConfig{ID: 1, AutoCloseAfter: 2 * time.Hour, AutoCloseText: "We closed this conversation. Write again any time."}
	c := newConvTest(t, wed10(t))
	c.update(10*time.Minute, workflows.UpdateTake, take(opAnna))
	c.clientWrites(time.Hour, "in-2")                                                 // postpones to 3h
	c.update(150*time.Minute, workflows.UpdateReply, reply(opAnna, "out-1", "Done?")) // postpones to 4h30m
	early := c.query(4*time.Hour + 29*time.Minute)
	final := c.run(c.request(line))

	require.Equal(t, workflows.StatusActive, early.Status)
	require.Equal(t, workflows.StatusClosed, final.Status)
	require.Equal(t, workflows.CloseAuto, final.CloseReason)
	requireSameInstant(t, c.start.Add(4*time.Hour+30*time.Minute), final.ClosedAt)

	sent := c.acts.messagesOfKind("auto_close")
	require.Len(t, sent, 1)
	require.Equal(t, line.AutoCloseText, sent[0].Text)
	require.Equal(t, workflows.DirectionOut, sent[0].Direction)
	require.Equal(t, workflows.MessagePending, sent[0].Status)
	require.Equal(t, int64(testNumber), sent[0].ConversationNumber)
	require.True(t, c.start.Add(4*time.Hour+30*time.Minute).Equal(sent[0].At))
	require.Equal(t, []string{"out-1", sent[0].ID}, c.acts.deliveredIDs())
	require.Equal(t, []string{"opened", "taken", "replied", "auto_closed"}, c.acts.eventKinds(t))
	signals := c.acts.signalsToChat()
	require.Equal(t, []string{workflows.StatusActive, workflows.StatusActive, workflows.StatusClosed}, statuses(signals))
	require.NotNil(t, signals[1].RepliedAt, "the reply ends the client's turn for the chat")
}

// TestConversationAutoCloseCountsMessagesTheChatDidNotForward: within a client turn the chat does
// not forward messages, but the read model has them; the auto-close waits for the latest.
func TestConversationAutoCloseCountsMessagesTheChatDidNotForward(t *testing.T) {
	line := workflows.LineConfig{ID: 1, AutoCloseAfter: 2 * time.Hour}
	c := newConvTest(t, wed10(t))
	c.update(10*time.Minute, workflows.UpdateTake, take(opAnna))
	c.clientWrites(time.Hour, "in-2") // forwarded: the turn starts; close due at 3h
	// Unforwarded messages of the same turn at 1h30m and 2h30m: close due at 4h30m.
	c.acts.readModelActivity = map[int64]time.Time{testNumber: c.start.Add(150 * time.Minute)}
	early := c.query(4*time.Hour + 29*time.Minute)
	final := c.run(c.request(line))

	require.Equal(t, workflows.StatusActive, early.Status)
	require.Equal(t, workflows.CloseAuto, final.CloseReason)
	requireSameInstant(t, c.start.Add(4*time.Hour+30*time.Minute), final.ClosedAt)
}

func TestConversationAutoCloseWhilePausedWithStandardText(t *testing.T) {
	line := workflows.LineConfig{ID: 1, AutoCloseAfter: time.Hour}
	c := newConvTest(t, wed10(t))
	c.update(10*time.Minute, workflows.UpdateTake, take(opAnna))
	c.update(20*time.Minute, workflows.UpdatePause, act(opAnna))
	final := c.run(c.request(line))

	require.Equal(t, workflows.CloseAuto, final.CloseReason)
	requireSameInstant(t, c.start.Add(10*time.Minute+time.Hour), final.ClosedAt, "an hour after the take")
	sent := c.acts.messagesOfKind("auto_close")
	require.Len(t, sent, 1)
	require.Equal(t, c.acts.std.AutoClose, sent[0].Text)
}

// TestConversationTakenAfterALongWaitIsNotClosedAtOnce: the inactivity clock starts again when an
// operator takes the conversation, however long it waited in the queue.
func TestConversationTakenAfterALongWaitIsNotClosedAtOnce(t *testing.T) {
	line := workflows.LineConfig{ID: 1, AutoCloseAfter: time.Hour}
	c := newConvTest(t, wed10(t))
	c.update(3*time.Hour, workflows.UpdateTake, take(opAnna))
	justTaken := c.query(3*time.Hour + time.Minute)
	final := c.run(c.request(line))
	require.Equal(t, workflows.StatusActive, justTaken.Status)
	require.Equal(t, workflows.CloseAuto, final.CloseReason)
	requireSameInstant(t, c.start.Add(4*time.Hour), final.ClosedAt)
}

// TestConversationTakesTheLinesNewSettings: an admin shortens the line's auto-close; the open
// conversation closes by the new setting, with the new text, and its SLA clocks are untouched.
func TestConversationTakesTheLinesNewSettings(t *testing.T) {
	line := workflows.LineConfig{ID: 1, AutoCloseAfter: 4 * time.Hour, AutoCloseText: "old text"}
	c := newConvTest(t, wed10(t))
	c.update(10*time.Minute, workflows.UpdateTake, take(opAnna))
	changed := line
	changed.AutoCloseAfter, changed.AutoCloseText = 30*time.Minute, "new text"
	c.signal(20*time.Minute, workflows.SignalRegulationChanged, workflows.RegulationChanged{Line: &changed})
	final := c.run(c.request(line))

	require.Equal(t, workflows.CloseAuto, final.CloseReason)
	requireSameInstant(t, c.start.Add(40*time.Minute), final.ClosedAt, "30 minutes after the take")
	sent := c.acts.messagesOfKind("auto_close")
	require.Len(t, sent, 1)
	require.Equal(t, "new text", sent[0].Text)
	require.Contains(t, c.acts.eventKinds(t), "line_changed")
	require.NotContains(t, c.acts.eventKinds(t), "regulation_changed", "the regulation did not change")
}

func TestConversationQueuedNeverAutoCloses(t *testing.T) {
	line := workflows.LineConfig{ID: 1, AutoCloseAfter: time.Hour}
	c := newConvTest(t, wed10(t))
	later := c.query(5 * time.Hour)
	c.update(5*time.Hour+time.Minute, workflows.UpdateClose, workflows.CloseRequest{ActionRequest: asSupervisor(), ConfirmUnread: true})
	final := c.run(c.request(line))
	require.Equal(t, workflows.StatusQueued, later.Status, "a queued conversation waits for an operator, however long")
	require.Equal(t, workflows.CloseByOperator, final.CloseReason)
	require.Empty(t, c.acts.messagesOfKind("auto_close"))
}

// --- SLA ---------------------------------------------------------------------------------------

// slaLine has a regulation on Moscow business hours, Monday to Friday 09:00-13:00 and 14:00-18:00:
// first response 2h, next response 1h, warning 30 minutes before a breach; resolution unmeasured.
func slaLine(holidays ...string) workflows.LineConfig {
	week := map[string][]workflows.Period{}
	for _, d := range []string{"mon", "tue", "wed", "thu", "fri"} {
		week[d] = []workflows.Period{{Start: "09:00", End: "13:00"}, {Start: "14:00", End: "18:00"}}
	}
	return workflows.LineConfig{ID: 1, Regulation: &workflows.Regulation{
		ID: 5, FirstResponse: 2 * time.Hour, NextResponse: time.Hour, WarnBefore: 30 * time.Minute,
		Calendar: workflows.Calendar{TimeZone: "Europe/Moscow", Week: week, Holidays: holidays},
	}}
}

type slaEvent struct {
	kind  string
	clock string
	at    string // Moscow wall clock
}

func slaEvents(t *testing.T, acts *fakeActivities) []slaEvent {
	loc, err := time.LoadLocation("Europe/Moscow")
	require.NoError(t, err)
	var out []slaEvent
	for _, e := range acts.events(t) {
		if e.Kind == "sla_warning" || e.Kind == "sla_breached" {
			out = append(out, slaEvent{e.Kind, fmt.Sprint(e.Data["clock"]), e.At.In(loc).Format("2006-01-02 15:04")})
		}
	}
	return out
}

func TestConversationSLAFirstResponse(t *testing.T) {
	tests := []struct {
		name     string
		wrote    string // the client's first message
		holidays []string
		wantDue  string
		wantWarn string
	}{
		// 1h on Friday, 1h on Monday.
		{"across a weekend", "2026-03-06 17:00", nil, "2026-03-09 10:00", "2026-03-09 09:30"},
		// Monday 2026-03-09 is the 8 March holiday moved from Sunday.
		{"across a weekend and a holiday", "2026-03-06 17:00", []string{"2026-03-09"}, "2026-03-10 10:00", "2026-03-10 09:30"},
		// 1h before lunch, 1h after it.
		{"two periods in one day", "2026-03-11 12:00", nil, "2026-03-11 15:00", "2026-03-11 14:30"},
		// Written at night: the clock starts with the working day.
		{"written out of hours", "2026-03-10 23:00", nil, "2026-03-11 11:00", "2026-03-11 10:30"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := mskTime(t, tt.wrote)
			due := mskTime(t, tt.wantDue)
			c := newConvTest(t, start)
			beforeWarn := c.query(mskTime(t, tt.wantWarn).Sub(start) - time.Minute)
			afterBreach := c.query(due.Sub(start) + time.Minute)
			c.update(due.Sub(start)+time.Hour, workflows.UpdateClose, workflows.CloseRequest{ActionRequest: asSupervisor(), ConfirmUnread: true})
			c.run(c.request(slaLine(tt.holidays...)))

			first := c.acts.projections[0].State
			requireSameInstant(t, due, first.Due.FirstResponse, "projected at open")
			require.Nil(t, first.Due.NextResponse)
			require.Nil(t, first.Due.Resolution)
			require.False(t, beforeWarn.Overdue)
			require.False(t, beforeWarn.SLA.FirstResponse.Warned)
			require.True(t, afterBreach.Overdue)
			require.Equal(t, []slaEvent{
				{"sla_warning", "first_response", tt.wantWarn},
				{"sla_breached", "first_response", tt.wantDue},
			}, slaEvents(t, c.acts))
			// Each event was projected when it fired, with the overdue flag once breached.
			for _, p := range c.acts.projections {
				for _, e := range p.Events {
					if e.Kind == "sla_breached" {
						require.True(t, p.State.Overdue)
					}
				}
			}
		})
	}
}

func TestConversationSLANextResponse(t *testing.T) {
	start := wed10(t)
	c := newConvTest(t, start)
	c.update(10*time.Minute, workflows.UpdateTake, take(opAnna))
	firstReply := c.update(20*time.Minute, workflows.UpdateReply, reply(opAnna, "out-1", "Looking into it"))
	c.clientWrites(time.Hour, "in-2") // 11:00: the next-response clock starts, due 12:00
	waiting := c.query(time.Hour + time.Minute)
	second := c.update(105*time.Minute, workflows.UpdateReply, reply(opAnna, "out-2", "Fixed")) // 11:45
	c.update(3*time.Hour, workflows.UpdateClose, closeBy(opAnna))
	c.run(c.request(slaLine()))

	st := actionState(t, firstReply)
	require.Nil(t, st.Due.FirstResponse, "met by the first reply")
	require.True(t, st.SLA.FirstResponse.Met)
	require.Nil(t, st.Due.NextResponse, "nobody waits for a next response yet")

	require.Nil(t, waiting.Due.FirstResponse)
	requireSameInstant(t, mskTime(t, "2026-03-11 12:00"), waiting.Due.NextResponse)

	st = actionState(t, second)
	require.Nil(t, st.Due.NextResponse)
	require.True(t, st.SLA.NextResponse.Met)
	require.Equal(t, []slaEvent{{"sla_warning", "next_response", "2026-03-11 11:30"}}, slaEvents(t, c.acts))
}

func TestConversationSLAPause(t *testing.T) {
	t.Run("pause stops the clock", func(t *testing.T) {
		line := slaLine()
		line.Regulation.PauseStopsClock = true
		c := newConvTest(t, wed10(t))
		c.update(5*time.Minute, workflows.UpdateTake, take(opAnna))
		c.update(30*time.Minute, workflows.UpdatePause, act(opAnna)) // 10:30, 30m used
		paused := c.query(2 * time.Hour)                             // 12:00: would have been due
		resumed := c.update(5*time.Hour, workflows.UpdateResume, act(opAnna))
		c.update(6*time.Hour+10*time.Minute, workflows.UpdateReply, reply(opAnna, "out-1", "Sorry for the wait"))
		c.update(7*time.Hour, workflows.UpdateClose, closeBy(opAnna))
		c.run(c.request(line))

		require.Equal(t, workflows.StatusPaused, paused.Status)
		require.Nil(t, paused.Due.FirstResponse, "no due time while the clock stands")
		require.Equal(t, 30*time.Minute, paused.SLA.FirstResponse.Used)
		// Paused 10:30-15:00 = 3h30m of business time: 12:00 becomes 16:30.
		requireSameInstant(t, mskTime(t, "2026-03-11 16:30"), actionState(t, resumed).Due.FirstResponse)
		require.Equal(t, []slaEvent{{"sla_warning", "first_response", "2026-03-11 16:00"}}, slaEvents(t, c.acts))
	})
	t.Run("the clock runs through a pause", func(t *testing.T) {
		c := newConvTest(t, wed10(t))
		c.update(5*time.Minute, workflows.UpdateTake, take(opAnna))
		pausedAt := c.update(30*time.Minute, workflows.UpdatePause, act(opAnna))
		paused := c.query(2*time.Hour + time.Minute)
		c.update(5*time.Hour, workflows.UpdateResume, act(opAnna))
		c.update(7*time.Hour, workflows.UpdateClose, closeBy(opAnna))
		c.run(c.request(slaLine()))

		requireSameInstant(t, mskTime(t, "2026-03-11 12:00"), actionState(t, pausedAt).Due.FirstResponse)
		require.Equal(t, workflows.StatusPaused, paused.Status)
		require.True(t, paused.Overdue)
		require.Equal(t, []slaEvent{
			{"sla_warning", "first_response", "2026-03-11 11:30"},
			{"sla_breached", "first_response", "2026-03-11 12:00"},
		}, slaEvents(t, c.acts))
	})
}

func TestConversationRegulationChanged(t *testing.T) {
	t.Run("re-arms with the new targets", func(t *testing.T) {
		c := newConvTest(t, wed10(t))
		longer := slaLine().Regulation
		longer.ID, longer.FirstResponse = 6, 4*time.Hour
		c.signal(30*time.Minute, workflows.SignalRegulationChanged, workflows.RegulationChanged{Regulation: longer})
		after := c.query(31 * time.Minute)
		c.update(6*time.Hour, workflows.UpdateClose, workflows.CloseRequest{ActionRequest: asSupervisor(), ConfirmUnread: true})
		c.run(c.request(slaLine()))

		requireSameInstant(t, mskTime(t, "2026-03-11 12:00"), c.acts.projections[0].State.Due.FirstResponse)
		// 4h with 30m used, from 10:30: 2h30m to 13:00 and 1h after lunch.
		requireSameInstant(t, mskTime(t, "2026-03-11 15:00"), after.Due.FirstResponse)
		require.Equal(t, []slaEvent{
			{"sla_warning", "first_response", "2026-03-11 14:30"},
			{"sla_breached", "first_response", "2026-03-11 15:00"},
		}, slaEvents(t, c.acts), "nothing fires at the old 11:30 and 12:00")
		require.Contains(t, c.acts.eventKinds(t), "regulation_changed")
	})
	t.Run("removing the regulation stops every clock", func(t *testing.T) {
		c := newConvTest(t, wed10(t))
		c.signal(30*time.Minute, workflows.SignalRegulationChanged, workflows.RegulationChanged{})
		after := c.query(31 * time.Minute)
		c.update(6*time.Hour, workflows.UpdateClose, workflows.CloseRequest{ActionRequest: asSupervisor(), ConfirmUnread: true})
		c.run(c.request(slaLine()))
		require.Equal(t, workflows.Due{}, after.Due)
		require.Empty(t, slaEvents(t, c.acts))
	})
	t.Run("a dialog nobody wrote to has no first-response clock", func(t *testing.T) {
		c := newConvTest(t, wed10(t))
		c.signal(30*time.Minute, workflows.SignalRegulationChanged, workflows.RegulationChanged{Regulation: slaLine().Regulation})
		after := c.query(31 * time.Minute)
		c.clientWrites(time.Hour, "in-1")
		wrote := c.query(time.Hour + time.Minute)
		c.update(6*time.Hour, workflows.UpdateClose, workflows.CloseRequest{ActionRequest: act(opAnna), ConfirmUnread: true})
		c.run(c.dialog(workflows.LineConfig{ID: 1}, opAnna))

		require.Nil(t, after.Due.FirstResponse)
		requireSameInstant(t, mskTime(t, "2026-03-11 13:00"), wrote.Due.FirstResponse)
	})
}

// --- wrap-up -----------------------------------------------------------------------------------

func TestConversationCloseWrapUp(t *testing.T) {
	line := workflows.LineConfig{ID: 1, MergeRepliesAfterClose: true}
	c := newConvTest(t, wed10(t))
	c.update(time.Minute, workflows.UpdateTake, take(opAnna))
	c.update(2*time.Minute, workflows.UpdateReply, reply(opAnna, "out-1", "Try turning it off and on"))
	closing := c.update(3*time.Minute, workflows.UpdateClose, workflows.CloseRequest{
		ActionRequest: act(opAnna), Type: "incident", Reasons: []string{"router"}, Components: []string{"wifi"},
		Solution: "Restart the router.", ClientRating: 3, SendCSAT: true, OpenTicket: true,
	})
	waiting := c.query(time.Hour)
	// Two answers at once: the first one counts.
	c.at(2*time.Hour, func() {
		c.env.SignalWorkflow(workflows.SignalCSATAnswer, workflows.CSATAnswer{Score: workflows.CSATExcellent, MessageID: "in-csat", At: c.start.Add(2 * time.Hour)})
		c.env.SignalWorkflow(workflows.SignalCSATAnswer, workflows.CSATAnswer{Score: workflows.CSATBad, MessageID: "in-csat-2", At: c.start.Add(2 * time.Hour)})
	})
	final := c.run(c.request(line))

	st := actionState(t, closing)
	require.Equal(t, workflows.StatusClosed, st.Status)
	require.True(t, st.CSATSent)
	require.Equal(t, workflows.StatusClosed, waiting.Status, "the closed workflow waits for the answer")
	require.Equal(t, 0, waiting.CSAT)

	require.Equal(t, workflows.CSATExcellent, final.CSAT)
	require.Equal(t, 3, final.ClientRating)
	require.Equal(t, "incident", final.Type)
	require.Equal(t, []string{"router"}, final.Reasons)
	require.Equal(t, []string{"wifi"}, final.Components)
	require.Equal(t, "Restart the router.", final.Solution)

	// The CSAT question: three buttons, Bad=1, Normal=2, Excellent=3.
	csat := c.acts.messagesOfKind("csat")
	require.Len(t, csat, 1)
	require.Equal(t, c.acts.std.CSATQuestion, csat[0].Text)
	require.Equal(t, workflows.DirectionOut, csat[0].Direction)
	require.Equal(t, []workflows.Button{
		{Text: "Bad", Payload: workflows.CSATPayload(testNumber, 1)},
		{Text: "OK", Payload: workflows.CSATPayload(testNumber, 2)},
		{Text: "Great", Payload: workflows.CSATPayload(testNumber, 3)},
	}, csat[0].Buttons)
	require.Equal(t, "csat:1042:3", csat[0].Buttons[2].Payload)

	thanks := c.acts.messagesOfKind("csat_thanks")
	require.Len(t, thanks, 1, "thanked once")
	require.Equal(t, c.acts.std.CSATThanks, thanks[0].Text)
	require.Equal(t, []string{"out-1", csat[0].ID, thanks[0].ID}, c.acts.deliveredIDs(), "the thanks is delivered too")

	// open_ticket: the chat is asked to open a follow-up for the same operator.
	signals := c.acts.signalsToChat()
	require.Equal(t, workflows.ConversationChanged{Number: testNumber, Status: workflows.StatusClosed, FollowUpAssignee: opAnna}, signals[len(signals)-1])

	// The solution is emailed and the replies merged, after the close.
	require.Equal(t, []workflows.EmailSolutionInput{{Number: testNumber, ContactID: contactID, Solution: "Restart the router."}}, c.acts.emails)
	require.Equal(t, []workflows.MergeRepliesInput{{Number: testNumber}}, c.acts.merges)

	kinds := c.acts.eventKinds(t)
	require.Equal(t, []string{"opened", "taken", "replied", "closed"}, kinds[:4])
	require.ElementsMatch(t, []string{"solution_emailed", "replies_merged", "csat_answered"}, kinds[4:])
	require.Equal(t, final.Revision, c.acts.lastProjection(t).Revision, "the final state was projected")
	require.Equal(t, workflows.CSATExcellent, c.acts.lastProjection(t).CSAT)
}

func TestConversationCloseWithoutWrapUp(t *testing.T) {
	c := newConvTest(t, wed10(t))
	c.update(time.Minute, workflows.UpdateTake, take(opAnna))
	c.update(2*time.Minute, workflows.UpdateClose, closeBy(opAnna))
	final := c.run(c.request(workflows.LineConfig{ID: 1}))
	require.False(t, final.CSATSent)
	require.Empty(t, c.acts.messagesOfKind("csat"))
	require.Empty(t, c.acts.emails)
	require.Empty(t, c.acts.merges)
	for _, s := range c.acts.signalsToChat() {
		require.Zero(t, s.FollowUpAssignee)
	}
	// Closed without CSAT, the workflow ends at once.
	requireSameInstant(t, c.start.Add(2*time.Minute), final.ClosedAt)
	require.True(t, c.start.Add(2*time.Minute).Equal(c.env.Now()), "ended at %s", c.env.Now())
}

func TestConversationTellsTheChatBeforeItEnds(t *testing.T) {
	// The server drops a signal whose sender has finished: a conversation with nothing left to do
	// after the close must still wait until the chat has the news.
	c := newConvTestSlowChat(t, wed10(t), 20*time.Millisecond)
	c.update(time.Minute, workflows.UpdateTake, take(opAnna))
	c.update(2*time.Minute, workflows.UpdateClose, closeBy(opAnna))
	c.run(c.request(workflows.LineConfig{ID: 1}))
	require.Equal(t, []workflows.ConversationChanged{
		{Number: testNumber, Status: workflows.StatusActive},
		{Number: testNumber, Status: workflows.StatusClosed},
	}, c.acts.signalsToChat())
}

// --- participants ------------------------------------------------------------------------------

func TestConversationParticipants(t *testing.T) {
	c := newConvTest(t, wed10(t))
	title := "Refund"
	add := c.update(10*time.Minute, workflows.UpdateEdit, workflows.EditRequest{
		ActionRequest: act(opAnna), Title: &title, Participants: &[]int64{opAnna, opBoris, opVera, opGleb, opVera, 0},
	})
	// A participant acts inside the conversation.
	participantReply := c.update(20*time.Minute, workflows.UpdateReply, reply(opVera, "out-1", "Refund sent"))
	remove := c.update(30*time.Minute, workflows.UpdateEdit, workflows.EditRequest{ActionRequest: act(opAnna), Participants: &[]int64{opAnna}})
	c.update(40*time.Minute, workflows.UpdateClose, closeBy(opAnna))
	final := c.run(c.dialog(workflows.LineConfig{ID: 1}, opAnna, opBoris))

	require.Equal(t, []int64{opAnna, opBoris, opVera, opGleb}, actionState(t, add).Participants)
	actionState(t, participantReply)
	require.Equal(t, []int64{opAnna}, actionState(t, remove).Participants)
	require.Equal(t, []int64{opAnna}, final.Participants)

	start := c.start
	got := c.acts.participants
	require.Len(t, got, 2)
	// At the start: those the dialog was opened with, except its opener.
	require.Equal(t, []int64{opBoris}, got[0].UserIDs)
	require.Equal(t, int64(opAnna), got[0].AddedBy)
	require.True(t, start.Add(5*time.Minute).Equal(got[0].StartsAt))
	// The edit: only the newly added users, with a task starting 5 minutes later.
	require.Equal(t, []int64{opVera, opGleb}, got[1].UserIDs)
	require.Equal(t, int64(opAnna), got[1].AddedBy)
	require.Equal(t, "Refund", got[1].Title)
	require.Equal(t, int64(testNumber), got[1].Number)
	require.True(t, start.Add(10*time.Minute).Equal(got[1].At))
	require.True(t, start.Add(15*time.Minute).Equal(got[1].StartsAt))
}

// --- continue-as-new ---------------------------------------------------------------------------

func TestConversationContinuesAsNewWhenSuggested(t *testing.T) {
	tests := []struct {
		name string
		// suggestAt is the last action before the server suggests continue-as-new.
		suggestAt  time.Duration
		wantStatus string
	}{
		// Queued: no timer is armed.
		{"woken while waiting without a timer", time.Minute, workflows.StatusActive},
		// Active: the auto-close timer is armed and continue-as-new cancels it.
		{"woken while a timer is armed", 2 * time.Minute, workflows.StatusPaused},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			line := workflows.LineConfig{ID: 1, AutoCloseAfter: time.Hour}
			c := newConvTest(t, wed10(t))
			taken := c.update(time.Minute, workflows.UpdateTake, take(opAnna))
			c.update(2*time.Minute, workflows.UpdatePause, act(opAnna))
			// The suggestion comes a second after the action (an update that reaches a run that
			// continued as new goes to the next run on a real server; the test server drops it).
			c.at(tt.suggestAt+time.Second, func() { c.env.SetContinueAsNewSuggested(true) })
			c.env.ExecuteWorkflow(workflows.ConversationWorkflow, c.request(line))

			require.True(t, c.env.IsWorkflowCompleted())
			var can *workflow.ContinueAsNewError
			require.ErrorAs(t, c.env.GetWorkflowError(), &can, "continued as new when suggested, not closed at the auto-close")
			requireDone(t, taken)
			require.True(t, c.start.Add(tt.suggestAt+time.Second).Equal(c.env.Now()), "continued at %s", c.env.Now())

			var next workflows.ConversationInput
			require.NoError(t, converter.GetDefaultDataConverter().FromPayloads(can.Input, &next))
			require.NotNil(t, next.State)
			require.Nil(t, next.FirstMessage, "the first message is not counted twice")
			require.Equal(t, tt.wantStatus, next.State.Status)
			require.Equal(t, int64(opAnna), next.State.AssigneeID)
			require.True(t, next.State.ClientWaiting, "the client's first message is still unanswered")
			require.Equal(t, line, next.Line)

			// The next run goes on from the carried state: the auto-close still counts from the
			// take (the operator's last activity), and nothing is opened or projected twice.
			c2 := newConvTest(t, c.start.Add(tt.suggestAt+time.Second))
			if tt.wantStatus == workflows.StatusActive {
				c2.update(time.Minute, workflows.UpdatePause, act(opAnna))
			}
			final := c2.run(next)
			require.Equal(t, workflows.CloseAuto, final.CloseReason)
			requireSameInstant(t, c.start.Add(time.Minute+time.Hour), final.ClosedAt)
			require.Equal(t, int64(opAnna), final.AssigneeID)
			kinds := eventKindsAfter(c2.acts, next.State.EventSeq)
			require.Equal(t, "auto_closed", kinds[len(kinds)-1])
			require.NotContains(t, kinds, "opened")
		})
	}
}

// eventKindsAfter lists the kinds of the events projected with a sequence number above seq.
func eventKindsAfter(acts *fakeActivities, seq int64) []string {
	var kinds []string
	for _, p := range acts.projections {
		for _, e := range p.Events {
			if e.Seq > seq {
				kinds = append(kinds, e.Kind)
			}
		}
	}
	return kinds
}
