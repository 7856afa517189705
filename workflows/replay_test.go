package workflows_test

// Replay tests guard running workflows against non-deterministic changes: every history in
// testdata/*.json must replay on the current ChatWorkflow and ConversationWorkflow code, and the
// test fails when there is none. The histories were recorded with the current code (issue 6 folded
// the pre-release workflow.GetVersion branches: nothing ran in production). From now on, a change
// that breaks one needs workflow.GetVersion (ARCHITECTURE §4), not a re-recorded history; keep
// the old history beside a new one when a change adds a version marker. timers_test.go reads the
// same histories to count pending timers.
//
// Recording histories. A history is the JSON form (protojson) of a history.v1.History, as the
// Temporal UI and `temporal workflow show --output json` download it. No CLI is needed:
//
//	iter := c.GetWorkflowHistory(ctx, workflowID, runID, false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
//	var h historypb.History
//	for iter.HasNext() {
//		e, err := iter.Next()
//		if err != nil { ... }
//		h.Events = append(h.Events, e)
//	}
//	b, err := protojson.MarshalOptions{Indent: "  "}.Marshal(&h)
//	os.WriteFile("workflows/testdata/<name>.json", b, 0o644)
//
// The program in testdata/record does exactly that (testdata is ignored by ./... patterns):
//
//	# from a running server (linedesk dev, a cluster): the workflows to keep
//	go run ./workflows/testdata/record -address 127.0.0.1:7233 -namespace default \
//	    -ids chat:<chat-id>,conversation:<number>
//	# or run its built-in scenarios on an in-process Temporal server with in-memory activities
//	go run ./workflows/testdata/record
//
// Keep a few histories that cover the main paths (a full conversation with its chat, auto-close
// and SLA timers, continue-as-new); record them with the code that is deployed, before changing it.
// The built-in scenarios hand inbound messages over as the inbound hand-off does (SignalWithStart
// of SignalInbound with an InboundBatch), and terminate each idle chat at the end.

import (
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/linedesk/linedesk/workflows"
)

func TestReplayRecordedHistories(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	require.NoError(t, err)
	if len(files) == 0 {
		t.Fatal("no recorded histories in testdata/: record them with go run ./workflows/testdata/record")
	}
	logger := log.NewStructuredLogger(slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn})))
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			r := worker.NewWorkflowReplayer()
			// The names the worker registers them under (worker.Register).
			r.RegisterWorkflowWithOptions(workflows.ChatWorkflow, workflow.RegisterOptions{Name: "ChatWorkflow"})
			r.RegisterWorkflowWithOptions(workflows.ConversationWorkflow, workflow.RegisterOptions{Name: "ConversationWorkflow"})
			require.NoError(t, r.ReplayWorkflowHistoryFromJSONFile(logger, file))
		})
	}
}
