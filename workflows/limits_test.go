package workflows

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"
)

// TestChatContinuesAsNewBeforeTheUpdateCap checks that a busy chat starts a new run after
// maxUpdatesPerRun updates, well before the server refuses more updates to the run.
func TestChatContinuesAsNewBeforeTheUpdateCap(t *testing.T) {
	old := maxUpdatesPerRun
	maxUpdatesPerRun = 5
	t.Cleanup(func() { maxUpdatesPerRun = old })

	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	env.RegisterWorkflow(ChatWorkflow)
	env.RegisterWorkflow(ConversationWorkflow)
	// The line does not auto-open: every message stays in the chat, one update each.
	env.RegisterActivityWithOptions(func(context.Context, LoadLineInput) (LineConfig, error) { return LineConfig{ID: 1}, nil },
		activity.RegisterOptions{Name: ActivityLoadLine})
	for i := range 5 {
		env.RegisterDelayedCallback(func() {
			env.UpdateWorkflow(UpdateInbound, "u"+itoa(int64(i)), &testsuite.TestUpdateCallback{
				OnReject: func(err error) { t.Errorf("update %d rejected: %v", i, err) },
				OnAccept: func() {}, OnComplete: func(any, error) {},
			}, InboundRequest{MessageID: "m" + itoa(int64(i)), At: time.Unix(0, 0)})
		}, time.Duration(i+1)*time.Second)
	}
	env.ExecuteWorkflow(ChatWorkflow, ChatInput{ChatID: "0190b3a8-0000-7000-8000-000000000001", LineID: 1})
	var can *workflow.ContinueAsNewError
	require.ErrorAs(t, env.GetWorkflowError(), &can)
}
