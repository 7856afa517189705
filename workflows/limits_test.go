package workflows

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"
)

// limitsChat runs a ChatWorkflow on a line that does not auto-open, with maxUpdatesPerRun lowered
// to 5 and deliveries answered by deliver. It sends five automated messages, one a second.
func limitsChat(t *testing.T, deliver func(context.Context, DeliverMessageInput) error) (*testsuite.TestWorkflowEnvironment, time.Time) {
	old := maxUpdatesPerRun
	maxUpdatesPerRun = 5
	t.Cleanup(func() { maxUpdatesPerRun = old })

	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	start := time.Date(2026, 3, 11, 7, 0, 0, 0, time.UTC)
	env.SetStartTime(start)
	env.RegisterWorkflow(ChatWorkflow)
	env.RegisterWorkflow(ConversationWorkflow)
	for name, fn := range map[string]any{
		ActivityLoadLine:       func(context.Context, LoadLineInput) (LineConfig, error) { return LineConfig{ID: 1}, nil },
		ActivityRecordMessage:  func(context.Context, RecordMessageInput) error { return nil },
		ActivityDeliverMessage: deliver,
		ActivityRoutedSeq:      func(context.Context, RoutedSeqInput) (RoutedSeqResult, error) { return RoutedSeqResult{}, nil },
		ActivityLinkInbound:    func(context.Context, LinkInboundInput) error { return nil },
	} {
		env.RegisterActivityWithOptions(fn, activity.RegisterOptions{Name: name})
	}
	for i := range 5 {
		env.RegisterDelayedCallback(func() {
			env.UpdateWorkflow(UpdateAutomated, "u"+itoa(int64(i)), &testsuite.TestUpdateCallback{
				OnReject: func(err error) { t.Errorf("update %d rejected: %v", i, err) },
				OnAccept: func() {}, OnComplete: func(any, error) {},
			}, AutomatedRequest{MessageID: "a" + itoa(int64(i)), Kind: AutomatedBroadcast, Text: "news"})
		}, time.Duration(i+1)*time.Second)
	}
	return env, start
}

// TestChatContinuesAsNewBeforeTheUpdateCap checks that a busy chat starts a new run after
// maxUpdatesPerRun updates, well before the server refuses more updates to the run.
func TestChatContinuesAsNewBeforeTheUpdateCap(t *testing.T) {
	env, start := limitsChat(t, func(context.Context, DeliverMessageInput) error { return nil })
	// Inbound messages are signals: they do not count against the cap.
	env.RegisterDelayedCallback(func() {
		env.SignalWorkflow(SignalInbound, InboundBatch{Messages: []InboundMessage{{MessageID: "m1", Seq: 1, At: start}}})
	}, 500*time.Millisecond)
	env.ExecuteWorkflow(ChatWorkflow, ChatInput{ChatID: "0190b3a8-0000-7000-8000-000000000001", LineID: 1})
	var can *workflow.ContinueAsNewError
	require.ErrorAs(t, env.GetWorkflowError(), &can)
	require.True(t, start.Add(5*time.Second).Equal(env.Now()), "continued after the fifth update, at %s", env.Now())
	var next ChatInput
	require.NoError(t, converter.GetDefaultDataConverter().FromPayloads(can.Input, &next))
	require.Equal(t, int64(2), next.State.NextSeq, "the next run goes on after the routed message")
}

// TestChatContinuesAsNewWithoutWaitingForTheOutbox: while the channel is down, the chat does not
// wait for its deliveries to continue as new; the next run carries them, in order.
func TestChatContinuesAsNewWithoutWaitingForTheOutbox(t *testing.T) {
	var mu sync.Mutex
	attempts := map[string]int{}
	env, start := limitsChat(t, func(_ context.Context, in DeliverMessageInput) error {
		mu.Lock()
		defer mu.Unlock()
		attempts[in.MessageID]++
		return errors.New("the channel's endpoint is down")
	})
	env.ExecuteWorkflow(ChatWorkflow, ChatInput{ChatID: "0190b3a8-0000-7000-8000-000000000001", LineID: 1})

	var can *workflow.ContinueAsNewError
	require.ErrorAs(t, env.GetWorkflowError(), &can)
	require.True(t, start.Add(5*time.Second).Equal(env.Now()),
		"continued as new after the fifth update, not once the outbox drained (at %s)", env.Now())
	var next ChatInput
	require.NoError(t, converter.GetDefaultDataConverter().FromPayloads(can.Input, &next))
	require.NotNil(t, next.State)
	require.Equal(t, []string{"a0", "a1", "a2", "a3", "a4"}, next.State.Outbox,
		"every undelivered message goes with the state, the one on its way first")
	mu.Lock()
	defer mu.Unlock()
	require.NotZero(t, attempts["a0"], "delivery was tried")
	require.Zero(t, attempts["a1"], "one at a time, in order")
}

// TestChatDeliversTheOutboxItWasGiven: a run started by continue-as-new delivers the carried
// outbox first, in order, then what it sends itself.
func TestChatDeliversTheOutboxItWasGiven(t *testing.T) {
	var mu sync.Mutex
	var delivered []string
	env, _ := limitsChat(t, func(_ context.Context, in DeliverMessageInput) error {
		mu.Lock()
		defer mu.Unlock()
		delivered = append(delivered, in.MessageID)
		return nil
	})
	maxUpdatesPerRun = 100
	env.ExecuteWorkflow(ChatWorkflow, ChatInput{ChatID: "0190b3a8-0000-7000-8000-000000000001", LineID: 1,
		State: &ChatState{Outbox: []string{"c1", "c2"}, NextSeq: 1}})
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError(), "the chat ends idle")
	mu.Lock()
	defer mu.Unlock()
	require.Equal(t, []string{"c1", "c2", "a0", "a1", "a2", "a3", "a4"}, delivered)
}
